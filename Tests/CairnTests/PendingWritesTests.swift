import XCTest
@testable import Cairn

/// A transaction's pending writes: a reader keeps seeing them as they were
/// when it was made, whatever the transaction writes or undoes after, and a
/// transaction that keeps readers open while it writes holds O(log n)
/// layers instead of copying every write on every operation.
final class PendingWritesTests: XCTestCase {
    private func key(_ text: String) -> EngineKey { EngineKey(Array(text.utf8)) }
    private func put(_ text: String) -> Transaction.PendingWrite { Transaction.PendingWrite(value: Array(text.utf8), ttlMillis: 0) }
    private let deletion = Transaction.PendingWrite(value: nil, ttlMillis: 0)
    private func value(_ writes: PendingWrites, _ text: String) -> String? {
        guard let write = writes[key(text)] else { return "snapshot" }
        return write.value.map { String(decoding: $0, as: UTF8.self) }
    }

    func testAReaderKeepsTheWritesAsTheyWereWhenItWasMade() {
        var writes = PendingWrites()
        writes.set(key("a"), put("a1"))
        writes.set(key("b"), put("b1"))
        let reader = writes
        writes.set(key("a"), put("a2"))
        writes.set(key("b"), deletion)
        writes.set(key("c"), put("c1"))
        XCTAssertEqual(value(reader, "a"), "a1")
        XCTAssertEqual(value(reader, "b"), "b1")
        XCTAssertEqual(value(reader, "c"), "snapshot")
        XCTAssertEqual(value(writes, "a"), "a2")
        XCTAssertNil(value(writes, "b"), "deleted")
        XCTAssertEqual(value(writes, "c"), "c1")
    }

    func testUndoingAWriteRestoresWhatWasWrittenBeforeInAnyLayer() {
        var writes = PendingWrites()
        writes.set(key("a"), put("a1"))
        let reader = writes
        // Written over a frozen layer, then undone: the frozen write shows again.
        let previous = writes.set(key("a"), put("a2"))
        XCTAssertEqual(previous?.value, Array("a1".utf8))
        writes.restore(key("a"), to: previous)
        XCTAssertEqual(value(writes, "a"), "a1")
        // A key first written after the freeze, undone: reads the snapshot.
        writes.set(key("n"), put("n1"))
        writes.restore(key("n"), to: nil)
        XCTAssertEqual(value(writes, "n"), "snapshot")
        // A key of the frozen layer undone to nothing: the snapshot, though
        // the frozen layer still holds it for its reader.
        writes.restore(key("a"), to: nil)
        XCTAssertEqual(value(writes, "a"), "snapshot")
        XCTAssertEqual(value(reader, "a"), "a1")
        var seen: [String] = []
        writes.forEach { k, _ in seen.append(String(decoding: k, as: UTF8.self)) }
        XCTAssertEqual(seen, [], "undone keys are not committed")
    }

    func testEveryKeyIsCommittedOnceWithItsNewestWrite() {
        var writes = PendingWrites()
        var readers: [PendingWrites] = []
        for round in 0..<50 {
            for k in 0..<20 where (k + round) % 3 == 0 { writes.set(key("k\(k)"), put("r\(round)")) }
            readers.append(writes)
        }
        var committed: [String: String] = [:]
        writes.forEach { k, write in
            let name = String(decoding: k, as: UTF8.self)
            XCTAssertNil(committed[name], "\(name) once")
            if case .put(let value, _) = write { committed[name] = String(decoding: value, as: UTF8.self) }
        }
        XCTAssertEqual(committed.count, 20)
        for k in 0..<20 {
            let newest = (0..<50).last { (k + $0) % 3 == 0 }!
            XCTAssertEqual(committed["k\(k)"], "r\(newest)")
        }
    }

    func testReadersHeldAcrossWritesKeepFewLayers() {
        var writes = PendingWrites()
        var readers: [PendingWrites] = []
        let n = 4096
        for i in 0..<n {
            writes.set(key("k\(i)"), put("v\(i)"))
            readers.append(writes)
        }
        // A layer per write would be 4,096; merging keeps about log2(n).
        XCTAssertLessThanOrEqual(writes.layerCount, 2 * 12 + 2)
        for (i, reader) in readers.enumerated() where i % 97 == 0 {
            XCTAssertEqual(value(reader, "k\(i)"), "v\(i)")
            XCTAssertEqual(value(reader, "k\(i + 1)"), "snapshot", "written after the reader")
        }
        // Without readers held, writes stay in one layer.
        var alone = PendingWrites()
        for i in 0..<n {
            alone.set(key("k\(i)"), put("v\(i)"))
            _ = alone[key("k\(i)")]
        }
        XCTAssertEqual(alone.layerCount, 1)
    }

    /// Through the documents layer: a transaction that alternates inserts
    /// and finds and keeps every cursor open; each cursor sees the documents
    /// inserted before it was opened, and the transaction holds few layers.
    func testCursorsHeldOpenInATransactionSeeTheirOwnMoment() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let txn = try db.beginTransaction()
        var cursors: [DocumentCursor] = []
        let n = 600
        for i in 0..<n {
            _ = try Array(#"{"_id": \#(i)}"#.utf8).withUnsafeBytes { try txn.insertOne(into: "c", json: $0) }
            cursors.append(try Array("{}".utf8).withUnsafeBytes { try txn.find(collection: "c", filterJSON: $0) })
        }
        XCTAssertLessThanOrEqual(txn.writes.layerCount, 2 * 12 + 2)
        for (i, cursor) in cursors.enumerated() where i % 50 == 0 || i == n - 1 {
            var count = 0
            while try cursor.next() { count += 1 }
            XCTAssertEqual(count, i + 1, "cursor \(i)")
        }
        try txn.commit()
        let all = try Array("{}".utf8).withUnsafeBytes { try db.find(collection: "c", filterJSON: $0) }
        var count = 0
        while try all.next() { count += 1 }
        XCTAssertEqual(count, n)
    }
}
