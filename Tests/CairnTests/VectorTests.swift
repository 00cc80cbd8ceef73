import Foundation
import XCTest
@testable import Cairn

/// Vector indexes: the distance functions, the key format, and the graph's
/// invariants after inserts, updates and deletes.
final class VectorTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testDistanceFunctionsMatchNaiveSums() {
        var rng = SystemRandomNumberGenerator()
        for count in [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 100, 128, 384, 1536] {
            let a = (0..<count).map { _ in Float.random(in: -2...2, using: &rng) }
            let b = (0..<count).map { _ in Float.random(in: -2...2, using: &rng) }
            var l2: Double = 0, dot: Double = 0
            for i in 0..<count {
                l2 += Double(a[i] - b[i]) * Double(a[i] - b[i])
                dot += Double(a[i]) * Double(b[i])
            }
            a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in
                // The CPU's kernel (when it has AVX-512 or AVX2) adds in the
                // portable code's order: the same bits.
                XCTAssertEqual(VectorMetric.squaredL2(pa.baseAddress!, pb.baseAddress!, count: count).bitPattern,
                               VectorMetric.portableSquaredL2(pa.baseAddress!, pb.baseAddress!, count: count).bitPattern, "\(count)")
                XCTAssertEqual(VectorMetric.dotProduct(pa.baseAddress!, pb.baseAddress!, count: count).bitPattern,
                               VectorMetric.portableDotProduct(pa.baseAddress!, pb.baseAddress!, count: count).bitPattern, "\(count)")
                XCTAssertEqual(Double(VectorMetric.l2.distance(pa.baseAddress!, pb.baseAddress!, count: count)), l2, accuracy: 1e-3 * max(1, l2))
                XCTAssertEqual(Double(VectorMetric.dot.distance(pa.baseAddress!, pb.baseAddress!, count: count)), -dot, accuracy: 1e-3 * max(1, abs(dot)))
            } }
        }
        var zero: [Float] = [0, 0, 0]
        XCTAssertFalse(VectorMetric.normalize(&zero))
        var v: [Float] = [3, 4]
        XCTAssertTrue(VectorMetric.normalize(&v))
        XCTAssertEqual(v, [0.6, 0.8])
    }

    func testNodeRecordAndLinksRoundTripAndDamageIsCorruption() throws {
        let record = VectorIndexFormat.encodeNode(level: 2, primaryKey: [1, 2, 3], filterValues: [9], vector: [1.5, -2])
        try record.withUnsafeBytes { raw in
            let node = try VectorIndexFormat.decodeNode(raw, dimensions: 2, index: "v")
            XCTAssertEqual(node.level, 2)
            XCTAssertEqual(Array(node.primaryKey), [1, 2, 3])
            XCTAssertEqual(Array(node.filterValues), [9])
            XCTAssertEqual(node.vector.count, 8)
            XCTAssertEqual(status { _ = try VectorIndexFormat.decodeNode(raw, dimensions: 3, index: "v") }, .corruption)
            XCTAssertEqual(status { _ = try VectorIndexFormat.decodeNode(UnsafeRawBufferPointer(rebasing: raw[0..<4]), dimensions: 2, index: "v") }, .corruption)
        }
        let links = VectorIndexFormat.encodeLinks([1, 70000, 0xFFFF_FFFF])
        try links.withUnsafeBytes { raw in
            XCTAssertEqual(try VectorIndexFormat.decodeLinks(raw, max: 32, index: "v"), [1, 70000, 0xFFFF_FFFF])
            XCTAssertEqual(status { _ = try VectorIndexFormat.decodeLinks(raw, max: 2, index: "v") }, .corruption)
            XCTAssertEqual(status { _ = try VectorIndexFormat.decodeLinks(UnsafeRawBufferPointer(rebasing: raw[0..<5]), max: 32, index: "v") }, .corruption)
        }
        let prefix = VectorIndexFormat.prefix(collection: 5, index: 2)
        XCTAssertEqual(prefix, [0x07, 0, 0, 0, 5, 0, 0, 0, 2])
        XCTAssertEqual(VectorIndexFormat.linksKey(prefix, 0x0102_0304, level: 3), prefix + [0x03, 1, 2, 3, 4, 3])
    }

    /// The walk's visited marks: each node once per walk, a fresh walk
    /// after `reset` (also across the generation counter's wrap), and node
    /// numbers beyond the marks' size through the overflow set.
    /// The heaps of the walk pop in order (min or max), ties included,
    /// whatever the pushes and pops before.
    func testDistanceHeapsPopInOrder() {
        var generator = SplitMix(seed: 3)
        for isMax in [false, true] {
            var heap = DistanceHeap(max: isMax)
            var reference: [(distance: Float, node: UInt32)] = []
            for step in 0..<5000 {
                if generator.next() % 3 != 0 || reference.isEmpty {
                    let d = Float(generator.next() % 50)  // many ties
                    heap.push(d, UInt32(step))
                    reference.append((d, UInt32(step)))
                } else {
                    let popped = heap.pop()!
                    let best = isMax ? reference.map(\.distance).max()! : reference.map(\.distance).min()!
                    XCTAssertEqual(popped.distance, best)
                    let position = reference.firstIndex { $0.distance == popped.distance && $0.node == popped.node }!
                    reference.remove(at: position)
                }
                XCTAssertEqual(heap.count, reference.count)
            }
            var last: Float? = nil
            while let item = heap.pop() {
                if let last { XCTAssertTrue(isMax ? item.distance <= last : item.distance >= last) }
                last = item.distance
            }
            XCTAssertNil(heap.pop())
        }
    }

    func testVisitedMarksMarkEachNodeOncePerWalk() {
        let marks = VisitedMarks()
        marks.reset(nodes: 100)
        XCTAssertTrue(marks.insert(7))
        XCTAssertFalse(marks.insert(7))
        XCTAssertTrue(marks.insert(5000), "beyond the marks: the set")
        XCTAssertFalse(marks.insert(5000))
        for _ in 0..<70_000 {
            marks.reset(nodes: 100)
            XCTAssertTrue(marks.insert(7), "a new walk has visited nothing")
        }
        XCTAssertTrue(marks.insert(5000))
        marks.reset(nodes: 10_000)
        XCTAssertTrue(marks.insert(5000), "grown: now a mark")
        XCTAssertFalse(marks.insert(5000))
        XCTAssertTrue(marks.insert(99))
    }

    /// The cache's flat level-0 lists: what a search learned is served
    /// until a commit invalidates it; upper levels go through their own
    /// table; a list longer than the bound (damage), or of a node whose
    /// record is not cached, is not cached.
    func testNodeCacheServesLevelZeroListsUntilInvalidated() {
        let cache = VectorNodeCache(dimensions: 2, maxLinks0: 4)
        let fills = [3, 2, 900].map { VectorNodeCache.Fill(node: $0, level: 1, primaryKey: [UInt8($0 & 0xFF)], filterValues: [], vector: [0, 1]) }
        cache.add(fills, lists: [(key: 3 << 8, links: [1, 2]), (key: 3 << 8 | 1, links: [9]), (key: 900 << 8, links: [1, 2, 3, 4, 5]),
                                 (key: 7 << 8, links: [1])], sequence: 1)
        cache.withReader { reader in
            XCTAssertEqual(reader.level0Links(3).map(Array.init), [1, 2])
            XCTAssertNil(reader.level0Links(2), "never learned")
            XCTAssertNil(reader.level0Links(900), "over the bound")
            XCTAssertNil(reader.level0Links(7), "no record cached: no row")
            XCTAssertNil(reader.level0Links(1 << 30), "beyond the table")
            XCTAssertEqual(reader.links(3, level: 1), [9])
        }
        cache.invalidate([3 << 8, 3 << 8 | 1], sequence: 5)
        cache.withReader { reader in
            XCTAssertNil(reader.level0Links(3))
            XCTAssertNil(reader.links(3, level: 1))
        }
        cache.add([], lists: [(key: 3 << 8, links: [4])], sequence: 4)
        cache.withReader { XCTAssertNil($0.level0Links(3), "read before the invalidating commit: refused") }
        cache.add([], lists: [(key: 3 << 8, links: [4])], sequence: 5)
        cache.withReader { XCTAssertEqual($0.level0Links(3).map(Array.init), [4]) }
    }

    /// An insert_many whose inserts share what their walks read
    /// (VectorGraphMemo), with documents failing after their vector went
    /// in (a unique index checked after the vector index): each failure's
    /// node and list changes are undone, and the inserts after it do not
    /// link to the undone node through a remembered list.
    func testInsertManyWithFailuresLeavesTheGraphEqualToItsDocuments() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        let spec = #"{"keys":{"v":"vector"},"dimensions":4,"metric":"l2","M":4,"ef_construction":32}"#
        _ = try bytes(spec).withUnsafeBytes { try db.createIndex(collection: "pts", specJSON: $0) }
        _ = try bytes(#"{"keys":{"u":1},"unique":true}"#).withUnsafeBytes { try db.createIndex(collection: "pts", specJSON: $0) }
        var generator = SplitMix(seed: 7)
        var documents: [String] = []
        var expected = 0
        for i in 0..<300 {
            let v = (0..<4).map { _ in Float(generator.next() % 1000) / 100 }
            let duplicate = i % 10 == 9  // the same u as the document before: refused
            if !duplicate { expected += 1 }
            documents.append(#"{"_id":\#(i),"u":\#(duplicate ? i - 1 : i),"v":[\#(v.map { "\($0)" }.joined(separator: ","))]}"#)
        }
        let array = "[" + documents.joined(separator: ",") + "]"
        let result = try bytes(array).withUnsafeBytes { a in
            try bytes(#"{"ordered":false}"#).withUnsafeBytes { try db.insertMany(into: "pts", arrayJSON: a, optionsJSON: $0) }
        }
        XCTAssertEqual(result.errors.count, 30)
        XCTAssertEqual(result.insertedIDs.count, expected)
        XCTAssertEqual(try checkVectorInvariants(db, collection: "pts", dimensions: 4), expected)
    }

    func testGraphInvariantsAndRecallAfterDeletingThirtyPercent() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        let spec = #"{"keys":{"v":"vector"},"dimensions":8,"metric":"l2","M":8,"ef_construction":64,"filter_fields":["c"]}"#
        _ = try bytes(spec).withUnsafeBytes { try db.createIndex(collection: "pts", specJSON: $0) }
        var generator = SplitMix(seed: 42)
        var vectors: [Int: [Float]] = [:]
        for i in 0..<600 {
            let v = (0..<8).map { _ in Float(generator.next() % 1000) / 100 }
            vectors[i] = v
            let json = #"{"_id":\#(i),"c":\#(i % 5),"v":[\#(v.map { "\($0)" }.joined(separator: ","))]}"#
            _ = try bytes(json).withUnsafeBytes { try db.insertOne(into: "pts", json: $0) }
        }
        for i in stride(from: 0, to: 600, by: 3) {  // a third
            _ = try bytes(#"{"_id":\#(i)}"#).withUnsafeBytes { try db.delete(collection: "pts", filterJSON: $0, many: false) }
            vectors[i] = nil
        }
        for i in stride(from: 1, to: 600, by: 7) where vectors[i] != nil {  // updates move vectors
            let v = (0..<8).map { _ in Float(generator.next() % 1000) / 100 }
            vectors[i] = v
            let update = #"{"$set":{"v":[\#(v.map { "\($0)" }.joined(separator: ","))]}}"#
            _ = try bytes(#"{"_id":\#(i)}"#).withUnsafeBytes { f in try bytes(update).withUnsafeBytes { u in
                try db.update(collection: "pts", filterJSON: f, updateJSON: u, many: false) } }
        }
        XCTAssertEqual(try checkVectorInvariants(db, collection: "pts", dimensions: 8), vectors.count)

        // Recall@10 of the walk against brute force, over 50 queries.
        var found = 0
        for _ in 0..<50 {
            let q = (0..<8).map { _ in Float(generator.next() % 1000) / 100 }
            var scored: [(distance: Float, id: Int)] = []
            for (id, v) in vectors {
                var sum: Float = 0
                for j in 0..<8 { sum += (v[j] - q[j]) * (v[j] - q[j]) }
                scored.append((sum, id))
            }
            scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
            let truth = scored.prefix(10).map(\.id)
            let options = #"{"vector":[\#(q.map { "\($0)" }.joined(separator: ","))],"k":10,"ef":64}"#
            let cursor = try bytes(options).withUnsafeBytes { try db.vectorSearch(collection: "pts", optionsJSON: $0) }
            var ids: [Int] = []
            while try cursor.next() {
                let object = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as! [String: Any]
                ids.append(object["_id"] as! Int)
            }
            found += Set(ids).intersection(truth).count
        }
        XCTAssertGreaterThanOrEqual(Double(found) / 500, 0.95)

        // After a reopen the graph is read, not rebuilt; exact equals brute force.
        try db.close()
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        XCTAssertEqual(try checkVectorInvariants(reopened, collection: "pts", dimensions: 8), vectors.count)
        XCTAssertEqual(status {
            _ = try self.bytes(#"{"vector":[1,2,3],"k":3}"#).withUnsafeBytes { try reopened.vectorSearch(collection: "pts", optionsJSON: $0) }
        }, .invalidArgument)
        XCTAssertEqual(status {
            _ = try self.bytes(#"{"vector":[1,2,3,4,5,6,7,8],"k":3,"filter":{"zzz":1}}"#).withUnsafeBytes { try reopened.vectorSearch(collection: "pts", optionsJSON: $0) }
        }, .invalidArgument)
    }


    /// A search may skip checking its hits' owners only when no commit
    /// that changes lists was under way at its mark, none began or ended
    /// since, and none that ended is newer than its snapshot; a change
    /// whose transaction never commits ends when its hook is dropped.
    func testListChangesDecideWhetherASearchChecksItsHits() {
        let cache = VectorNodeCache(dimensions: 2, maxLinks0: 4)
        let quiet = cache.changeMark()
        XCTAssertTrue(cache.listsUnchanged(since: quiet, snapshot: 10))
        let change = cache.beginListChange()
        XCTAssertFalse(cache.listsUnchanged(since: quiet, snapshot: 10))  // began since the mark
        let during = cache.changeMark()
        XCTAssertFalse(cache.listsUnchanged(since: during, snapshot: 10))  // under way at the mark
        change.end(sequence: 12)
        XCTAssertFalse(cache.listsUnchanged(since: during, snapshot: 20))  // ended since the mark
        let after = cache.changeMark()
        XCTAssertFalse(cache.listsUnchanged(since: after, snapshot: 11))  // newer than the snapshot
        XCTAssertTrue(cache.listsUnchanged(since: after, snapshot: 12))
        var abandoned: VectorNodeCache.ListChange? = cache.beginListChange()
        XCTAssertFalse(cache.listsUnchanged(since: cache.changeMark(), snapshot: 12))
        XCTAssertNotNil(abandoned)
        abandoned = nil  // its transaction rolled back: the hook holding it is dropped
        XCTAssertTrue(cache.listsUnchanged(since: cache.changeMark(), snapshot: 12))
    }

    // MARK: Covered results

    /// Every row of a search, as JSON text.
    private func rows(_ scope: Scope, _ options: String) throws -> [String] {
        let cursor = try bytes(options).withUnsafeBytes { try scope.vectorSearch(collection: "pts", optionsJSON: $0) }
        var out: [String] = []
        while try cursor.next() { out.append(cursor.jsonString) }
        return out
    }

    private func aggregate(_ scope: Scope, _ pipeline: String) throws -> [String] {
        let cursor = try bytes(pipeline).withUnsafeBytes { try scope.aggregate(collection: "pts", pipelineJSON: $0) }
        var out: [String] = []
        while try cursor.next() { out.append(cursor.jsonString) }
        XCTAssertFalse(out.isEmpty)
        return out
    }

    /// A search whose projection keeps only `_id` answers from the node
    /// records (VectorResults) and gives, byte for byte, what reading the
    /// documents gives (the projection `{"_id": 1, "absent": 1}` keeps the
    /// same and is not covered): for every kind of `_id` (1 and 1.0 share a
    /// primary key but not a JSON form), with and without scores, filters
    /// and exact mode, after deletes and updates, and inside a transaction
    /// with pending inserts, deletes and updates.
    func testCoveredResultsEqualDocumentReads() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let spec = #"{"keys":{"v":"vector"},"dimensions":4,"metric":"l2","M":6,"ef_construction":40,"filter_fields":["c"]}"#
        _ = try bytes(spec).withUnsafeBytes { try db.createIndex(collection: "pts", specJSON: $0) }
        var generator = SplitMix(seed: 11)
        func vector() -> String { "[" + (0..<4).map { _ in "\(Float(generator.next() % 1000) / 100)" }.joined(separator: ",") + "]" }
        var ids: [String] = (0..<120).map { "\($0)" }
        ids += ["1000.0", "2.5", "-7.25", "1e300", "9007199254740993", "-9223372036854775808", #""a""#, #""""#, #""\u0000x""#,
                #"{"k":1,"z":[1,2]}"#, #"{"$date":"2024-01-02T03:04:05.678Z"}"#, "true", "null",
                #"{"$binary":{"base64":"AQID","subType":"00"}}"#]
        for (i, id) in ids.enumerated() {
            _ = try bytes(#"{"_id":\#(id),"c":\#(i % 4),"w":"\#(i)","v":\#(vector())}"#).withUnsafeBytes { try db.insertOne(into: "pts", json: $0) }
        }
        for _ in 0..<10 {  // generated ObjectIDs
            _ = try bytes(#"{"c":1,"v":\#(vector())}"#).withUnsafeBytes { try db.insertOne(into: "pts", json: $0) }
        }
        var checked = 0
        func compare(_ scope: Scope, file: StaticString = #filePath, line: UInt = #line) throws {
            for round in 0..<12 {
                let q = vector()
                let k = [1, 5, 10, 40][round % 4]
                var options = #""vector":\#(q),"k":\#(k),"ef":32"#
                if round % 2 == 1 { options += #","include_scores":true"# }
                if round % 3 == 1 { options += #","filter":{"c":{"$in":[1,3]}}"# }
                if round % 5 == 4 { options += #","exact":true"# }
                let covered = try rows(scope, "{" + options + #","projection":{"_id":1}}"#)
                let read = try rows(scope, "{" + options + #","projection":{"_id":1,"absent":1}}"#)
                XCTAssertEqual(covered, read, options, file: file, line: line)
                // $vectorSearch followed by a $project of _id and the score
                // (covered) and of one more field (read from the documents).
                let stage = #"{"$vectorSearch":{"path":"v","queryVector":\#(q),"limit":\#(k),"numCandidates":\#(max(32, k))"#
                    + (round % 3 == 1 ? #","filter":{"c":{"$in":[1,3]}}"# : "") + (round % 5 == 4 ? #","exact":true"# : "") + "}}"
                let score = #""score":{"$meta":"vectorSearchScore"},"twice":{"$multiply":[{"$meta":"vectorSearchScore"},2]},"key":["$_id"]"#
                XCTAssertTrue(try aggregate(scope, "[" + stage + #",{"$project":{"_id":1,"# + score + "}}]").elementsEqual(
                    try aggregate(scope, "[" + stage + #",{"$project":{"_id":1,"absent":1,"# + score + "}}]")), options, file: file, line: line)
                XCTAssertEqual(covered.count, round % 5 == 4 ? k : covered.count, options, file: file, line: line)
                XCTAssertFalse(covered.isEmpty, options, file: file, line: line)
                checked += covered.count
            }
        }
        try compare(db)
        for (i, id) in ids.enumerated() where i % 3 == 0 {  // deletes
            _ = try bytes(#"{"_id":\#(id)}"#).withUnsafeBytes { try db.delete(collection: "pts", filterJSON: $0, many: false) }
        }
        for (i, id) in ids.enumerated() where i % 3 == 1 {  // updates: the vector, a filter value, or neither
            let change = [#"{"$set":{"v":\#(vector())}}"#, #"{"$set":{"c":\#(i % 3)}}"#, #"{"$set":{"w":"changed"}}"#][i % 9 / 3]
            _ = try bytes(#"{"_id":\#(id)}"#).withUnsafeBytes { f in try bytes(change).withUnsafeBytes { u in
                try db.update(collection: "pts", filterJSON: f, updateJSON: u, many: false) } }
        }
        try compare(db)
        try checkVectorInvariants(db, collection: "pts", dimensions: 4)

        // Inside a transaction with pending writes of each kind.
        let txn = try db.beginTransaction()
        for i in 0..<30 {
            _ = try bytes(#"{"_id":"t\#(i)","c":\#(i % 4),"v":\#(vector())}"#).withUnsafeBytes { try txn.insertOne(into: "pts", json: $0) }
        }
        _ = try bytes(#"{"_id":{"$in":[1,4,7,10,"a"]}}"#).withUnsafeBytes { try txn.delete(collection: "pts", filterJSON: $0, many: true) }
        _ = try bytes(#"{"_id":{"$in":[2,5,8,2.5]}}"#).withUnsafeBytes { f in try bytes(#"{"$set":{"v":[0,0,0,1]}}"#).withUnsafeBytes { u in
            try txn.update(collection: "pts", filterJSON: f, updateJSON: u, many: true) } }
        try compare(txn)
        try compare(db)  // the database does not see them
        try txn.commit()
        try compare(db)
        XCTAssertGreaterThan(checked, 500)
    }

    /// The covered rows read no document: a document removed under the
    /// index's back (a raw delete of its key, in a transaction rolled back)
    /// still shows in them, and not in rows that read documents.
    func testCoveredResultsReadNoDocument() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let spec = #"{"keys":{"v":"vector"},"dimensions":2,"metric":"l2"}"#
        _ = try bytes(spec).withUnsafeBytes { try db.createIndex(collection: "pts", specJSON: $0) }
        for i in 0..<20 {
            _ = try bytes(#"{"_id":\#(i),"v":[\#(i),0]}"#).withUnsafeBytes { try db.insertOne(into: "pts", json: $0) }
        }
        let txn = try db.beginTransaction()
        defer { txn.rollback() }
        let info = try XCTUnwrap(try txn.collection("pts"))
        var primaryKey: [UInt8] = []
        try MutableValue.int(3).encoded().withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &primaryKey) }
        try txn.delete(CollectionInfo.documentPrefix(info.id) + primaryKey)
        let options = #""vector":[3,0],"k":3,"exact":true"#
        XCTAssertEqual(try rows(txn, "{" + options + #","projection":{"_id":1}}"#), [#"{"_id":3}"#, #"{"_id":2}"#, #"{"_id":4}"#])
        XCTAssertEqual(try rows(txn, "{" + options + #","projection":{"_id":1,"v":1}}"#), [#"{"_id":2,"v":[2,0]}"#, #"{"_id":4,"v":[4,0]}"#])
        // $vectorSearch then a $project of _id and the score: covered too.
        let stage = #"{"$vectorSearch":{"path":"v","queryVector":[3,0],"limit":3,"exact":true}}"#
        XCTAssertEqual(try aggregate(txn, "[" + stage + #",{"$project":{"_id":1}}]"#), [#"{"_id":3}"#, #"{"_id":2}"#, #"{"_id":4}"#])
        XCTAssertEqual(try aggregate(txn, "[" + stage + #",{"$project":{"_id":1,"v":1}}]"#), [#"{"_id":2,"v":[2,0]}"#, #"{"_id":4,"v":[4,0]}"#])
        XCTAssertEqual(try aggregate(txn, "[" + stage + #",{"$project":{"_id":1,"s":{"$let":{"vars":{"x":1},"in":"$$x"}}}}]"#),
                       [#"{"_id":2,"s":1}"#, #"{"_id":4,"s":1}"#])  // a $let is left to the documents
    }

}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
