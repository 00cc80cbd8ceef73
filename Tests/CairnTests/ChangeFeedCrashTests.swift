import Foundation
import XCTest
@testable import Cairn

/// The change feed under SIGKILL: a child process runs a writer (key-value
/// puts, batches of three, transactions of three document inserts, all with
/// sync "always") and a watcher that processes each event by appending
/// "seq pos what" to its own log file, and resumes, whenever it restarts,
/// after the last line of that log (the processed state and the resume
/// token are one thing, so processing is exactly-once). The watcher also
/// drops its watch and resumes from its log at random moments inside a
/// run. The parent kills the child at a random moment, 30 times, then
/// catches up once more and checks:
///  - the watcher's log is exactly the feed's history from the start: no
///    gap, no duplicate, in commit order (a kill inside a commit's events
///    resumes at the next event of that commit);
///  - the events are exactly the committed changes: one put per key in the
///    database, every acknowledged write among them.
final class ChangeFeedCrashTests: XCTestCase {
    private static let childDirectory = "CAIRN_FEED_CRASH_DIRECTORY"
    private static let childRound = "CAIRN_FEED_CRASH_ROUND"
    private static let options = #"{"change_feed": {"retention_seconds": 0, "retention_bytes": 1073741824}, "sync": "always", "memtable_size_mb": 1}"#

