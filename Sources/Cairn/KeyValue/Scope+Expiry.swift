/// The key-value operations that read a key before they write it: put if
/// absent, a key's remaining TTL, and changing a TTL ("touch", for sliding
/// sessions). On the database each runs as a short transaction of its own
/// (Scope.withTransaction), so a concurrent write of the same key between
/// the read and the write is a conflict, and the operation runs again on a
/// fresh snapshot: two callers racing to put the same absent key see exactly
/// one of them store it. In an explicit transaction they join it.
extension Scope {
    /// Stores `value` under `key` only when the key is absent or expired;
    /// returns whether it stored it. A positive `ttlMillis` as for `put`.
    public func putIfAbsent(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64 = 0) throws -> Bool {
        try Database.validateKey(key)
        try Database.validateValue(value)
        try checkTTL(ttlMillis)
        try checkWritable()
        return try withTransaction(writing: true) { transaction in
            if try transaction.withValueInternal(forKey: key, { _ in }) { return false }
            try transaction.putValue(key: key, value: value, ttlMillis: ttlMillis)
            return true
        }
    }

    /// The milliseconds `key` has left before it expires: nil when it is
    /// absent or expired, 0 when it never expires. A key this transaction
    /// wrote with a TTL reports that TTL whole (it counts from the commit).
    public func remainingTTL(forKey key: UnsafeRawBufferPointer) throws -> Int64? {
        try Database.validateKey(key)
        guard let transaction else { return try database.remainingTTL(forKey: key) }
        return try transaction.runOperation { try transaction.remainingTTLInternal(forKey: key) }
    }

    /// Gives `key` a new TTL counted from now (from the commit, in a
    /// transaction): `ttlMillis` 0 removes its expiry. The caller does not
    /// send the value again; the engine writes the entry anew with the value
    /// it holds (an LSM entry carries its expiry, so the value is copied
    /// inside the engine, not read back to the caller). Returns false, and
    /// writes nothing, when the key is absent or expired.
    public func touch(key: UnsafeRawBufferPointer, ttlMillis: Int64) throws -> Bool {
        try Database.validateKey(key)
        try checkTTL(ttlMillis)
        try checkWritable()
        return try withTransaction(writing: true) { transaction in
            var value: [UInt8] = []
            guard try transaction.withValueInternal(forKey: key, { value = Array($0) }) else { return false }
            try value.withUnsafeBytes { try transaction.putValue(key: key, value: $0, ttlMillis: ttlMillis) }
            return true
        }
    }

    /// A read-only transaction refuses these writes whether or not they
    /// would write (the key may exist), as it refuses every write.
    private func checkWritable() throws {
        if let transaction, transaction.isReadOnly { throw CairnError.invalidArgument("the transaction is read-only") }
    }

    private func checkTTL(_ ttlMillis: Int64) throws {
        guard ttlMillis >= 0 else { throw CairnError.invalidArgument("TTL must not be negative (got \(ttlMillis) ms)") }
    }
}

extension Database {
    /// See Scope.remainingTTL: one point read at a snapshot taken now.
    func remainingTTL(forKey key: UnsafeRawBufferPointer) throws -> Int64? {
        let view = try engine.readView()
        let now = engine.env.nowMillis()
        var remaining: Int64 = 0
        let found = try Namespace.keyValue.withKey(key) { prefixed in
            try engine.withEntry(forKey: prefixed, now: now, in: view) { _, expiresAt in
                remaining = expiresAt == 0 ? 0 : expiresAt - now
            }
        }
        return found ? remaining : nil
    }
}

extension Transaction {
    /// See Scope.remainingTTL: the transaction's own write of the key, or
    /// the entry at its snapshot.
    func remainingTTLInternal(forKey key: UnsafeRawBufferPointer) throws -> Int64? {
        try checkUsable()
        let engineKey = Namespace.keyValue.prefixed(key)
        if let pending = writes[EngineKey(engineKey)] {
            guard pending.value != nil else { return nil }
            return max(pending.ttlMillis, 0)
        }
        let now = engine.env.nowMillis()
        var remaining: Int64 = 0
        let found = try engineKey.withUnsafeBytes { prefixed in
            try engine.withEntry(forKey: prefixed, now: now, in: view) { _, expiresAt in
                remaining = expiresAt == 0 ? 0 : expiresAt - now
            }
        }
        return found ? remaining : nil
    }
}
