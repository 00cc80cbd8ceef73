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
    /// 1 GiB for damage. So the largest batch a commit accepts must read
    /// back after a crash, and one byte more must be refused before it is
    /// acknowledged, writing nothing.
    func testTheLargestCommitSurvivesACrashAndALargerOneIsRefused() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        // Three values of the largest size, then a fourth that brings the
        // batch's encoded size to exactly the limit, or one byte past it.
        func batch(_ prefix: String, extra: Int) throws -> KeyValueBatch {
            var batch = KeyValueBatch()
            for i in 0..<3 {
                let value = [UInt8](repeating: 0x61 + UInt8(i), count: Database.maxValueSize)
                try [UInt8]("\(prefix)\(i)").withUnsafeBytes { k in try value.withUnsafeBytes { try batch.put(key: k, value: $0) } }
            }
            // The fourth put costs 9 bytes besides its value: the kind, a
            // 1-byte key length, the namespace, a 2-byte key, a 4-byte
            // value length (under 2^28; the first three take 5).
            let last = [UInt8](repeating: 0x64, count: WriteBatch.maxEncodedSize - batch.storage.encodedSize - 9 + extra)
            try [UInt8]("\(prefix)3").withUnsafeBytes { k in try last.withUnsafeBytes { try batch.put(key: k, value: $0) } }
            XCTAssertEqual(batch.storage.encodedSize, WriteBatch.maxEncodedSize + extra)
            return batch
        }
        XCTAssertEqual(status { try db.write(try batch("r", extra: 1)) }, .invalidArgument, "one byte over the limit")
        try db.write(try batch("k", extra: 0))
        try db.put([UInt8]("after"), [UInt8]("ok"))
        // A crash: the reopen replays the log, whose first record is the
        // whole largest batch.
        db.engine.abandonForCrashTest()
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        for i in 0..<3 {
            let value = try reopened.get([UInt8]("k\(i)"))
            XCTAssertEqual(value?.count, Database.maxValueSize, "k\(i)")
            XCTAssertTrue(value?.allSatisfy { $0 == 0x61 + UInt8(i) } ?? false, "k\(i) read back whole")
            XCTAssertNil(try reopened.get([UInt8]("r\(i)")), "the refused batch wrote nothing")
        }
        XCTAssertEqual(try reopened.get([UInt8]("k3"))?.count, WriteBatch.maxEncodedSize - 3 * (Database.maxValueSize + 10) - 9)
        XCTAssertNil(try reopened.get([UInt8]("r3")))
        XCTAssertEqual(try reopened.get([UInt8]("after")), [UInt8]("ok"), "the log goes on after the largest record")
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
