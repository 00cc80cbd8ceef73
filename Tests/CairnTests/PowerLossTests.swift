import Synchronization
import XCTest
@testable import Cairn

/// Durability against a power cut, which a killed process cannot show: the
/// kernel keeps what a killed process wrote, a power cut keeps only what
/// was synced (FaultInjectionEnv drops the rest). Writers of every kind run
/// with sync "always" while flushes and compactions happen; the power is
/// cut at a random point; the database must then open, hold every write it
/// acknowledged, and show nothing half-applied.
final class PowerLossTests: XCTestCase {
    /// What the writers had acknowledged when the power went.
    private final class Acknowledged: @unchecked Sendable {
        let lock = Lock()
        var puts: [Int] = []
        var batches: [Int] = []
        var documents: [Int] = []
        var transactions: [Int] = []
        var attemptedBatches = 0
        var attemptedTransactions = 0
        var failures: [String] = []
    }

    func testAcknowledgedWritesSurvivePowerCutsAtRandomPoints() throws {
        var random = SeededRandom(seed: 2026_12_06)
        for round in 0..<40 {
            try runRound(round, cutAfterMillis: 30 + Int(random.next() % 250))
        }
    }

    private func runRound(_ round: Int, cutAfterMillis: Int) throws {
        let dir = TemporaryDirectory("cairn-power")
        defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1
        options.blockSize = 1024
        let env = FaultInjectionEnv()
        let db = try Database.open(path: dir.path, options: options, env: env)
        try db.createCollection("people")
        _ = try db.createIndex(collection: "people", specJSON: bytes(#"{"keys": {"email": 1}, "unique": true}"#))

        let acked = Acknowledged()
        let value = [UInt8](repeating: 0x61, count: 3000)  // big values fill memtables fast
        let group = DispatchGroup()
        let poweredOff = Atomic<Bool>(false)
        func writer(_ name: String, _ body: @escaping @Sendable (Int) throws -> Void) {
            // A thread each: the global queue would run only as many
            // writers at once as there are cores.
            group.enter()
            Thread {
                defer { group.leave() }
                var n = 0
                while true {
                    do {
                        try body(n)
                    } catch let error as CairnError where error.code == .conflict {
                        // A transaction lost a race with another writer:
                        // nothing of it was written; try the next one.
                    } catch {
                        // Only the power cut may stop a writer.
                        if !poweredOff.load(ordering: .sequentiallyConsistent) {
                            acked.lock.withLock { acked.failures.append("\(name): \(error)") }
                        }
                        return
                    }
                    n += 1
                }
            }.start()
        }
        writer("puts") { n in
            try db.put(bytes("p-\(n)"), value)
            acked.lock.withLock { acked.puts.append(n) }
        }
        writer("batches") { n in
            var batch = KeyValueBatch()
            for part in 0..<5 {
                try bytes("b-\(n)-\(part)").withUnsafeBytes { key in try bytes("batch \(n)").withUnsafeBytes { try batch.put(key: key, value: $0) } }
            }
            acked.lock.withLock { acked.attemptedBatches = n + 1 }
            try db.write(batch)
            acked.lock.withLock { acked.batches.append(n) }
        }
        writer("documents") { n in
            _ = try db.insertOne(into: "people", json: bytes(#"{"_id": \#(n), "email": "u\#(n)@x.org", "pad": "\#(String(repeating: "z", count: 500))"}"#))
            acked.lock.withLock { acked.documents.append(n) }
        }
        writer("transactions") { n in
            let transaction = try db.beginTransaction()
            for part in ["a", "b"] {
                try bytes("t-\(n)-\(part)").withUnsafeBytes { key in try bytes("txn \(n)").withUnsafeBytes { try transaction.put(key: key, value: $0) } }
            }
            _ = try transaction.insertOne(into: "orders", json: bytes(#"{"_id": \#(n)}"#))
            acked.lock.withLock { acked.attemptedTransactions = n + 1 }
            try transaction.commit()
            acked.lock.withLock { acked.transactions.append(n) }
        }
        writer("maintenance") { n in
            // Flushes and compactions under the writers.
            usleep(20_000)
            if n % 5 == 4 { try db.compactRange() } else { try db.flush() }
        }
        // The cut comes `cutAfterMillis` after every writer has had a write
        // acknowledged, not after the start: on a loaded 2-core machine a
        // writer's first fsync can take longer than an early cut, and the
        // round would then prove nothing about that writer.
        let started = DispatchTime.now().uptimeNanoseconds
        while acked.lock.withLock({ [acked.puts, acked.batches, acked.documents, acked.transactions].contains { $0.isEmpty } })
                && DispatchTime.now().uptimeNanoseconds - started < 10_000_000_000 {
            usleep(1000)
        }
        usleep(UInt32(cutAfterMillis) * 1000)
        poweredOff.store(true, ordering: .sequentiallyConsistent)
        env.cutPower()
        group.wait()
        XCTAssertEqual(acked.failures, [], "round \(round): a writer failed before the power cut")
        db.engine.abandonForCrashTest()

        let reopened = try Database.open(path: dir.path, options: options)
        defer { try? reopened.close() }
        let context = "round \(round) (cut after \(cutAfterMillis) ms)"
        for n in acked.puts {
            XCTAssertEqual(try reopened.get(bytes("p-\(n)")), value, "\(context): acknowledged put p-\(n) lost")
        }
        let batches = Set(acked.batches)
        for n in 0..<acked.attemptedBatches {
            let present = try (0..<5).map { try reopened.get(bytes("b-\(n)-\($0)")) != nil }
            XCTAssert(present.allSatisfy { $0 } || present.allSatisfy { !$0 }, "\(context): batch \(n) half-applied: \(present)")
            if batches.contains(n) { XCTAssert(present.allSatisfy { $0 }, "\(context): acknowledged batch \(n) lost") }
        }
        for n in acked.documents {
            let found = try reopened.findByID(collection: "people", idJSON: bytes("\(n)"))
            XCTAssertNotNil(found, "\(context): acknowledged document \(n) lost")
            // Found through the unique index as well: entry and document
            // were made durable together.
            let viaIndex = try reopened.count(collection: "people", filterJSON: bytes(#"{"email": "u\#(n)@x.org"}"#))
            XCTAssertEqual(viaIndex, 1, "\(context): document \(n) missing from its index")
        }
        // No index entry without its document, nor a document without its entry.
        let scanned = try reopened.count(collection: "people", filterJSON: bytes("{}"))
        let indexed = try reopened.count(collection: "people", filterJSON: bytes(#"{"email": {"$gte": ""}}"#))
        XCTAssertEqual(scanned, indexed, "\(context): documents and index entries disagree")
        let transactions = Set(acked.transactions)
        for n in 0..<acked.attemptedTransactions {
            let parts = [try reopened.get(bytes("t-\(n)-a")) != nil, try reopened.get(bytes("t-\(n)-b")) != nil,
                         try reopened.findByID(collection: "orders", idJSON: bytes("\(n)")) != nil]
            XCTAssert(parts.allSatisfy { $0 } || parts.allSatisfy { !$0 }, "\(context): transaction \(n) half-applied: \(parts)")
            if transactions.contains(n) { XCTAssert(parts.allSatisfy { $0 }, "\(context): acknowledged transaction \(n) lost") }
        }
        // Every kind of writer got writes acknowledged before the cut.
        XCTAssert(![acked.puts, acked.batches, acked.documents, acked.transactions].contains { $0.isEmpty },
                  "\(context): a writer had nothing acknowledged before the cut")
    }

}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private extension Database {
    func createIndex(collection: String, specJSON: [UInt8]) throws -> String {
        try specJSON.withUnsafeBytes { try createIndex(collection: collection, specJSON: $0) }
    }
    func insertOne(into collection: String, json: [UInt8]) throws -> String {
        try json.withUnsafeBytes { try insertOne(into: collection, json: $0) }
    }
    func findByID(collection: String, idJSON: [UInt8]) throws -> String? {
        try idJSON.withUnsafeBytes { try findByID(collection: collection, idJSON: $0) }
    }
    func count(collection: String, filterJSON: [UInt8]) throws -> Int {
        try filterJSON.withUnsafeBytes { try count(collection: collection, filterJSON: $0) }
    }
}

private extension Transaction {
    func insertOne(into collection: String, json: [UInt8]) throws -> String {
        try json.withUnsafeBytes { try insertOne(into: collection, json: $0) }
    }
}
