import XCTest
@testable import Cairn

/// Packing a bucket in part (its tail of written chunks) and whole, the
/// merge of chunks already in time order, and the catalog reads of the
/// last-point query.
final class TimeSeriesPackingTests: XCTestCase {
    private let base: Int64 = 4_102_444_800_000  // a bucket boundary (2100-01-01)

    private func chunkForms(_ db: Database, _ id: UInt64) throws -> [UInt8] {
        var forms: [UInt8] = []
        try db.forEachKey(prefix: TimeSeriesFormat.bucketPrefix(id, base), view: try db.engine.readView()) { key, _ in
            forms.append(TimeSeriesFormat.parseChunkKey(key)!.form)
        }
        return forms
    }

    private func points(_ db: Database, _ id: UInt64) throws -> [(Int64, Double)] {
        let view = try db.engine.readView()
        let reader = try SeriesReader(database: db, view: view, id: id, start: TimeSeriesFormat.minTime, end: TimeSeriesFormat.maxTime + 1)
        var out: [(Int64, Double)] = []
        while try reader.nextBucket() {
            for (t, v) in zip(reader.times, reader.values) { out.append((t, Double(bitPattern: v))) }
        }
        return out
    }

    private func write(_ db: Database, _ id: UInt64, _ points: [(Int64, Double)]) throws {
        try db.writeFloatPoints(ids: points.map { _ in id }, times: points.map { $0.0 }, values: points.map { $0.1 }, count: points.count)
    }

    private func assertSame(_ a: [(Int64, Double)], _ b: [(Int64, Double)], _ what: String, line: UInt = #line) {
        XCTAssertEqual(a.map { $0.0 }, b.map { $0.0 }, what, line: line)
        XCTAssertEqual(a.map { $0.1 }, b.map { $0.1 }, what, line: line)
    }

