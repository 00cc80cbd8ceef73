import Foundation
import XCTest
@testable import Cairn

/// Documents that expire (TTL indexes, inserts with a TTL), on a clock the
/// test moves (FaultInjectionEnv).
final class ExpiryTests: XCTestCase {
    // Made in setUp: a default value here would make a directory per test
    // method that setUp replaces and nothing removes.
    private var dir: TemporaryDirectory!
    private let env = FaultInjectionEnv()
    private let start: Int64 = 1_800_000_000_000

    override func setUp() {
        dir = TemporaryDirectory("cairn-expiry")
        env.setClock(start)
    }

    override func tearDown() { dir.remove() }

    private func open(_ json: String = #"{"sync": "never", "ttl_purge_interval_ms": 0, "change_feed": true}"#) throws -> Database {
        let options = try Array(json.utf8).withUnsafeBytes { try DatabaseOptions.parse(json: $0) }
        return try Database.open(path: dir.path, options: options, env: env)
    }

    private func json(_ text: String) -> UnsafeRawBufferPointer {
        // Borrowed for the call only: every caller passes it straight on.
        let bytes = Array(text.utf8)
        let pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        pointer.copyBytes(from: bytes)
        leaked.append(pointer)
        return UnsafeRawBufferPointer(rebasing: pointer[0..<bytes.count])
    }
    private var leaked: [UnsafeMutableRawBufferPointer] = []
    deinit { leaked.forEach { $0.deallocate() } }

