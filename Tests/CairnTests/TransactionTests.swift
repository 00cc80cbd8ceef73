import Foundation
import Synchronization
import XCTest
@testable import Cairn

/// Transactions under concurrency: snapshot isolation's promises hold
/// while explicit transactions, single operations and readers run at once.
private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

final class TransactionTests: XCTestCase {
    private static func balance(_ store: Scope, _ collection: String, _ id: Int) throws -> Int64 {
        let found = try json(String(id)).withUnsafeBytes { try store.findByID(collection: collection, idJSON: $0) }
        guard case .object(let members)? = try found.map({ try JSONValue.parse($0) }),
              case .int(let value)? = members.first(where: { $0.key == "balance" })?.value else {
            throw CairnError(.notFound, "account \(id) of \(collection)")
        }
        return value
    }

    /// Threads move money between accounts of two collections and count the
    /// moves in a key-value entry, retrying on CONFLICT, while single
    /// operations and index reads run beside them. No update is lost: the
    /// total stays, and the counter equals the moves the documents record.
    func testTransfersAcrossCollectionsAndKeysKeepTheirInvariants() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        options.memtableSizeMB = 1
        let db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        let accounts = 8
        for name in ["a", "b"] {
            let documents = (0..<accounts).map { #"{"_id": \#($0), "balance": 1000, "moves": 0}"# }.joined(separator: ",")
            _ = try json("[" + documents + "]").withUnsafeBytes { try db.insertMany(into: name, arrayJSON: $0) }
            _ = try json(#"{"keys": {"balance": 1}}"#).withUnsafeBytes { try db.createIndex(collection: name, specJSON: $0) }
        }
        let counter = json("transfers")
        try counter.withUnsafeBytes { k in try json("0").withUnsafeBytes { try db.put(key: k, value: $0) } }

        let threads = 4, transfersPerThread = 150
        let failures = Atomic<Int>(0), conflicts = Atomic<Int>(0)
        let firstFailure = Mutex<String?>(nil)
        @Sendable func fail(_ what: String) {
            failures.add(1, ordering: .relaxed)
            firstFailure.withLock { if $0 == nil { $0 = what } }
        }
        DispatchQueue.concurrentPerform(iterations: threads + 1) { thread in
            if thread == threads {
                // A reader: every snapshot sums to the same total.
                for _ in 0..<200 {
                    do {
                        let snapshot = try db.beginTransaction(readOnly: true)
                        var total: Int64 = 0
                        for name in ["a", "b"] { for id in 0..<accounts { total += try TransactionTests.balance(snapshot, name, id) } }
                        if total != Int64(2 * accounts * 1000) { fail("a snapshot sums to \(total)") }
                        let rich = try json(#"{"balance": {"$gte": -1000000000}}"#).withUnsafeBytes { try snapshot.count(collection: "a", filterJSON: $0) }
                        if rich != accounts { fail("an index count in a snapshot is \(rich)") }
                        snapshot.rollback()
                    } catch {
                        fail("reader: \(error)")
                    }
                }
                return
            }
            var random = SystemRandomNumberGenerator()
            for _ in 0..<transfersPerThread {
                let from = Int.random(in: 0..<accounts, using: &random), to = Int.random(in: 0..<accounts, using: &random)
                let amount = Int.random(in: 1...20, using: &random)
                while true {
                    do {
                        let transaction = try db.beginTransaction()
                        for (name, id, delta) in [("a", from, -amount), ("b", to, amount)] {
                            _ = try json(#"{"_id": \#(id)}"#).withUnsafeBytes { f in
                                try json(#"{"$inc": {"balance": \#(delta), "moves": 1}}"#).withUnsafeBytes { u in
                                    try transaction.update(collection: name, filterJSON: f, updateJSON: u, many: false)
                                }
                            }
                        }
                        var count: Int64 = 0
                        _ = try counter.withUnsafeBytes { k in try transaction.withValue(forKey: k) { count = Int64(String(decoding: $0, as: UTF8.self))! } }
                        try counter.withUnsafeBytes { k in try json(String(count + 1)).withUnsafeBytes { try transaction.put(key: k, value: $0, ttlMillis: 0) } }
                        try transaction.commit()
                        break
                    } catch let error as CairnError where error.code == .conflict {
                        conflicts.add(1, ordering: .relaxed)
                    } catch {
                        fail("transfer: \(error)")
                        break
                    }
                }
                // A single operation on the same documents, outside any transaction.
                do {
                    _ = try json(#"{"_id": \#(to)}"#).withUnsafeBytes { f in
                        try json(#"{"$set": {"touched": true}}"#).withUnsafeBytes { u in try db.update(collection: "b", filterJSON: f, updateJSON: u, many: false) }
                    }
                } catch {
                    fail("single update: \(error)")
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0, firstFailure.withLock { $0 } ?? "")
        var total: Int64 = 0, moves: Int64 = 0
        for name in ["a", "b"] {
            for id in 0..<accounts {
                total += try TransactionTests.balance(db, name, id)
                let found = try json(String(id)).withUnsafeBytes { try db.findByID(collection: name, idJSON: $0) }
                if case .object(let members) = try JSONValue.parse(found!), case .int(let m)? = members.first(where: { $0.key == "moves" })?.value {
                    moves += m
                }
            }
        }
        XCTAssertEqual(total, Int64(2 * accounts * 1000))
        XCTAssertEqual(moves, Int64(2 * threads * transfersPerThread))
        XCTAssertEqual(try db.get(counter).map { String(decoding: $0, as: UTF8.self) }, String(threads * transfersPerThread))
        // The index agrees with the documents after all of it.
        let indexed = try json(#"{"balance": {"$gte": -1000000}}"#).withUnsafeBytes { try db.count(collection: "a", filterJSON: $0) }
        XCTAssertEqual(indexed, accounts)
        print("transactions: \(threads * transfersPerThread) transfers committed, \(conflicts.load(ordering: .relaxed)) conflicts retried")
    }

    /// A transaction sees its snapshot and its own writes, never a later
    /// commit; a write-write conflict fails the second commit and writes
    /// nothing of it.
    func testSnapshotReadsOwnWritesAndFirstCommitterWins() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        _ = try json(#"{"_id": 1, "n": 0}"#).withUnsafeBytes { try db.insertOne(into: "c", json: $0) }
        let first = try db.beginTransaction(), second = try db.beginTransaction()
        for (transaction, value) in [(first, 1), (second, 2)] {
            _ = try json(#"{"_id": 1}"#).withUnsafeBytes { f in
                try json(#"{"$set": {"n": \#(value)}}"#).withUnsafeBytes { u in try transaction.update(collection: "c", filterJSON: f, updateJSON: u, many: false) }
            }
            _ = try json(#"{"_id": \#(10 + value)}"#).withUnsafeBytes { try transaction.insertOne(into: "c", json: $0) }
        }
        XCTAssertEqual(try json(#"{"n": 2}"#).withUnsafeBytes { try second.count(collection: "c", filterJSON: $0) }, 1)
        XCTAssertEqual(try json(#"{"n": 0}"#).withUnsafeBytes { try db.count(collection: "c", filterJSON: $0) }, 1)
        try first.commit()
        XCTAssertEqual(try json(#"{"n": 0}"#).withUnsafeBytes { try second.count(collection: "c", filterJSON: $0) }, 0)
        XCTAssertThrowsError(try second.commit()) { XCTAssertEqual(($0 as? CairnError)?.code, .conflict) }
        XCTAssertEqual(try db.count(collection: "c", filterJSON: UnsafeRawBufferPointer(start: nil, count: 0)), 2)
        XCTAssertNil(try json("12").withUnsafeBytes { try db.findByID(collection: "c", idJSON: $0) })
        XCTAssertThrowsError(try second.commit()) { XCTAssertEqual(($0 as? CairnError)?.code, .closed) }
    }
}