    func testTailPackingKeepsWhatReadsSee() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let id = try Array("{\"metric\":\"p\"}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
        var model: [Int64: Double] = [:]
        func add(_ batch: [(Int64, Double)]) throws {
            try write(db, id, batch)
            for (t, v) in batch { model[t] = v }
        }
        func expected() -> [(Int64, Double)] { model.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

        // Three batches in time order, then the tail packed: one packed chunk.
        for b in 0..<3 { try add((0..<4).map { (base + Int64(b * 4 + $0) * 1000, Double(b * 4 + $0) / 4) }) }
        XCTAssertEqual(try chunkForms(db, id), [0, 0, 0])
        XCTAssertTrue(try db.packBucket(id: id, bucket: base, whole: false))
        XCTAssertEqual(try chunkForms(db, id), [3])
        assertSame(try points(db, id), expected(), "after the first tail")
        // A lone packed chunk has no tail to pack.
        XCTAssertFalse(try db.packBucket(id: id, bucket: base, whole: false))

        // Two more batches, one overwriting an old point: the new tail is
        // packed beside the first packed chunk, which stays as it was.
        try add([(base + 12_000, 9), (base + 13_000, 10)])
        try add([(base + 2000, -1), (base + 14_000, 11)])
        XCTAssertTrue(try db.packBucket(id: id, bucket: base, whole: false))
        XCTAssertEqual(try chunkForms(db, id), [3, 3])
        assertSame(try points(db, id), expected(), "after the second tail")

        // A deletion ends the tail: only the written chunks after it are
        // packed, and the deletion still hides the older points.
        _ = try Array("{\"metric\":\"p\",\"start\":\(base + 1000),\"end\":\(base + 4000)}".utf8).withUnsafeBytes { try db.deletePoints(queryJSON: $0) }
        for t in model.keys where t >= base + 1000 && t < base + 4000 { model[t] = nil }
        try add([(base + 3000, 42), (base + 15_000, 12)])
        try add([(base + 16_000, 13)])
        XCTAssertTrue(try db.packBucket(id: id, bucket: base, whole: false))
        XCTAssertEqual(try chunkForms(db, id), [3, 3, 2, 3])
        assertSame(try points(db, id), expected(), "after a deletion and a tail")

        // Whole: one chunk, the same points, also after a reopen's flush.
        XCTAssertTrue(try db.packBucket(id: id, bucket: base, whole: true))
        XCTAssertEqual(try chunkForms(db, id), [3])
        assertSame(try points(db, id), expected(), "after packing whole")
        try db.flush()
        _ = try db.compactTimeSeries()
        assertSame(try points(db, id), expected(), "after compaction")
    }

    /// The written chunks of a bucket that one memtable holds become one at
    /// flush (ChunkCoalescing); a deletion chunk ends the run.
    func testWrittenChunksMergeAtFlush() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let id = try Array("{\"metric\":\"c\"}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
        var model: [Int64: Double] = [:]
        func add(_ batch: [(Int64, Double)]) throws {
            try write(db, id, batch)
            for (t, v) in batch { model[t] = v }
        }
        func expected() -> [(Int64, Double)] { model.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        // Two points a call, as a batch across many series adds; the third
        // call overwrites a point of the first, the fifth writes out of order.
        try add([(base, 1), (base + 10_000, 2)])
        try add([(base + 20_000, 3), (base + 30_000, 4)])
        try add([(base + 10_000, 5), (base + 40_000, 6)])
        _ = try Array("{\"metric\":\"c\",\"start\":\(base + 20_000),\"end\":\(base + 21_000)}".utf8).withUnsafeBytes { try db.deletePoints(queryJSON: $0) }
        model[base + 20_000] = nil
        try add([(base + 50_000, 7), (base + 60_000, 8)])
        try add([(base + 5000, 9), (base + 70_000, 10)])
        XCTAssertEqual(try chunkForms(db, id), [0, 0, 0, 2, 0, 0])
        assertSame(try points(db, id), expected(), "before the flush")
        try db.flush()
        XCTAssertEqual(try chunkForms(db, id), [0, 2, 0], "the runs on either side of the deletion, merged")
        assertSame(try points(db, id), expected(), "after the flush")
        try db.close()
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        assertSame(try points(reopened, id), expected(), "after a reopen")
    }

    /// Packing reads some written chunks, a write follows, a flush merges
    /// the chunks packing read with the later one, and only then does
    /// packing delete what it read and write their merge under the newest
    /// sequence it read. The merged chunk survives the deletes and holds
    /// those points again, under a later sequence: reads must not change.
    func testPackingThatRacesAFlushMergeLosesNoPoint() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let id = try Array("{\"metric\":\"r\"}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
        try write(db, id, [(base, 1), (base + 10_000, 2)])
        try write(db, id, [(base + 10_000, 3), (base + 20_000, 4)])
        // What packing read: the first two chunks, at its snapshot.
        var read: [[UInt8]] = []
        try db.forEachKey(prefix: TimeSeriesFormat.bucketPrefix(id, base), view: try db.engine.readView()) { key, _ in read.append(Array(key)) }
        XCTAssertEqual(read.count, 2)
        let newestRead = TimeSeriesFormat.parseChunkKey(try XCTUnwrap(read.last).withUnsafeBytes { $0 })!.sequence
        // A later write overwrites a point packing read.
        try write(db, id, [(base, 5), (base + 30_000, 6)])
        let expected: [(Int64, Double)] = [(base, 5), (base + 10_000, 3), (base + 20_000, 4), (base + 30_000, 6)]
        try db.flush()
        XCTAssertEqual(try chunkForms(db, id), [0], "the three chunks merged under the last one's key")
        // Packing's write: the merge of what it read, deleting what it read.
        var batch = WriteBatch()
        for key in read { key.withUnsafeBytes { batch.delete($0) } }
        var chunk: [UInt8] = []
        let times: [Int64] = [base, base + 10_000, base + 20_000]
        let bits = [1.0, 3, 4].map { $0.bitPattern }
        times.withUnsafeBufferPointer { t in bits.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: false, bucket: base, into: &chunk)
        } }
        TimeSeriesFormat.chunkKey(id, base, sequence: newestRead, form: TimeSeriesFormat.packed).withUnsafeBytes { k in
            chunk.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) }
        }
        try db.engine.write(batch)
        XCTAssertEqual(try chunkForms(db, id), [1, 0], "the packed chunk before the merged one")
        assertSame(try points(db, id), expected, "the merged chunk's later points win, none is lost")
        XCTAssertTrue(try db.packBucket(id: id, bucket: base, whole: true))
        XCTAssertEqual(try chunkForms(db, id), [3])
        assertSame(try points(db, id), expected, "after packing the bucket whole")
    }

    func testMergeOfChunksInOrderAndOverlapping() throws {
        func chunk(_ times: [Int64], _ values: [Double]) -> [UInt8] {
            var out: [UInt8] = []
            let bits = values.map { $0.bitPattern }
            times.withUnsafeBufferPointer { t in bits.withUnsafeBufferPointer { v in
                GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: false, into: &out)
            } }
            return out
        }
        let merger = BucketMerger()
        // In order: concatenated as they are.
        merger.reset(isInteger: false)
        for (s, c) in [chunk([base, base + 10], [1, 2]), chunk([base + 20], [3]), chunk([base + 30, base + 40], [4, 5])].enumerated() {
            try c.withUnsafeBytes { try merger.add($0, bucket: base, sequence: UInt64(s + 1), form: TimeSeriesFormat.packed) }
        }
        merger.merge()
        XCTAssertEqual(merger.times, [base, base + 10, base + 20, base + 30, base + 40])
        XCTAssertEqual(merger.values.map { Double(bitPattern: $0) }, [1, 2, 3, 4, 5])
        // Touching (equal timestamps at the seam) and overlapping: sorted,
        // the newer chunk wins.
        merger.reset(isInteger: false)
        for (s, c) in [chunk([base, base + 20], [1, 2]), chunk([base + 20, base + 30], [7, 8]), chunk([base + 10], [9])].enumerated() {
            try c.withUnsafeBytes { try merger.add($0, bucket: base, sequence: UInt64(s + 1), form: TimeSeriesFormat.packed) }
        }
        merger.merge()
        XCTAssertEqual(merger.times, [base, base + 10, base + 20, base + 30])
        XCTAssertEqual(merger.values.map { Double(bitPattern: $0) }, [1, 9, 7, 8])
    }

    /// The last point of every series (one forward walk, seeks for what it
    /// leaves) against a model, with packed, unpacked, deleted, empty and
    /// long series side by side, at several as_of times.
    func testLastPointOfEverySeriesMatchesModel() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let width = TimeSeriesFormat.bucketMillis
        var rng = TimeSeriesRandom(seed: 1616)
        var ids: [UInt64] = []
        var model: [UInt64: [Int64: Double]] = [:]
        for i in 0..<60 {
            let id = try Array("{\"metric\":\"l\",\"tags\":{\"s\":\"\(i)\"}}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! }
            ids.append(id)
            // Series 7n hold nothing; 5n span 8 buckets (more than a walk reads).
            guard i % 7 != 0 else { continue }
            let buckets = i % 5 == 0 ? 8 : 1 + i % 3
            for _ in 0..<(1 + rng.next() % 4) {
                var batch: [(Int64, Double)] = []
                for _ in 0..<(1 + rng.next() % 6) {
                    let t = base + Int64(rng.next() % UInt64(buckets)) * width + Int64(rng.next() % 1000) * 1000
                    let v = Double(rng.next() % 10_000) / 100
                    batch.append((t, v))
                }
                try write(db, id, batch)
                for (t, v) in batch { model[id, default: [:]][t] = v }
            }
            if i % 4 == 0 {
                // Packed: one chunk per bucket.
                for b in 0..<buckets { try db.packBucket(id: id, bucket: base + Int64(b) * width) }
            }
            if i % 6 == 1 {
                let start = base + Int64(rng.next() % 500) * 1000
                _ = try Array("{\"id\":\(id),\"start\":\(start),\"end\":\(start + 400_000)}".utf8).withUnsafeBytes { try db.deletePoints(queryJSON: $0) }
                model[id] = model[id]?.filter { $0.key < start || $0.key >= start + 400_000 }
            }
        }
        if rng.next() % 2 == 0 { try db.flush() }
        for asOf in [TimeSeriesFormat.maxTime, base + 500_000, base + width + 300_000, base + 3 * width - 1, base - 1] {
            try checkNewestPoints(db, metric: "l", asOf: asOf, ids: ids, model: model, tagCount: 1)
        }
    }

    func testSeriesMembersFromCatalogBytes() throws {
        let keys = [
            try SeriesKey(metric: "cpu", tags: [("host", "a\"b"), ("dc", "eu")]),
            try SeriesKey(metric: "temp", tags: []),
            try SeriesKey(metric: "naïve", tags: [("city", "Zürich")]),
        ]
        for key in keys {
            var fast: [UInt8] = [], slow: [UInt8] = []
            try key.bytes.withUnsafeBytes { try SeriesKey.writeJSONMembers(bytes: $0, to: &fast) }
            key.writeJSONMembers(to: &slow)
            XCTAssertEqual(String(decoding: fast, as: UTF8.self), String(decoding: slow, as: UTF8.self))
        }
        for bad in [[UInt8]("cpu".utf8), [UInt8]("cpu\0host\0".utf8)] {
            var out: [UInt8] = Array("x".utf8)
            XCTAssertThrowsError(try bad.withUnsafeBytes { try SeriesKey.writeJSONMembers(bytes: $0, to: &out) })
            XCTAssertEqual(out, Array("x".utf8), "nothing is left behind")
        }
    }

    func testSeriesKeyReaderInAnyOrder() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var ids: [UInt64] = []
        for i in 0..<40 {
            ids.append(try Array("{\"metric\":\"m\",\"tags\":{\"i\":\"\(i)\"}}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! })
        }
        let view = try db.engine.readView()
        func name(_ reader: SeriesKeyReader, _ id: UInt64) throws -> String? {
            try reader.withKey(of: id) { try SeriesKey.decode($0).tags.first?.value } ?? nil
        }
        let forward = try SeriesKeyReader(database: db, view: view)
        // Ascending with gaps (steps and seeks), a missing id, then backwards.
        for i in stride(from: 0, to: 40, by: 3) { XCTAssertEqual(try name(forward, ids[i]), "\(i)") }
        XCTAssertNil(try name(forward, ids.last! + 2))
        XCTAssertEqual(try name(forward, ids[39]), "39")
        XCTAssertNil(try name(forward, 0))
        for i in stride(from: 39, through: 0, by: -7) { XCTAssertEqual(try name(forward, ids[i]), "\(i)") }
        XCTAssertEqual(try name(forward, ids[20]), "20")
        XCTAssertEqual(try name(forward, ids[38]), "38")
    }
}
