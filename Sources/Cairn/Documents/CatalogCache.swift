import Synchronization

/// Decoded catalog entries, so that a query neither reads nor parses its
/// collection's definition (schema, indexes) on every call.
///
/// Every write that touches the catalog bumps `generation` once before it
/// becomes visible and once after, so an odd generation means "changing".
/// A reader notes the generation before and after taking its snapshot; when
/// both are the same even number, its snapshot holds exactly the catalog of
/// that generation, and an entry decoded by any reader of that generation
/// is the one it would read itself. Otherwise it reads and decodes as
/// usual, and the stored bytes still decide whether a decoded entry is
/// reused.
final class CatalogCache: @unchecked Sendable {
    /// Lock order 3 (docs/architecture.md, "Locks"): taken under the document lock,
    /// never while holding an engine lock.
    private let lock = Lock()
    private var entries: [String: (generation: UInt64?, bytes: [UInt8], info: CollectionInfo?)] = [:]
    let generation = Atomic<UInt64>(0)

    /// Runs a catalog write between the two bumps.
    func changing<T>(_ body: () throws -> T) rethrows -> T {
        generation.add(1, ordering: .sequentiallyConsistent)
        defer { generation.add(1, ordering: .sequentiallyConsistent) }
        return try body()
    }

    /// The entry a reader of stable `generation` may use without reading:
    /// .some(nil) for "no such collection", nil when not known.
    func cached(_ name: String, generation: UInt64) -> CollectionInfo?? {
        lock.withLock {
            guard let entry = entries[name], entry.generation == generation else { return nil }
            return .some(entry.info)
        }
    }

    /// Decodes a stored entry (nil: absent), reusing a decoded one with the
    /// same bytes, and remembers it for readers of `generation`.
    func decode(name: String, entry raw: UnsafeRawBufferPointer?, generation: UInt64?) throws -> CollectionInfo? {
        let previous = lock.withLock { entries[name] }
        var info: CollectionInfo?
        if let raw {
            if let previous, let known = previous.info, previous.bytes.count == raw.count,
               previous.bytes.withUnsafeBytes({ compareBytes($0, raw) == 0 }) {
                info = known
            } else {
                info = try CollectionInfo.decode(name: name, entry: raw)
            }
        }
        lock.withLock {
            if entries.count > 1024 { entries.removeAll() }
            entries[name] = (generation, raw.map { Array($0) } ?? [], info)
        }
        return info
    }
}