    private func ids(_ db: Scope, _ collection: String, _ filter: String = "{}") throws -> [String] {
        let cursor = try db.find(collection: collection, filterJSON: json(filter), optionsJSON: json(#"{"sort": {"_id": 1}}"#))
        var out: [String] = []
        while try cursor.next() {
            if case .int(let id)? = try JSONValue.parse(cursor.jsonString)["_id"] { out.append(String(id)) }
        }
        return out
    }

    private func date(_ offsetSeconds: Int64) -> String { #"{"$date": \#(start + offsetSeconds * 1000)}"# }

    func testTTLIndexHidesExpiredDocumentsFromEveryReadAndThePurgeDeletesThem() throws {
        let db = try open()
        defer { try? db.close() }
        _ = try db.createIndex(collection: "s", specJSON: json(#"{"keys": {"seen": 1}, "expireAfterSeconds": 60}"#))
        _ = try db.createIndex(collection: "s", specJSON: json(#"{"keys": {"body": "text"}}"#))
        for (id, seen) in [(1, date(-120)), (2, date(-30)), (3, date(0)), (4, #""not a date""#), (5, "[\(date(-30)), \(date(-300))]")] {
            _ = try db.insertOne(into: "s", json: json(#"{"_id": \#(id), "seen": \#(seen), "body": "hello world"}"#))
        }
        // 1 is 120 s old, 5's earliest date 300 s: both past the 60 s bound.
        XCTAssertEqual(try ids(db, "s"), ["2", "3", "4"])
        XCTAssertEqual(try db.count(collection: "s", filterJSON: json("{}")), 3)
        XCTAssertNil(try db.findByID(collection: "s", idJSON: json("1")))
        XCTAssertNotNil(try db.findByID(collection: "s", idJSON: json("2")))
        let hits = try db.search(collection: "s", query: json("hello"), optionsJSON: json("{}"))
        var found = 0
        while try hits.next() { found += 1 }
        XCTAssertEqual(found, 3)
        let pipeline = try db.aggregate(collection: "s", pipelineJSON: json(#"[{"$match": {"$text": {"$search": "hello"}}}, {"$count": "n"}]"#))
        XCTAssertTrue(try pipeline.next())
        XCTAssertEqual(pipeline.jsonString, #"{"n":3}"#)
        // Writes by filter do not see them either.
        XCTAssertEqual(try db.update(collection: "s", filterJSON: json("{}"), updateJSON: json(#"{"$set": {"x": 1}}"#), many: true).matched, 3)

        // 40 s later 2 has expired too; 3 is 40 s old; 4 never expires.
        env.advanceClock(by: 40_000)
        XCTAssertEqual(try ids(db, "s"), ["3", "4"])

        let watch = try db.watch(.collection("s"), options: "{}")
        XCTAssertEqual(try db.purgeExpiredDocuments(), 3)
        XCTAssertEqual(try db.purgeExpiredDocuments(), 0)
        var deletes: [JSONValue] = []
        while let event = try watch.next(timeoutMillis: 0) { deletes.append(try JSONValue.parse(event)) }
        XCTAssertEqual(deletes.map { $0["operationType"] }, Array(repeating: .string("delete"), count: 3))
        // The purge took their index entries with them: a scan of the TTL
        // index (ordered) finds only the two left.
        let explain = try JSONValue.parse(try db.explain(collection: "s", filterJSON: json(#"{"seen": {"$gte": {"$date": 0}}}"#),
                                                         optionsJSON: json("{}")))
        XCTAssertEqual(explain["keys_examined"], .int(1), "\(explain)")
        XCTAssertEqual(try ids(db, "s"), ["3", "4"])
    }

    func testInsertWithTTLStampsExpiresAtAndCreatesItsIndex() throws {
        let db = try open()
        defer { try? db.close() }
        let id = try db.insertOne(into: "sessions", json: json(#"{"_id": 1, "user": "ann"}"#), ttlMillis: 3_600_000)
        XCTAssertEqual(id, "1")
        let stored = try JSONValue.parse(try XCTUnwrap(try db.findByID(collection: "sessions", idJSON: json("1"))))
        XCTAssertEqual(stored["_expiresAt"]?["$date"], .string(iso(start + 3_600_000)))
        let indexes = try JSONValue.parse(try db.listIndexes(collection: "sessions"))
        XCTAssertTrue("\(indexes)".contains("_expiresAt_ttl"), "\(indexes)")
        // insert_many's "ttl" option, as a duration string.
        let result = try db.insertMany(into: "sessions", arrayJSON: json(#"[{"_id": 2}, {"_id": 3}]"#), optionsJSON: json(#"{"ttl": "30m"}"#))
        XCTAssertEqual(result.insertedIDs, ["2", "3"])
        env.advanceClock(by: 30 * 60_000)
        XCTAssertEqual(try ids(db, "sessions"), ["1"])
        env.advanceClock(by: 30 * 60_000)
        XCTAssertEqual(try ids(db, "sessions"), [])
        XCTAssertEqual(status { _ = try db.insertOne(into: "sessions", json: self.json("{}"), ttlMillis: 0) }, .invalidArgument)
        XCTAssertEqual(status { _ = try db.insertMany(into: "sessions", arrayJSON: self.json("[{}]"), optionsJSON: self.json(#"{"ttl": "soon"}"#)) },
                       .invalidArgument)

        // In a transaction the index must exist already.
        let transaction = try db.beginTransaction()
        XCTAssertEqual(status { _ = try transaction.insertOne(into: "other", json: self.json(#"{"_id": 1}"#), ttlMillis: 1000) }, .invalidArgument)
        XCTAssertEqual(try transaction.insertOne(into: "sessions", json: json(#"{"_id": 9}"#), ttlMillis: 1000), "9")
        try transaction.commit()
        XCTAssertEqual(try ids(db, "sessions"), ["9"])
    }

    func testAnExpiredDocumentGivesUpItsPrimaryKeyAndUniqueValues() throws {
        let db = try open()
        defer { try? db.close() }
        _ = try db.createIndex(collection: "u", specJSON: json(#"{"keys": {"email": 1}, "unique": true}"#))
        _ = try db.insertOne(into: "u", json: json(#"{"_id": 1, "email": "a@x"}"#), ttlMillis: 1000)
        _ = try db.insertOne(into: "u", json: json(#"{"_id": 2, "email": "b@x"}"#), ttlMillis: 1000)
        XCTAssertEqual(status { _ = try db.insertOne(into: "u", json: self.json(#"{"_id": 1}"#)) }, .constraint)
        env.advanceClock(by: 1000)
        // The primary key of the expired 1, and the unique email of the expired 2.
        XCTAssertEqual(try db.insertOne(into: "u", json: json(#"{"_id": 1, "email": "c@x"}"#)), "1")
        XCTAssertEqual(try db.insertOne(into: "u", json: json(#"{"_id": 3, "email": "b@x"}"#)), "3")
        XCTAssertEqual(try ids(db, "u"), ["1", "3"])
        XCTAssertEqual(try db.purgeExpiredDocuments(), 0, "both were deleted by the inserts that reused their values")
    }

    func testTTLSpecsAreCheckedAndKeptAcrossReopen() throws {
        var db = try open()
        for spec in [#"{"keys": {"t": 1}, "expireAfterSeconds": -1}"#, #"{"keys": {"t": 1}, "expireAfterSeconds": 2147483648}"#,
                     #"{"keys": {"t": 1}, "expireAfterSeconds": 1.5}"#, #"{"keys": {"t": 1}, "expireAfterSeconds": "1h"}"#,
                     #"{"keys": {"t": 1, "u": 1}, "expireAfterSeconds": 5}"#, #"{"keys": {"t": "text"}, "expireAfterSeconds": 5}"#] {
            XCTAssertEqual(status { _ = try db.createIndex(collection: "c", specJSON: self.json(spec)) }, .invalidArgument, spec)
        }
        _ = try db.createIndex(collection: "c", specJSON: json(#"{"keys": {"t": 1}, "expireAfterSeconds": 5, "name": "ttl"}"#))
        XCTAssertEqual(status { _ = try db.createIndex(collection: "c", specJSON: self.json(#"{"keys": {"t": 1}, "expireAfterSeconds": 6, "name": "ttl"}"#)) },
                       .invalidArgument)
        _ = try db.insertOne(into: "c", json: json(#"{"_id": 1, "t": \#(date(-10))}"#))
        try db.close()
        db = try open()
        defer { try? db.close() }
        XCTAssertTrue(try db.listIndexes(collection: "c").contains(#""expireAfterSeconds":5"#))
        XCTAssertEqual(try ids(db, "c"), [])
    }

    func testTheBackgroundPurgeRuns() throws {
        let db = try open(#"{"sync": "never", "ttl_purge_interval_ms": 20}"#)
        defer { try? db.close() }
        _ = try db.createIndex(collection: "c", specJSON: json(#"{"keys": {"t": 1}, "expireAfterSeconds": 0}"#))
        for id in 0..<2500 { _ = try db.insertOne(into: "c", json: json(#"{"_id": \#(id), "t": \#(date(-1))}"#)) }
        let deadline = Date().addingTimeInterval(20)
        while db.expiryPurge.purgedCount < 2500 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(db.expiryPurge.purgedCount, 2500)
        let transaction = try db.beginTransaction(readOnly: true)
        XCTAssertEqual(try transaction.countDocuments(in: "c", filter: try Filter.parse(json: json("{}")),
                                                      options: { var o = FindOptions(); o.includeExpired = true; return o }()), 0)
        transaction.rollback()
    }

    private func iso(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
