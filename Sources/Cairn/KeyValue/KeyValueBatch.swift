/// A key-value write batch: validates each operation as it is added (so a
/// bad one is refused before anything is written). TTLs count from the
/// moment the batch is written. Apply it with `Database.write(_:)`.
public struct KeyValueBatch: Sendable {
    // No default value: init(reservingCapacity:) would build and destroy one.
    var storage: WriteBatch
    private(set) var puts = 0
    private(set) var deletes = 0
    private(set) var deleteRanges = 0

    public init() { storage = WriteBatch() }

    init(reservingCapacity bytes: Int) {
        storage = WriteBatch(reservingCapacity: bytes)
    }

    public var count: Int { storage.count }

    public mutating func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64 = 0) throws {
        try Database.validateKey(key)
        try Database.validateValue(value)
        guard ttlMillis >= 0 else { throw CairnError.invalidArgument("TTL must not be negative (got \(ttlMillis) ms)") }
        try storage.checkRoom(for: WriteBatch.putSize(key: key.count, value: value.count, ttl: ttlMillis > 0, namespaced: true))
        try Allocation.reserve(2 * (storage.encodedSize + value.count), for: "a batch of \(storage.encodedSize + value.count) bytes")
        storage.put(key, value, ttlMillis: ttlMillis, namespace: .keyValue)
        puts += 1
    }

    public mutating func delete(key: UnsafeRawBufferPointer) throws {
        try Database.validateKey(key)
        try storage.checkRoom(for: WriteBatch.deleteSize(key: key.count, namespaced: true))
        storage.delete(key, namespace: .keyValue)
        deletes += 1
    }

    /// Deletes [start, end); an empty range (start >= end) deletes nothing.
    public mutating func deleteRange(start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer) throws {
        try Database.validateKey(start, "range start")
        try Database.validateKey(end, "range end")
        try storage.checkRoom(for: WriteBatch.deleteRangeSize(start: start.count, end: end.count, namespaced: true))
        storage.deleteRange(start, end, namespace: .keyValue)
        deleteRanges += 1
    }

    public mutating func clear() {
        storage.clear()
        puts = 0
        deletes = 0
        deleteRanges = 0
    }
}
