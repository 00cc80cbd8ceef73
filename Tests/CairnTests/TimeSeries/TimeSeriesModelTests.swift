import XCTest
@testable import Cairn

/// The layer against a plain in-memory model: random batches of points
/// (out of order, duplicates, several series, NaN), range deletions, with
/// reopen, flush, packing and compaction interleaved; every range read,
/// latest/as-of read and count aggregate must match the model.
final class TimeSeriesModelTests: XCTestCase {
    private func read(_ db: Database, _ query: String) throws -> [[String: JSONValue]] {
        let cursor = try Array(query.utf8).withUnsafeBytes { q -> DocumentCursor in
            if query.contains("\"every\"") { return try db.timeSeriesAggregate(queryJSON: q) }
            if query.contains("\"as_of\"") { return try db.timeSeriesLast(queryJSON: q) }
            return try db.timeSeriesRange(queryJSON: q)
        }
        var rows: [[String: JSONValue]] = []
        while try cursor.next() {
            guard case .object(let members) = try JSONValue.parse(cursor.json) else { XCTFail("row is not an object"); continue }
            rows.append(Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
        }
        return rows
    }

    private func same(_ row: JSONValue?, _ expected: Double) -> Bool {
        switch row {
        case .double(let d): return d == expected || (d.isNaN && expected.isNaN)
        case .int(let i): return Double(i) == expected
        case .string("NaN"): return expected.isNaN
        default: return false
        }
    }

    func testRandomWorkloadMatchesModel() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var rng = TimeSeriesRandom(seed: 2026)
        let hosts = ["a", "b", "c"]
        var model: [String: [Int64: Double]] = [:]
        let base: Int64 = 4_102_444_800_000
        let span: Int64 = 3 * TimeSeriesFormat.bucketMillis
        for step in 0..<1000 {
            switch rng.next() % 20 {
            case 0:
                try db.close()
                db = try Database.open(path: dir.path)
            case 1: try db.flush()
            case 2: _ = try db.compactTimeSeries()
            case 3:
                let host = hosts[Int(rng.next() % 3)]
                let start = base + Int64(rng.next() % UInt64(span))
                let end = start + Int64(rng.next() % UInt64(TimeSeriesFormat.bucketMillis * 2))
                _ = try Array("{\"metric\":\"m\",\"tags\":{\"host\":\"\(host)\"},\"start\":\(start),\"end\":\(end)}".utf8).withUnsafeBytes {
                    try db.deletePoints(queryJSON: $0)
                }
                model[host] = model[host]?.filter { $0.key < start || $0.key >= end }
            default:
                var points: [String] = []
                for _ in 0..<(1 + rng.next() % 40) {
                    let host = hosts[Int(rng.next() % 3)]
                    // Coarse times collide often: last write wins.
                    let t = base + Int64(rng.next() % 400) * (span / 400)
                    let v: Double = rng.next() % 17 == 0 ? .nan : Double(rng.next() % 1000) / 4
                    points.append("{\"metric\":\"m\",\"tags\":{\"host\":\"\(host)\"},\"t\":\(t),\"v\":\(v.isNaN ? "\"NaN\"" : "\(v)")}")
                    model[host, default: [:]][t] = v
                }
                _ = try Array(("[" + points.joined(separator: ",") + "]").utf8).withUnsafeBytes { try db.writePoints(json: $0) }
            }
            guard step % 10 == 9 else { continue }
            for host in hosts {
                let expected = (model[host] ?? [:]).sorted { $0.key < $1.key }
                let rows = try read(db, "{\"metric\":\"m\",\"tags\":{\"host\":\"\(host)\"}}")
                XCTAssertEqual(rows.count, expected.count, "step \(step) host \(host)")
                for (row, point) in zip(rows, expected) {
                    XCTAssertEqual(row["t"], .int(point.key), "step \(step)")
                    XCTAssertTrue(same(row["v"], point.value), "step \(step) t \(point.key): \(String(describing: row["v"])) vs \(point.value)")
                }
                // As of a random time: the newest point at or before it.
                let asOf = base + Int64(rng.next() % UInt64(span))
                let newest = expected.last { $0.key <= asOf }
                let last = try read(db, "{\"metric\":\"m\",\"tags\":{\"host\":\"\(host)\"},\"as_of\":\(asOf)}")
                XCTAssertEqual(last.count, newest == nil ? 0 : 1, "step \(step) as_of")
                if let newest, let row = last.first { XCTAssertEqual(row["t"], .int(newest.key)) }
            }
            // Counts per hour across all hosts.
            let hour: Int64 = 3_600_000
            var counts: [Int64: Int64] = [:]
            for (_, points) in model { for t in points.keys { counts[TimeSeriesFormat.floor(t, hour), default: 0] += 1 } }
            let rows = try read(db, "{\"metric\":\"m\",\"every\":\(hour),\"aggregates\":[\"count\"]}")
            XCTAssertEqual(rows.count, counts.count, "step \(step) windows")
            for row in rows {
                guard case .int(let t) = row["t"] else { XCTFail("no t"); continue }
                XCTAssertEqual(row["count"], .int(counts[t] ?? -1), "step \(step) window \(t)")
            }
        }
    }

    func testConcurrentWritersLoseNothing() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let threads = 4, batches = 50, perBatch = 100
        let ids = try (0..<threads).map { w in
            try Array("{\"metric\":\"w\",\"tags\":{\"writer\":\"\(w)\"}}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
        }
        let shared = try Array("{\"metric\":\"shared\"}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            for b in 0..<batches {
                var idColumn: [UInt64] = [], times: [Int64] = [], values: [Double] = []
                for i in 0..<perBatch {
                    let t = Int64((b * perBatch + i) * threads + w)
                    idColumn.append(contentsOf: [ids[w], shared])
                    times.append(contentsOf: [t, t])
                    values.append(contentsOf: [Double(t), Double(w)])
                }
                try! db.writeFloatPoints(ids: idColumn, times: times, values: values, count: idColumn.count)
            }
        }
        let rows = try read(db, "{\"metric\":\"shared\",\"every\":1000000000,\"aggregates\":[\"count\"]}")
        XCTAssertEqual(rows.first?["count"], .int(Int64(threads * batches * perBatch)))
        for w in 0..<threads {
            let own = try read(db, "{\"metric\":\"w\",\"tags\":{\"writer\":\"\(w)\"},\"every\":1000000000,\"aggregates\":[\"count\"]}")
            XCTAssertEqual(own.first?["count"], .int(Int64(batches * perBatch)))
        }
    }
}
