/// A chunk of one series' points compressed as Facebook's Gorilla paper
/// ("Gorilla: A Fast, Scalable, In-Memory Time Series Database", VLDB
/// 2015) describes, with an integer path for counters. Part of the on-disk
/// format (docs/format/timeseries.md); never change.
///
///     u8 kind (1: float64 values, 2: int64 values) | varint count | last | bits
///     u8 kind 3 (float64 values as decimals) | u8 scale | varint count | last | bits
///     u8 kind 5 (float64 values as decimal changes) | u8 scale | u8 width | varint count | last | bits
///
/// `last` is the last point, its timestamp and its value's bits (u64 LE
/// each), so that the latest value of a series needs no decoding; the
/// decoder checks that the bits end at the same point.
///
/// The bits, most significant first, interleave each point's timestamp and
/// value:
///
/// - the first timestamp in 64 bits; then each timestamp as the change of
///   its delta from the previous delta ("delta of delta"): `0` for none,
///   `10` + 7 bits, `110` + 9 bits, `1110` + 12 bits, `11110` + 32 bits,
///   `11111` + 64 bits (two's complement). Regular intervals cost one bit.
/// - float64 values: the first in 64 bits; then the XOR with the previous
///   value: `0` when equal; `10` + the meaningful bits when they fit in the
///   previous window of leading and trailing zeros; else `11` + 6 bits of
///   leading zeros + 6 bits of (meaningful length - 1) + the meaningful bits.
///   NaN and infinities are bit patterns like any other.
/// - int64 values: the first in 64 bits; then delta of delta as for
///   timestamps, in wrapping arithmetic so that any two int64 round-trip.
/// - decimal float64 values (kind 3): when every value of the chunk is
///   exactly `m / 10^scale` for an integer m (|m| <= 2^53) and a scale in
///   0...6 (the value's bits and those of Double(m) / 10^scale are equal:
///   prices, percentages and readings with a few decimals), the m are
///   written as int64 values are, as VictoriaMetrics stores floats. A
///   random walk of two-decimal values then costs about 1.6 bytes a point
///   instead of 6 with XOR. NaN, infinities and -0.0 keep a chunk on XOR.
///
/// Decimal values may instead be written as their changes (kind 5), when
/// that is smaller, as it is for a random walk, whose changes have no
/// trend for a second difference to remove:
///
///     u8 kind 5 | u8 scale | u8 width | varint count | last | bits
///
/// with the timestamps as above, the first m in 64 bits, and each later m
/// as the zigzag of its change from the previous m in `width` bits (1 to
/// 32); a change that does not fit below the all-ones pattern is that
/// pattern then the zigzag in 64 bits. The writer picks the width that
/// makes the chunk smallest, and kind 5 over kind 3 only when it is
/// smaller: a random walk of two-decimal values with steps up to 1.00
/// costs 8 bits a value instead of about 10.5.
///
/// A short chunk (kind 4), for the few points one write call adds to a
/// series (a batch across many series adds two or three to each), spends
/// no bytes on a header or on 64-bit first values:
///
///     u8 kind 4 | u8 mode | varint count | per point: varint time step | value
///
/// The first time step counts from the chunk's bucket start (readers know
/// it from the key), each later one from the previous timestamp (> 0). The
/// mode says how values are written: 0...6, decimal float64 values (as
/// kind 3) of that scale, as varint zigzag changes of m from the previous
/// point's (from 0 for the first); 7, float64 bits (u64 LE); 8, int64
/// values as varint zigzag changes (wrapping) from the previous (from 0).
/// A TSBS-like write of 2.5 points costs 16 bytes instead of about 43.
/// Writers use it up to `shortMaxPoints` points; packing never does.
///
/// Timestamps at one regular step (a collector's interval) are written
/// once, and the bits hold values only (kind 6):
///
///     u8 kind 6 | u8 value kind (1, 2, 3 or 5) | [u8 scale] [u8 width] | varint count
///       | varint first time - bucket start | varint step (count >= 2) | first value | last value | value bits
///
/// the values as in their kind, without timestamps; first and last as
/// varint zigzag integers (int64, or the m of decimals) or u64 LE float
/// bits. Writers given the bucket use it for any regular run of points: a
/// two-hour TSBS field then costs about 1.02 bytes a point instead of 1.18.
///
/// Timestamps in a chunk are strictly increasing (the writer sorts and
/// removes duplicates); the decoder checks it, so a corrupt chunk is
/// CORRUPTION naming the problem and never a trap.
enum GorillaChunk {
    static let floatKind: UInt8 = 1
    static let intKind: UInt8 = 2
    static let decimalKind: UInt8 = 3
    static let shortKind: UInt8 = 4
    static let decimalChangeKind: UInt8 = 5
    static let regularKind: UInt8 = 6
    /// Kind 5's widest change field; wider changes take the escape.
    static let maxChangeWidth = 32
    /// Short-chunk modes past the decimal scales.
    private static let shortFloatBits: UInt8 = 7
    private static let shortInteger: UInt8 = 8
    /// Writers use short chunks up to this many points: beyond it Gorilla's
    /// bits cost less than the varints.
    static let shortMaxPoints = 8
    static let maxScale = 6
    fileprivate static let powersOfTen: [Double] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]

    /// The smallest scale at which every value is an exact decimal, or nil.
    private static func decimalScale(_ values: UnsafePointer<UInt64>, _ count: Int) -> Int? {
        var scale = 0
        for i in 0..<count {
            let v = Double(bitPattern: values[i])
            guard v.isFinite, v.bitPattern != (-0.0 as Double).bitPattern else { return nil }
            while true {
                let scaled = (v * powersOfTen[scale]).rounded()
                if abs(scaled) <= 9_007_199_254_740_992, (scaled / powersOfTen[scale]).bitPattern == v.bitPattern { break }
                scale += 1
                if scale > maxScale { return nil }
            }
        }
        return scale
    }

    @inline(__always)
    private static func zigzag(_ change: Int64) -> UInt64 { UInt64(bitPattern: (change << 1) ^ (change >> 63)) }

    /// Kind 5's best width for the changes of `m`, and the value bits it
    /// takes (the first value's 64 left out, as kind 3's count does).
    private static func changeWidth(_ m: UnsafePointer<UInt64>, _ count: Int) -> (width: Int, bits: Int) {
        // How many changes need each number of bits (zigzag, 0 needs 0), and
        // how many of those are all ones (the escape at that width).
        var needing = [Int](repeating: 0, count: 65)
        var allOnes = [Int](repeating: 0, count: 65)
        for i in 1..<count {
            let z = zigzag(Int64(bitPattern: m[i] &- m[i - 1]))
            let length = 64 - z.leadingZeroBitCount
            needing[length] += 1
            if z != 0 && z & (z &+ 1) == 0 { allOnes[length] += 1 }
        }
        var best = (width: 1, bits: Int.max)
        var wider = needing[1...].reduce(0, +)  // changes needing more than `width` bits
        for width in 1...maxChangeWidth {
            wider -= needing[width]
            let escapes = wider + allOnes[width]
            let bits = (count - 1) * width + escapes * 64 + 8  // + the width byte
            if bits < best.bits { best = (width, bits) }
        }
        return best
    }

    /// Kind 3's value bits for `m` (the delta-of-delta table).
    private static func deltaOfDeltaBits(_ m: UnsafePointer<UInt64>, _ count: Int) -> Int {
        var bits = 0
        var previous: Int64 = 0
        for i in 1..<count {
            let change = Int64(bitPattern: m[i] &- m[i - 1])
            let dod = change &- previous
            previous = change
            if dod == 0 { bits += 1 } else if dod >= -64 && dod <= 63 { bits += 9 } else if dod >= -256 && dod <= 255 { bits += 12 }
            else if dod >= -2048 && dod <= 2047 { bits += 16 } else if dod >= Int64(Int32.min) && dod <= Int64(Int32.max) { bits += 37 }
            else { bits += 69 }
        }
        return bits
    }

    /// Appends the chunk of `count` points to `out`. Values are bit
    /// patterns (Double.bitPattern or Int64 bit patterns).
    /// REQUIRES: count >= 1 and times strictly increasing (our callers sort).
    /// With `bucket` (the chunk's bucket start; every time in [bucket,
    /// bucket + TimeSeriesFormat.bucketMillis)), timestamps at one regular
    /// step are written as kind 6; without it kinds 1, 2, 3 and 5 only.
    static func encode(times: UnsafePointer<Int64>, values: UnsafePointer<UInt64>, count: Int, isInteger: Bool, bucket: Int64? = nil,
                       into out: inout [UInt8]) {
        precondition(count >= 1, "a chunk holds at least one point")
        let step = bucket != nil ? regularStep(times, count) : nil
        if !isInteger, let scale = decimalScale(values, count) {
            // Safe: decimalScale checked every |m| <= 2^53.
            let mantissas = (0..<count).map { UInt64(bitPattern: Int64((Double(bitPattern: values[$0]) * powersOfTen[scale]).rounded())) }
            let (width, changeBits) = mantissas.withUnsafeBufferPointer { changeWidth($0.baseAddress!, count) }
            let secondDifferenceBits = mantissas.withUnsafeBufferPointer { deltaOfDeltaBits($0.baseAddress!, count) }
            let changes = changeBits < secondDifferenceBits
            if let bucket, let step {
                out.append(regularKind)
                out.append(changes ? decimalChangeKind : decimalKind)
                out.append(UInt8(scale))
                if changes { out.append(UInt8(width)) }
                appendRegularHeader(times: times, count: count, step: step, bucket: bucket, first: mantissas[0], last: mantissas[count - 1],
                                    integerPath: true, into: &out)
                mantissas.withUnsafeBufferPointer {
                    encodeBits(times: times, values: $0.baseAddress!, count: count, integerPath: true, changeWidth: changes ? width : nil,
                               regular: true, into: &out)
                }
                return
            }
            out.append(changes ? decimalChangeKind : decimalKind)
            out.append(UInt8(scale))
            if changes { out.append(UInt8(width)) }
            Varint.append(UInt64(count), to: &out)
            out.appendUInt64LE(UInt64(bitPattern: times[count - 1]))
            out.appendUInt64LE(values[count - 1])
            mantissas.withUnsafeBufferPointer {
                encodeBits(times: times, values: $0.baseAddress!, count: count, integerPath: true, changeWidth: changes ? width : nil, into: &out)
            }
            return
        }
        if let bucket, let step {
            out.append(regularKind)
            out.append(isInteger ? intKind : floatKind)
            appendRegularHeader(times: times, count: count, step: step, bucket: bucket, first: values[0], last: values[count - 1],
                                integerPath: isInteger, into: &out)
            encodeBits(times: times, values: values, count: count, integerPath: isInteger, regular: true, into: &out)
            return
        }
        out.append(isInteger ? intKind : floatKind)
        Varint.append(UInt64(count), to: &out)
        out.appendUInt64LE(UInt64(bitPattern: times[count - 1]))
        out.appendUInt64LE(values[count - 1])
        encodeBits(times: times, values: values, count: count, integerPath: isInteger, into: &out)
    }

    /// The step of timestamps that all follow each other at one interval
    /// (any one or two points), or nil.
    private static func regularStep(_ times: UnsafePointer<Int64>, _ count: Int) -> Int64? {
        guard count >= 2 else { return count == 1 ? 0 : nil }
        // Safe: times are strictly increasing inside one bucket (the caller's
        // contract), so differences are below 2^23.
        let step = times[1] - times[0]
        for i in 2..<count where times[i] - times[i - 1] != step { return nil }
        return step
    }

    /// Kind 6's fields after the value mode (and its scale and width):
    /// varint count | varint first time - bucket | varint step (count >= 2)
    /// | first value | last value, the values as varint zigzag on the
    /// integer path (int64 or decimal m) and u64 LE float bits otherwise.
    private static func appendRegularHeader(times: UnsafePointer<Int64>, count: Int, step: Int64, bucket: Int64, first: UInt64, last: UInt64,
                                            integerPath: Bool, into out: inout [UInt8]) {
        Varint.append(UInt64(count), to: &out)
        // Safe: times lie in [bucket, bucket + bucketMillis).
        Varint.append(UInt64(times[0] - bucket), to: &out)
        if count >= 2 { Varint.append(UInt64(step), to: &out) }
        if integerPath {
            Varint.append(TimeSeriesFormat.zigzag(Int64(bitPattern: first)), to: &out)
            Varint.append(TimeSeriesFormat.zigzag(Int64(bitPattern: last)), to: &out)
        } else {
            out.appendUInt64LE(first)
            out.appendUInt64LE(last)
        }
    }

    /// Kind 6's header, read after its kind byte: the value mode (kind 1, 2,
    /// 3 or 5, which must match the series), scale, width, the points'
    /// count and regular times (checked against [lower, upper)), and the
    /// first and last values as stored (m for decimals).
    private struct RegularHeader {
        var scale = -1
        var changeWidth: Int?
        var integerPath = false
        var count = 0
        var firstTime: Int64 = 0
        var step: Int64 = 0
        var firstValue: UInt64 = 0
        var lastValue: UInt64 = 0
        var lastTime: Int64 { firstTime + step * Int64(count - 1) }  // checked when read

        /// The stored last value as the series' value bits.
        var lastBits: UInt64 {
            scale >= 0 ? (Double(Int64(bitPattern: lastValue)) / GorillaChunk.powersOfTen[scale]).bitPattern : lastValue
        }
    }

    /// Reads kind 6's header (see RegularHeader) from a chunk of `size`
    /// bytes; CORRUPTION for a value kind of the other series type, a scale
    /// or width out of range, a count the bytes cannot hold, a step below 1,
    /// or times past [lower, upper) (checked multiplication).
    private static func readRegularHeader(_ header: inout ByteReader, size: Int, isInteger: Bool, lower: Int64, upper: Int64) throws -> RegularHeader {
        var h = RegularHeader()
        let mode = try header.readByte()
        switch mode {
        case intKind where isInteger:
            h.integerPath = true
        case floatKind where !isInteger:
            break
        case decimalKind where !isInteger, decimalChangeKind where !isInteger:
            h.integerPath = true
            h.scale = Int(try header.readByte())
            guard h.scale <= maxScale else { throw CairnError.corruption("time-series chunk: decimal scale \(h.scale)") }
            if mode == decimalChangeKind {
                let width = Int(try header.readByte())
                guard width >= 1 && width <= maxChangeWidth else { throw CairnError.corruption("time-series chunk: change width \(width)") }
                h.changeWidth = width
            }
        default:
            throw CairnError.corruption("time-series chunk: regular chunk of value kind \(mode) does not match its series (\(isInteger ? "int64" : "float64"))")
        }
        let count64 = try header.readVarint()
        // Every point after the first takes at least one bit.
        guard count64 >= 1, count64 <= UInt64(size) * 8 + 1 else {
            throw CairnError.corruption("time-series chunk: \(count64) points cannot fit in \(size) bytes")
        }
        h.count = Int(count64)
        let span = UInt64(upper - lower)
        let offset = try header.readVarint()
        guard offset < span else { throw CairnError.corruption("time-series chunk: first timestamp outside its bucket") }
        h.firstTime = lower + Int64(offset)
        if h.count >= 2 {
            let step = try header.readVarint()
            // Safe: offset < span <= 2^63, so the subtraction does not wrap.
            let (last, overflow) = step.multipliedReportingOverflow(by: count64 - 1)
            guard step >= 1, !overflow, last < span - offset else {
                throw CairnError.corruption("time-series chunk: regular timestamps run past their bucket")
            }
            h.step = Int64(step)
        }
        if h.integerPath {
            h.firstValue = UInt64(bitPattern: TimeSeriesFormat.unzigzag(try header.readVarint()))
            h.lastValue = UInt64(bitPattern: TimeSeriesFormat.unzigzag(try header.readVarint()))
        } else {
            h.firstValue = try header.readUInt64LE()
            h.lastValue = try header.readUInt64LE()
        }
        return h
    }

    /// Decodes a regular chunk (kind byte already read) as `decode` does.
    private static func decodeRegular(_ chunk: UnsafeRawBufferPointer, _ header: inout ByteReader, isInteger: Bool, lower: Int64, upper: Int64,
                                      times: inout [Int64], values: inout [UInt64]) throws {
        let h = try readRegularHeader(&header, size: chunk.count, isInteger: isInteger, lower: lower, upper: upper)
        let first = times.count
        times.reserveCapacity(first + h.count)
        // Safe: readRegularHeader checked that the last time is in the bucket.
        for i in 0..<h.count { times.append(h.firstTime + h.step * Int64(i)) }
        values.append(contentsOf: repeatElement(0, count: h.count))
        let bits = UnsafeRawBufferPointer(rebasing: chunk[header.offset...])
        do {
            try values.withUnsafeMutableBufferPointer { v in
                try decodeValueBits(bits, count: h.count, first: h.firstValue, integerPath: h.integerPath, changeWidth: h.changeWidth,
                                    values: v.baseAddress! + first)
            }
            guard values[values.count - 1] == h.lastValue else {
                throw CairnError.corruption("time-series chunk: its last point does not match its header")
            }
        } catch {
            times.removeSubrange(first...)
            values.removeSubrange(first...)
            throw error
        }
        if h.scale >= 0 {
            let divisor = powersOfTen[h.scale]
            for i in first..<values.count { values[i] = (Double(Int64(bitPattern: values[i])) / divisor).bitPattern }
        }
    }

    /// The values of a regular chunk: the first given, then `count - 1`
    /// values as in `decodeBits`, with no timestamps between them.
    private static func decodeValueBits(_ bits: UnsafeRawBufferPointer, count: Int, first: UInt64, integerPath: Bool, changeWidth: Int?,
                                        values: UnsafeMutablePointer<UInt64>) throws {
        var reader = BitReader(bits)
        values[0] = first
        var step = ValueStep(first: first, integerPath: integerPath, changeWidth: changeWidth)
        var i = 1
        while i < count {
            values[i] = try step.next(&reader)
            i += 1
        }
    }

    /// Appends the Gorilla chunk of a written chunk (form 0): short (kind 4)
    /// up to `shortMaxPoints` points, else as packing encodes. Write calls
    /// and the merge at flush (ChunkCoalescing) choose alike.
    /// REQUIRES: as `encodeShort`.
    static func encodeWritten(times: UnsafePointer<Int64>, values: UnsafePointer<UInt64>, count: Int, isInteger: Bool, bucket: Int64,
                              into out: inout [UInt8]) {
        if count <= shortMaxPoints {
            encodeShort(times: times, values: values, count: count, isInteger: isInteger, bucket: bucket, into: &out)
        } else {
            encode(times: times, values: values, count: count, isInteger: isInteger, bucket: bucket, into: &out)
        }
    }

    /// Appends the short chunk (kind 4) of `count` points of the bucket
    /// starting at `bucket` to `out`.
    /// REQUIRES: count >= 1, times strictly increasing, all in
    /// [bucket, bucket + TimeSeriesFormat.bucketMillis).
    static func encodeShort(times: UnsafePointer<Int64>, values: UnsafePointer<UInt64>, count: Int, isInteger: Bool, bucket: Int64,
                            into out: inout [UInt8]) {
        precondition(count >= 1, "a chunk holds at least one point")
        let scale = isInteger ? nil : decimalScale(values, count)
        out.append(shortKind)
        out.append(isInteger ? shortInteger : scale.map { UInt8($0) } ?? shortFloatBits)
        Varint.append(UInt64(count), to: &out)
        var previousTime = bucket
        var previous: Int64 = 0
        for i in 0..<count {
            // Safe: times lie in the bucket, so the steps are below 2^23.
            Varint.append(UInt64(times[i] - previousTime), to: &out)
            previousTime = times[i]
            if let scale {
                // Safe: decimalScale checked every |m| <= 2^53.
                let m = Int64((Double(bitPattern: values[i]) * powersOfTen[scale]).rounded())
                Varint.append(TimeSeriesFormat.zigzag(m - previous), to: &out)
                previous = m
            } else if isInteger {
                let v = Int64(bitPattern: values[i])
                Varint.append(TimeSeriesFormat.zigzag(v &- previous), to: &out)
                previous = v
            } else {
                out.appendUInt64LE(values[i])
            }
        }
    }

    /// Decodes a short chunk (kind byte already read by `header`) as
    /// `decode` does.
    private static func decodeShort(_ header: inout ByteReader, isInteger: Bool, lower: Int64, upper: Int64,
                                    times: inout [Int64], values: inout [UInt64]) throws {
        let mode = try header.readByte()
        guard isInteger ? mode == shortInteger : mode <= shortFloatBits else {
            throw CairnError.corruption("time-series chunk: short chunk mode \(mode) does not match its series (\(isInteger ? "int64" : "float64"))")
        }
        let count64 = try header.readVarint()
        // Every point takes at least two bytes.
        guard count64 >= 1, count64 <= UInt64(header.remaining / 2) else {
            throw CairnError.corruption("time-series chunk: \(count64) points cannot fit in a short chunk")
        }
        let first = times.count
        times.reserveCapacity(first + Int(count64))
        values.reserveCapacity(first + Int(count64))
        var t = lower
        var previous: Int64 = 0
        do {
            for i in 0..<Int(count64) {
                let step = try header.readVarint()
                // Safe: lower <= t < upper, all within +-2^62.
                guard step < UInt64(upper - t), i == 0 || step > 0 else {
                    throw CairnError.corruption("time-series chunk: timestamps do not increase inside the bucket after \(t)")
                }
                t += Int64(step)
                times.append(t)
                if mode == shortFloatBits {
                    values.append(try header.readUInt64LE())
                } else {
                    // Wraps: any garbage decodes to some value, never a trap.
                    previous = previous &+ TimeSeriesFormat.unzigzag(try header.readVarint())
                    values.append(mode == shortInteger ? UInt64(bitPattern: previous)
                                  : (Double(previous) / powersOfTen[Int(mode)]).bitPattern)
                }
            }
        } catch {
            times.removeSubrange(first...)
            values.removeSubrange(first...)
            throw error
        }
        guard header.isAtEnd else {
            times.removeSubrange(first...)
            values.removeSubrange(first...)
            throw CairnError.corruption("time-series chunk: bytes after the last point of a short chunk")
        }
    }

    private static func encodeBits(times: UnsafePointer<Int64>, values: UnsafePointer<UInt64>, count: Int, integerPath isInteger: Bool,
                                   changeWidth: Int? = nil, regular: Bool = false, into out: inout [UInt8]) {
        var writer = BitWriter(out: out)
        out = []
        // Regular chunks (kind 6) hold the first point and the step in their
        // header and no timestamps in the bits.
        if !regular {
            writer.write(UInt64(bitPattern: times[0]), 64)
            writer.write(values[0], 64)
        }
        var previousTime = times[0]
        var previousDelta: Int64 = 0
        var previousValue = values[0]
        // Float state: the window of the last XOR written with `11`.
        var leading = 64, trailing = 0
        // Integer state.
        var previousValueDelta: Int64 = 0
        for i in 1..<count {
            let t = times[i]
            #if CAIRN_INVARIANTS
            precondition(t > previousTime, "chunk timestamps must increase")
            #endif
            // Wraps: the encoder and decoder both compute in two's complement,
            // so any pair of int64 round-trips; the decoder checks the result.
            let delta = t &- previousTime
            if !regular { writeDeltaOfDelta(delta &- previousDelta, &writer) }
            previousDelta = delta
            previousTime = t
            let v = values[i]
            if let width = changeWidth {
                let z = zigzag(Int64(bitPattern: v &- previousValue))
                let escape: UInt64 = (1 << UInt64(width)) - 1
                if z < escape {
                    writer.write(z, width)
                } else {
                    writer.write(escape, width)
                    writer.write(z, 64)
                }
            } else if isInteger {
                let valueDelta = Int64(bitPattern: v &- previousValue)
                writeDeltaOfDelta(valueDelta &- previousValueDelta, &writer)
                previousValueDelta = valueDelta
            } else {
                let xor = v ^ previousValue
                if xor == 0 {
                    writer.write(0, 1)
                } else {
                    let lz = xor.leadingZeroBitCount, tz = xor.trailingZeroBitCount
                    if lz >= leading && tz >= trailing {
                        writer.write(0b10, 2)
                        writer.write(xor >> UInt64(trailing), 64 - leading - trailing)
                    } else {
                        let length = 64 - lz - tz
                        writer.write(0b11, 2)
                        writer.write(UInt64(lz), 6)
                        writer.write(UInt64(length - 1), 6)
                        writer.write(xor >> UInt64(tz), length)
                        leading = lz
                        trailing = tz
                    }
                }
            }
            previousValue = v
        }
        out = writer.finish()
    }

    @inline(__always)
    private static func writeDeltaOfDelta(_ dod: Int64, _ writer: inout BitWriter) {
        if dod == 0 {
            writer.write(0, 1)
        } else if dod >= -64 && dod <= 63 {
            writer.write(0b10, 2)
            writer.write(UInt64(bitPattern: dod), 7)
        } else if dod >= -256 && dod <= 255 {
            writer.write(0b110, 3)
            writer.write(UInt64(bitPattern: dod), 9)
        } else if dod >= -2048 && dod <= 2047 {
            writer.write(0b1110, 4)
            writer.write(UInt64(bitPattern: dod), 12)
        } else if dod >= Int64(Int32.min) && dod <= Int64(Int32.max) {
            writer.write(0b11110, 5)
            writer.write(UInt64(bitPattern: dod), 32)
        } else {
            writer.write(0b11111, 5)
            writer.write(UInt64(bitPattern: dod), 64)
        }
    }

    @inline(__always)
    static func readDeltaOfDelta(_ reader: inout BitReader) throws -> Int64 {
        let ones = try reader.readPrefix()
        let width: Int
        switch ones {
        case 0: return 0
        case 1: width = 7
        case 2: width = 9
        case 3: width = 12
        case 4: width = 32
        default: width = 64
        }
        let raw = try reader.read(width)
        // Sign-extend the `width`-bit two's complement value.
        let shift = UInt64(64 - width)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    /// Appends the chunk's points to `times` and `values`.
    /// Throws CORRUPTION for a chunk that is truncated, of another kind than
    /// `isInteger` says, or whose timestamps do not increase inside
    /// [lower, upper).
    static func decode(_ chunk: UnsafeRawBufferPointer, isInteger: Bool, lower: Int64, upper: Int64,
                       times: inout [Int64], values: inout [UInt64]) throws {
        var header = ByteReader(chunk, what: "time-series chunk")
        let kind = try header.readByte()
        if kind == shortKind {
            try decodeShort(&header, isInteger: isInteger, lower: lower, upper: upper, times: &times, values: &values)
            return
        }
        if kind == regularKind {
            try decodeRegular(chunk, &header, isInteger: isInteger, lower: lower, upper: upper, times: &times, values: &values)
            return
        }
        var scale = -1
        var changeWidth: Int?
        if (kind == decimalKind || kind == decimalChangeKind) && !isInteger {
            scale = Int(try header.readByte())
            guard scale <= maxScale else { throw CairnError.corruption("time-series chunk: decimal scale \(scale)") }
            if kind == decimalChangeKind {
                let width = Int(try header.readByte())
                guard width >= 1 && width <= maxChangeWidth else { throw CairnError.corruption("time-series chunk: change width \(width)") }
                changeWidth = width
            }
        } else if kind != (isInteger ? intKind : floatKind) {
            throw CairnError.corruption("time-series chunk: kind \(kind) does not match its series (\(isInteger ? "int64" : "float64"))")
        }
        let count64 = try header.readVarint()
        // Every point after the first takes at least two bits.
        guard count64 >= 1, count64 <= UInt64(chunk.count) * 4 + 1 else {
            throw CairnError.corruption("time-series chunk: \(count64) points cannot fit in \(chunk.count) bytes")
        }
        let count = Int(count64)
        let lastTime = Int64(bitPattern: try header.readUInt64LE())
        let lastBits = try header.readUInt64LE()
        let first = times.count
        // The points are written in place: room for all of them first.
        times.append(contentsOf: repeatElement(0, count: count))
        values.append(contentsOf: repeatElement(0, count: count))
        let bits = UnsafeRawBufferPointer(rebasing: chunk[header.offset...])
        do {
            try times.withUnsafeMutableBufferPointer { t in
                try values.withUnsafeMutableBufferPointer { v in
                    try decodeBits(bits, count: count, integerPath: isInteger || scale >= 0, changeWidth: changeWidth, lower: lower, upper: upper,
                                   times: t.baseAddress! + first, values: v.baseAddress! + first)
                }
            }
        } catch {
            times.removeSubrange(first...)
            values.removeSubrange(first...)
            throw error
        }
        if scale >= 0 {
            let divisor = powersOfTen[scale]
            for i in first..<values.count { values[i] = (Double(Int64(bitPattern: values[i])) / divisor).bitPattern }
        }
        guard times[times.count - 1] == lastTime && values[values.count - 1] == lastBits else {
            times.removeSubrange(first...)
            values.removeSubrange(first...)
            throw CairnError.corruption("time-series chunk: its last point does not match its header")
        }
    }

    /// The last point of a chunk, from its header alone (the newest point of
    /// a bucket with one chunk). Throws CORRUPTION for a short header or a
    /// timestamp outside [lower, upper).
    static func lastPoint(_ chunk: UnsafeRawBufferPointer, lower: Int64, upper: Int64, isInteger: Bool) throws -> (t: Int64, v: UInt64) {
        var header = ByteReader(chunk, what: "time-series chunk")
        let kind = try header.readByte()
        if kind == shortKind {
            // A few points: decoded.
            var times: [Int64] = [], values: [UInt64] = []
            try decodeShort(&header, isInteger: isInteger, lower: lower, upper: upper, times: &times, values: &values)
            return (times[times.count - 1], values[values.count - 1])
        }
        if kind == regularKind {
            let h = try readRegularHeader(&header, size: chunk.count, isInteger: isInteger, lower: lower, upper: upper)
            return (h.lastTime, h.lastBits)
        }
        if kind == decimalKind { _ = try header.readByte() }
        if kind == decimalChangeKind { _ = try header.readByte(); _ = try header.readByte() }
        _ = try header.readVarint()
        let t = Int64(bitPattern: try header.readUInt64LE())
        guard t >= lower && t < upper else { throw CairnError.corruption("time-series chunk: last timestamp \(t) outside its bucket") }
        return (t, try header.readUInt64LE())
    }

    /// Decodes `count` points of the bit stream into `times` and `values`.
    private static func decodeBits(_ bits: UnsafeRawBufferPointer, count: Int, integerPath: Bool, changeWidth: Int? = nil,
                                   lower: Int64, upper: Int64,
                                   times: UnsafeMutablePointer<Int64>, values: UnsafeMutablePointer<UInt64>) throws {
        var reader = BitReader(bits)
        var t = Int64(bitPattern: try reader.read(64))
        let v = try reader.read(64)
        guard t >= lower && t < upper else { throw CairnError.corruption("time-series chunk: timestamp \(t) outside its bucket") }
        times[0] = t
        values[0] = v
        var delta: Int64 = 0
        var step = ValueStep(first: v, integerPath: integerPath, changeWidth: changeWidth)
        var i = 1
        while i < count {
            // Wraps: as in encode; the bounds check below catches garbage.
            delta = delta &+ (try readDeltaOfDelta(&reader))
            let next = t &+ delta
            guard delta > 0, next > t, next < upper else {
                throw CairnError.corruption("time-series chunk: timestamps do not increase inside the bucket after \(t)")
            }
            t = next
            times[i] = t
            values[i] = try step.next(&reader)
            i += 1
        }
    }
}

