/// Key-value entries inside a transaction: writes wait in the
/// transaction's pending writes until it commits, and reads see them.
/// (Scope+KeyValue.swift calls these for a transaction scope.)
extension Transaction {
    func putValue(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64) throws {
        try Database.validateKey(key)
        try Database.validateValue(value)
        try put(Namespace.keyValue.prefixed(key), Array(value), ttlMillis: ttlMillis)
        if recordsChanges { recordChange(.put(key: key, value: value, ttlMillis: ttlMillis)) }
    }

    func deleteValue(key: UnsafeRawBufferPointer) throws {
        try Database.validateKey(key)
        try delete(Namespace.keyValue.prefixed(key))
        if recordsChanges { recordChange(.delete(key: key)) }
    }

    func withValueInternal(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        try Database.validateKey(key)
        return try read(Namespace.keyValue.prefixed(key), body)
    }

    /// The values of many keys as a packed list in request order.
    func getManyValues(_ keys: [UnsafeRawBufferPointer]) throws -> [UInt8] {
        var out: [UInt8] = []
        for key in keys where try !withValueInternal(forKey: key, { PackedList.append($0, to: &out) }) {
            PackedList.appendAbsent(to: &out)
        }
        return out
    }
}
