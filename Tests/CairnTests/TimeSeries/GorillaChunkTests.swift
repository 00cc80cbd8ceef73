import XCTest
@testable import Cairn

/// The Gorilla chunk codec: round trips of every kind of value and timing,
/// and corrupt chunks that must fail with CORRUPTION instead of trapping.
final class GorillaChunkTests: XCTestCase {
    /// The points every hand-written chunk of docs/format/timeseries.md
    /// holds: 50.0, 50.12 and 49.9 at 1, 11 and 21 s into the bucket that
    /// starts at `lower`, decoded in full and as the last point alone.
    private func assertHoldsTheDocPoints(_ chunk: [UInt8], lower: Int64, file: StaticString = #filePath, line: UInt = #line) throws {
        var times: [Int64] = [], values: [UInt64] = []
        try chunk.withUnsafeBytes {
            try GorillaChunk.decode($0, isInteger: false, lower: lower, upper: lower + TimeSeriesFormat.bucketMillis, times: &times, values: &values)
        }
        XCTAssertEqual(times, [lower + 1000, lower + 11_000, lower + 21_000], file: file, line: line)
        XCTAssertEqual(values, [50.0, 50.12, 49.9].map(\.bitPattern), file: file, line: line)
        let last = try chunk.withUnsafeBytes { try GorillaChunk.lastPoint($0, lower: lower, upper: lower + TimeSeriesFormat.bucketMillis, isInteger: false) }
        XCTAssertEqual(last.t, lower + 21_000, file: file, line: line)
        XCTAssertEqual(last.v, (49.9).bitPattern, file: file, line: line)
    }