/// Bits written most significant first into a byte array.
struct BitWriter {
    private var out: [UInt8]
    /// The low `used` bits are pending.
    private var accumulator: UInt64 = 0
    private var used = 0

    init(out: [UInt8]) { self.out = out }

    /// Writes the low `count` bits of `value`. REQUIRES: 0 < count <= 64.
    @inline(__always)
    mutating func write(_ value: UInt64, _ count: Int) {
        let free = 64 - used
        if count <= free {
            let masked = count == 64 ? value : value & ((1 << UInt64(count)) - 1)
            accumulator = count == 64 ? masked : (accumulator << UInt64(count)) | masked
            used += count
            if used == 64 { flushWord() }
        } else {
            // Split: the high `free` bits complete the word.
            let rest = count - free
            write(value >> UInt64(rest), free)
            write(value, rest)
        }
    }

    @inline(__always)
    private mutating func flushWord() {
        withUnsafeBytes(of: accumulator.bigEndian) { out.append(contentsOf: $0) }
        accumulator = 0
        used = 0
    }

    /// The bytes, the last one padded with zero bits.
    mutating func finish() -> [UInt8] {
        if used > 0 {
            var left = accumulator << UInt64(64 - used)
            var bits = used
            while bits > 0 {
                out.append(UInt8(truncatingIfNeeded: left >> 56))
                left <<= 8
                bits -= 8
            }
            accumulator = 0
            used = 0
        }
        return out
    }
}

