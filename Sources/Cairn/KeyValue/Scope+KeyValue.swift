/// The key-value operations on any scope. On the database each is one
/// atomic write straight to the engine (Database+KeyValue.swift); in a
/// transaction it joins the transaction (Transaction+KeyValue.swift).
extension Scope {
    /// Stores `value` under `key`; with a positive `ttlMillis` the key reads
    /// as absent once that many milliseconds have passed (in a transaction,
    /// counted from the commit).
    public func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64 = 0) throws {
        guard let transaction else { return try database.put(key: key, value: value, ttlMillis: ttlMillis) }
        try transaction.runOperation { try transaction.putValue(key: key, value: value, ttlMillis: ttlMillis) }
    }

    public func delete(key: UnsafeRawBufferPointer) throws {
        guard let transaction else { return try database.delete(key: key) }
        try transaction.runOperation { try transaction.deleteValue(key: key) }
    }

    /// Calls `body` with the value of `key` as this scope sees it, borrowed
    /// for the call; returns false when the key is absent or expired.
    public func withValue(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard let transaction else { return try database.withValue(forKey: key, body) }
        return try transaction.runOperation { try transaction.withValueInternal(forKey: key, body) }
    }

    /// The values of many keys at one point in time, as a packed list in
    /// request order with absent keys marked.
    public func getMany(packedKeys: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let transaction else { return try database.getMany(packedKeys: packedKeys) }
        let keys = try PackedList.items(of: packedKeys)
        guard !keys.isEmpty else { throw CairnError.invalidArgument("the key list is empty") }
        return try transaction.runOperation { try transaction.getManyValues(keys) }
    }
}
