import Foundation
import XCTest
@testable import Cairn

/// Key-value behaviour that the conformance cases cannot express.
final class KeyValueTests: XCTestCase {
    func testBatchTTLCountsFromTheWriteNotFromTheAdd() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        // The Env's fake clock moves time without sleeping.
        let env = FaultInjectionEnv()
        env.setClock(1_700_000_000_000)
        let db = try Database.open(path: dir.path, options: DatabaseOptions(), env: env)
        defer { try? db.close() }
        var batch = KeyValueBatch()
        try [UInt8]("k").withUnsafeBytes { k in try [UInt8]("v").withUnsafeBytes { v in try batch.put(key: k, value: v, ttlMillis: 200) } }
        env.advanceClock(by: 300)
        try db.write(batch)
        XCTAssertEqual(try db.get([UInt8]("k")), [UInt8]("v"), "the TTL starts at the write")
        env.advanceClock(by: 199)
        XCTAssertEqual(try db.get([UInt8]("k")), [UInt8]("v"), "alive until its TTL has passed")
        env.advanceClock(by: 1)
        XCTAssertNil(try db.get([UInt8]("k")), "expired once 200 ms have passed")
        // Compaction drops it for good, by the same clock.
        try db.compactRange()
        env.setClock(0)
        XCTAssertNil(try db.get([UInt8]("k")), "dropped by compaction, not only hidden")
    }

    func testKeyAndValueLimits() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let largest = [UInt8](repeating: 0x6B, count: Database.maxKeySize)
        try db.put(largest, [UInt8]("ok"))
        XCTAssertEqual(try db.get(largest), [UInt8]("ok"))
        XCTAssertEqual(status { try db.put(largest + [0], [UInt8]("no")) }, .invalidArgument)
        XCTAssertEqual(status { try db.put([], [UInt8]("no")) }, .invalidArgument)
    }

    /// A batch is one log record, and the log reader takes a record over
    /// 1 GiB for damage (LogTests.testTheLargestRecordACommitWritesReadsBack).
    /// So a batch refuses the put that would take it one byte past the
    /// largest commit, and takes the one that brings it to exactly that;
    /// a commit over it (a transaction's, built without that check) is
    /// refused before it is acknowledged, writing nothing.
    func testABatchStopsAtTheLargestCommitAndALargerCommitIsRefused() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        let value = [UInt8](repeating: 0x61, count: Database.maxValueSize)
        // The fourth value brings the batch to exactly the limit. It costs
        // 9 bytes besides its bytes: the kind, a 1-byte key length, the
        // namespace, a 2-byte key, a 4-byte value length (under 2^28; the
        // first three take 5).
        let lastCount = WriteBatch.maxEncodedSize - 3 * (Database.maxValueSize + 10) - 9
        var batch = KeyValueBatch()
        for i in 0..<3 {
            try [UInt8]("k\(i)").withUnsafeBytes { k in try value.withUnsafeBytes { try batch.put(key: k, value: $0) } }
        }
        let refused = status {
            try [UInt8]("k3").withUnsafeBytes { k in try value.withUnsafeBytes { try batch.put(key: k, value: UnsafeRawBufferPointer(rebasing: $0[0...lastCount])) } }
        }
        XCTAssertEqual(refused, .invalidArgument, "the put one byte past the limit")
        XCTAssertEqual(batch.count, 3, "the refused put was not added")
        try [UInt8]("k3").withUnsafeBytes { k in try value.withUnsafeBytes { try batch.put(key: k, value: UnsafeRawBufferPointer(rebasing: $0[0..<lastCount])) } }
        XCTAssertEqual(batch.storage.encodedSize, WriteBatch.maxEncodedSize)

        var over = batch.storage
        [UInt8]("r").withUnsafeBytes { over.delete($0, namespace: .keyValue) }
        XCTAssertGreaterThan(over.encodedSize, WriteBatch.maxEncodedSize)
        XCTAssertEqual(status { try db.engine.write(over) }, .invalidArgument, "just over the limit")
        XCTAssertNil(try db.get([UInt8]("k0")), "the refused commit wrote nothing")
        try db.put([UInt8]("after"), [UInt8]("ok"))
        XCTAssertEqual(try db.get([UInt8]("after")), [UInt8]("ok"), "writes go on after a refused commit")
    }

    func testPrefixOfAllHighBytesHasNoUpperBound() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try db.put([0xFF, 0xFF, 0x01], [UInt8]("a"))
        try db.put([0xFF, 0xFE], [UInt8]("b"))
        let iterator = try [UInt8]([0xFF, 0xFF]).withUnsafeBytes { try db.makeIterator(prefix: $0) }
        var keys: [[UInt8]] = []
        while try iterator.next() { keys.append(Array(iterator.key)) }
        XCTAssertEqual(keys, [[0xFF, 0xFF, 0x01]])
    }

    func testDurations() throws {
        XCTAssertEqual(try Duration.milliseconds(in: "90m"), 5_400_000)
        XCTAssertEqual(status { _ = try Duration.milliseconds(in: "1 h") }, .invalidArgument)
    }
}
