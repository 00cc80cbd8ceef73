import Foundation
import XCTest
@testable import Cairn

/// A vector index under SIGKILL: a child inserts, updates and deletes
/// documents with vectors (sync "always", a 1 MiB memtable so flushes run)
/// and reports each write once its call returned; the parent kills it at a
/// random moment and reopens. Every time: every vector in the index has its
/// document and every document its vector (and the graph its invariants,
/// checkVectorInvariants), acknowledged writes are there, and exact search
/// equals brute force over the documents.
final class VectorCrashTests: XCTestCase {
    private static let childDirectory = "CAIRN_VECTOR_CRASH_DIRECTORY"
    private static let childRound = "CAIRN_VECTOR_CRASH_ROUND"
    private static let spec = #"{"keys": {"v": "vector"}, "dimensions": 4, "metric": "l2", "M": 4, "ef_construction": 16}"#

    func testIndexEqualsDocumentsAfterSIGKILL() throws {
        let dir = TemporaryDirectory("cairn-vector-crash")
        defer { dir.remove() }
        var random = SplitMix(seed: 1206)
        var acknowledged = 0
        let rounds = 8
        for round in 0..<rounds {
            let acks = try runKilledChild(test: "CairnTests.VectorCrashTests/testChildWritesVectorsUntilKilled",
                                          environment: [Self.childDirectory: dir.path, Self.childRound: String(round)],
                                          round: round, killAfterMicros: 30_000 + UInt32(random.next() % 200_000))
            acknowledged += acks.count
            let db = try Database.open(path: dir.path)
            defer { try? db.close() }
            try checkVectorInvariants(db, collection: "emb", dimensions: 4)
            // The acknowledged outcome of each document; the write in
            // flight at the kill (an intent without its answer) may have
            // gone either way.
            var present: [String: Bool] = [:]
            var inFlight: String?
            for ack in acks {
                let parts = ack.split(separator: " ")
                guard parts.count == 2 || (parts.count == 3 && parts[0] == "intent") else { XCTFail("bad line \(ack)"); continue }
                if parts[0] == "intent" { inFlight = String(parts[2]); continue }
                inFlight = nil
                if parts[0] == "insert" { present[String(parts[1])] = true }
                if parts[0] == "delete" { present[String(parts[1])] = false }
            }
            if let inFlight { present[inFlight] = nil }
            for (id, there) in present {
                let found = try Array("\"\(id)\"".utf8).withUnsafeBytes { try db.findByID(collection: "emb", idJSON: $0) }
                XCTAssertEqual(found != nil, there, "round \(round): \(id) should be \(there ? "there" : "gone")")
            }
            // Exact search equals brute force over the documents.
            var documents: [(id: String, vector: [Float])] = []
            let cursor = try Array("{}".utf8).withUnsafeBytes { try db.find(collection: "emb", filterJSON: $0) }
            while try cursor.next() {
                let object = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as! [String: Any]
                documents.append((object["_id"] as! String, (object["v"] as! [NSNumber]).map { Float($0.doubleValue) }))
            }
            for q in [[Float](repeating: 0.5, count: 4), [0.1, 0.9, 0.3, 0.7]] {
                var scored: [(distance: Float, id: String)] = []
                for doc in documents {
                    var sum: Float = 0
                    for j in 0..<4 {
                        let d = doc.vector[j] - q[j]
                        sum += d * d
                    }
                    scored.append((sum, doc.id))
                }
                scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
                let truth = scored.prefix(10).map(\.id)
                let options = #"{"vector": [\#(q.map { "\($0)" }.joined(separator: ","))], "k": 10, "exact": true}"#
                let found = try Array(options.utf8).withUnsafeBytes { try db.vectorSearch(collection: "emb", optionsJSON: $0) }
                var ids: [String] = []
                while try found.next() {
                    ids.append((try JSONSerialization.jsonObject(with: Data(found.jsonString.utf8)) as! [String: Any])["_id"] as! String)
                }
                XCTAssertEqual(ids, Array(truth), "round \(round): exact search differs from brute force")
            }
        }
        XCTAssertGreaterThan(acknowledged, rounds, "the writer made progress before the kills")
    }

    /// The child's side: writes until killed. Skipped in a normal run.
    func testChildWritesVectorsUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectory],
              let round = ProcessInfo.processInfo.environment[Self.childRound].flatMap(Int.init) else {
            throw XCTSkip("runs only as the child of testIndexEqualsDocumentsAfterSIGKILL")
        }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1
        let db = try Database.open(path: path, options: options)
        _ = try Array(Self.spec.utf8).withUnsafeBytes { try db.createIndex(collection: "emb", specJSON: $0) }
        func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        var random = SplitMix(seed: UInt64(round) &* 7919 &+ 1)
        func vector() -> String { "[" + (0..<4).map { _ in "\(Double(random.next() % 1000) / 1000)" }.joined(separator: ",") + "]" }
        say("ready")
        var i = 0
        while true {
            let id = "r\(round)-\(i)"
            switch i % 4 {
            case 3:  // delete one of this round's earlier documents
                let victim = "r\(round)-\(Int(random.next() % UInt64(i)))"
                say("ack intent delete \(victim)")
                _ = try Array(#"{"_id": "\#(victim)"}"#.utf8).withUnsafeBytes { try db.delete(collection: "emb", filterJSON: $0, many: false) }
                say("ack delete \(victim)")
            case 2 where i > 4:  // move an earlier document's vector
                let moved = "r\(round)-\(Int(random.next() % UInt64(i)))"
                _ = try Array(#"{"_id": "\#(moved)"}"#.utf8).withUnsafeBytes { f in
                    try Array(#"{"$set": {"v": \#(vector())}}"#.utf8).withUnsafeBytes { u in
                        try db.update(collection: "emb", filterJSON: f, updateJSON: u, many: false)
                    }
                }
                say("ack update \(moved)")
            default:
                say("ack intent insert \(id)")
                _ = try Array(#"{"_id": "\#(id)", "v": \#(vector())}"#.utf8).withUnsafeBytes { try db.insertOne(into: "emb", json: $0) }
                say("ack insert \(id)")
            }
            i += 1
        }
    }
}
