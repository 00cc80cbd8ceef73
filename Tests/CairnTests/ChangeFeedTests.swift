import Foundation
import XCTest
@testable import Cairn

/// The change feed (Sources/Cairn/ChangeFeed): every kind of event, commit
/// order under concurrent writers, transactions as one unit, targets,
/// filters, fullDocument options, resume across reopen, retention and
/// HISTORY_LOST. Crashes are in ChangeFeedCrashTests.
final class ChangeFeedTests: XCTestCase {
    private var dir: TemporaryDirectory!

    override func setUp() { dir = TemporaryDirectory("cairn-feed") }
    override func tearDown() { dir.remove() }

    private func open(_ json: String = #"{"change_feed": true, "sync": "never"}"#) throws -> Database {
        try Array(json.utf8).withUnsafeBytes { try Database.open(path: dir.path, optionsJSON: $0) }
    }

    /// Every event ready now (and arriving within `wait` ms of the last), parsed.
    private func drain(_ stream: ChangeStream, wait: Int = 50) throws -> [JSONValue] {
        var events: [JSONValue] = []
        while let json = try stream.next(timeoutMillis: wait) { events.append(try JSONValue.parse(json)) }
        return events
    }

    private func types(_ events: [JSONValue]) -> [String] {
        events.map { if case .string(let s)? = $0["operationType"] { return s }; return "?" }
    }

    private func token(_ event: JSONValue) -> (Int64, Int64) {
        guard case .int(let s)? = event["_id"]?["seq"], case .int(let p)? = event["_id"]?["pos"] else { return (-1, -1) }
        return (s, p)
    }

