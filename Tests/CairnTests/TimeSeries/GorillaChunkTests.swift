import XCTest
@testable import Cairn

/// The Gorilla chunk codec: round trips of every kind of value and timing,
/// and corrupt chunks that must fail with CORRUPTION instead of trapping.
final class GorillaChunkTests: XCTestCase {
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
        XCTAssertEqual(chunk[0], GorillaChunk.decimalKind)
        XCTAssertLessThan(Double(chunk.count) / 720, 2.0, "a random walk of two-decimal values")
        // One value that is no short decimal keeps the chunk on XOR, exactly.
        values[100] = (1.0 / 3.0).bitPattern
        XCTAssertEqual(try roundTrip(times, values, integer: false)[0], GorillaChunk.floatKind)
        values[100] = (-0.0 as Double).bitPattern
        XCTAssertEqual(try roundTrip(times, values, integer: false)[0], GorillaChunk.floatKind)
        _ = try roundTrip([1, 2, 3], [0.1, 1e15, -123456.789012].map(\.bitPattern), integer: false)
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

    func testCorruptChunksThrowCorruption() throws {
        let times = (0..<50).map { Int64($0) * 1000 }
        let values = (0..<50).map { Double($0).squareRoot().bitPattern }
        var chunk: [UInt8] = []
        times.withUnsafeBufferPointer { t in values.withUnsafeBufferPointer { v in
            GorillaChunk.encode(times: t.baseAddress!, values: v.baseAddress!, count: 50, isInteger: false, into: &chunk)
        } }
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
