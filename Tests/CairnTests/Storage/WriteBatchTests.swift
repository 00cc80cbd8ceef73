import XCTest
@testable import Cairn

/// The write batch's encoding (WriteBatch.swift).
final class WriteBatchTests: XCTestCase {
    /// A batch refuses an operation that would take it past the largest
    /// commit before adding it, by the sizes `putSize`, `deleteSize` and
    /// `deleteRangeSize` give; each must be exactly what the operation
    /// adds, at every varint length boundary, with and without a
    /// namespace and a TTL.
    func testOperationSizesAreWhatTheBatchEncodes() {
        let lengths = [0, 1, 2, 126, 127, 128, 129, 16_382, 16_383, 16_384, 16_385, 65_536]
        let bytes = [UInt8](repeating: 0x5A, count: 65_536)
        bytes.withUnsafeBytes { all in
            for namespaced in [false, true] {
                let namespace: Namespace? = namespaced ? .keyValue : nil
                for key in lengths {
                    let k = UnsafeRawBufferPointer(rebasing: all[0..<key])
                    for value in lengths {
                        let v = UnsafeRawBufferPointer(rebasing: all[0..<value])
                        for ttl in [Int64(0), 5] {
                            var batch = WriteBatch()
                            batch.put(k, v, ttlMillis: ttl, namespace: namespace)
                            XCTAssertEqual(batch.encodedSize, WriteBatch.putSize(key: key, value: value, ttl: ttl > 0, namespaced: namespaced),
                                           "put of \(key) and \(value) bytes, ttl \(ttl), namespaced \(namespaced)")
                        }
                        var range = WriteBatch()
                        range.deleteRange(k, v, namespace: namespace)
                        XCTAssertEqual(range.encodedSize, WriteBatch.deleteRangeSize(start: key, end: value, namespaced: namespaced))
                    }
                    var delete = WriteBatch()
                    delete.delete(k, namespace: namespace)
                    XCTAssertEqual(delete.encodedSize, WriteBatch.deleteSize(key: key, namespaced: namespaced))
                }
            }
        }
    }

    func testVarintLengthIsWhatAppendWrites() {
        for shift in 0..<64 {
            for value in [UInt64(1) << UInt64(shift), (UInt64(1) << UInt64(shift)) &- 1] {
                var out: [UInt8] = []
                Varint.append(value, to: &out)
                XCTAssertEqual(Varint.length(of: value), out.count, "\(value)")
            }
        }
        XCTAssertEqual(Varint.length(of: .max), Varint.maxLength)
    }

    /// A batch is a value: a copy changed afterwards (a TTL put, a stamped
    /// put, a conflict check: the parts kept in the batch's shared box)
    /// leaves the original as it was, and clearing a batch drops them all.
    /// The change feed relies on this: it adds its events to a copy of the
    /// caller's batch, which the caller may write again.
    func testACopyChangedLaterLeavesTheOriginalAsItWas() throws {
        func puts(_ batch: WriteBatch) throws -> [(key: String, ttl: Int64)] {
            var out: [(String, Int64)] = []
            try batch.forEachOperation { out.append((String(decoding: $0.key, as: UTF8.self), $0.expiresAt)) }
            return out
        }
        var original = WriteBatch()
        try Array("a".utf8).withUnsafeBytes { key in original.put(key, key, ttlMillis: 5) }
        var copy = original
        try Array("b".utf8).withUnsafeBytes { key in copy.put(key, key, ttlMillis: 9) }
        let stampedKey = [UInt8](repeating: 0, count: 12), stampedValue = [UInt8](repeating: 0, count: 8)
        stampedKey.withUnsafeBytes { key in stampedValue.withUnsafeBytes { copy.putStamped(key, $0, sequenceOffset: 1, namespace: .changeFeed) } }
        copy.conflictCheck = ConflictCheck(snapshot: 3, keys: KeyList(), written: 0, explicit: true)

        XCTAssertEqual(try puts(original).map(\.key), ["a"])
        XCTAssertEqual(try puts(original).map(\.ttl), [5])
        XCTAssertFalse(original.hasStamps)
        XCTAssertTrue(original.needsClock)
        XCTAssertNil(original.conflictCheck)
        XCTAssertFalse(original.isChecked)

        XCTAssertEqual(try puts(copy).map(\.ttl), [5, 9, 0])
        XCTAssertTrue(copy.hasStamps)
        XCTAssertTrue(copy.isChecked)
        XCTAssertEqual(copy.conflictCheck?.snapshot, 3)

        // The expiry is written at commit: now + TTL, little-endian, at the end of the put.
        var operations: [UInt8] = []
        original.appendOperations(now: 1000, sequence: 7, to: &operations)
        XCTAssertEqual(Array(operations.suffix(8)), [0xED, 0x03, 0, 0, 0, 0, 0, 0])

        copy.clear()
        XCTAssertTrue(copy.isEmpty)
        XCTAssertFalse(copy.needsClock)
        XCTAssertFalse(copy.hasStamps)
        XCTAssertFalse(copy.isChecked)
        XCTAssertEqual(try puts(original).map(\.key), ["a"], "clearing the copy leaves the original")
    }
}
