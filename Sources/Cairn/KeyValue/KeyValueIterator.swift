/// Walks key-value pairs in order over the snapshot taken when it was made.
/// Deleted and expired keys are skipped. Used by one caller at a time.
///
/// The views `key` and `value` borrow memory the iterator retains; they are
/// valid until the next call to `next()` or `seek(_:)`.
public final class KeyValueIterator {
    private let database: Database
    private let cursor: MemTableCursor
    private var current: MemNode?

    init(database: Database, cursor: MemTableCursor) {
        self.database = database
        self.cursor = cursor
    }

    /// Moves to the next pair. Returns false at the end. Throws CLOSED once
    /// the database was closed.
    public func next() throws -> Bool {
        guard !database.isClosed else { throw CairnError.closed }
        current = cursor.next()
        return current != nil
    }

    /// Forward: the next pair is the first key >= `key`; in reverse, the last
    /// key <= `key`.
    public func seek(_ key: UnsafeRawBufferPointer) throws {
        guard !database.isClosed else { throw CairnError.closed }
        cursor.seek(key)
        current = nil
    }

    public var key: UnsafeRawBufferPointer { current?.key ?? UnsafeRawBufferPointer(start: nil, count: 0) }
    public var value: UnsafeRawBufferPointer { current?.value ?? UnsafeRawBufferPointer(start: nil, count: 0) }
}
