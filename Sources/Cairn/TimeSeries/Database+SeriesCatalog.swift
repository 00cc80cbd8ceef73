/// The series catalog: a series id assigned once per series key and mapped
/// both ways in the LSM (0x08 0x01 and 0x08 0x02), plus the inverted tag
/// index (0x08 0x03), all written in one atomic batch when the series is
/// created by its first write or by `seriesID(for:create:)`.
extension Database {
    /// The id of `key`; with `create`, a series that does not exist is
    /// created holding int64 values when `isInteger`, float64 otherwise. Nil
    /// when it does not exist and `create` is false. An existing series
    /// keeps its type (the id says which).
    func seriesID(for key: SeriesKey, create: Bool, isInteger: Bool = false) throws -> UInt64? {
        let bytes = key.bytes
        return try seriesID(bytes: bytes, create: create ? key : nil, isInteger: isInteger)
    }

    /// As above, from the canonical bytes; `create` carries the parsed key
    /// for the index entries.
    func seriesID(bytes: [UInt8], create: SeriesKey?, isInteger: Bool) throws -> UInt64? {
        guard !isClosed else { throw CairnError.closed }
        let layer = timeSeries
        let fingerprint = SeriesFingerprint(bytes)
        if let id = layer.state.withLock({ layer.ids[fingerprint] }) { return id }
        let forward = TimeSeriesFormat.seriesKeyKey(bytes)
        if let id = try storedSeriesID(forward) {
            layer.state.withLock { layer.ids[fingerprint] = id }
            return id
        }
        guard let key = create else { return nil }
        return try layer.creationLock.withLock {
            // Another writer may have created it meanwhile.
            if let id = try storedSeriesID(forward) {
                layer.state.withLock { layer.ids[fingerprint] = id }
                return id
            }
            let number = layer.state.withLock { () -> UInt64 in
                defer { layer.nextNumber += 1 }
                return layer.nextNumber
            }
            let id = SeriesID.make(number: number, isInteger: isInteger)
            var batch = WriteBatch()
            var idBytes: [UInt8] = []
            TimeSeriesFormat.appendBE(id, to: &idBytes)
            forward.withUnsafeBytes { k in idBytes.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
            TimeSeriesFormat.seriesIDKey(id).withUnsafeBytes { k in bytes.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
            let empty: [UInt8] = []
            var entries = [(Array(TimeSeriesFormat.metricTag.utf8), Array(key.metric.utf8))]
            for tag in key.tags { entries.append((Array(tag.name.utf8), Array(tag.value.utf8))) }
            for (name, value) in entries {
                var entry = TimeSeriesFormat.tagPrefix(name, value)
                TimeSeriesFormat.appendBE(id, to: &entry)
                entry.withUnsafeBytes { k in empty.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
            }
            try engine.write(batch)
            layer.state.withLock { layer.ids[fingerprint] = id }
            return id
        }
    }

    private func storedSeriesID(_ forward: [UInt8]) throws -> UInt64? {
        let view = try engine.readView()
        var id: UInt64?
        var bad = false
        _ = try forward.withUnsafeBytes { key in
            try engine.withValue(forKey: key, now: engine.env.nowMillis(), in: view) { value in
                if value.count == 8 { id = TimeSeriesFormat.loadBE(value, 0) } else { bad = true }
            }
        }
        if bad { throw CairnError.corruption("time-series catalog: a series id of the wrong size") }
        return id
    }

    /// The key of series `id`; nil when there is none.
    func seriesKey(of id: UInt64, view: ReadView) throws -> SeriesKey? {
        var key: SeriesKey?
        _ = try TimeSeriesFormat.seriesIDKey(id).withUnsafeBytes { k in
            try engine.withValue(forKey: k, now: engine.env.nowMillis(), in: view) { key = try SeriesKey.decode($0) }
        }
        return key
    }

    /// Whether `id` names a series that was created (ids are never reused).
    func checkSeriesID(_ id: UInt64, limit: UInt64, _ position: Int?) throws {
        let number = SeriesID.number(id)
        guard number >= 1 && number < limit else {
            let at = position.map { "point \($0): " } ?? ""
            throw CairnError(.notFound, "\(at)no series has id \(id)")
        }
    }
}
