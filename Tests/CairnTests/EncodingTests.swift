import Foundation
import XCTest
@testable import Cairn

/// Checksums, varints and compression: the byte-level pieces of every file.
final class EncodingTests: XCTestCase {
    func testCRC32CMatchesKnownVectorsAndThePortableTable() {
        // RFC 3720 test vector: 32 bytes of zeros.
        XCTAssertEqual([UInt8](repeating: 0, count: 32).withUnsafeBytes { CRC32C.checksum($0) }, 0x8A91_36AA)
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) }, 0xE306_9283)
        var random = SeededRandom(seed: 7)
        // Around every boundary of the three-chain stretches (3 x 64 and
        // 3 x 512 bytes), at every alignment of the start.
        var lengths = [0, 1, 7, 8, 9, 63, 64, 1000, 4096, 100_000]
        for stretch in [192, 1536] { lengths += [stretch - 1, stretch, stretch + 1, 2 * stretch + 7, 2 * stretch + 200] }
        let pool = (0..<100_010).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for length in lengths {
            for start in 0..<8 {
                pool[start..<(start + length)].withUnsafeBytes {
                    XCTAssertEqual(CRC32C.checksum($0), CRC32C.portableChecksum($0), "length \(length) at \(start)")
                }
            }
        }
    }

    /// The engine's key order: compareBytes (8-byte words inline for short
    /// keys, memcmp for long ones) must order exactly as a byte-by-byte
    /// lexicographic comparison, shorter first on a tie, at every length
    /// around the word and inline boundaries and at every alignment.
    func testCompareBytesOrdersLikeLexicographicComparison() {
        var random = SeededRandom(seed: 11)
        func model(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
            for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        }
        let pool = (0..<200).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for _ in 0..<20_000 {
            let lengthA = Int(random.next() % 72), lengthB = Int(random.next() % 72)
            let startA = Int(random.next() % 8), startB = Int(random.next() % 8)
            let a = Array(pool[startA..<(startA + lengthA)])
            var b = Array(pool[startB..<(startB + lengthB)])
            // Mostly a shared prefix with one difference, as keys are.
            if random.next() % 4 != 0 {
                b = Array(a.prefix(lengthB)) + b.dropFirst(min(lengthA, lengthB))
                if !b.isEmpty, random.next() % 2 == 0 {
                    let at = Int(random.next() % UInt64(b.count))
                    b[at] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            let padded = [UInt8](repeating: 0, count: startA) + a
            let got = padded.withUnsafeBytes { raw in
                b.withUnsafeBytes { compareBytes(UnsafeRawBufferPointer(rebasing: raw[startA...]), $0) }
            }
            XCTAssertEqual(got.signum(), model(a[...], b[...]), "\(a) vs \(b)")
        }
    }

    func testCompressionRoundTripsAndRejectsDamage() throws {
        let text = Array(String(repeating: "cairn stores keys and values; ", count: 200).utf8)
        for kind in [CompressionKind.zstd, .lz4] {
            var stored: [UInt8] = []
            XCTAssertTrue(text.withUnsafeBytes { Compression.compress($0, kind: kind, into: &stored) })
            XCTAssertLessThan(stored.count, text.count / 4)
            let restored = try stored.withUnsafeBytes { try Compression.decompress($0, kind: kind, what: "test") }
            XCTAssertEqual(Array(restored), text)
            restored.deallocate()
            // Damage is the block checksum's to catch; the decompressor must
            // only never read or write out of bounds: an error, or the
            // declared number of (wrong) bytes.
            stored[stored.count / 2] ^= 0xFF
            stored[stored.count / 3] ^= 0x55
            stored[1] ^= 0x0F
            if let damaged = try? stored.withUnsafeBytes({ try Compression.decompress($0, kind: kind, what: "test") }) {
                XCTAssertNotEqual(Array(damaged), text)
                damaged.deallocate()
            }
        }
    }

    func testBloomFilterHasNoFalseNegativesAndFewFalsePositives() {
        let keys = (0..<10_000).map { [UInt8]("key-\($0)") }
        var filter: [UInt8] = []
        BloomFilter.build(hashes: keys.map { $0.withUnsafeBytes { Hash64.hash($0) } }, bitsPerKey: 10, into: &filter)
        filter.withUnsafeBytes { bits in
            for key in keys { XCTAssertTrue(BloomFilter.mayContain(bits, hash: key.withUnsafeBytes { Hash64.hash($0) })) }
            var falsePositives = 0
            for i in 0..<10_000 where BloomFilter.mayContain(bits, hash: [UInt8]("absent-\(i)").withUnsafeBytes { Hash64.hash($0) }) {
                falsePositives += 1
            }
            XCTAssertLessThan(falsePositives, 200, "about 1% expected at 10 bits per key")
        }
    }

    /// ByteStringSort (a commit's keys): byte order, shorter first on a
    /// tie, equal keys in their given order, on keys with long shared
    /// prefixes (as an index's keys have), empty keys and NULs.
    func testByteStringSortOrdersLikeLexicographicComparison() {
        var random = SeededRandom(seed: 11)
        for count in [0, 1, 2, 3, 4, 7, 16, 23, 24, 25, 100, 5000] {
            var keys: [[UInt8]] = []
            for _ in 0..<count {
                var key: [UInt8] = random.next() % 3 == 0 ? [4, 0, 0, 0, 1, 0x80, 0, 0, 2] : [3, 0, 0, 0, 1]
                for _ in 0..<Int(random.next() % 12) { key.append(UInt8(truncatingIfNeeded: random.next() % 4)) }
                if random.next() % 50 == 0 { key = [] }
                keys.append(key)
            }
            let order = ByteStringSort.order(keys)
            XCTAssertEqual(order.sorted(), Array(0..<count), "a permutation")
            let expected = keys.indices.sorted { a, b in
                keys[a].lexicographicallyPrecedes(keys[b]) || (keys[a] == keys[b] && a < b)
            }
            XCTAssertEqual(order, expected, "\(count) keys")
        }
    }

    /// Groups whose keys share a long run of bytes are skipped to the first
    /// byte they do not all share in one pass: keys that end inside the
    /// shared run, or differ only after it, still sort as bytes do.
    func testByteStringSortSkipsLongSharedRuns() {
        var random = SeededRandom(seed: 12)
        let shared: [UInt8] = Array(repeating: 7, count: 40)
        for count in [30, 200, 3000] {
            var keys: [[UInt8]] = []
            for _ in 0..<count {
                var key = Array(shared.prefix(20 + Int(random.next() % 21)))
                if random.next() % 4 == 0 { key[25 % key.count] = UInt8(truncatingIfNeeded: random.next() % 3) + 6 }
                for _ in 0..<Int(random.next() % 4) { key.append(UInt8(truncatingIfNeeded: random.next() % 3)) }
                keys.append(key)
            }
            let order = ByteStringSort.order(keys)
            let expected = keys.indices.sorted { a, b in
                keys[a].lexicographicallyPrecedes(keys[b]) || (keys[a] == keys[b] && a < b)
            }
            XCTAssertEqual(order, expected, "\(count) keys")
        }
    }

    /// Large groups sort by seven-byte windows: keys that end at, just
    /// before and just after a window's edge, hold 0x00 (which a window
    /// pads with) and 0xFF, and share runs across several windows, still
    /// sort as bytes do, equal keys in their given order.
    func testByteStringSortWindowsEndAndPadLikeBytes() {
        var random = SeededRandom(seed: 13)
        let alphabet: [UInt8] = [0, 1, 0x7F, 0xFF]
        for count in [25, 300, 4000] {
            var keys: [[UInt8]] = []
            for _ in 0..<count {
                let shared = Int(random.next() % 3) * 7  // 0, 7 or 14 shared bytes
                var key = [UInt8](repeating: 0xFF, count: shared)
                for _ in 0..<Int(random.next() % 17) { key.append(alphabet[Int(random.next() % 4)]) }
                keys.append(key)
                if random.next() % 10 == 0 { keys.append(key) }  // an equal key
            }
            let order = ByteStringSort.order(keys)
            let expected = keys.indices.sorted { a, b in
                keys[a].lexicographicallyPrecedes(keys[b]) || (keys[a] == keys[b] && a < b)
            }
            XCTAssertEqual(order, expected, "\(keys.count) keys")
        }
    }

    /// Base64 both ways at every length and padding, and what is refused.
    func testBase64RoundTripsAndRefusesMalformedText() {
        var generator = SplitMix(seed: 5)
        for count in 0..<70 {
            let data = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let text = data.withUnsafeBytes { Base64.encode($0) }
            XCTAssertEqual(String(decoding: text, as: UTF8.self), Data(data).base64EncodedString())
            XCTAssertEqual(text.withUnsafeBytes { Base64.decode($0) }, data)
        }
        for bad in ["A", "AB", "ABC", "A===", "====", "AB=C", "A=BC", "AB==AB==", "AB\u{0}C", "ABC-", "ab cd", "ABCD====", "=ABC"] {
            XCTAssertNil(Array(bad.utf8).withUnsafeBytes { Base64.decode($0) }, bad)
        }
        XCTAssertEqual(Array("AAE=".utf8).withUnsafeBytes { Base64.decode($0) }, [0, 1])
        XCTAssertEqual(Array("AQ==".utf8).withUnsafeBytes { Base64.decode($0) }, [1])
    }
}
