import XCTest
@testable import Cairn

/// The row writer of the last-point query (RowWriter): its punctuation
/// constants, its decimals against `description`, its series members
/// against the general path, and the rows of `timeSeriesLast` for every
/// series (the catalog walked once) against a selection by metric.
final class TimeSeriesRowWriterTests: XCTestCase {
    private func written(_ capacity: Int, _ body: (inout RowWriter) throws -> Bool) throws -> String? {
        var out: [UInt8] = Array("<".utf8)
        guard try RowWriter.append(capacity: capacity, to: &out, body) else {
            XCTAssertEqual(out, Array("<".utf8), "nothing is left behind")
            return nil
        }
        return String(decoding: out.dropFirst(), as: UTF8.self)
    }

    func testPunctuation() throws {
        let texts: [((UInt64, Int), String)] = [
            (RowWriter.Text.openID, "{\"id\":"), (RowWriter.Text.time, ",\"t\":"), (RowWriter.Text.value, ",\"v\":"),
            (RowWriter.Text.close, "}"), (RowWriter.Text.metric, "\"metric\""), (RowWriter.Text.metricEnd, ":\""),
            (RowWriter.Text.tags, "\",\"tags\""), (RowWriter.Text.noTags, ":{}"), (RowWriter.Text.firstTag, ":{\""),
            (RowWriter.Text.nameEnd, "\":\""), (RowWriter.Text.valueEnd, "\",\""), (RowWriter.Text.lastValue, "\"}"),
        ]
        for (text, expected) in texts {
            XCTAssertEqual(try written(16) { $0.text(text); return true }, expected)
        }
    }

    func testIntegers() throws {
        for value: Int64 in [0, 7, -7, 10, 99, 100, 1_451_606_400_000, -1_451_606_400_000, .max, .min, .max - 1, .min + 1] {
            XCTAssertEqual(try written(RowWriter.integerCapacity + 1) { $0.integer(value); return true }, String(value))
        }
    }

    /// Every value the fast path takes is written as `description` writes
    /// it; the others are refused.
    func testDecimalsMatchDescription() throws {
        var rng = SeededRandom(seed: 0x5EED_0D0D)
        var values: [Double] = [0, -0.0, 0.001, 0.0011, 0.05, 0.1, 0.2, 0.3, 0.1 + 0.2, 1, -1, 12, 37.52, -37.52, 99.99, 100,
                                123_456.789, 999_999_999_999_999, 1e15 - 1, 1e15, 1e16, 0.000999, 0.0001, 1e-5,
                                123_456_789.123456, 9_007_199_254_740_992, 1.7976931348623157e308, .leastNonzeroMagnitude, .pi, -.pi]
        for _ in 0..<200_000 {
            let scale = [1.0, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7][Int(rng.next() % 8)]
            let m = Double(Int64(bitPattern: rng.next()) % 10_000_000_000)
            values.append(m / scale)
            values.append(Double(bitPattern: rng.next()))
            values.append(Double(Int64(bitPattern: rng.next()) % 100_000) / 100)
        }
        var taken = 0
        for d in values where d.isFinite {
            if let text = try written(RowWriter.decimalCapacity + 1, { $0.decimal(d) }) {
                XCTAssertEqual(text, d.description, "\(d.bitPattern)")
                taken += 1
            }
        }
        XCTAssertGreaterThan(taken, 300_000, "the usual readings take the fast path")
        for d in [37.52, 0.05, 12.0, -0.0, 1e13 + 0.5] {
            XCTAssertNotNil(try written(RowWriter.decimalCapacity + 1) { $0.decimal(d) }, "\(d)")
        }
        for d in [1e-5, 1e15, 0.1 + 0.2, .pi, 1e300, 1e14 + 0.5] {
            XCTAssertNil(try written(RowWriter.decimalCapacity + 1) { $0.decimal(d) }, "\(d)")
        }
    }