/// Bits read most significant first; reading past the end is CORRUPTION.
/// The value half of a chunk's bit stream, one point at a time: the
/// changes of kind 5 (a fixed-width zigzag, all ones escaping to 64 bits),
/// the delta-of-deltas of the integer path, or Gorilla's XOR windows. Both
/// decoders (with timestamps between the values, and kind 6's values
/// alone) read their values through it.
struct ValueStep {
    private var value: UInt64
    private let integerPath: Bool
    private let changeWidth: Int?
    private var valueDelta: Int64 = 0
    // No window until the first `11`: a `10` then reads zero bits.
    private var leading = 64, trailing = 0

    init(first: UInt64, integerPath: Bool, changeWidth: Int?) {
        value = first
        self.integerPath = integerPath
        self.changeWidth = changeWidth
    }

    /// The next value; CORRUPTION when the bits cannot hold one.
    @inline(__always)
    mutating func next(_ reader: inout BitReader) throws -> UInt64 {
        if let width = changeWidth {
            var z = try reader.read(width)
            if z == (1 << UInt64(width)) - 1 { z = try reader.read(64) }
            // Wraps: the encoder's change is m[i] - m[i-1] in two's complement.
            value = value &+ UInt64(bitPattern: Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1))
        } else if integerPath {
            valueDelta = valueDelta &+ (try GorillaChunk.readDeltaOfDelta(&reader))
            value = value &+ UInt64(bitPattern: valueDelta)
        } else if try reader.readBit() {
            if try reader.readBit() {
                leading = Int(try reader.read(6))
                let length = Int(try reader.read(6)) + 1
                guard leading + length <= 64 else { throw CairnError.corruption("time-series chunk: value window past 64 bits") }
                trailing = 64 - leading - length
            }
            let length = 64 - leading - trailing
            guard length > 0 else { throw CairnError.corruption("time-series chunk: empty value window") }
            value ^= try reader.read(length) << UInt64(trailing)
        }
        return value
    }
}

