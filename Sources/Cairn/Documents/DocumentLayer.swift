/// What the documents layer keeps for an open database: its writers' lock,
/// the decoded catalog, index builds, and the memory bound of query
/// stages. `Database.documents` holds it; nothing else in Database knows
/// of documents.
final class DocumentLayer: @unchecked Sendable {
    /// Held shared by the document layer's writers (single operations,
    /// explicit transactions' commits), which then run side by side and
    /// share group commits, their conflicts caught at commit; held
    /// exclusively by what rewrites the catalog wholesale or backfills
    /// from a snapshot (index builds and drops, collection drops and
    /// renames), which no document write may interleave with.
    /// Lock order 2 (docs/architecture.md, "Locks"): after a transaction's own lock,
    /// before the catalog cache's bracket and the engine's.
    let lock = ReadWriteLock()
    /// Decoded catalog entries, so a query does not parse its collection's
    /// definition (schema, indexes) on every call.
    let catalogCache = CatalogCache()
    /// Index builds in progress, and the thread that resumes interrupted ones.
    let indexBuilds = IndexBuilds()
    /// The most memory one blocking query stage may hold (MemoryBudget);
    /// lowered by tests.
    var queryMemoryLimit = MemoryBudget.defaultLimit
}

/// The collections a transaction has read, by name (nil: no such
/// collection). The first is held in place: nearly every transaction reads
/// one collection, and a dictionary cost it an allocation and a hash of the
/// name (about 1,100 instructions of a 75,000-instruction insert).
struct CollectionsRead {
    private var firstName: String?
    private var firstInfo: CollectionInfo?
    private var others: [String: CollectionInfo?] = [:]

    /// nil: not read yet; .some(nil): read, and absent.
    subscript(name: String) -> CollectionInfo?? {
        get {
            if let firstName, firstName == name { return .some(firstInfo) }
            return others.isEmpty ? nil : others[name]
        }
        set {
            if firstName == nil || firstName == name {
                if let newValue {
                    firstName = name
                    firstInfo = newValue
                } else {
                    firstName = nil
                    firstInfo = nil
                }
                if !others.isEmpty { others[name] = nil }
            } else {
                others[name] = newValue
            }
        }
    }
}

/// What the documents layer keeps for one transaction.
struct DocumentTransactionState {
    /// Collections read so far, by name (the catalog cannot change under a
    /// transaction without making it conflict, so caching is safe).
    var collections = CollectionsRead()
    /// The catalog generation the snapshot holds, when no catalog write was
    /// under way while it was taken (see CatalogCache).
    let catalogGeneration: UInt64?

    /// Takes a snapshot with `takeSnapshot` between two reads of the
    /// catalog's generation.
    static func taking<Snapshot>(_ layer: DocumentLayer, _ takeSnapshot: () throws -> Snapshot) rethrows
        -> (Snapshot, DocumentTransactionState) {
        let before = layer.catalogCache.generation.load(ordering: .sequentiallyConsistent)
        let snapshot = try takeSnapshot()
        let after = layer.catalogCache.generation.load(ordering: .sequentiallyConsistent)
        return (snapshot, DocumentTransactionState(catalogGeneration: before == after && before % 2 == 0 ? before : nil))
    }
}
