import Foundation
import Synchronization
import XCTest
@testable import Cairn

/// Collections on the storage engine, through the Swift core API.
final class CollectionTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func find(_ db: Database, _ collection: String, _ filter: String = "{}", _ options: String = "") throws -> [String] {
        let cursor = try bytes(filter).withUnsafeBytes { f in try bytes(options).withUnsafeBytes { o in
            try db.find(collection: collection, filterJSON: f, optionsJSON: o) } }
        var out: [String] = []
        while try cursor.next() { out.append(cursor.jsonString) }
        return out
    }

    private func insert(_ db: Database, _ collection: String, _ json: String) throws -> String {
        try bytes(json).withUnsafeBytes { try db.insertOne(into: collection, json: $0) }
    }

    func testInsertFindUpdateDeleteAndPersistence() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path)
        XCTAssertEqual(try insert(db, "users", #"{"_id":1,"name":"ann","age":31}"#), "1")
        XCTAssertEqual(try insert(db, "users", #"{"_id":2,"name":"bob","age":25}"#), "2")
        XCTAssertEqual(try insert(db, "users", #"{"_id":"c","name":"cy","age":40,"tags":["x"]}"#), #""c""#)
        let generated = try insert(db, "users", #"{"name":"dee","age":19}"#)
        XCTAssertEqual(generated.count, 26, "a 24-hex-digit ObjectId string: \(generated)")
        XCTAssertEqual(status { _ = try insert(db, "users", #"{"_id":1,"name":"dup"}"#) }, .constraint)

        XCTAssertEqual(try find(db, "users", #"{"age":{"$gte":25}}"#, #"{"sort":{"age":-1},"projection":{"name":1,"_id":0}}"#),
                       [#"{"name":"cy"}"#, #"{"name":"ann"}"#, #"{"name":"bob"}"#])
        XCTAssertEqual(try find(db, "users", "{}", #"{"sort":{"age":1},"skip":1,"limit":2,"projection":{"age":0,"tags":0}}"#),
                       [#"{"_id":2,"name":"bob"}"#, #"{"_id":1,"name":"ann"}"#])
        XCTAssertEqual(try bytes(#"{"tags":"x"}"#).withUnsafeBytes { try db.count(collection: "users", filterJSON: $0) }, 1)

        let result = try bytes(#"{"age":{"$lt":30}}"#).withUnsafeBytes { f in try bytes(#"{"$inc":{"age":1},"$set":{"young":true}}"#).withUnsafeBytes { u in
            try db.update(collection: "users", filterJSON: f, updateJSON: u, many: true) } }
        XCTAssertEqual(result.matched, 2)
        XCTAssertEqual(result.modified, 2)
        XCTAssertEqual(try find(db, "users", #"{"young":true}"#, #"{"sort":{"age":1},"projection":{"age":1,"_id":0}}"#), [#"{"age":20}"#, #"{"age":26}"#])

        let upsert = try bytes(#"{"name":"eve"}"#).withUnsafeBytes { f in try bytes(#"{"$set":{"age":50}}"#).withUnsafeBytes { u in
            try db.update(collection: "users", filterJSON: f, updateJSON: u, many: false, upsert: true) } }
        XCTAssertNotNil(upsert.upsertedID)
        XCTAssertEqual(try find(db, "users", #"{"name":"eve"}"#, #"{"projection":{"_id":0}}"#), [#"{"name":"eve","age":50}"#])

        let replaced = try bytes(#"{"_id":2}"#).withUnsafeBytes { f in try bytes(#"{"name":"robert"}"#).withUnsafeBytes { u in
            try db.update(collection: "users", filterJSON: f, updateJSON: u, many: false) } }
        XCTAssertEqual(replaced.modified, 1)
        XCTAssertEqual(try find(db, "users", #"{"_id":2}"#), [#"{"_id":2,"name":"robert"}"#])

        XCTAssertEqual(try bytes(#"{"age":{"$gt":30}}"#).withUnsafeBytes { try db.delete(collection: "users", filterJSON: $0, many: true) }, 3)
        try db.close()

        db = try Database.open(path: dir.path)
        defer { try? db.close() }
        XCTAssertEqual(try find(db, "users", "{}", #"{"sort":{"name":1},"projection":{"name":1,"_id":0}}"#),
                       [#"{"name":"dee"}"#, #"{"name":"robert"}"#])
        XCTAssertEqual(try db.collectionNames(), ["users"])
    }

    func testFailedWritesChangeNothing() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        _ = try insert(db, "c", #"{"_id":1,"s":"text","n":1}"#)
        _ = try insert(db, "c", #"{"_id":2,"s":5,"n":2}"#)
        // insert_many is all or nothing: the duplicate _id in the middle stops all three.
        let docs = [#"{"_id":3}"#, #"{"_id":1}"#, #"{"_id":4}"#].map { bytes($0) }
        XCTAssertEqual(status { _ = try db.insertMany(into: "c", documents: docs) }, .constraint)
        XCTAssertEqual(try find(db, "c").count, 2)
        // $inc on a string fails the whole update_many: document 2 is unchanged too.
        XCTAssertEqual(status {
            _ = try bytes("{}").withUnsafeBytes { f in try bytes(#"{"$inc":{"s":1}}"#).withUnsafeBytes { u in
                try db.update(collection: "c", filterJSON: f, updateJSON: u, many: true) } }
        }, .invalidArgument)
        XCTAssertEqual(try find(db, "c", #"{"_id":2}"#), [#"{"_id":2,"s":5,"n":2}"#])
        // Bad input is rejected before anything is written.
        for bad in [#"[1]"#, #"{"a":"#, #"{"$bad":1}"#, #"{"a\u0000b":1}"#, #"{"_id":[1]}"#] {
            XCTAssertEqual(status { _ = try insert(db, "c", bad) }, .invalidArgument, bad)
        }
        XCTAssertEqual(try find(db, "c").count, 2)
    }

    func testNamesDropAndCoexistenceWithKeyValues() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        for bad in ["", "$cmd", "a\u{0}b", String(repeating: "x", count: 256)] {
            XCTAssertEqual(status { try db.createCollection(bad) }, .invalidArgument, bad)
        }
        try db.createCollection("b")
        XCTAssertEqual(status { try db.createCollection("b") }, .invalidArgument)
        try db.put(bytes("kv-key"), bytes("kv-value"))
        _ = try insert(db, "a", #"{"_id":1}"#)
        XCTAssertEqual(try db.collectionNames(), ["a", "b"])
        // The key-value API sees only key-value pairs.
        let iterator = try db.makeIterator(start: nil, end: nil)
        var keys: [String] = []
        while try iterator.next() { keys.append(String(decoding: iterator.key, as: UTF8.self)) }
        XCTAssertEqual(keys, ["kv-key"])
        try db.dropCollection("a")
        XCTAssertEqual(try db.collectionNames(), ["b"])
        XCTAssertEqual(try find(db, "a"), [])
        XCTAssertEqual(try db.get(bytes("kv-key")), bytes("kv-value"))
    }

    func testGeneratedIDsSortByCreationAndCursorsStream() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        let db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        var ids: [String] = []
        for i in 0..<2000 { ids.append(try insert(db, "events", #"{"n":\#(i)}"#)) }
        XCTAssertEqual(ids, ids.sorted(), "ObjectIds made in order sort in order")
        let cursor = try bytes(#"{"n":{"$gte":1990}}"#).withUnsafeBytes { f in try db.find(collection: "events", filterJSON: f) }
        var seen = 0
        while try cursor.next() { seen += 1 }
        XCTAssertEqual(seen, 10)
    }

    /// A sort or $group that would hold more than the query memory limit
    /// fails with INVALID_ARGUMENT instead of exhausting memory; the same
    /// query through an index, or grouping few keys, still works.
    func testBlockingStagesStopAtTheMemoryLimit() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let documents = (0..<2000).map { #"{"_id": \#($0), "n": \#(($0 * 7919) % 2000), "g": \#($0 % 3), "pad": "\#(String(repeating: "x", count: 100))"}"# }
        _ = try bytes("[" + documents.joined(separator: ",") + "]").withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: $0) }
        db.documents.queryMemoryLimit = 64 << 10

        XCTAssertEqual(status { _ = try find(db, "c", "{}", #"{"sort": {"n": 1}, "limit": 3}"#) }, .invalidArgument)
        func aggregate(_ pipeline: String) throws -> [String] {
            let cursor = try bytes(pipeline).withUnsafeBytes { try db.aggregate(collection: "c", pipelineJSON: $0) }
            var out: [String] = []
            while try cursor.next() { out.append(cursor.jsonString) }
            return out
        }
        XCTAssertEqual(status { _ = try aggregate(#"[{"$group": {"_id": "$n", "all": {"$push": "$$ROOT"}}}]"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try aggregate(#"[{"$sort": {"n": -1}}]"#) }, .invalidArgument)

        XCTAssertEqual(try aggregate(#"[{"$group": {"_id": "$g", "count": {"$sum": 1}}}, {"$sort": {"_id": 1}}]"#),
                       [#"{"_id":0,"count":667}"#, #"{"_id":1,"count":667}"#, #"{"_id":2,"count":666}"#])
        _ = try bytes(#"{"keys": {"n": 1}}"#).withUnsafeBytes { try db.createIndex(collection: "c", specJSON: $0) }
        XCTAssertEqual(try find(db, "c", "{}", #"{"sort": {"n": 1}, "limit": 2, "projection": {"n": 1, "_id": 0}}"#),
                       [#"{"n":0}"#, #"{"n":1}"#])
    }

    func testAnInterruptedIndexBuildIsInvisibleAndResumesAtTheNextOpen() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path)
        let documents = (0..<20_000).map { #"{"_id": \#($0), "n": \#(($0 * 7919) % 20_000), "g": \#($0 % 7)}"# }
        _ = try bytes("[" + documents.joined(separator: ",") + "]").withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: $0) }
        // Closing stops a build at its next chunk of 4096 documents, as a
        // crash would, with some entries written.
        db.documents.indexBuilds.stop()
        XCTAssertEqual(status { _ = try self.bytes(#"{"keys": {"n": 1}, "unique": true}"#).withUnsafeBytes { try db.createIndex(collection: "c", specJSON: $0) } }, .closed)
        XCTAssertTrue(try db.listIndexes(collection: "c").contains(#""state":"building""#))
        // Invisible to every read path: the plan is a collection scan and
        // the results are complete.
        XCTAssertTrue(try bytes(#"{"n": {"$gte": 19990}}"#).withUnsafeBytes { f in try [UInt8]().withUnsafeBytes { try db.explain(collection: "c", filterJSON: f, optionsJSON: $0) } }.contains("collection_scan"))
        XCTAssertEqual(try find(db, "c", #"{"n": {"$gte": 19990}}"#).count, 10)
        // A unique index is enforced while it is building, on entries present.
        XCTAssertEqual(status { _ = try self.insert(db, "c", #"{"_id": "dup", "n": 0}"#) }, .constraint)
        // ... and against the documents not indexed yet (n = 19999 belongs
        // to a document past the first chunk).
        XCTAssertEqual(status { _ = try self.insert(db, "c", #"{"_id": "dup", "n": 19999}"#) }, .constraint)
        XCTAssertNoThrow(try self.insert(db, "c", #"{"_id": "new", "n": -1}"#))
        try db.close()

        db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var state = ""
        for _ in 0..<500 where !state.contains(#""state":"ready""#) {
            state = try db.listIndexes(collection: "c")
            usleep(10_000)
        }
        XCTAssertTrue(state.contains(#""state":"ready""#), state)
        XCTAssertTrue(try bytes(#"{"n": {"$gte": 19990}}"#).withUnsafeBytes { f in try [UInt8]().withUnsafeBytes { try db.explain(collection: "c", filterJSON: f, optionsJSON: $0) } }.contains("n_1"))
        XCTAssertEqual(try find(db, "c", #"{"n": {"$gte": 19990}}"#, #"{"sort": {"n": 1}, "projection": {"_id": 0, "g": 0}}"#),
                       (19990..<20_000).map { #"{"n":\#($0)}"# })
        XCTAssertEqual(try find(db, "c", #"{"n": -1}"#, #"{"projection": {"_id": 1}}"#), [#"{"_id":"new"}"#])
        XCTAssertEqual(status { _ = try self.insert(db, "c", #"{"_id": "dup", "n": 19999}"#) }, .constraint)
    }

    /// Resident memory, in bytes (Linux /proc/self/statm).
    @_silgen_name("malloc_trim") private static func trim(_ pad: Int) -> Int32
    private static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    func testTheGroupBudgetBoundsWhatTheStageHolds() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let documents = (0..<150_000).map { #"{"_id": \#($0)}"# }
        _ = try bytes("[" + documents.joined(separator: ",") + "]").withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: $0) }
        let limit = 24 << 20
        db.documents.queryMemoryLimit = limit
        // Group keys of a few members, each group with two accumulators:
        // 150,000 groups hold far more than the limit.
        let pipeline = #"[{"$group": {"_id": {"a": "$_id", "b": "$_id", "c": "$_id"}, "n": {"$sum": 1}, "m": {"$max": "$_id"}}}]"#
        _ = Self.trim(0)  // hand freed memory back, so that growth is the stage's
        let baseline = Self.residentBytes()
        let peak = Atomic<Int>(baseline)
        let done = Atomic<Bool>(false)
        let sampler = Thread {
            while !done.load(ordering: .relaxed) {
                let now = Self.residentBytes()
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                usleep(500)
            }
        }
        sampler.start()
        let outcome = status {
            let cursor = try self.bytes(pipeline).withUnsafeBytes { try db.aggregate(collection: "c", pipelineJSON: $0) }
            while try cursor.next() {}
        }
        done.store(true, ordering: .relaxed)
        usleep(5000)
        XCTAssertEqual(outcome, .invalidArgument, "the stage stops at its limit")
        let grown = peak.load(ordering: .relaxed) - baseline
        print("group budget: \(grown >> 20) MiB held under a \(limit >> 20) MiB limit")
        XCTAssertLessThan(grown, limit + limit / 4 + (8 << 20), "the stage held \(grown >> 20) MiB under a \(limit >> 20) MiB limit")
    }

    func testLimitsHoldForDocumentsThatUpdatesAndLookupsBuild() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        _ = try insert(db, "c", #"{"_id": 1, "k": 1}"#)
        func set(_ depth: Int) -> StatusCode {
            let path = Array(repeating: "a", count: depth).joined(separator: ".")
            return status {
                _ = try self.bytes(#"{"_id": 1}"#).withUnsafeBytes { f in
                    try self.bytes(#"{"$set": {""# + path + #"": 1}}"#).withUnsafeBytes { u in
                        try db.update(collection: "c", filterJSON: f, updateJSON: u, many: false)
                    }
                }
            }
        }
        XCTAssertEqual(set(99), .ok, "the top level and 99 nested objects: 100 levels")
        XCTAssertEqual(set(100), .invalidArgument, "101 levels, as an inserted document could not have")
        let big = String(repeating: "x", count: 1 << 20)
        for i in 0..<20 { _ = try insert(db, "f", #"{"_id": \#(i), "k": 1, "pad": "\#(big)"}"#) }
        let pipeline = #"[{"$lookup": {"from": "f", "localField": "k", "foreignField": "k", "as": "all"}}]"#
        XCTAssertEqual(status {
            let cursor = try self.bytes(pipeline).withUnsafeBytes { try db.aggregate(collection: "c", pipelineJSON: $0) }
            while try cursor.next() {}
        }, .invalidArgument, "a joined document over 16 MiB")
    }
}
