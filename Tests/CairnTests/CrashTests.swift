import Foundation
import XCTest
@testable import Cairn

/// Durability under SIGKILL (the Swift side of bindings/python/tests/
/// test_crash*.py): a child process writes with sync "always" (key-value
/// puts and batches, documents with a unique index) and reports each write
/// once the call returned; the parent kills it at a random moment, reopens
/// the directory and checks that every acknowledged write is there, none
/// half-applied, and that the database opens every time.
///
/// The child is this test binary, run with a filter that selects
/// `testChildWritesUntilKilled` and the directory in the environment.
final class CrashTests: XCTestCase {
    private static let childDirectory = "CAIRN_CRASH_CHILD_DIRECTORY"
    private static let childRound = "CAIRN_CRASH_CHILD_ROUND"

    func testAcknowledgedWritesSurviveSIGKILL() throws {
        let dir = TemporaryDirectory("cairn-crash")
        defer { dir.remove() }
        var random = SeededRandom(seed: 20_261_206)
        var acknowledged = 0
        let rounds = 20
        for round in 0..<rounds {
            let acks = try runChild(dir.path, round: round, killAfterMicros: 5_000 + UInt32(random.next() % 75_000))
            acknowledged += acks.count
            let db = try Database.open(path: dir.path)
            defer { try? db.close() }
            for ack in acks {
                let parts = ack.split(separator: " ")
                guard parts.count == 2, let i = Int(parts[1]) else { XCTFail("bad line \(ack)"); continue }
                switch parts[0] {
                case "put":
                    XCTAssertEqual(try db.get(Array("r\(round)-k\(i)".utf8)), Array("value \(i)".utf8), "round \(round): put \(i) lost")
                case "batch":
                    for part in 0..<3 {
                        XCTAssertEqual(try db.get(Array("r\(round)-b\(i)-\(part)".utf8)), Array("batch \(i)".utf8), "round \(round): batch \(i) lost")
                    }
                default:
                    let found = try Array("\"r\(round)-d\(i)\"".utf8).withUnsafeBytes { try db.findByID(collection: "people", idJSON: $0) }
                    XCTAssertNotNil(found, "round \(round): document \(i) lost")
                }
            }
            // The batch in flight when the kill came is all there or absent.
            for i in 0..<((acks.count + 2) * 3) {
                let present = try (0..<3).map { try db.get(Array("r\(round)-b\(i)-\($0)".utf8)) != nil }
                XCTAssert(present.allSatisfy { $0 } || present.allSatisfy { !$0 }, "round \(round): batch \(i) half-applied")
            }
            // Every document is found through its unique index too.
            let scanned = try Array("{}".utf8).withUnsafeBytes { try db.count(collection: "people", filterJSON: $0) }
            let indexed = try Array(#"{"email": {"$gte": ""}}"#.utf8).withUnsafeBytes { try db.count(collection: "people", filterJSON: $0) }
            XCTAssertEqual(scanned, indexed, "round \(round): documents and index entries disagree")
        }
        XCTAssertGreaterThan(acknowledged, rounds, "the writer made progress before the kills")
    }

    /// Runs the child writer, kills it, and returns the writes it reported.
    private func runChild(_ path: String, round: Int, killAfterMicros: UInt32) throws -> [String] {
        try runKilledChild(test: "CairnTests.CrashTests/testChildWritesUntilKilled",
                           environment: [Self.childDirectory: path, Self.childRound: String(round)],
                           round: round, killAfterMicros: killAfterMicros)
    }

    /// The child's side: writes until killed. Skipped in a normal run.
    func testChildWritesUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectory],
              let round = ProcessInfo.processInfo.environment[Self.childRound] else {
            throw XCTSkip("runs only as the child of testAcknowledgedWritesSurviveSIGKILL")
        }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1  // flushes and compactions run while the kills come
        let db = try Database.open(path: path, options: options)
        _ = try Array(#"{"keys": {"email": 1}, "unique": true}"#.utf8).withUnsafeBytes { try db.createIndex(collection: "people", specJSON: $0) }
        func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }  // unbuffered: reported means returned
        }
        say("ready")
        var i = 0
        while true {
            switch i % 3 {
            case 0:
                var batch = KeyValueBatch()
                for part in 0..<3 {
                    try Array("r\(round)-b\(i)-\(part)".utf8).withUnsafeBytes { key in
                        try Array("batch \(i)".utf8).withUnsafeBytes { try batch.put(key: key, value: $0) }
                    }
                }
                try db.write(batch)
                say("ack batch \(i)")
            case 1:
                try db.put(Array("r\(round)-k\(i)".utf8), Array("value \(i)".utf8))
                say("ack put \(i)")
            default:
                let json = #"{"_id": "r\#(round)-d\#(i)", "email": "r\#(round)-\#(i)@x.org", "pad": "\#(String(repeating: "p", count: 400))"}"#
                _ = try Array(json.utf8).withUnsafeBytes { try db.insertOne(into: "people", json: $0) }
                say("ack document \(i)")
            }
            i += 1
        }
    }
}