    func testMembersMatchTheGeneralPath() throws {
        var rng = SeededRandom(seed: 42)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789_-.:/ ".utf8)
        func word() -> String {
            String(decoding: (0..<(1 + Int(rng.next() % 20))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self)
        }
        var keys = [
            try SeriesKey(metric: "cpu", tags: [("host", "a\"b"), ("dc", "eu")]),
            try SeriesKey(metric: "cpu", tags: [("host", "a\\b")]),
            try SeriesKey(metric: "tab\there", tags: []),
            try SeriesKey(metric: "temp", tags: []),
            try SeriesKey(metric: "naïve", tags: [("city", "Zürich")]),
            try SeriesKey(metric: "m", tags: [("k", "v\u{7F}")]),
        ]
        for _ in 0..<2000 {
            keys.append(try SeriesKey(metric: word(), tags: (0..<Int(rng.next() % 12)).map { i in ("\(i)" + word(), word()) }))
        }
        for key in keys {
            var slow: [UInt8] = []
            key.writeJSONMembers(to: &slow)
            var fast: [UInt8] = []
            try key.bytes.withUnsafeBytes { try SeriesKey.writeJSONMembers(bytes: $0, to: &fast) }
            XCTAssertEqual(String(decoding: fast, as: UTF8.self), String(decoding: slow, as: UTF8.self))
            let plain = try key.bytes.withUnsafeBytes { bytes in
                try written(RowWriter.membersCapacity(bytes.count)) { try $0.members(bytes) }
            }
            if let plain { XCTAssertEqual(plain, String(decoding: slow, as: UTF8.self)) }
        }
        // Malformed keys of every length around the 8-byte steps: an even
        // number of parts, or no NUL at the end.
        for length in 1..<40 {
            var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            for even in [true, false] {
                bytes[length - 1] = even ? 0 : UInt8(ascii: "z")
                if even && length >= 3 { bytes[length / 2] = 0 }
                let parts = bytes.filter { $0 == 0 }.count
                guard even ? parts % 2 == 0 : true else { continue }
                var out: [UInt8] = Array("x".utf8)
                XCTAssertThrowsError(try bytes.withUnsafeBytes { try SeriesKey.writeJSONMembers(bytes: $0, to: &out) }, "\(bytes)")
                XCTAssertEqual(out, Array("x".utf8), "nothing is left behind")
            }
        }
    }

    /// "Every series" walks the catalog once; its rows equal those of the
    /// same series selected by metric (a list of ids read by id), for
    /// float, int and non-plain series, and a series without points is
    /// left out.
    func testLastOfEverySeriesMatchesSelection() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let base: Int64 = 4_102_444_800_000
        var json = "["
        for i in 0..<300 {
            let v = i % 3 == 0 ? "\(Double(i) * 1.25)" : i % 3 == 1 ? "\"NaN\"" : "\(Double(i) / 7)"
            json += "{\"metric\":\"m\",\"tags\":{\"i\":\"\(i)\",\"q\":\"a\\\"b\"},\"t\":\(base + Int64(i)),\"v\":\(v)},"
            json += "{\"metric\":\"n\",\"tags\":{\"i\":\"\(i)\"},\"t\":\(base - Int64(i)),\"v\":\(i * 1000),\"type\":\"int\"},"
            json += "{\"metric\":\"ü\",\"tags\":{\"i\":\"\(i)\"},\"t\":\(base + 7_200_000 * Int64(i % 5)),\"v\":\(-Double(i) / 100)},"
        }
        json.removeLast()
        json += "]"
        _ = try Array(json.utf8).withUnsafeBytes { try db.writePoints(json: $0) }
        _ = try Array("{\"metric\":\"empty\"}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0) }
        func rows(_ query: String) throws -> [String] {
            let cursor = try Array(query.utf8).withUnsafeBytes { try db.timeSeriesLast(queryJSON: $0) }
            var out: [String] = []
            while try cursor.next() { out.append(cursor.jsonString) }
            return out
        }
        for flushed in [false, true] {
            if flushed { try db.flush() }
            let all = try rows("{}")
            let byMetric = try rows("{\"metric\":\"m\"}") + rows("{\"metric\":\"n\"}") + rows("{\"metric\":\"ü\"}")
            XCTAssertEqual(all.count, 900)
            XCTAssertEqual(Set(all), Set(byMetric))
            XCTAssertEqual(try rows("{\"metric\":\"empty\"}"), [])
            for row in all {
                guard case .object(let members) = try JSONValue.parse(row) else { XCTFail("row is not an object"); continue }
                XCTAssertEqual(members.map { $0.key }, ["id", "metric", "tags", "t", "v"])
            }
            XCTAssertEqual(try rows("{\"as_of\":\(base - 1)}").count, 299, "only n has points before base (299 of them)")
        }
    }
}

/// The newest point of series with long histories (more buckets than the
/// forward walk reads, so by seeks from a guessed bucket): against a model,
/// with late writes, deletions of time ranges (the newest bucket emptied,
/// a deletion chunk in the newest bucket), series of different lengths and
/// gaps, as of several times, before and after flush and compaction.
final class TimeSeriesNewestPointTests: XCTestCase {
    func testLongHistoriesAgainstModel() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let base: Int64 = 4_102_444_800_000
        let width = TimeSeriesFormat.bucketMillis
        var rng = SeededRandom(seed: 0x1A57)
        var model: [UInt64: [Int64: Double]] = [:]
        var ids: [UInt64] = []
        for s in 0..<40 {
            let id = try Array("{\"metric\":\"h\",\"tags\":{\"s\":\"\(s)\"}}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
            ids.append(id)
            // Most series span 12 buckets; some fewer, some with gaps.
            let buckets = s % 7 == 3 ? 3 : 12
            var points: [(Int64, Double)] = []
            for b in 0..<buckets where !(s % 5 == 2 && b % 4 == 1) {
                for k in 0..<(1 + Int(rng.next() % 5)) {
                    points.append((base + Int64(b) * width + Int64(k) * 600_000 + Int64(rng.next() % 1000), Double(rng.next() % 10_000) / 100))
                }
            }
            try db.writeFloatPoints(ids: points.map { _ in id }, times: points.map { $0.0 }, values: points.map { $0.1 }, count: points.count)
            for (t, v) in points { model[id, default: [:]][t] = v }
        }
        func check(_ what: String) throws {
            for asOf in [TimeSeriesFormat.maxTime, base + 11 * width + 100_000, base + 6 * width - 1, base + 2 * width + 1_000_000, base - 1] {
                try checkNewestPoints(db, metric: "h", asOf: asOf, ids: ids, model: model, "\(what): ")
            }
        }
        try check("written")
        _ = try db.compactTimeSeries()
        try check("packed")
        // Late writes, a replaced newest point, deletions of the newest
        // bucket whole and of part of one.
        for (i, id) in ids.enumerated() {
            switch i % 4 {
            case 0:
                let t = base + 5 * width + 7
                try db.writeFloatPoints(ids: [id], times: [t], values: [-1.5], count: 1)
                model[id, default: [:]][t] = -1.5
            case 1:
                if let newest = model[id]?.keys.max() {
                    try db.writeFloatPoints(ids: [id], times: [newest], values: [42.25], count: 1)
                    model[id]![newest] = 42.25
                }
            case 2:
                let start = base + 11 * width, end = base + 12 * width
                _ = try Array("{\"id\":\(id),\"start\":\(start),\"end\":\(end)}".utf8).withUnsafeBytes { try db.deletePoints(queryJSON: $0) }
                model[id] = model[id]?.filter { $0.key < start || $0.key >= end }
            default:
                let start = base + 11 * width + 300_000, end = base + 12 * width + 5
                _ = try Array("{\"id\":\(id),\"start\":\(start),\"end\":\(end)}".utf8).withUnsafeBytes { try db.deletePoints(queryJSON: $0) }
                model[id] = model[id]?.filter { $0.key < start || $0.key >= end }
            }
        }
        try check("changed")
        try db.flush()
        try check("flushed")
        _ = try db.compactTimeSeries()
        try check("compacted")
    }
}
