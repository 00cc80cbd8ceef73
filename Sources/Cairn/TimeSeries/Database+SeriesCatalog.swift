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

/// Reads the keys of many series by id through one forward iterator over
/// the catalog (0x08 0x02), stepping from one id to the next when they come
/// in ascending order, as selections list them, and seeking otherwise: a
/// read per series without a point lookup's search of every level.
final class SeriesKeyReader {
    private let iterator: EngineIterator
    /// The id at the iterator's position; nil before the first read or at the end.
    private var current: UInt64?
    private var positioned = false
    /// Steps forward before a seek is cheaper.
    private static let maxSteps = 8

    init(database: Database, view: ReadView) throws {
        let lower: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.seriesByID]
        let upper: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.seriesByID + 1]
        iterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try database.engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
    }

    private func step() throws {
        guard try iterator.iterator.next() else { current = nil; return }
        let key = iterator.iterator.key
        guard key.count == 10 else { throw CairnError.corruption("time-series catalog: a series id key of \(key.count) bytes") }
        current = TimeSeriesFormat.loadBE(key, 2)
    }

    /// Moves to the next series in id order (the first, at the start) and
    /// returns its id; nil at the end. `withKey(of:)` of that id then reads
    /// the key where the reader stands.
    func next() throws -> UInt64? {
        positioned = true
        try step()
        return current
    }

    /// Calls `body` with the canonical key bytes of series `id`; nil when
    /// there is no such series.
    func withKey<R>(of id: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        var steps = 0
        if positioned {
            while let at = current, at < id, steps < SeriesKeyReader.maxSteps {
                try step()
                steps += 1
            }
        }
        if !positioned || current.map({ $0 > id }) ?? (steps == 0) || current.map({ $0 < id }) ?? false {
            TimeSeriesFormat.seriesIDKey(id).withUnsafeBytes { iterator.iterator.seek($0) }
            positioned = true
            try step()
        }
        guard current == id else { return nil }
        return try body(iterator.iterator.value)
    }
}
