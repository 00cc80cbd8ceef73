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
}
