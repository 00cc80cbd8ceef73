import XCTest
@testable import Cairn

/// Packed chunks kept apart (form 3: the chunk key holds the last point,
/// 0x08 0x06 the points) and regular-timestamp chunks (kind 6), against a
/// model: regular writes across series, late writes and overwrites,
/// deletions of time ranges (also of the newest points), retention,
/// packing in part and whole, flush, compaction and reopen interleaved;
/// every range read and every newest point must match the model. Also:
/// a form-3 key without its body is CORRUPTION, and packed chunks of
/// earlier versions (form 1, inline) still read and repack.
final class TimeSeriesPackedApartTests: XCTestCase {
    private let base: Int64 = 4_102_444_800_000  // a bucket boundary (2100-01-01)
    private let width = TimeSeriesFormat.bucketMillis

    private func seriesID(_ db: Database, _ json: String) throws -> UInt64 {
        try Array(json.utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
    }

    private func points(_ db: Database, _ id: UInt64) throws -> [(Int64, UInt64)] {
        let reader = try SeriesReader(database: db, view: try db.engine.readView(), id: id, start: TimeSeriesFormat.minTime,
                                      end: TimeSeriesFormat.maxTime + 1)
        var out: [(Int64, UInt64)] = []
        while try reader.nextBucket() { out.append(contentsOf: zip(reader.times, reader.values)) }
        return out
    }

    /// The newest point of every series that `{}` (every series, the
    /// catalog walk) or `{"as_of"}` returns.
    private func newest(_ db: Database, asOf: Int64?) throws -> [UInt64: (Int64, JSONValue)] {
        let query = asOf.map { "{\"as_of\":\($0)}" } ?? "{}"
        let cursor = try Array(query.utf8).withUnsafeBytes { try db.timeSeriesLast(queryJSON: $0) }
        var got: [UInt64: (Int64, JSONValue)] = [:]
        while try cursor.next() {
            guard case .object(let members) = try JSONValue.parse(cursor.json) else { XCTFail("row is not an object"); continue }
            let row = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard case .int(let id)? = row["id"], case .int(let t)? = row["t"], let v = row["v"] else { XCTFail("row without id, t or v"); continue }
            got[UInt64(id)] = (t, v)
        }
        return got
    }

    private func same(_ value: JSONValue, _ bits: UInt64, integer: Bool) -> Bool {
        switch value {
        case .int(let n): return integer ? n == Int64(bitPattern: bits) : Double(n) == Double(bitPattern: bits)
        case .double(let d): return !integer && d == Double(bitPattern: bits)
        default: return false
        }
    }

    private func forms(_ db: Database) throws -> [UInt8: Int] {
        var counts: [UInt8: Int] = [:]
        try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks], view: try db.engine.readView()) { key, _ in
            counts[TimeSeriesFormat.parseChunkKey(key)!.form, default: 0] += 1
        }
        return counts
    }

    /// Every form-3 key has its body and every body its key.
    private func checkBodiesPair(_ db: Database, _ what: String) throws {
        let view = try db.engine.readView()
        var apart: Set<[UInt8]> = []
        try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks], view: view) { key, _ in
            let parts = TimeSeriesFormat.parseChunkKey(key)!
            if parts.form == TimeSeriesFormat.packedApart { apart.insert(TimeSeriesFormat.bodyKey(parts.id, parts.bucket, sequence: parts.sequence)) }
        }
        var bodies: Set<[UInt8]> = []
        try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.bodies], view: view) { key, _ in bodies.insert(Array(key)) }
        XCTAssertEqual(apart, bodies, "\(what): form-3 keys and bodies pair up")
    }

    func testRegularWorkloadMatchesModel() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try db.setMaintenanceInterval(millis: 0)
        var rng = TimeSeriesRandom(seed: 616)
        var ids: [UInt64] = []
        for i in 0..<10 { ids.append(try seriesID(db, "{\"metric\":\"g\",\"tags\":{\"s\":\"\(i)\"}}")) }
        for i in 0..<3 { ids.append(try seriesID(db, "{\"metric\":\"g\",\"tags\":{\"s\":\"i\(i)\"},\"type\":\"int\"}")) }
        var model: [UInt64: [Int64: UInt64]] = [:]
        var walks = [UInt64: Int64]()
        var clock = base + 3 * width  // regular writes run forward from here
        var sawApart = false, sawRegular = false
        func value(_ id: UInt64) -> UInt64 {
            let walk = walks[id, default: 5000] + Int64(rng.next() % 201) - 100
            walks[id] = walk
            return SeriesID.isInteger(id) ? UInt64(bitPattern: walk) : (Double(walk) / 100).bitPattern
        }
        func write(_ batch: [(UInt64, Int64, UInt64)]) throws {
            var floats: [(UInt64, Int64, Double)] = [], ints: [(UInt64, Int64, Int64)] = []
            for (id, t, v) in batch {
                if SeriesID.isInteger(id) { ints.append((id, t, Int64(bitPattern: v))) } else { floats.append((id, t, Double(bitPattern: v))) }
                model[id, default: [:]][t] = v
            }
            if !floats.isEmpty {
                try db.writeFloatPoints(ids: floats.map { $0.0 }, times: floats.map { $0.1 }, values: floats.map { $0.2 }, count: floats.count)
            }
            if !ints.isEmpty {
                try db.writeIntPoints(ids: ints.map { $0.0 }, times: ints.map { $0.1 }, values: ints.map { $0.2 }, count: ints.count)
            }
        }
        for step in 0..<360 {
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            switch rng.next() % 24 {
            case 0:
                try db.close()
                db = try Database.open(path: dir.path)
                try db.setMaintenanceInterval(millis: 0)
            case 1: try db.flush()
            case 2: _ = try db.compactTimeSeries()
            case 3, 4:
                // Packed whole or in part: a random bucket of a random series.
                let bucket = TimeSeriesFormat.bucket(of: clock) - Int64(rng.next() % 4) * width
                try db.packBucket(id: id, bucket: bucket, whole: rng.next() % 2 == 0)
            case 5:
                // A deletion, often of the newest points.
                let end = rng.next() % 2 == 0 ? clock + 1 : clock - Int64(rng.next() % UInt64(3 * width))
                let start = end - Int64(rng.next() % UInt64(width + width / 2)) - 1
                _ = try Array("{\"id\":\(id),\"start\":\(start),\"end\":\(end)}".utf8).withUnsafeBytes { try db.deletePoints(queryJSON: $0) }
                model[id] = model[id]?.filter { $0.key < start || $0.key >= end }
            case 6:
                // Retention: the buckets before the cutoff's go, for every series.
                let cutoff = clock - Int64(2 + rng.next() % 3) * width
                try db.setRetention(metric: "g", millis: 1000)
                let result = try db.maintainTimeSeries(now: cutoff + 1000)
                try db.setRetention(metric: "g", millis: 0)
                // A cutoff bucket is applied once (DownsamplingRule.swift).
                guard !result.contains("\"series_trimmed\":0") else { break }
                let cutoffBucket = TimeSeriesFormat.bucket(of: cutoff)
                for key in model.keys { model[key] = model[key]?.filter { TimeSeriesFormat.bucket(of: $0.key) >= cutoffBucket } }
            case 7, 8:
                // Late writes and overwrites into older buckets, on and off the grid.
                var batch: [(UInt64, Int64, UInt64)] = []
                for _ in 0..<(1 + rng.next() % 6) {
                    let t = clock - Int64(rng.next() % UInt64(3 * width)) / 10_000 * 10_000 - Int64(rng.next() % 2) * 3
                    batch.append((id, t, value(id)))
                }
                try write(batch)
            default:
                // Regular writes across series, as a collector sends them.
                var batch: [(UInt64, Int64, UInt64)] = []
                for _ in 0..<(1 + rng.next() % 60) {
                    for s in ids { batch.append((s, clock, value(s))) }
                    clock += 10_000
                }
                try write(batch)
            }
            let counts = try forms(db)
            sawApart = sawApart || counts[TimeSeriesFormat.packedApart, default: 0] > 0
            guard step % 6 == 5 else { continue }
            try checkBodiesPair(db, "step \(step)")
            for id in ids {
                let expected = (model[id] ?? [:]).sorted { $0.key < $1.key }
                let got = try points(db, id)
                XCTAssertEqual(got.map { $0.0 }, expected.map { $0.key }, "step \(step) series \(id) times")
                XCTAssertEqual(got.map { $0.1 }, expected.map { $0.value }, "step \(step) series \(id) values")
            }
            for asOf in [nil, clock - Int64(rng.next() % UInt64(4 * width)), TimeSeriesFormat.bucket(of: clock) - 1] {
                let got = try newest(db, asOf: asOf)
                for id in ids {
                    let newest = (model[id] ?? [:]).filter { $0.key <= (asOf ?? TimeSeriesFormat.maxTime) }.max { $0.key < $1.key }
                    XCTAssertEqual(got[id]?.0, newest?.key, "step \(step) series \(id) as of \(String(describing: asOf))")
                    if let newest, let row = got[id] {
                        XCTAssertTrue(same(row.1, newest.value, integer: SeriesID.isInteger(id)), "step \(step) series \(id) value")
                    }
                }
            }
            // Kind 6 in some body.
            try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.bodies], view: try db.engine.readView()) { _, value in
                if value.first == GorillaChunk.regularKind { sawRegular = true }
            }
        }
        XCTAssertTrue(sawApart, "the workload packed chunks apart")
        XCTAssertTrue(sawRegular, "the workload wrote regular chunks")
        _ = try db.compactTimeSeries()
        XCTAssertEqual(try forms(db).keys.sorted(), [TimeSeriesFormat.packedApart], "after compaction every chunk is kept apart")
        try checkBodiesPair(db, "after compaction")
    }

    func testChunkKeyWithoutItsBodyIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let id = try seriesID(db, "{\"metric\":\"c\"}")
        let times = (0..<100).map { base + Int64($0) * 10_000 }
        try db.writeFloatPoints(ids: times.map { _ in id }, times: times, values: times.map { Double($0 % 1000) / 4 }, count: times.count)
        _ = try db.compactTimeSeries()
        var bodies: [[UInt8]] = []
        try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.bodies], view: try db.engine.readView()) { key, _ in
            bodies.append(Array(key))
        }
        XCTAssertEqual(bodies.count, 1)
        var batch = WriteBatch()
        bodies[0].withUnsafeBytes { batch.delete($0) }
        try db.engine.write(batch)
        XCTAssertThrowsError(try points(db, id)) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption, "\($0)") }
        XCTAssertThrowsError(try db.packBucket(id: id, bucket: base)) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption) }
        // The newest point needs no body; as of an earlier time the bucket is read.
        XCTAssertEqual(try newest(db, asOf: nil)[id]?.0, times.last)
        XCTAssertThrowsError(try newest(db, asOf: base + 5000)) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption) }
    }

    /// A form-3 key's value: varint offset | u64 LE bits, nothing after;
    /// anything else is CORRUPTION.
    func testPackedApartValueLayout() throws {
        let value = TimeSeriesFormat.packedApartValue(lastTime: base + 21_000, lastBits: (49.9).bitPattern, bucket: base)
        XCTAssertEqual(value, [0x88, 0xa4, 0x01, 0x33, 0x33, 0x33, 0x33, 0x33, 0xf3, 0x48, 0x40])
        let point = try value.withUnsafeBytes { try TimeSeriesFormat.parsePackedApartValue($0, bucket: base) }
        XCTAssertEqual(point.t, base + 21_000)
        XCTAssertEqual(point.v, (49.9).bitPattern)
        let outside = TimeSeriesFormat.packedApartValue(lastTime: base + width, lastBits: 0, bucket: base)
        for bad in [[], Array(value.prefix(5)), value + [0], outside, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]] {
            XCTAssertThrowsError(try bad.withUnsafeBytes { try TimeSeriesFormat.parsePackedApartValue($0, bucket: base) }, "\(bad)") {
                XCTAssertEqual(($0 as? CairnError)?.code, .corruption)
            }
        }
    }

    /// Packed chunks as earlier versions wrote them (form 1, the Gorilla
    /// chunk inline, kinds 1 to 5) read as before, and are kept apart once
    /// their bucket is packed again.
    func testInlinePackedChunksOfEarlierVersionsStillRead() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let id = try seriesID(db, "{\"metric\":\"old\"}")
        let times = (0..<50).map { base + Int64($0) * 10_000 }
        let values = times.map { (Double($0 % 997) / 100).bitPattern }
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: false, into: &chunk)
        } }
        XCTAssertNotEqual(chunk[0], GorillaChunk.regularKind)
        var batch = WriteBatch()
        TimeSeriesFormat.chunkKey(id, base, sequence: 1, form: TimeSeriesFormat.packed).withUnsafeBytes { k in
            chunk.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) }
        }
        try db.engine.write(batch)
        XCTAssertEqual(try points(db, id).map { $0.0 }, times)
        XCTAssertEqual(try points(db, id).map { $0.1 }, values)
        XCTAssertEqual(try newest(db, asOf: nil)[id]?.0, times.last)
        XCTAssertEqual(try newest(db, asOf: base + 55_000)[id]?.0, base + 50_000)
        // A lone inline chunk is packed already: compaction leaves it.
        _ = try db.compactTimeSeries()
        XCTAssertEqual(try forms(db), [TimeSeriesFormat.packed: 1])
        // A later write makes the bucket packed whole again: kept apart.
        try db.writeFloatPoints(ids: [id], times: [base + 500_000], values: [1.5], count: 1)
        XCTAssertTrue(try db.packBucket(id: id, bucket: base))
        XCTAssertEqual(try forms(db), [TimeSeriesFormat.packedApart: 1])
        XCTAssertEqual(try points(db, id).map { $0.0 }, times + [base + 500_000])
        XCTAssertEqual(try newest(db, asOf: nil)[id]?.0, base + 500_000)
        try checkBodiesPair(db, "after repacking")
    }
}
