/// A vector index's maintenance, written once against a transaction: a
/// document change deletes the document's old node (repairing the lists
/// that linked to it) and inserts its new one, in the same transaction as
/// the document (Transaction.writeDocument, and the backfill of an index
/// build), so a crash leaves the index equal to its documents. Nothing is
/// rewritten but the keys of the nodes touched.
extension Transaction {
    func updateVectorIndex(_ spec: VectorIndexSpec, _ index: IndexDefinition, collection: UInt32, primaryKey: [UInt8],
                           old: DocumentValue?, new: DocumentValue?) throws {
        // The new state: a vector and its filter values, or nothing.
        var wanted: (vector: [Float], filterValues: [UInt8])?
        if let new {
            let path = index.fields[0]
            switch try VectorValue.read(at: path.components, in: new, dimensions: spec.dimensions) {
            case .missing:
                break
            case .invalid(let problem):
                if spec.rejectInvalid {
                    throw CairnError.invalidArgument("vector index '\(index.name)': field '\(path.path)' \(problem) (expected \(spec.dimensions) finite numbers)")
                }
            case .vector(var vector):
                if spec.metric == .cosine && !VectorMetric.normalize(&vector) {
                    if spec.rejectInvalid {
                        throw CairnError.invalidArgument("vector index '\(index.name)': field '\(path.path)' is a zero vector, which has no cosine")
                    }
                } else {
                    wanted = (vector, try VectorFilterValues.encode(new, fields: spec.filterFields))
                }
            }
        }
        if old == nil && wanted == nil { return }
        let graph = HNSWGraph(transaction: self, index: index, spec: spec, collection: collection)
        defer { graph.finish() }
        if let existing = try graph.node(of: primaryKey) {
            if let wanted, let record = try graph.record(existing), record.filterValues == wanted.filterValues,
               try graph.withVector(existing, { v in
                   wanted.vector.withUnsafeBytes { memcmpEqual($0.baseAddress!, v, count: 4 * spec.dimensions) }
               }) == true {
                return  // the same vector and filter values: the node stays
            }
            try graph.delete(node: existing)
        }
        if let wanted { try graph.insert(primaryKey: primaryKey, vector: wanted.vector, filterValues: wanted.filterValues) }
    }
}

extension Transaction {
    /// Runs a run of document changes (an insert_many) with one
    /// VectorGraphMemo, so the graph walks of its inserts share what they
    /// read. An outer run's memo serves an inner one.
    func withVectorMemo<T>(_ body: () throws -> T) rethrows -> T {
        if vectorMemo != nil { return try body() }
        vectorMemo = VectorGraphMemo()
        defer { vectorMemo = nil }
        return try body()
    }
}

/// The neighbour lists and vectors of vector indexes as one transaction
/// sees them, remembered across the inserts of one run of document changes
/// (Transaction.withVectorMemo): each insert's walk reads hundreds of lists
/// and vectors, mostly the same ones as the insert before, and each read
/// through the transaction is a lookup in its pending writes and then in
/// the engine. Coherent by construction: every read fills it and every
/// change this transaction makes to a list goes through it
/// (HNSWGraph.setLinks, deleteLinks), and a savepoint that undoes writes
/// forgets it (Transaction.savepoint). A vector never changes under its
/// node number, but a number an undone insert took may be taken again, so
/// vectors are forgotten too.
final class VectorGraphMemo {
    final class Graph {
        var lists: [UInt64: [UInt32]] = [:]
        var vectors: [UInt32: [Float]] = [:]

        /// The most lists kept: a run over a huge graph forgets and starts
        /// again rather than holding the whole graph.
        static let maxLists = 1 << 20

        func remember(_ key: UInt64, _ list: [UInt32]) {
            if lists.count >= Graph.maxLists { lists.removeAll(keepingCapacity: true) }
            lists[key] = list
        }
    }

    private var graphs: [UInt64: Graph] = [:]

    func graph(collection: UInt32, index: UInt32) -> Graph {
        let id = UInt64(collection) << 32 | UInt64(index)
        if let known = graphs[id] { return known }
        let made = Graph()
        graphs[id] = made
        return made
    }

    func forget() { graphs.removeAll() }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
    UnsafeRawBufferPointer(start: a, count: count).elementsEqual(UnsafeRawBufferPointer(start: b, count: count))
}

/// The values of a vector index's filter fields kept with each node: a
/// binary document holding each field's value at its path, so a search's
/// filter (on those fields only) matches it as it would the document.
///
/// It holds the document's whole `_id` too, first, so that a search whose
/// projection keeps only `_id` answers from the node records without
/// reading a document (VectorResults): the primary key in the record is
/// its IndexKey form, which does not say whether 1 was stored as 1 or 1.0.
/// A filter field at or under `_id` is then covered by that member (a
/// filter on `_id.x` matches the whole `_id` as it would the document's).
/// Records written before this hold only the filter fields; a search reads
/// those nodes' documents.
enum VectorFilterValues {
    static func encode(_ document: DocumentValue, fields: [String]) throws -> [UInt8] {
        var root: [(key: String, value: MutableValue)] = []
        if let id = try document.value(atPath: "_id") { root.append(("_id", try MutableValue(id))) }
        for field in fields where !isUnderID(field) {
            guard let value = try document.value(atPath: field) else { continue }
            insert(try MutableValue(value), at: field.split(separator: ".").map(String.init)[...], into: &root)
        }
        guard !root.isEmpty else { return [] }
        return MutableValue.object(root).encoded()
    }

    /// `_id` or a path inside it.
    static func isUnderID(_ field: String) -> Bool { field == "_id" || field.hasPrefix("_id.") }

    /// The `_id` a record's filter values hold (its binary value), or nil
    /// when they hold none (a record written before they did, or an index
    /// whose filter fields name a path inside `_id`, whose older records
    /// may hold only that part of it).
    static func id(in filterValues: [UInt8], fields: [String]) throws -> [UInt8]? {
        guard !filterValues.isEmpty, !fields.contains(where: { $0.hasPrefix("_id.") }) else { return nil }
        return try filterValues.withUnsafeBytes { raw in
            try DocumentValue(raw).field("_id").map { Array($0.bytes) }
        }
    }

    private static func insert(_ value: MutableValue, at path: ArraySlice<String>, into members: inout [(key: String, value: MutableValue)]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            members.append((first, value))
            return
        }
        if let position = members.firstIndex(where: { $0.key == first }), case .object(var inner) = members[position].value {
            insert(value, at: path.dropFirst(), into: &inner)
            members[position].value = .object(inner)
        } else {
            var inner: [(key: String, value: MutableValue)] = []
            insert(value, at: path.dropFirst(), into: &inner)
            members.append((first, .object(inner)))
        }
    }

    /// The top-level paths a filter names; nil when it uses $expr or
    /// $jsonSchema (which may read any field).
    static func paths(of filter: Filter) -> [String]? {
        switch filter {
        case .all(let list), .any(let list), .none(let list):
            var out: [String] = []
            for item in list {
                guard let inner = paths(of: item) else { return nil }
                out += inner
            }
            return out
        case .field(let path, _): return [path.joined(separator: ".")]
        default: return nil  // $expr, $jsonSchema, $text
        }
    }
}