    func testEveryEventKindInCommitOrder() throws {
        let db = try open()
        defer { try? db.close() }
        let stream = try db.watch(.everything, options: "{}")
        try db.put(Array("a"), Array("1"), ttlMillis: 60_000)
        try db.delete(Array("a"))
        try Array("b").withUnsafeBytes { s in try Array("c").withUnsafeBytes { try db.deleteRange(start: s, end: $0) } }
        try db.createCollection("people", optionsJSON: json(#"{"changeStreamPreAndPostImages": {"enabled": true}}"#))
        _ = try db.insertOne(into: "people", json: json(#"{"_id": 1, "name": "ann", "address": {"city": "x", "zip": 1}, "tmp": true}"#))
        _ = try db.update(collection: "people", filterJSON: json(#"{"_id": 1}"#),
                          updateJSON: json(#"{"$set": {"address.city": "y", "age": 3}, "$unset": {"tmp": ""}}"#), many: false)
        _ = try db.update(collection: "people", filterJSON: json(#"{"_id": 1}"#), updateJSON: json(#"{"name": "bo"}"#), many: false)
        _ = try db.delete(collection: "people", filterJSON: json(#"{"_id": 1}"#), many: false)
        _ = try db.createIndex(collection: "people", specJSON: json(#"{"keys": {"name": 1}, "name": "by_name"}"#))
        try db.dropIndex(collection: "people", index: "by_name")
        try db.renameCollection("people", to: "persons")
        try db.dropCollection("persons")

        let events = try drain(stream)
        XCTAssertEqual(types(events), ["put", "delete", "deleteRange", "create", "insert", "update", "replace", "delete",
                                       "createIndexes", "dropIndexes", "rename", "drop"])
        // Commit order: strictly increasing tokens.
        let tokens = events.map(token)
        for (a, b) in zip(tokens, tokens.dropFirst()) { XCTAssert(a < b, "\(a) then \(b)") }
        XCTAssertEqual(events[0]["ttlMillis"], .int(60_000))
        XCTAssertEqual(events[0]["value"]?["$binary"]?["base64"], .string("MQ=="))
        XCTAssertEqual(events[0]["ns"], .object([("kv", .bool(true))]))
        XCTAssertEqual(events[2]["start"]?["$binary"]?["base64"], .string("Yg=="))
        XCTAssertEqual(events[4]["ns"], .object([("coll", .string("people"))]))
        XCTAssertEqual(events[4]["documentKey"], .object([("_id", .int(1))]))
        XCTAssertEqual(events[4]["fullDocument"]?["name"], .string("ann"))
        let update = events[5]["updateDescription"]
        XCTAssertEqual(update?["updatedFields"], .object([("address.city", .string("y")), ("age", .int(3))]))
        XCTAssertEqual(update?["removedFields"], .array([.string("tmp")]))
        XCTAssertNil(events[5]["fullDocument"], "fullDocument 'default' leaves updates without the document")
        XCTAssertEqual(events[6]["fullDocument"], .object([("_id", .int(1)), ("name", .string("bo"))]))
        XCTAssertEqual(events[8]["index"]?["name"], .string("by_name"))
        XCTAssertEqual(events[10]["to"], .object([("coll", .string("persons"))]))
        for event in events {
            guard case .int(let seq)? = event["seq"] else { return XCTFail("no seq in \(event)") }
            XCTAssertEqual(event["txnId"], .int(seq))
            XCTAssertEqual(event["_id"]?["seq"], .int(seq))
            guard case .string(let time)? = event["wallTime"]?["$date"] else { return XCTFail("no wallTime in \(event)") }
            XCTAssertNotNil(ISO8601.milliseconds(time))
        }
    }

    func testTransactionIsDeliveredAsOneCommit() throws {
        let db = try open()
        defer { try? db.close() }
        let stream = try db.watch(.everything, options: "{}")
        let txn = try db.beginTransaction()
        _ = try txn.insertOne(into: "t", json: json(#"{"_id": 1}"#))
        try Array("k").withUnsafeBytes { k in try Array("v").withUnsafeBytes { try txn.put(key: k, value: $0) } }
        _ = try txn.insertOne(into: "t", json: json(#"{"_id": 2}"#))
        // A failed operation leaves no event behind.
        XCTAssertEqual(status { _ = try txn.insertOne(into: "t", json: json(#"{"_id": 2}"#)) }, .constraint)
        XCTAssertNil(try stream.next(timeoutMillis: 0), "nothing before the commit")
        try txn.commit()
        try db.put(Array("after"), Array("x"))
        let events = try drain(stream)
        XCTAssertEqual(types(events), ["create", "insert", "put", "insert", "put"])
        let first = events[0]["seq"]
        for (position, event) in events.prefix(4).enumerated() {
            XCTAssertEqual(event["seq"], first)
            XCTAssertEqual(event["txnId"], first)
            XCTAssertEqual(event["_id"]?["pos"], .int(Int64(position)))
            XCTAssertEqual(event["txnEvents"], .int(4))
        }
        XCTAssertNotEqual(events[4]["seq"], first)
        XCTAssertEqual(events[4]["txnEvents"], .int(1))
        // A rolled-back transaction has no events.
        let rolled = try db.beginTransaction()
        _ = try rolled.insertOne(into: "t", json: json(#"{"_id": 9}"#))
        rolled.rollback()
        XCTAssertNil(try stream.next(timeoutMillis: 20))
    }

    func testTargetsAndFilters() throws {
        let db = try open()
        defer { try? db.close() }
        let people = try db.watch(.collection("people"), options: "{}")
        let collections = try db.watch(.collections, options: "{}")
        let prefix = try db.watch(.keyPrefix(Array("user:")), options: "{}")
        let filtered = try db.watch(.everything, options: #"{"filter": {"operationType": {"$in": ["insert", "update"]}, "fullDocument.status": "active"}}"#)
        _ = try db.insertOne(into: "people", json: json(#"{"_id": 1, "status": "active"}"#))
        _ = try db.insertOne(into: "people", json: json(#"{"_id": 2, "status": "away"}"#))
        _ = try db.insertOne(into: "pets", json: json(#"{"_id": 1, "status": "active"}"#))
        try db.put(Array("user:1"), Array("x"))
        try db.put(Array("other"), Array("x"))
        try Array("a").withUnsafeBytes { s in try Array("user:5").withUnsafeBytes { try db.deleteRange(start: s, end: $0) } }
        try Array("a").withUnsafeBytes { s in try Array("b").withUnsafeBytes { try db.deleteRange(start: s, end: $0) } }
        try db.renameCollection("pets", to: "people2")

        let p = try drain(people)
        XCTAssertEqual(types(p), ["create", "insert", "insert"])
        XCTAssertEqual(types(try drain(collections)), ["create", "insert", "insert", "create", "insert", "rename"])
        let k = try drain(prefix)
        XCTAssertEqual(types(k), ["put", "deleteRange"], "the put under the prefix and the range that reaches into it")
        let f = try drain(filtered)
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(f.map { $0["ns"]?["coll"] }, [.string("people"), .string("pets")])
        // A rename into the watched name reaches the watch of that name.
        let renamed = try db.watch(.collection("people3"), options: "{}")
        try db.renameCollection("people2", to: "people3")
        XCTAssertEqual(types(try drain(renamed)), ["rename"])
        // Bad options are refused, naming the problem.
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"fullDocument": "sometimes"}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"bogus": 1}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"filter": {"$bad": 1}}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try db.watch(.keyPrefix([]), options: "{}") }, .invalidArgument)
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"resumeAfter": {"seq": "x"}}"#) }, .invalidArgument)
    }

    func testFullDocumentOptionsAndPreImages() throws {
        let db = try open()
        defer { try? db.close() }
        try db.createCollection("imaged", optionsJSON: json(#"{"changeStreamPreAndPostImages": {"enabled": true}}"#))
        for collection in ["imaged", "plain"] {
            _ = try db.insertOne(into: collection, json: json(#"{"_id": 1, "n": 1}"#))
            _ = try db.update(collection: collection, filterJSON: json("{}"), updateJSON: json(#"{"$inc": {"n": 1}}"#), many: false)
            _ = try db.update(collection: collection, filterJSON: json("{}"), updateJSON: json(#"{"$inc": {"n": 1}}"#), many: false)
            _ = try db.delete(collection: collection, filterJSON: json("{}"), many: false)
        }
        func updates(_ options: String, _ collection: String) throws -> [JSONValue] {
            let stream = try db.watch(.collection(collection), options: #"{"startAtOperationTime": 1, "filter": {"operationType": {"$in": ["update", "delete"]}}, "# + options.dropFirst())
            return try drain(stream)
        }
        let available = try updates(#"{"fullDocument": "whenAvailable", "fullDocumentBeforeChange": "whenAvailable"}"#, "imaged")
        XCTAssertEqual(available.map { $0["fullDocument"]?["n"] }, [.int(2), .int(3), nil])
        XCTAssertEqual(available.map { $0["fullDocumentBeforeChange"]?["n"] }, [.int(1), .int(2), .int(3)])
        let plain = try updates(#"{"fullDocument": "whenAvailable", "fullDocumentBeforeChange": "whenAvailable"}"#, "plain")
        XCTAssertEqual(plain.map { $0["fullDocument"] }, [.null, .null, nil])
        XCTAssertEqual(plain.map { $0["fullDocumentBeforeChange"] }, [.null, .null, .null])
        // updateLookup reads the document as it is now: deleted, so null.
        let lookup = try updates(#"{"fullDocument": "updateLookup"}"#, "plain")
        XCTAssertEqual(lookup.first?["fullDocument"], .null)
        // required fails where no image was recorded, and keeps failing.
        let required = try db.watch(.collection("plain"), options: #"{"startAtOperationTime": 1, "fullDocument": "required"}"#)
        XCTAssertEqual(types([try JSONValue.parse(try required.next(timeoutMillis: 0)!)]), ["create"])
        XCTAssertEqual(types([try JSONValue.parse(try required.next(timeoutMillis: 0)!)]), ["insert"])
        XCTAssertEqual(status { _ = try required.next(timeoutMillis: 0) }, .notFound)
        XCTAssertEqual(status { _ = try required.next(timeoutMillis: 0) }, .notFound)
        XCTAssertEqual(try updates(#"{"fullDocument": "required", "fullDocumentBeforeChange": "required"}"#, "imaged").count, 3)
    }

    func testResumeAfterReopenDeliversExactlyTheRest() throws {
        var db = try open()
        let stream = try db.watch(.everything, options: "{}")
        for i in 0..<20 { try db.put(Array("k\(i)"), Array("v\(i)")) }
        let txn = try db.beginTransaction()
        for i in 0..<3 { _ = try txn.insertOne(into: "c", json: json(#"{"_id": \#(i)}"#)) }
        try txn.commit()
        let all = try drain(stream)
        XCTAssertEqual(all.count, 24)
        try db.close()
        XCTAssertEqual(status { _ = try stream.next(timeoutMillis: 0) }, .closed)
        db = try open()
        defer { try? db.close() }
        // After each token, in the middle of the transaction too: exactly the rest.
        for cut in [0, 7, 19, 20, 21, 22, 23] {
            let (seq, pos) = token(all[cut])
            let resumed = try db.watch(.everything, options: #"{"resumeAfter": {"seq": \#(seq), "pos": \#(pos)}}"#)
            XCTAssertEqual(try drain(resumed, wait: 0), Array(all[(cut + 1)...]), "resume after event \(cut)")
        }
        // startAtOperationTime by sequence: the commit with that sequence on.
        let (seq10, _) = token(all[10])
        XCTAssertEqual(try drain(try db.watch(.everything, options: #"{"startAtOperationTime": \#(seq10)}"#), wait: 0), Array(all[10...]))
        // ... and by time: everything since before the first event.
        guard case .string(let firstTime)? = all[0]["wallTime"]?["$date"] else { return XCTFail("no time") }
        let byTime = try drain(try db.watch(.everything, options: #"{"startAtOperationTime": {"$date": "\#(firstTime)"}}"#), wait: 0)
        XCTAssertEqual(byTime.first, all[0])
        XCTAssertEqual(byTime.count, 24)
        // "now" sees only what comes next.
        let now = try db.watch(.everything, options: "{}")
        XCTAssertNil(try now.next(timeoutMillis: 10))
        try db.put(Array("new"), Array("x"))
        XCTAssertEqual(types(try drain(now)), ["put"])
    }

    func testFeedOffByDefaultAndGapsAreHistoryLost() throws {
        var db = try open(#"{"sync": "never"}"#)
        XCTAssertEqual(status { _ = try db.watch(.everything, options: "{}") }, .invalidArgument)
        try db.close()
        db = try open()
        let stream = try db.watch(.everything, options: "{}")
        try db.put(Array("a"), Array("1"))
        let first = try drain(stream)
        let (seq, pos) = token(first[0])
        try db.close()
        // Reopened with the feed and nothing written meanwhile: the history goes on.
        db = try open(#"{"sync": "never"}"#)
        try db.close()
        db = try open()
        XCTAssertEqual(try drain(try db.watch(.everything, options: #"{"startAtOperationTime": 1}"#), wait: 0).count, 1)
        try db.close()
        // Written without the feed: that change has no event, so resuming
        // from before it is HISTORY_LOST, never a silent skip.
        db = try open(#"{"sync": "never"}"#)
        try db.put(Array("b"), Array("2"))
        try db.close()
        db = try open()
        defer { try? db.close() }
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"resumeAfter": {"seq": \#(seq), "pos": \#(pos)}}"#) }, .historyLost)
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"startAtOperationTime": 1}"#) }, .historyLost)
        let fresh = try db.watch(.everything, options: "{}")
        try db.put(Array("c"), Array("3"))
        XCTAssertEqual(types(try drain(fresh)), ["put"])
    }

    func testRetentionTrimsHistoryAndSlowWatcherGetsHistoryLost() throws {
        let db = try open(#"{"change_feed": {"retention_bytes": 20000, "retention_seconds": 0}, "sync": "never"}"#)
        defer { try? db.close() }
        let slow = try db.watch(.everything, options: "{}")
        let value = [UInt8](repeating: 7, count: 1000)
        for i in 0..<100 { try db.put(Array("k\(i)"), value) }
        // The trimmer runs about once a second.
        var historyBytes = Int.max
        for _ in 0..<50 where historyBytes > 25_000 {
            usleep(100_000)
            historyBytes = try historySize(db)
        }
        XCTAssertLessThanOrEqual(historyBytes, 25_000, "history trimmed to its byte limit")
        XCTAssertGreaterThan(historyBytes, 10_000, "only the oldest history goes")
        XCTAssertEqual(status { _ = try slow.next(timeoutMillis: 0) }, .historyLost)
        XCTAssertEqual(status { _ = try slow.next(timeoutMillis: 0) }, .historyLost, "and it stays failed")
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"startAtOperationTime": 1}"#) }, .historyLost)
        // What is retained is still delivered, in order, to the end.
        let recent = try drain(try db.watch(.everything, options: #"{"startAtOperationTime": \#(db.engine.visibleSequence - 5)}"#), wait: 0)
        XCTAssertFalse(recent.isEmpty)
        XCTAssertEqual(recent.last?["key"]?["$binary"]?["base64"], .string(Data("k99".utf8).base64EncodedString()))
    }

    private func historySize(_ db: Database) throws -> Int {
        let iterator = try ChangeFeedFormat.eventsLower.withUnsafeBytes { l in
            try ChangeFeedFormat.eventsUpper.withUnsafeBytes { u in try db.engine.makeIterator(lower: l, upper: u, reverse: false) }
        }
        var bytes = 0
        while try iterator.iterator.next() { bytes += iterator.iterator.key.count + iterator.iterator.value.count }
        return bytes
    }

    func testConcurrentWritersAreDeliveredInCommitOrderWithoutGaps() throws {
        let db = try open()
        defer { try? db.close() }
        let stream = try db.watch(.everything, options: "{}")
        let writers = 4, perWriter = 300
        let group = DispatchGroup()
        for w in 0..<writers {
            DispatchQueue.global().async(group: group) {
                for i in 0..<perWriter {
                    if i % 3 == 0 {
                        _ = try? db.insertOne(into: "c\(w % 2)", json: json(#"{"_id": "\#(w)-\#(i)"}"#))
                    } else {
                        try? db.put(Array("w\(w)-\(i)"), Array("v"))
                    }
                }
            }
        }
        var seen: [JSONValue] = []
        while seen.count < writers * perWriter + 2 {
            guard let event = try stream.next(timeoutMillis: 5000) else { break }
            seen.append(try JSONValue.parse(event))
        }
        group.wait()
        seen += try drain(stream)
        let data = seen.filter { types([$0]) != ["create"] }
        XCTAssertEqual(data.count, writers * perWriter, "every write once")
        let tokens = seen.map(token)
        for (a, b) in zip(tokens, tokens.dropFirst()) { XCTAssert(a < b, "out of order: \(a) then \(b)") }
        // Each writer's own writes arrive in the order it made them.
        for w in 0..<writers {
            let mine = data.compactMap { event -> Int? in
                if case .string(let id)? = event["documentKey"]?["_id"], id.hasPrefix("\(w)-") { return Int(id.dropFirst(2)) }
                if case .string(let b64)? = event["key"]?["$binary"]?["base64"], let key = Data(base64Encoded: b64),
                   let text = String(data: key, encoding: .utf8), text.hasPrefix("w\(w)-") { return Int(text.dropFirst(3)) }
                return nil
            }
            XCTAssertEqual(mine, Array(0..<perWriter))
        }
    }

    func testCallbackSubscriptionDeliversInOrderAndEndsOnce() throws {
        let db = try open()
        defer { try? db.close() }
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var events: [String] = []
            var failures: [StatusCode] = []
            var ends = 0
        }
        let box = Box()
        let subscription = try ChangeSubscription(stream: try db.watch(.keyPrefix(Array("s")), options: "{}"), handler: { delivery in
            box.lock.lock()
            defer { box.lock.unlock() }
            switch delivery {
            case .event(let json): box.events.append(json)
            case .failure(let error): box.failures.append(error.code)
            }
        }, onEnd: {
            box.lock.lock()
            box.ends += 1
            box.lock.unlock()
        })
        for i in 0..<50 { try db.put(Array("s\(i)"), Array("v")) }
        for _ in 0..<100 where box.lock.withLock({ box.events.count }) < 50 { usleep(20_000) }
        subscription.close()
        subscription.close()
        try db.put(Array("s-late"), Array("v"))
        usleep(50_000)
        box.lock.withLock {
            XCTAssertEqual(box.events.count, 50)
            XCTAssertEqual(box.ends, 1)
            XCTAssertEqual(box.failures, [])
            let keys = box.events.compactMap { try? JSONValue.parse($0)["key"]?["$binary"]?["base64"] }
            XCTAssertEqual(keys, (0..<50).map { .string(Data("s\($0)".utf8).base64EncodedString()) })
        }
    }

    func testWaitingWatchWakesOnCommitAndOnClose() throws {
        let db = try open()
        defer { try? db.close() }
        let stream = try db.watch(.everything, options: "{}")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { try? db.put(Array("x"), Array("1")) }
        let start = Date()
        XCTAssertNotNil(try stream.next(timeoutMillis: 5000))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { stream.close() }
        XCTAssertEqual(status { _ = try stream.next(timeoutMillis: 5000) }, .closed)
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }
}

/// JSON text as the byte view the core's calls take. The bytes are kept
/// for the rest of the test run (the calls copy what they keep; test data
/// is small), so a call site needs no closure.
private func json(_ text: String) -> UnsafeRawBufferPointer {
    JSONArena.shared.keep(Array(text.utf8))
}

private final class JSONArena: @unchecked Sendable {
    static let shared = JSONArena()
    private let lock = NSLock()
    private var kept: [UnsafeMutableRawBufferPointer] = []

    func keep(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        memory.copyBytes(from: bytes)
        lock.withLock { kept.append(memory) }
        return UnsafeRawBufferPointer(rebasing: memory[0..<bytes.count])
    }
}

/// The dispatcher wakes only the watches a batch may concern and lets the
/// others skip it: what each watch delivers must not change.
final class ChangeFeedDispatchTests: XCTestCase {
    func testFilteredAndPrefixWatchesDeliverExactlyTheirEventsWhileWaiting() throws {
        let dir = TemporaryDirectory("cairn-feed-dispatch")
        defer { dir.remove() }
        let db = try Array(#"{"change_feed": true, "sync": "never"}"#.utf8).withUnsafeBytes { try Database.open(path: dir.path, optionsJSON: $0) }
        defer { try? db.close() }
        let deletes = try db.watch(.everything, options: #"{"filter": {"operationType": {"$in": ["delete"]}}}"#)
        let prefix = try db.watch(.keyPrefix(Array("hot:".utf8)), options: "{}")
        let orders = try db.watch(.everything, options: #"{"filter": {"ns.coll": "orders"}}"#)
        final class Sink: @unchecked Sendable {
            let lock = NSLock()
            var events: [String: [JSONValue]] = [:]
            func add(_ name: String, _ json: String) {
                lock.lock(); defer { lock.unlock() }
                events[name, default: []].append(try! JSONValue.parse(json))
            }
        }
        let sink = Sink()
        let group = DispatchGroup()
        let streams = [("deletes", deletes), ("prefix", prefix), ("orders", orders)]
        for (name, stream) in streams {
            DispatchQueue.global().async(group: group) {
                // Until closed (CLOSED ends the loop); nil is only a timeout.
                while true {
                    do {
                        if let json = try stream.next(timeoutMillis: 100) { sink.add(name, json) }
                    } catch {
                        return
                    }
                }
            }
        }
        var batch = KeyValueBatch()
        for i in 0..<600 {  // more keys than a summary lists
            try Array("cold:\(i)".utf8).withUnsafeBytes { k in try Array("v".utf8).withUnsafeBytes { try batch.put(key: k, value: $0) } }
        }
        try Array("hot:in-a-big-batch".utf8).withUnsafeBytes { k in try Array("v".utf8).withUnsafeBytes { try batch.put(key: k, value: $0) } }
        try db.write(batch)
        for i in 0..<300 {
            try db.put(Array("cold:x\(i)".utf8), Array("v".utf8))
            if i % 50 == 0 { try db.delete(Array("cold:\(i)".utf8)) }
            if i % 100 == 0 { try db.put(Array("hot:\(i)".utf8), Array("v".utf8)) }
            if i % 75 == 0 { _ = try Array(#"{"_id": \#(i)}"#.utf8).withUnsafeBytes { try db.insertOne(into: i % 150 == 0 ? "orders" : "other", json: $0) } }
        }
        // Wait (on a loaded machine, for a while) until each has what it
        // should, then a little longer for anything extra, then stop them.
        let want = ["deletes": 6, "prefix": 4, "orders": 3]
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && sink.lock.withLock({ want.contains { sink.events[$0.key, default: []].count < $0.value } }) { usleep(10_000) }
        usleep(300_000)
        for (_, stream) in streams { stream.close() }
        group.wait()
        let events = sink.lock.withLock { sink.events }
        XCTAssertEqual(events["deletes"]?.count, 6)
        XCTAssertEqual(events["deletes"]?.allSatisfy { $0["operationType"] == .string("delete") }, true)
        XCTAssertEqual(events["prefix"]?.count, 4, "the hot key of the big batch and three more")
        XCTAssertEqual(events["orders"]?.map { $0["operationType"] }, [.string("create"), .string("insert"), .string("insert")])
    }
}

/// Retention by time, on a clock the test moves (FaultInjectionEnv): whole
/// commits older than the retention go, the boundary is exact, and a start
/// before it is HISTORY_LOST.
final class ChangeFeedRetentionTests: XCTestCase {
    func testHistoryOlderThanRetentionSecondsIsTrimmedAtTheExactBoundary() throws {
        let dir = TemporaryDirectory("cairn-feed-retention")
        defer { dir.remove() }
        let env = FaultInjectionEnv()
        let start: Int64 = 1_800_000_000_000
        env.setClock(start)
        var options = try Array(#"{"change_feed": {"retention_seconds": 3600, "retention_bytes": 0}, "sync": "never"}"#.utf8)
            .withUnsafeBytes { try DatabaseOptions.parse(json: $0) }
        options.createIfMissing = true
        let db = try Database.open(path: dir.path, options: options, env: env)
        defer { try? db.close() }
        let all = try db.watch(.everything, options: "{}")
        for i in 0..<10 { try db.put(Array("old\(i)".utf8), Array("v".utf8)) }
        env.advanceClock(by: 30 * 60_000)
        for i in 0..<5 { try db.put(Array("new\(i)".utf8), Array("v".utf8)) }
        var events: [JSONValue] = []
        while let json = try all.next(timeoutMillis: 0) { events.append(try JSONValue.parse(json)) }
        XCTAssertEqual(events.count, 15)
        // 70 minutes after the first puts: they are past the hour, the others not.
        env.advanceClock(by: 40 * 60_000)
        var lost = false
        for _ in 0..<50 where !lost {
            usleep(100_000)
            lost = status { _ = try db.watch(.everything, options: #"{"startAtOperationTime": 1}"#) } == .historyLost
        }
        XCTAssertTrue(lost, "the old commits were trimmed")
        func token(_ event: JSONValue) -> String { event["_id"]!.serialized }
        // After the last trimmed event: nothing is missing, so it resumes.
        let resumed = try db.watch(.everything, options: #"{"resumeAfter": \#(token(events[9]))}"#)
        var rest: [JSONValue] = []
        while let json = try resumed.next(timeoutMillis: 0) { rest.append(try JSONValue.parse(json)) }
        XCTAssertEqual(rest, Array(events[10...]))
        // One event earlier, the tenth is gone: HISTORY_LOST.
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"resumeAfter": \#(token(events[8]))}"#) }, .historyLost)
        // By time: from the kept commits' time on, exactly them.
        let since = ISO8601.string(milliseconds: start + 30 * 60_000)!
        let byTime = try db.watch(.everything, options: #"{"startAtOperationTime": {"$date": "\#(since)"}}"#)
        var kept: [JSONValue] = []
        while let json = try byTime.next(timeoutMillis: 0) { kept.append(try JSONValue.parse(json)) }
        XCTAssertEqual(kept, Array(events[10...]))
        XCTAssertEqual(status { _ = try db.watch(.everything, options: #"{"startAtOperationTime": {"$date": "\#(ISO8601.string(milliseconds: start)!)"}}"#) },
                       .historyLost)
    }
}

final class ChangeFeedWakeupTests: XCTestCase {
    /// A commit made right after the open, before the feed's dispatcher
    /// thread first runs, still wakes a waiting watch. The dispatcher used
    /// to take its starting point when its thread began, which on a busy
    /// machine came after such a commit: it then never announced that
    /// commit's events, and the watch waited out its whole timeout (the
    /// test below failed so, now and then). Here every background thread
    /// starts 500 ms late (FaultInjectionEnv), as on that machine, and the
    /// commit comes 100 ms after the open, while the watch waits.
    func testACommitBeforeTheDispatcherRunsWakesAWaitingWatch() throws {
        let dir = TemporaryDirectory("cairn-feed-open")
        defer { dir.remove() }
        let env = FaultInjectionEnv()
        env.threadStartDelayMicroseconds = 500_000
        let options = try Array(#"{"change_feed": true, "sync": "never"}"#.utf8).withUnsafeBytes { try DatabaseOptions.parse(json: $0) }
        let db = try Database.open(path: dir.path, options: options, env: env)
        defer { try? db.close() }
        let stream = try db.watch(.everything, options: #"{"filter": {"operationType": "delete"}}"#)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { try? db.delete(Array("key".utf8)) }
        let start = Date()
        guard let json = try stream.next(timeoutMillis: 10_000) else { return XCTFail("no event in 10 s") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the wake-up came late")
        XCTAssertEqual(try JSONValue.parse(json)["operationType"], .string("delete"))
    }

    /// A waiting watch is woken by the first commit that concerns it, also
    /// after commits the dispatcher ruled out for it: a lost notice would
    /// show as a wait of the whole timeout.
    func testWaitingFilteredWatchIsWokenByEachMatchingCommit() throws {
        let dir = TemporaryDirectory("cairn-feed-wakeup")
        defer { dir.remove() }
        let db = try Array(#"{"change_feed": true, "sync": "never"}"#.utf8).withUnsafeBytes { try Database.open(path: dir.path, optionsJSON: $0) }
        defer { try? db.close() }
        let stream = try db.watch(.everything, options: #"{"filter": {"operationType": "delete"}}"#)
        for round in 0..<40 {
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(round % 3 == 0 ? 0 : 5)) {
                for i in 0..<(round % 5) { try? db.put(Array("noise\(round)-\(i)".utf8), Array("v".utf8)) }
                try? db.delete(Array("key\(round)".utf8))
            }
            let start = Date()
            guard let json = try stream.next(timeoutMillis: 20_000) else { return XCTFail("round \(round): no event in 20 s") }
            XCTAssertLessThan(Date().timeIntervalSince(start), 5, "round \(round): the wake-up came late")
            let event = try JSONValue.parse(json)
            XCTAssertEqual(event["operationType"], .string("delete"))
            XCTAssertEqual(event["key"]?["$binary"]?["base64"], .string(Data("key\(round)".utf8).base64EncodedString()))
        }
    }
}