    private func roundTrip(_ times: [Int64], _ values: [UInt64], integer: Bool, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: integer, into: &chunk)
        } }
        var outTimes: [Int64] = [], outValues: [UInt64] = []
        try chunk.withUnsafeBytes {
            try GorillaChunk.decode($0, isInteger: integer, lower: TimeSeriesFormat.minTime, upper: TimeSeriesFormat.maxTime,
                                   times: &outTimes, values: &outValues)
        }
        XCTAssertEqual(outTimes, times, file: file, line: line)
        XCTAssertEqual(outValues, values, file: file, line: line)
        return chunk
    }

    func testRegularGaugeIsSmall() throws {
        let times = (0..<720).map { Int64(1_700_000_000_000) + Int64($0) * 10_000 }
        var value = 50.0
        var values: [UInt64] = []
        for i in 0..<720 {
            if i % 10 == 0 { value += 0.25 }
            values.append(value.bitPattern)
        }
        let chunk = try roundTrip(times, values, integer: false)
        XCTAssertLessThan(Double(chunk.count) / 720, 1.37, "a slowly changing gauge at a regular interval")
    }

    func testDecimalValuesUseTheIntegerPath() throws {
        var rng = TimeSeriesRandom(seed: 3)
        let times = (0..<720).map { Int64($0) * 10_000 }
        var walk = 5000.0
        var values: [UInt64] = []
        for _ in 0..<720 {
            walk = min(max(walk + Double(Int(rng.next() % 201) - 100), 0), 10_000)
            values.append((walk / 100).bitPattern)  // two decimals, as TSBS's cpu fields
        }
        let chunk = try roundTrip(times, values, integer: false)
        XCTAssertEqual(chunk[0], GorillaChunk.decimalChangeKind, "a random walk's changes are smaller than their second differences")
        XCTAssertEqual(chunk[2], 8, "steps of at most 1.00 in hundredths: zigzag below 255, 8 bits")
        XCTAssertLessThan(Double(chunk.count) / 720, 1.2, "a random walk of two-decimal values: a bit for the time, 8 for the value")
        // A steady trend: the second differences are zero, kind 3 stays.
        let trend = (0..<720).map { (Double(1000 + 3 * $0) / 100).bitPattern }
        let trending = try roundTrip(times, trend, integer: false)
        XCTAssertEqual(trending[0], GorillaChunk.decimalKind)
        XCTAssertLessThan(Double(trending.count) / 720, 0.35, "two bits a point and the header")
        // Rare jumps past the width take the escape and still round-trip.
        var jumps = values
        for i in stride(from: 50, to: 720, by: 97) { jumps[i] = (Double(i % 3 == 0 ? 9_000_000 : -4_500_000) / 100).bitPattern }
        let escaped = try roundTrip(times, jumps, integer: false)
        XCTAssertEqual(escaped[0], GorillaChunk.decimalChangeKind)
        // A change whose zigzag is exactly the all-ones escape of its width.
        _ = try roundTrip([0, 1, 2, 3], [0, 1.27, 0, -1.28].map(\.bitPattern), integer: false)
        _ = try roundTrip([0, 1, 2], [0, 92_233_720_368_547.75, -92_233_720_368_547.75].map(\.bitPattern), integer: false)
        // One value that is no short decimal keeps the chunk on XOR, exactly.
        values[100] = (1.0 / 3.0).bitPattern
        XCTAssertEqual(try roundTrip(times, values, integer: false)[0], GorillaChunk.floatKind)
        values[100] = (-0.0 as Double).bitPattern
        XCTAssertEqual(try roundTrip(times, values, integer: false)[0], GorillaChunk.floatKind)
        _ = try roundTrip([1, 2, 3], [0.1, 1e15, -123456.789012].map(\.bitPattern), integer: false)
    }

    /// Kind 5's bytes as docs/format/timeseries.md lays them out, written
    /// by hand: they must decode to these points in every later version
    /// (the same bytes seed the FuzzTimeSeries corpus).
    func testDecimalChangeChunkLayoutIsStable() throws {
        let chunk: [UInt8] = [
            0x05, 0x02, 0x08, 0x03,  // kind 5, scale 2, width 8, 3 points
            0x08, 0x85, 0xd9, 0xcf, 0x8b, 0x01, 0x00, 0x00,  // last time
            0x33, 0x33, 0x33, 0x33, 0x33, 0xf3, 0x48, 0x40,  // last value, 49.9
            // t0, m0 = 5000, dod 10000 (11110 + 32 bits), zigzag(+12) = 24 in
            // 8 bits, dod 0, zigzag(-22) = 43 in 8 bits, zero padding.
            0x00, 0x00, 0x01, 0x8b, 0xcf, 0xd9, 0x36, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x88,
            0xf0, 0x00, 0x01, 0x38, 0x80, 0xc0, 0xac,
        ]
        try assertHoldsTheDocPoints(chunk, lower: 1_699_999_200_000)
    }

    func testSpecialFloatsAndExtremes() throws {
        let specials: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 1e-300, .nan, 3.14]
        let times = specials.indices.map { Int64($0) * 7 - 30 }
        _ = try roundTrip(times, specials.map(\.bitPattern), integer: false)
        // Timestamps spread over the whole range: every delta-of-delta width.
        let far: [Int64] = [TimeSeriesFormat.minTime, -1_000_000_000_000, -5, 0, 1, 2, 100, 100_000, 1 << 40, TimeSeriesFormat.maxTime - 1]
        _ = try roundTrip(far, far.map { UInt64(bitPattern: $0) }, integer: true)
    }

    func testIntegersAnyPairRoundTrips() throws {
        var rng = TimeSeriesRandom(seed: 16)
        for _ in 0..<200 {
            let count = Int(rng.next() % 300) + 1
            var t = Int64(bitPattern: rng.next() % (1 << 40))
            var times: [Int64] = [], values: [UInt64] = []
            for _ in 0..<count {
                t += Int64(rng.next() % 100_000) + 1
                times.append(t)
                switch rng.next() % 4 {
                case 0: values.append(rng.next())  // any int64, deltas overflow
                case 1: values.append(UInt64(bitPattern: Int64(times.count)))  // a counter
                case 2: values.append(UInt64(bitPattern: Int64.min))
                default: values.append(UInt64(bitPattern: Int64.max))
                }
            }
            _ = try roundTrip(times, values, integer: true)
            _ = try roundTrip(times, values, integer: false)  // as float bit patterns
        }
    }

    /// Short chunks (kind 4) round-trip every kind of value at bucket offsets.
    private func shortRoundTrip(_ times: [Int64], _ values: [UInt64], integer: Bool, bucket: Int64,
                                file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encodeShort(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: integer, bucket: bucket, into: &chunk)
        } }
        XCTAssertEqual(chunk[0], GorillaChunk.shortKind, file: file, line: line)
        var outTimes: [Int64] = [], outValues: [UInt64] = [7]
        try chunk.withUnsafeBytes {
            try GorillaChunk.decode($0, isInteger: integer, lower: bucket, upper: bucket + TimeSeriesFormat.bucketMillis,
                                   times: &outTimes, values: &outValues)
        }
        XCTAssertEqual(outTimes, times, file: file, line: line)
        XCTAssertEqual(Array(outValues.dropFirst()), values, "appended after what was there", file: file, line: line)
        let last = try chunk.withUnsafeBytes {
            try GorillaChunk.lastPoint($0, lower: bucket, upper: bucket + TimeSeriesFormat.bucketMillis, isInteger: integer)
        }
        XCTAssertEqual(last.t, times.last!, file: file, line: line)
        XCTAssertEqual(last.v, values.last!, file: file, line: line)
        return chunk
    }

    func testShortChunks() throws {
        let bucket = TimeSeriesFormat.bucket(of: 1_451_606_400_000)
        // Two-decimal values, as a batch across many series writes them:
        // 2 or 3 points cost about 16 bytes.
        let tsbs = try shortRoundTrip([bucket + 10_000, bucket + 20_000, bucket + 30_000], [12.34, 12.5, 11.99].map(\.bitPattern),
                                      integer: false, bucket: bucket)
        XCTAssertLessThanOrEqual(tsbs.count, 17)
        XCTAssertEqual(tsbs[1], 2, "scale 2")
        // The bucket's first and last millisecond, one point.
        _ = try shortRoundTrip([bucket], [(0.5 as Double).bitPattern], integer: false, bucket: bucket)
        _ = try shortRoundTrip([bucket + TimeSeriesFormat.bucketMillis - 1], [(-7.0).bitPattern], integer: false, bucket: bucket)
        // Floats that are no short decimals keep their bits; int64 extremes wrap.
        let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, 1.0 / 3.0, .greatestFiniteMagnitude, 9_007_199_254_740_993]
        _ = try shortRoundTrip(specials.indices.map { bucket + Int64($0) * 3 }, specials.map(\.bitPattern), integer: false, bucket: bucket)
        let ints: [Int64] = [.min, .max, 0, -1, .max, .min + 1, 42]
        _ = try shortRoundTrip(ints.indices.map { bucket + Int64($0) }, ints.map { UInt64(bitPattern: $0) }, integer: true, bucket: bucket)
        // Negative buckets (before 1970) and the ends of the time range.
        let early = TimeSeriesFormat.bucket(of: TimeSeriesFormat.minTime)
        _ = try shortRoundTrip([early, early + 1], [1.25, 2.5].map(\.bitPattern), integer: false, bucket: early)
        let late = TimeSeriesFormat.bucket(of: TimeSeriesFormat.maxTime)
        _ = try shortRoundTrip([late, TimeSeriesFormat.maxTime], [1, 2].map { UInt64($0) }, integer: true, bucket: late)
        // Random short runs, decimal and not.
        var rng = TimeSeriesRandom(seed: 44)
        for _ in 0..<300 {
            let count = Int(rng.next() % UInt64(GorillaChunk.shortMaxPoints)) + 1
            var t = bucket + Int64(rng.next() % 1000)
            var times: [Int64] = [], values: [UInt64] = []
            for _ in 0..<count {
                times.append(t)
                t += Int64(rng.next() % 100_000) + 1
                values.append(rng.next() % 2 == 0 ? (Double(Int64(rng.next() % 2_000_001) - 1_000_000) / 1000).bitPattern : rng.next())
            }
            _ = try shortRoundTrip(times, values, integer: rng.next() % 3 == 0, bucket: bucket)
        }
    }

    func testCorruptShortChunksThrowCorruption() throws {
        let bucket: Int64 = 0
        let times: [Int64] = [5, 10_000, 20_000, 30_000]
        let values = [1.5, 1.25, 99.99, 0.01].map(\.bitPattern)
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encodeShort(times: t.baseAddress!, values: v.baseAddress!, count: 4, isInteger: false, bucket: bucket, into: &chunk)
        } }
        func decodes(_ bytes: [UInt8], integer: Bool = false) throws -> [Int64] {
            var outTimes: [Int64] = [], outValues: [UInt64] = []
            try bytes.withUnsafeBytes {
                try GorillaChunk.decode($0, isInteger: integer, lower: bucket, upper: bucket + TimeSeriesFormat.bucketMillis,
                                       times: &outTimes, values: &outValues)
            }
            XCTAssertEqual(outTimes.count, outValues.count)
            return outTimes
        }
        func corrupt(_ bytes: [UInt8], integer: Bool = false, _ what: String) {
            XCTAssertThrowsError(try decodes(bytes, integer: integer), what) { error in
                XCTAssertEqual((error as? CairnError)?.code, .corruption, "\(what): \(error)")
            }
        }
        corrupt(chunk, integer: true, "a float chunk read as int64")
        corrupt(Array(chunk.dropLast()), "truncated")
        corrupt(chunk + [0], "a byte after the last point")
        var mode = chunk; mode[1] = 9
        corrupt(mode, "an unknown mode")
        var count = chunk; count[2] = 0
        corrupt(count, "no points")
        // A second step of 0: times that do not increase.
        var flat: [UInt8] = [GorillaChunk.shortKind, 7, 2, 5]
        flat.appendUInt64LE(0); flat.append(0); flat.appendUInt64LE(0)
        corrupt(flat, "equal timestamps")
        // A step past the bucket.
        var past: [UInt8] = [GorillaChunk.shortKind, 8, 1]
        Varint.append(UInt64(TimeSeriesFormat.bucketMillis), to: &past)
        past.append(0)
        corrupt(past, integer: true, "a time past the bucket")
        // Random damage never traps; what decodes stays in order.
        var rng = TimeSeriesRandom(seed: 9)
        for _ in 0..<2000 {
            var damaged = chunk
            for _ in 0..<(1 + rng.next() % 3) { damaged[Int(rng.next() % UInt64(damaged.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            if rng.next() % 4 == 0 { damaged.removeLast(Int(rng.next() % UInt64(damaged.count))) }
            do {
                let out = try decodes(damaged)
                XCTAssertEqual(out, out.sorted())
                XCTAssertTrue(out.allSatisfy { $0 >= bucket && $0 < bucket + TimeSeriesFormat.bucketMillis })
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption, "\(error)")
            }
        }
    }

    func testCorruptChunksThrowCorruption() throws {
        let times = (0..<50).map { Int64($0) * 1000 }
        try checkCorruption(times, (0..<50).map { Double($0).squareRoot().bitPattern }, kind: GorillaChunk.floatKind)
        var rng = TimeSeriesRandom(seed: 11)
        var walk = 5000
        let decimals = (0..<50).map { _ -> UInt64 in
            walk += Int(rng.next() % 201) - 100
            return (Double(walk) / 100).bitPattern
        }
        try checkCorruption(times, decimals, kind: GorillaChunk.decimalChangeKind)
        // Widths outside 1...32 are refused by name.
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in decimals.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: 50, isInteger: false, into: &chunk)
        } }
        for width: UInt8 in [0, 33, 255] {
            chunk[2] = width
            var outTimes: [Int64] = [], outValues: [UInt64] = []
            XCTAssertThrowsError(try chunk.withUnsafeBytes {
                try GorillaChunk.decode($0, isInteger: false, lower: 0, upper: TimeSeriesFormat.bucketMillis, times: &outTimes, values: &outValues)
            }) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption) }
        }
    }

    // Kind 6: timestamps at one regular step, written once in the header.

    private let bucket6: Int64 = 1_699_999_200_000  // a bucket start

    private func regularRoundTrip(_ times: [Int64], _ values: [UInt64], integer: Bool, file: StaticString = #filePath,
                                  line: UInt = #line) throws -> [UInt8] {
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: integer, bucket: bucket6, into: &chunk)
        } }
        var outTimes: [Int64] = [], outValues: [UInt64] = []
        try chunk.withUnsafeBytes {
            try GorillaChunk.decode($0, isInteger: integer, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis,
                                   times: &outTimes, values: &outValues)
        }
        XCTAssertEqual(outTimes, times, file: file, line: line)
        XCTAssertEqual(outValues, values, file: file, line: line)
        let last = try chunk.withUnsafeBytes {
            try GorillaChunk.lastPoint($0, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis, isInteger: integer)
        }
        XCTAssertEqual(last.t, times[times.count - 1], file: file, line: line)
        XCTAssertEqual(last.v, values[values.count - 1], file: file, line: line)
        return chunk
    }

    /// The bytes of the format doc's kind 6, written by hand: they must
    /// decode (the doc and the code agree), and must stay decodable.
    func testRegularChunkLayoutIsStable() throws {
        let chunk: [UInt8] = [
            0x06, 0x05, 0x02, 0x08, 0x03,  // kind 6, values as kind 5, scale 2, width 8, 3 points
            0xe8, 0x07,  // first time - bucket: 1000
            0x90, 0x4e,  // step 10000
            0x90, 0x4e,  // first m 5000, zigzag 10000
            0xfc, 0x4d,  // last m 4990, zigzag 9980
            0x18, 0x2b,  // zigzag(+12) = 24, zigzag(-22) = 43, 8 bits each
        ]
        try assertHoldsTheDocPoints(chunk, lower: bucket6)
        // Integers: values as kind 2 (delta of delta), 2 points.
        let integers: [UInt8] = [0x06, 0x02, 0x02, 0x00, 0x0a, 0x0a, 0x0e, 0x81, 0x00]
        var times: [Int64] = [], values: [UInt64] = []
        try integers.withUnsafeBytes {
            try GorillaChunk.decode($0, isInteger: true, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis, times: &times, values: &values)
        }
        XCTAssertEqual(times, [bucket6, bucket6 + 10])
        XCTAssertEqual(values, [5, 7])
    }

    func testRegularChunksRoundTripEveryValueKind() throws {
        var rng = TimeSeriesRandom(seed: 66)
        for count in [1, 2, 3, 9, 120, 720] {
            let first = bucket6 + Int64(rng.next() % 1000)
            let times = (0..<count).map { first + Int64($0) * 10_000 }
            // A random walk of two decimals: values as kind 5.
            var walk = 5000
            let walkValues = (0..<count).map { _ -> UInt64 in
                walk += Int(rng.next() % 201) - 100
                return (Double(walk) / 100).bitPattern
            }
            let c1 = try regularRoundTrip(times, walkValues, integer: false)
            XCTAssertEqual(c1[0], GorillaChunk.regularKind)
            // A trend: values as kind 3.
            let trend = (0..<count).map { (Double($0 * 3) / 10 + 1).bitPattern }
            let c2 = try regularRoundTrip(times, trend, integer: false)
            XCTAssertEqual(c2[0], GorillaChunk.regularKind)
            if count > 2 { XCTAssertEqual(c2[1], GorillaChunk.decimalKind) }
            // Floats that are no decimals (NaN, -0.0, infinities): values as kind 1.
            let floats = (0..<count).map { i -> UInt64 in
                switch i % 5 {
                case 0: return Double.nan.bitPattern
                case 1: return (-0.0).bitPattern
                case 2: return Double.infinity.bitPattern
                default: return (Double(i).squareRoot()).bitPattern
                }
            }
            let c3 = try regularRoundTrip(times, floats, integer: false)
            XCTAssertEqual(c3[1], count >= 2 ? GorillaChunk.floatKind : c3[1])
            // Any int64, deltas that overflow: values as kind 2.
            let ints = (0..<count).map { _ in rng.next() }
            let c4 = try regularRoundTrip(times, ints, integer: true)
            XCTAssertEqual(c4[1], GorillaChunk.intKind)
        }
        // Irregular times keep kinds 1 to 5.
        let irregular: [Int64] = [bucket6, bucket6 + 10, bucket6 + 30]
        let c = try regularRoundTrip(irregular, [1, 2, 3].map { (Double($0) / 10).bitPattern }, integer: false)
        XCTAssertNotEqual(c[0], GorillaChunk.regularKind)
        // Without a bucket the encoder never writes kind 6.
        let plain = try roundTrip([0, 10, 20], [1, 2, 3].map { (Double($0) / 10).bitPattern }, integer: false)
        XCTAssertNotEqual(plain[0], GorillaChunk.regularKind)
    }

    /// TSBS's cpu fields over two hours (720 points every 10 s, a random walk
    /// of two decimals): kind 6 spends no bits on timestamps.
    func testRegularRandomWalkIsSmall() throws {
        var rng = TimeSeriesRandom(seed: 720)
        let times = (0..<720).map { bucket6 + Int64($0) * 10_000 }
        var walk = 5000
        let values = (0..<720).map { _ -> UInt64 in
            walk = min(10_000, max(0, walk + Int(rng.next() % 201) - 100))
            return (Double(walk) / 100).bitPattern
        }
        let chunk = try regularRoundTrip(times, values, integer: false)
        XCTAssertEqual(chunk[1], GorillaChunk.decimalChangeKind)
        XCTAssertLessThan(Double(chunk.count) / 720, 1.03, "8 bits a change and a 14-byte header")
    }

    func testCorruptRegularChunksThrowCorruption() throws {
        var rng = TimeSeriesRandom(seed: 67)
        let times = (0..<50).map { bucket6 + 500 + Int64($0) * 1000 }
        var walk = 5000
        let decimals = (0..<50).map { _ -> UInt64 in
            walk += Int(rng.next() % 201) - 100
            return (Double(walk) / 100).bitPattern
        }
        let floats = (0..<50).map { Double($0).squareRoot().bitPattern }
        let ints = (0..<50).map { _ in rng.next() }
        for (values, integer) in [(decimals, false), (floats, false), (ints, true)] {
            var chunk: [UInt8] = []
            times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
                GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: 50, isInteger: integer, bucket: bucket6, into: &chunk)
            } }
            XCTAssertEqual(chunk[0], GorillaChunk.regularKind)
            func expectCorruption(_ bytes: [UInt8], isInteger: Bool, _ what: String, line: UInt = #line) {
                var outTimes: [Int64] = [], outValues: [UInt64] = []
                XCTAssertThrowsError(try bytes.withUnsafeBytes {
                    try GorillaChunk.decode($0, isInteger: isInteger, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis,
                                           times: &outTimes, values: &outValues)
                }, what, line: line) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption, what, line: line) }
                XCTAssertTrue(outTimes.isEmpty && outValues.isEmpty, "nothing left behind: \(what)", line: line)
            }
            // The other series type, and unknown value kinds.
            expectCorruption(chunk, isInteger: !integer, "type")
            for mode: UInt8 in [0, 4, 6, 7, 255] {
                var damaged = chunk
                damaged[1] = mode
                expectCorruption(damaged, isInteger: integer, "mode \(mode)")
            }
            // Every truncation.
            for cut in 1..<chunk.count { expectCorruption(Array(chunk.prefix(cut)), isInteger: integer, "cut at \(cut)") }
            // Random flips: CORRUPTION or times still regular inside the bucket.
            for _ in 0..<2000 {
                var damaged = chunk
                for _ in 0..<(1 + rng.next() % 3) { damaged[Int(rng.next() % UInt64(damaged.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
                var outTimes: [Int64] = [], outValues: [UInt64] = []
                do {
                    try damaged.withUnsafeBytes {
                        try GorillaChunk.decode($0, isInteger: integer, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis,
                                               times: &outTimes, values: &outValues)
                    }
                    XCTAssertEqual(outTimes, outTimes.sorted())
                    XCTAssertTrue(outTimes.allSatisfy { $0 >= bucket6 && $0 < bucket6 + TimeSeriesFormat.bucketMillis })
                } catch let error as CairnError {
                    XCTAssertEqual(error.code, .corruption, "\(error)")
                }
                _ = try? damaged.withUnsafeBytes {
                    try GorillaChunk.lastPoint($0, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis, isInteger: integer)
                }
            }
        }
        // Steps of zero and steps past the bucket, by hand: 3 int points.
        for (step, what) in [([UInt8(0x00)], "step 0"), ([0xc0, 0xee, 0x6d], "offset 3600000 + step 1800000 x 2 reaches the bucket's end"),
                             ([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], "step 2^64 - 1")] {
            let bytes: [UInt8] = [0x06, 0x02, 0x03, 0x80, 0xdd, 0xdb, 0x01] + step + [0x00, 0x00, 0x00]
            var outTimes: [Int64] = [], outValues: [UInt64] = []
            XCTAssertThrowsError(try bytes.withUnsafeBytes {
                try GorillaChunk.decode($0, isInteger: true, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis, times: &outTimes, values: &outValues)
            }, what) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption, what) }
            XCTAssertThrowsError(try bytes.withUnsafeBytes {
                try GorillaChunk.lastPoint($0, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis, isInteger: true)
            }, what) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption, what) }
        }
        // A first time at or past the bucket's end.
        let late: [UInt8] = [0x06, 0x02, 0x01, 0x80, 0xba, 0xb7, 0x03, 0x00, 0x00]  // offset 7,200,000
        var outTimes: [Int64] = [], outValues: [UInt64] = []
        XCTAssertThrowsError(try late.withUnsafeBytes {
            try GorillaChunk.decode($0, isInteger: true, lower: bucket6, upper: bucket6 + TimeSeriesFormat.bucketMillis, times: &outTimes, values: &outValues)
        }) { XCTAssertEqual(($0 as? CairnError)?.code, .corruption) }
    }

    private func checkCorruption(_ times: [Int64], _ values: [UInt64], kind: UInt8) throws {
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: times.count, isInteger: false, into: &chunk)
        } }
        XCTAssertEqual(chunk[0], kind)
        var rng = TimeSeriesRandom(seed: 7)
        for trial in 0..<2000 {
            var damaged = chunk
            if trial % 3 == 0 {
                damaged.removeLast(Int(rng.next() % UInt64(damaged.count)))
            } else {
                for _ in 0..<(1 + rng.next() % 4) { damaged[Int(rng.next() % UInt64(damaged.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            }
            var outTimes: [Int64] = [], outValues: [UInt64] = []
            do {
                try damaged.withUnsafeBytes {
                    try GorillaChunk.decode($0, isInteger: false, lower: 0, upper: TimeSeriesFormat.bucketMillis, times: &outTimes, values: &outValues)
                }
                // A flip in value bits may still decode: then the times still increase inside the bucket.
                XCTAssertEqual(outTimes, outTimes.sorted())
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption, "\(error)")
            }
        }
    }
}

/// A small reproducible random generator for the tests.
struct TimeSeriesRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
