/// The key-value layer: binary keys and values, optional TTLs, atomic
/// batches, consistent multi-gets, range deletes, iterators and key listing.
///
/// Keys are 1 to `maxKeySize` bytes, values 0 to `maxValueSize` bytes; the
/// limits match CAIRN_MAX_KEY_SIZE and CAIRN_MAX_VALUE_SIZE. In the engine
/// every key sits behind the key-value namespace byte (Namespace.keyValue);
/// callers never see it.
extension Database {
    public static let maxKeySize = 65536
    public static let maxValueSize = 256 << 20

    static func validateKey(_ key: UnsafeRawBufferPointer, _ what: String = "key") throws {
        guard key.count > 0 else { throw CairnError.invalidArgument("\(what) is empty") }
        guard key.count <= maxKeySize else {
            throw CairnError.invalidArgument("\(what) is \(key.count) bytes; the limit is \(maxKeySize)")
        }
    }

    static func validateValue(_ value: UnsafeRawBufferPointer) throws {
        guard value.count <= maxValueSize else {
            throw CairnError.invalidArgument("value is \(value.count) bytes; the limit is \(maxValueSize)")
        }
    }

    // MARK: Writes

    /// Stores `value` under `key`; with a positive `ttlMillis` the key reads
    /// as absent once that many milliseconds have passed.
    public func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64 = 0) throws {
        try Database.validateValue(value)
        // The value is held three times on its way: the batch, the log
        // record, the memtable.
        try Allocation.reserve(3 * value.count, for: "a put of a \(value.count)-byte value")
        var batch = KeyValueBatch(reservingCapacity: key.count + value.count + 2 * Varint.maxLength + 9)
        try batch.put(key: key, value: value, ttlMillis: ttlMillis)
        try write(batch)
    }

    public func delete(key: UnsafeRawBufferPointer) throws {
        var batch = KeyValueBatch()
        try batch.delete(key: key)
        try write(batch)
    }

    /// Deletes every key in [start, end) atomically.
    public func deleteRange(start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer) throws {
        var batch = KeyValueBatch()
        try batch.deleteRange(start: start, end: end)
        try write(batch)
    }

    /// Applies every operation of `batch` atomically.
    public func write(_ batch: KeyValueBatch) throws {
        if feed.isRecording && !batch.storage.isEmpty {
            // The batch's events join a copy of it, so the caller's batch
            // stays as it was (it may be written again).
            var recorded = batch.storage
            try feed.append(try ChangeEvent.events(of: batch.storage), to: &recorded)
            try engine.write(recorded)
        } else {
            try engine.write(batch.storage)
        }
        let stats = engine.stats
        if batch.puts > 0 { EngineStats.bump(stats.puts, by: UInt64(batch.puts)) }
        if batch.deletes > 0 { EngineStats.bump(stats.deletes, by: UInt64(batch.deletes)) }
        if batch.deleteRanges > 0 { EngineStats.bump(stats.deleteRanges, by: UInt64(batch.deleteRanges)) }
    }

    // MARK: Reads

    /// Calls `body` with the value of `key` borrowed for the call; returns
    /// false when the key is absent or expired.
    public func withValue(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        try Database.validateKey(key)
        let view = try engine.readView()
        let found = try Namespace.keyValue.withKey(key) { try engine.withValue(forKey: $0, now: engine.env.nowMillis(), in: view, body) }
        let stats = engine.stats
        EngineStats.bump(stats.gets)
        if found { EngineStats.bump(stats.getHits) } else { EngineStats.bump(stats.getMisses) }
        return found
    }

    /// The values of many keys at one point in time, as a packed list in
    /// request order with absent keys marked.
    public func getMany(packedKeys: UnsafeRawBufferPointer) throws -> [UInt8] {
        let keys = try PackedList.items(of: packedKeys)
        guard !keys.isEmpty else { throw CairnError.invalidArgument("the key list is empty") }
        for key in keys { try Database.validateKey(key) }
        let view = try engine.readView()
        let now = engine.env.nowMillis()
        var out: [UInt8] = []
        var hits: UInt64 = 0
        for key in keys {
            let found = try Namespace.keyValue.withKey(key) { prefixed in
                try engine.withValue(forKey: prefixed, now: now, in: view) { PackedList.append($0, to: &out) }
            }
            if found { hits += 1 } else { PackedList.appendAbsent(to: &out) }
        }
        let stats = engine.stats
        EngineStats.bump(stats.gets, by: UInt64(keys.count))
        EngineStats.bump(stats.getHits, by: hits)
        EngineStats.bump(stats.getMisses, by: UInt64(keys.count) - hits)
        return out
    }

    /// An iterator over [start, end) (nil: unbounded) at a consistent snapshot.
    public func makeIterator(start: UnsafeRawBufferPointer?, end: UnsafeRawBufferPointer?, reverse: Bool = false,
                             fillCache: Bool = true) throws -> KeyValueIterator {
        let namespace = Namespace.keyValue
        let lower = start.map { namespace.prefixed($0) } ?? [namespace.rawValue]
        let upper = end.map { namespace.prefixed($0) } ?? namespace.upperBound
        let iterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: reverse, fillCache: fillCache) }
        }
        return KeyValueIterator(database: self, iterator: iterator, namespace: namespace)
    }

    /// An iterator over the keys starting with `prefix` (all keys when empty).
    public func makeIterator(prefix: UnsafeRawBufferPointer, reverse: Bool = false) throws -> KeyValueIterator {
        guard prefix.count > 0 else { return try makeIterator(start: nil, end: nil, reverse: reverse) }
        let successor = KeyRange.prefixSuccessor(prefix)
        return try successor.withUnsafeBytes { end in
            try makeIterator(start: prefix, end: successor.isEmpty ? nil : end, reverse: reverse)
        }
    }

    // MARK: Swift conveniences

    public func put(_ key: [UInt8], _ value: [UInt8], ttlMillis: Int64 = 0) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try put(key: k, value: v, ttlMillis: ttlMillis) } }
    }

    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        var result: [UInt8]?
        _ = try key.withUnsafeBytes { k in try withValue(forKey: k) { result = Array($0) } }
        return result
    }

    public func delete(_ key: [UInt8]) throws {
        try key.withUnsafeBytes { try delete(key: $0) }
    }
}

enum KeyRange {
    /// The smallest key greater than every key starting with `prefix`, or
    /// empty when there is none (the prefix is all 0xFF bytes).
    static func prefixSuccessor(_ prefix: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes = Array(prefix)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return []
    }
}