struct BitReader {
    private let base: UnsafeRawBufferPointer
    private var offset = 0
    /// The high `available` bits are the next bits.
    private var accumulator: UInt64 = 0
    private var available = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    @inline(__always)
    private mutating func refill() {
        while available <= 56 && offset < base.count {
            accumulator |= UInt64(base[offset]) << UInt64(56 - available)
            available += 8
            offset += 1
        }
    }

    @inline(__always)
    mutating func readBit() throws -> Bool {
        if available == 0 { refill() }
        guard available > 0 else { throw CairnError.corruption("time-series chunk: truncated") }
        let bit = accumulator >> 63
        accumulator <<= 1
        available -= 1
        return bit != 0
    }

    /// Reads a prefix of up to five 1 bits ended by a 0 (or five 1 bits);
    /// returns the number of 1 bits.
    @inline(__always)
    mutating func readPrefix() throws -> Int {
        if available < 5 { refill() }
        if available >= 5 {
            let ones = Swift.min((~accumulator).leadingZeroBitCount, 5)
            let used = ones < 5 ? ones + 1 : 5
            accumulator <<= UInt64(used)
            available -= used
            return ones
        }
        var ones = 0
        while ones < 5, try readBit() { ones += 1 }
        return ones
    }

    /// Reads `count` bits. REQUIRES: 0 < count <= 64.
    @inline(__always)
    mutating func read(_ count: Int) throws -> UInt64 {
        if count > available { refill() }
        if count <= available {
            let value = accumulator >> UInt64(64 - count)
            accumulator = count == 64 ? 0 : accumulator << UInt64(count)
            available -= count
            return value
        }
        return try readSplit(count)
    }

    /// More bits than one refill holds: in two parts.
    @inline(never)
    private mutating func readSplit(_ count: Int) throws -> UInt64 {
        guard count > 32 else { throw CairnError.corruption("time-series chunk: truncated") }
        let high = try read(count - 32)
        return high << 32 | (try read(32))
    }
}
