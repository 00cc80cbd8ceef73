import Foundation
import XCTest
@testable import Cairn

/// A text index under SIGKILL: a child inserts, updates and deletes
/// documents of an indexed collection (sync "always", small memtables, so
/// flushes and compactions run too) until it is killed; after each reopen,
/// a search for every word of the vocabulary returns exactly the documents
/// whose text holds it, and every acknowledged write is there.
final class FullTextCrashTests: XCTestCase {
    private static let childDirectory = "CAIRN_FTS_CRASH_DIRECTORY"
    private static let childRound = "CAIRN_FTS_CRASH_ROUND"
    private static let vocabulary = (0..<40).map { "w\($0)" }

    func testTextIndexEqualsItsDocumentsAfterSIGKILL() throws {
        let dir = TemporaryDirectory("cairn-fts-crash")
        defer { dir.remove() }
        var random = SeededRandom(seed: 14)
        var acknowledged = 0
        for round in 0..<8 {
            let acks = try runKilledChild(test: "CairnTests.FullTextCrashTests/testChildWritesUntilKilled",
                                          environment: [Self.childDirectory: dir.path, Self.childRound: String(round)],
                                          round: round, killAfterMicros: 20_000 + UInt32(random.next() % 150_000))
            acknowledged += acks.count
            let db = try Database.open(path: dir.path)
            defer { try? db.close() }
            // Statistics and document frequencies equal a recount, stripe by stripe.
            try FullTextCounterTests.assertCountersExact(db, "notes", "round \(round)")
            // The documents as stored, and the words each holds.
            var holders: [String: Set<String>] = [:]
            var documents: [String: String] = [:]
            let cursor = try Array("{}".utf8).withUnsafeBytes { try db.find(collection: "notes", filterJSON: $0) }
            while try cursor.next() {
                let document = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as! [String: Any]
                let id = "\(document["_id"]!)", text = document["t"] as? String ?? ""
                documents[id] = text
                for word in text.split(separator: " ") { holders[String(word), default: []].insert(id) }
            }
            for word in Self.vocabulary {
                let hits = try Array(word.utf8).withUnsafeBytes { q in
                    try Array(#"{"limit": 100000, "projection": {"_id": 1}}"#.utf8).withUnsafeBytes { try db.search(collection: "notes", query: q, optionsJSON: $0) }
                }
                var found = Set<String>()
                while try hits.next() {
                    let hit = try JSONSerialization.jsonObject(with: Data(hits.jsonString.utf8)) as! [String: Any]
                    found.insert("\((hit["document"] as! [String: Any])["_id"]!)")
                }
                XCTAssertEqual(found, holders[word] ?? [], "round \(round): the index disagrees with the documents on \(word)")
            }
            // Acknowledged writes: the last one of each document is what is
            // stored, except for the write in flight when the kill came
            // (announced, not acknowledged), which may or may not be.
            var last: [String: String] = [:]
            var inFlight: (id: String, text: String)?
            for ack in acks {
                let parts = ack.split(separator: " ", maxSplits: 2).map(String.init)
                if parts.first == "done", let write = inFlight {
                    last[write.id] = write.text
                    inFlight = nil
                } else if parts.count >= 2 {
                    inFlight = (parts[1], parts.count > 2 ? parts[2] : "")
                }
            }
            for (id, text) in last where id != inFlight?.id {
                XCTAssertEqual(documents[id] ?? "", text, "round \(round): acknowledged write of \(id) lost")
            }
            if let write = inFlight {
                XCTAssert([last[write.id] ?? documents[write.id] ?? "", write.text].contains(documents[write.id] ?? ""),
                          "round \(round): the write in flight left \(write.id) neither before nor after")
            }
        }
        XCTAssertGreaterThan(acknowledged, 8, "the writer made progress before the kills")
    }

    /// The child's side: writes until killed. Skipped in a normal run.
    func testChildWritesUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectory],
              let roundText = ProcessInfo.processInfo.environment[Self.childRound], let round = Int(roundText) else {
            throw XCTSkip("runs only as the child of testTextIndexEqualsItsDocumentsAfterSIGKILL")
        }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1
        let db = try Database.open(path: path, options: options)
        _ = try Array(#"{"keys": {"t": "text"}, "analyzer": {"stemming": false, "stopwords": false}}"#.utf8).withUnsafeBytes {
            try db.createIndex(collection: "notes", specJSON: $0)
        }
        func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }  // unbuffered: reported means returned
        }
        var random = SeededRandom(seed: UInt64(round) &* 7919)
        say("ready")
        var step = 0
        while true {
            step += 1
            if step % 8 == 0 {
                // New documents in one insert_many (its counters written
                // once for the batch), not announced: the parent checks them
                // against the index, not against the acknowledgements.
                let batch = (0..<4).map { n -> String in
                    let text = (0..<Int(random.next() % 10)).map { _ in Self.vocabulary[Int(random.next() % 40)] }.joined(separator: " ")
                    return #"{"_id": "m\#(round)-\#(step)-\#(n)", "t": "\#(text)"}"#
                }
                _ = try Array(("[" + batch.joined(separator: ",") + "]").utf8).withUnsafeBytes { try db.insertMany(into: "notes", arrayJSON: $0) }
            }
            let id = "d\(Int(random.next() % 300))"
            let text = (0..<Int(random.next() % 12)).map { _ in Self.vocabulary[Int(random.next() % 40)] }.joined(separator: " ")
            let filter = Array(#"{"_id": "\#(id)"}"#.utf8)
            let delete = random.next() % 4 == 0
            say("ack write \(id) \(delete ? "" : text)")
            if delete {
                _ = try filter.withUnsafeBytes { try db.delete(collection: "notes", filterJSON: $0, many: false) }
            } else {
                let replacement = Array(#"{"_id": "\#(id)", "t": "\#(text)", "pad": "\#(String(repeating: "p", count: 300))"}"#.utf8)
                _ = try filter.withUnsafeBytes { f in
                    try replacement.withUnsafeBytes { r in
                        try Array(#"{"upsert": true}"#.utf8).withUnsafeBytes { o in
                            try db.update(collection: "notes", filterJSON: f, updateJSON: r, mode: .replaceOne, optionsJSON: o)
                        }
                    }
                }
            }
            say("ack done")
        }
    }
}