    func testWatcherResumesExactlyAfterSIGKILL() throws {
        let dir = TemporaryDirectory("cairn-feed-crash")
        defer { dir.remove() }
        let path = dir.path + "/db"
        let log = dir.path + "/watcher.log"
        var random = SeededRandom(seed: 20_261_207)
        var acknowledged: [String] = []
        let rounds = 30
        for round in 0..<rounds {
            acknowledged += try runChild(path, round: round, killAfterMicros: 20_000 + UInt32(random.next() % 120_000))
        }
        // Catch up one last time, in this process, as a restarted watcher would.
        let db = try Array(Self.options.utf8).withUnsafeBytes { try Database.open(path: path, optionsJSON: $0) }
        defer { try? db.close() }
        try ChangeFeedCrashTests.watch(db, log: log, until: { $0 == nil }, random: nil)

        let processed = try ChangeFeedCrashTests.readLog(log)
        // The whole history from the start, read anew.
        let history = try db.watch(.everything, options: #"{"startAtOperationTime": 1}"#)
        var expected: [String] = []
        while let json = try history.next(timeoutMillis: 0) { expected.append(ChangeFeedCrashTests.line(try JSONValue.parse(json))) }
        XCTAssertEqual(processed.count, expected.count, "as many events processed as the history holds")
        XCTAssertEqual(processed, expected, "no gap, no duplicate, commit order")
        XCTAssertEqual(Set(processed).count, processed.count)

        // The events are the committed changes: each key in the database was put once.
        var keys = Set<String>()
        let iterator = try db.makeIterator(start: nil, end: nil)
        while try iterator.next() { keys.insert(String(decoding: iterator.key, as: UTF8.self)) }
        let documents = try Array("{}".utf8).withUnsafeBytes { try db.count(collection: "docs", filterJSON: $0) }
        let puts = processed.filter { $0.contains(" put ") }.map { String($0.split(separator: " ")[3]) }
        let inserts = processed.filter { $0.contains(" insert ") }.map { String($0.split(separator: " ")[3]) }
        XCTAssertEqual(Set(puts), keys, "one put event per key in the database")
        XCTAssertEqual(puts.count, keys.count)
        XCTAssertEqual(inserts.count, documents, "one insert event per document")
        let delivered = Set(puts + inserts)
        for ack in acknowledged { XCTAssert(delivered.contains(ack), "acknowledged \(ack) was never delivered") }
        XCTAssertGreaterThan(acknowledged.count, rounds, "the writer made progress between the kills")
        print("change feed crash test: \(rounds) kills, \(acknowledged.count) acknowledged writes, \(processed.count) events processed exactly once")
    }

    /// The watcher's record of one event: "seq pos operationType what".
    static func line(_ event: JSONValue) -> String {
        guard case .int(let seq)? = event["_id"]?["seq"], case .int(let pos)? = event["_id"]?["pos"],
              case .string(let type)? = event["operationType"] else { return "bad \(event)" }
        var what = "-"
        if case .string(let b64)? = event["key"]?["$binary"]?["base64"], let key = Data(base64Encoded: b64) {
            what = String(decoding: key, as: UTF8.self)
        } else if case .string(let id)? = event["documentKey"]?["_id"] {
            what = id
        }
        return "\(seq) \(pos) \(type) \(what)"
    }

    /// The complete lines of the watcher's log; a torn last line (none is
    /// expected: each is one write()) is cut off.
    static func readLog(_ log: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: log) else { return [] }
        var text = String(decoding: data, as: UTF8.self)
        if !text.isEmpty && !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") {
            text = String(text[...cut])
            try Data(text.utf8).write(to: URL(fileURLWithPath: log))
        } else if !text.hasSuffix("\n") {
            text = ""
        }
        return text.split(separator: "\n").map(String.init)
    }

    /// The watcher: resumes after the last processed event (or from the
    /// start), appends each event's line with one write(), until `until`
    /// says stop (it sees each next event, nil when none came in time).
    /// With `random`, it drops its watch and resumes from the log now and then.
    static func watch(_ db: Database, log: String, until: (String?) -> Bool, random: UnsafeMutablePointer<SeededRandom>?) throws {
        let fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw CairnError(.ioError, "cannot open \(log)") }
        defer { close(fd) }
        while true {
            let lines = try readLog(log)
            let start: String
            if let last = lines.last {
                let parts = last.split(separator: " ")
                start = #"{"resumeAfter": {"seq": \#(parts[0]), "pos": \#(parts[1])}}"#
            } else {
                start = #"{"startAtOperationTime": 1}"#
            }
            let stream = try db.watch(.everything, options: start)
            var restart = false
            while !restart {
                let json = try stream.next(timeoutMillis: 200)
                if until(json) { return }
                guard let json else { continue }
                let text = line(try JSONValue.parse(json)) + "\n"
                let written = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written == text.utf8.count else { throw CairnError(.ioError, "short write to \(log)") }
                if let random, random.pointee.next() % 50 == 0 { restart = true }
            }
            stream.close()
        }
    }

    /// Runs the child writer and watcher, kills both, and returns the writes it reported.
    private func runChild(_ path: String, round: Int, killAfterMicros: UInt32) throws -> [String] {
        try runKilledChild(test: "CairnTests.ChangeFeedCrashTests/testChildWritesAndWatchesUntilKilled",
                           environment: [Self.childDirectory: path, Self.childRound: String(round)],
                           round: round, killAfterMicros: killAfterMicros)
    }

    /// The child: a writer thread and the watcher, until killed. Skipped in a normal run.
    func testChildWritesAndWatchesUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectory],
              let roundText = ProcessInfo.processInfo.environment[Self.childRound], let round = Int(roundText) else {
            throw XCTSkip("runs only as the child of testWatcherResumesExactlyAfterSIGKILL")
        }
        let db = try Array(Self.options.utf8).withUnsafeBytes { try Database.open(path: path, optionsJSON: $0) }
        @Sendable func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        Thread.detachNewThread {
            var i = 0
            while true {
                do {
                    switch i % 3 {
                    case 0:
                        try db.put(Array("r\(round)-p\(i)".utf8), Array("v".utf8))
                        say("ack r\(round)-p\(i)")
                    case 1:
                        var batch = KeyValueBatch()
                        for part in 0..<3 {
                            try Array("r\(round)-b\(i)-\(part)".utf8).withUnsafeBytes { key in try Array("v".utf8).withUnsafeBytes { try batch.put(key: key, value: $0) } }
                        }
                        try db.write(batch)
                        say("ack r\(round)-b\(i)-2")
                    default:
                        let txn = try db.beginTransaction()
                        for part in 0..<3 {
                            _ = try Array(#"{"_id": "r\#(round)-d\#(i)-\#(part)"}"#.utf8).withUnsafeBytes { try txn.insertOne(into: "docs", json: $0) }
                        }
                        try txn.commit()
                        say("ack r\(round)-d\(i)-2")
                    }
                } catch {
                    say("error \(error)")
                }
                i += 1
            }
        }
        say("ready")
        var random = SeededRandom(seed: UInt64(round) &* 7919)
        try ChangeFeedCrashTests.watch(db, log: path + "/../watcher.log", until: { _ in false }, random: &random)
    }
}
