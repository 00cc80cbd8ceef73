import XCTest
@testable import Cairn

/// The bloom filter: no false negatives, a false-positive rate near what
/// its bits per key promise, the documented layout, and a malformed filter
/// that can only cost a read (it answers "maybe").
final class BloomFilterTests: XCTestCase {
    private func hashes(_ count: Int, prefix: String = "key") -> [UInt64] {
        (0..<count).map { i in withBytes("\(prefix)\(i)") { Hash64.hash($0) } }
    }

    private func filter(_ hashes: [UInt64], bitsPerKey: Int) -> [UInt8] {
        var out: [UInt8] = []
        BloomFilter.build(hashes: hashes, bitsPerKey: bitsPerKey, into: &out)
        return out
    }

    /// The share of `probes` absent keys the filter lets through.
    private func falsePositiveRate(_ filter: [UInt8], probes: Int = 100_000) -> Double {
        let absent = hashes(probes, prefix: "absent")
        let hits = filter.withUnsafeBytes { raw in absent.filter { BloomFilter.mayContain(raw, hash: $0) }.count }
        return Double(hits) / Double(probes)
    }

    func testEveryAddedKeyIsFound() {
        for count in [0, 1, 2, 10, 100, 1000, 10_000] {
            for bitsPerKey in [1, 2, 5, 10, 20] {
                let added = hashes(count)
                let built = filter(added, bitsPerKey: bitsPerKey)
                built.withUnsafeBytes { raw in
                    for (i, hash) in added.enumerated() where !BloomFilter.mayContain(raw, hash: hash) {
                        XCTFail("key\(i) of \(count) at \(bitsPerKey) bits a key is missing")
                    }
                }
            }
        }
    }

    func testFalsePositivesStayNearTheBitsPerKeyTarget() {
        let keys = hashes(10_000)
        let rate = falsePositiveRate(filter(keys, bitsPerKey: 10))
        XCTAssertLessThan(rate, 0.02, "10 bits a key over 10,000 keys")
        XCTAssertGreaterThan(rate, 0.002, "and not suspiciously good: the filter must be doing the work")
        // More bits, fewer false positives.
        let five = falsePositiveRate(filter(keys, bitsPerKey: 5))
        let twenty = falsePositiveRate(filter(keys, bitsPerKey: 20))
        XCTAssertLessThan(five, 0.15)
        XCTAssertGreaterThan(five, rate)
        XCTAssertLessThan(twenty, rate)
        XCTAssertLessThan(twenty, 0.001)
    }

    func testFalsePositivesStayLowForEveryFilterSize() {
        // LevelDB's VaryingLengths: small filters round up to 64 bits, which
        // must not make them useless.
        for count in [1, 10, 100, 1000, 5000, 10_000] {
            let rate = falsePositiveRate(filter(hashes(count), bitsPerKey: 10), probes: 10_000)
            XCTAssertLessThan(rate, 0.02, "\(count) keys")
        }
    }

    func testLayoutIsTheBitArrayThenTheProbeCount() {
        let built = filter(hashes(100), bitsPerKey: 10)
        XCTAssertEqual(built.count, 1000 / 8 + 1, "ceil(100 * 10 / 8) bytes, then one byte of probes")
        // bitsPerKey * 0.69, rounded down (as in LevelDB): 6 probes for 10 bits.
        XCTAssertEqual(built.last, 6)
        let tiny = filter(hashes(1), bitsPerKey: 10)
        XCTAssertEqual(tiny.count, 64 / 8 + 1, "at least 64 bits")
        XCTAssertEqual(filter([], bitsPerKey: 10).count, 9, "an empty filter is well formed")
        XCTAssertEqual(filter(hashes(10), bitsPerKey: 100).last, 30, "probes are capped at 30")
        XCTAssertEqual(filter(hashes(10), bitsPerKey: 1).last, 1, "and at least 1")
    }

    func testBuildingAppendsAfterWhatTheBufferHolds() {
        var out: [UInt8] = [0xAA, 0xBB]
        let keys = hashes(50)
        BloomFilter.build(hashes: keys, bitsPerKey: 10, into: &out)
        XCTAssertEqual(Array(out.prefix(2)), [0xAA, 0xBB])
        XCTAssertEqual(Array(out.dropFirst(2)), filter(keys, bitsPerKey: 10))
    }

    func testAMalformedFilterAnswersMaybe() {
        let someHash = withBytes("k") { Hash64.hash($0) }
        for malformed: [UInt8] in [[], [6], [0, 0, 0, 0, 0], [0, 0, 0, 0, 31], [0, 0, 0, 0, 0xFF]] {
            XCTAssertTrue(malformed.withUnsafeBytes { BloomFilter.mayContain($0, hash: someHash) }, "\(malformed)")
        }
        // A well-formed filter with no bits set rules everything out.
        XCTAssertFalse(([0, 0, 0, 0, 0, 0, 0, 0, 6] as [UInt8]).withUnsafeBytes { BloomFilter.mayContain($0, hash: someHash) })
    }
}
