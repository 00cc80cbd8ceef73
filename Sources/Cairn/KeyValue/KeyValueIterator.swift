/// Walks key-value pairs in order over the snapshot taken when it was made.
/// Deleted and expired keys are skipped. Used by one caller at a time.
///
/// The views `key` and `value` borrow memory the iterator retains; they are
/// valid until the next call to `next()` or `seek(_:)`.
public final class KeyValueIterator {
    private let database: Database
    private let engineIterator: EngineIterator
    private let namespace: Namespace
    private var positioned = false
    /// Interrupting the database stops this iterator (Interrupts).
    private let ticket: UInt64

    init(database: Database, iterator: EngineIterator, namespace: Namespace) {
        self.database = database
        ticket = database.engine.interrupts.ticket
        self.engineIterator = iterator
        self.namespace = namespace
    }

    /// Moves to the next pair. Returns false at the end. Throws CLOSED once
    /// the database was closed, CORRUPTION when a table fails its checks.
    public func next() throws -> Bool {
        guard !database.isClosed else { throw CairnError.closed }
        try database.engine.interrupts.check(ticket)
        positioned = try engineIterator.iterator.next()
        return positioned
    }

    /// Forward: the next pair is the first key >= `key`; in reverse, the last
    /// key <= `key`.
    public func seek(_ key: UnsafeRawBufferPointer) throws {
        guard !database.isClosed else { throw CairnError.closed }
        namespace.withKey(key) { engineIterator.iterator.seek($0) }
        positioned = false
    }

    /// The key, without its namespace byte.
    public var key: UnsafeRawBufferPointer {
        guard positioned else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let internalKey = engineIterator.iterator.key
        return UnsafeRawBufferPointer(rebasing: internalKey[1...])
    }
    public var value: UnsafeRawBufferPointer { positioned ? engineIterator.iterator.value : UnsafeRawBufferPointer(start: nil, count: 0) }

    /// The items of the last `nextBatch`, lent until the next call.
    public let batch = ItemBatch()

    /// Moves past up to `maxItems` pairs (0: the adaptive size, see
    /// ItemBatch) or until `maxBytes` (0: 1 MiB) are gathered, copying each
    /// key, and its value unless `keysOnly`, straight from the engine's
    /// blocks into `batch`. Returns how many pairs it holds; 0 at the end.
    /// The iterator stays usable with `next()` and `seek(_:)` afterwards.
    public func nextBatch(keysOnly: Bool, maxItems: Int, maxBytes: Int) throws -> Int {
        // Closing and interrupting are checked once per batch, and the
        // engine iterator is walked directly: the per-item work is the
        // merge and two copies.
        guard !database.isClosed else { throw CairnError.closed }
        try database.engine.interrupts.check(ticket)
        let (items, bytes) = try batch.begin(maxItems: maxItems, maxBytes: maxBytes)
        let iterator = engineIterator.iterator
        while batch.count < items && batch.byteCount < bytes {
            positioned = try iterator.next()
            guard positioned else { break }
            batch.append(UnsafeRawBufferPointer(rebasing: iterator.key[1...]))
            if !keysOnly { batch.append(iterator.value) }
            batch.finishItem()
        }
        return batch.count
    }
}
