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
