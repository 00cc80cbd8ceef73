/// Writes the JSON of a time-series row into a scratch buffer with plain
/// stores, then appends it to the cursor's batch with one copy. "Last point
/// of every series" writes a row of some 280 bytes per series (the series
/// key as members, two integers, a value), and the appends of a byte
/// array cost more than the bytes: each checks capacity and uniqueness.
///
/// Each writer reserves its bytes' worth in `capacity` (the caller's sum)
/// and may store a whole 8-byte word at its end: capacities include 8
/// bytes of slack.
struct RowWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var length = 0

    private init(base: UnsafeMutableRawPointer) { self.base = base }

    /// Runs `body` on a writer over `capacity` scratch bytes and appends
    /// what it wrote to `out` when it returns true; on false or a throw,
    /// `out` is left as it was.
    static func append(capacity: Int, to out: inout [UInt8], _ body: (inout RowWriter) throws -> Bool) throws -> Bool {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            try append(UnsafeMutableRawPointer(buffer.baseAddress!), to: &out, body)
        }
    }

    /// As above, in `scratch` (a cursor's, reused row after row: a row
    /// larger than a stack allocation would otherwise allocate each time).
    static func append(capacity: Int, scratch: Scratch, to out: inout [UInt8], _ body: (inout RowWriter) throws -> Bool) throws -> Bool {
        try append(scratch.reserve(capacity), to: &out, body)
    }

    private static func append(_ base: UnsafeMutableRawPointer, to out: inout [UInt8], _ body: (inout RowWriter) throws -> Bool) throws -> Bool {
        var row = RowWriter(base: base)
        guard try body(&row) else { return false }
        out.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: row.length))
        return true
    }

    /// A scratch buffer that grows to the largest row asked for.
    final class Scratch {
        private var base: UnsafeMutableRawPointer?
        private var capacity = 0

        init() {}

        func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
            if let base, capacity >= bytes { return base }
            base?.deallocate()
            capacity = max(bytes, 2 * capacity, 4096)
            let fresh = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            base = fresh
            return fresh
        }

        deinit { base?.deallocate() }
    }

    /// The first `count` (<= 8) bytes of `word`, least significant first
    /// (the constants in `Text`).
    @inline(__always)
    mutating func text(_ word: UInt64, _ count: Int) {
        base.storeBytes(of: word.littleEndian, toByteOffset: length, as: UInt64.self)
        length += count
    }

    /// Punctuation as little-endian words (RowWriterTests checks each
    /// against its text).
    enum Text {
        /// `{"id":`
        static let openID: (UInt64, Int) = (0x3A22_6469_227B, 6)
        /// `,"t":`
        static let time: (UInt64, Int) = (0x3A_2274_222C, 5)
        /// `,"v":`
        static let value: (UInt64, Int) = (0x3A_2276_222C, 5)
        /// `}`
        static let close: (UInt64, Int) = (0x7D, 1)
        /// `"metric"`
        static let metric: (UInt64, Int) = (0x2263_6972_7465_6D22, 8)
        /// `:"`
        static let metricEnd: (UInt64, Int) = (0x223A, 2)
        /// `","tags"`
        static let tags: (UInt64, Int) = (0x2273_6761_7422_2C22, 8)
        /// `:{}`
        static let noTags: (UInt64, Int) = (0x7D7B3A, 3)
        /// `:{"`
        static let firstTag: (UInt64, Int) = (0x227B3A, 3)
        /// `":"`
        static let nameEnd: (UInt64, Int) = (0x223A22, 3)
        /// `","`
        static let valueEnd: (UInt64, Int) = (0x222C22, 3)
        /// `"}`
        static let lastValue: (UInt64, Int) = (0x7D22, 2)
    }

    @inline(__always)
    mutating func text(_ text: (UInt64, Int)) { self.text(text.0, text.1) }

    /// The bytes `integer` may take.
    static let integerCapacity = 20 + 8

    /// A decimal integer.
    mutating func integer(_ value: Int64) {
        if value < 0 {
            base.storeBytes(of: UInt8(ascii: "-"), toByteOffset: length, as: UInt8.self)
            length += 1
        }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var at = length + digits
        repeat {
            at -= 1
            base.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10), toByteOffset: at, as: UInt8.self)
            magnitude /= 10
        } while magnitude > 0
        length += digits
    }

    /// The bytes `decimal` may take.
    static let decimalCapacity = 24 + 8

    /// `d` exactly as `d.description` writes it when it is 0 or a decimal
    /// of at most 6 decimals and 15 significant digits in [0.001, 10^15)
    /// (a reading such as 37.52); false, writing nothing, for any other.
    ///
    /// Why it matches: m / 10^k (m < 10^15 an integer, so exact, and 10^k
    /// exact) is correctly rounded, so when it equals `d` the text "m with
    /// k decimals" reads back as `d`. No other decimal of at most 15
    /// significant digits reads back as the same double (15 digits always
    /// round-trip through a double), so the shortest digits `description`
    /// prints are these, with the smallest such k (no trailing zero). In
    /// [0.0001, 2^53) it prints them without an exponent, "0.05" and
    /// "12.0" as here.
    mutating func decimal(_ d: Double) -> Bool {
        if d == 0 {
            if d.sign == .minus {
                text(0x302E_302D, 4)  // -0.0
            } else {
                text(0x302E30, 3)  // 0.0
            }
            return true
        }
        let magnitude = d.magnitude
        guard magnitude >= 0.001 && magnitude < 1e15 else { return false }
        var scale = 1.0
        for decimals in 0...6 {
            let scaled = magnitude * scale
            guard scaled < 1e15 else { return false }
            let m = scaled.rounded()
            if m / scale == magnitude {
                if d < 0 {
                    base.storeBytes(of: UInt8(ascii: "-"), toByteOffset: length, as: UInt8.self)
                    length += 1
                }
                var digits = UInt64(m)
                var count = 1
                var rest = digits
                while rest >= 10 {
                    rest /= 10
                    count += 1
                }
                if decimals == 0 {
                    // "m.0"
                    var at = length + count
                    repeat {
                        at -= 1
                        base.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digits % 10), toByteOffset: at, as: UInt8.self)
                        digits /= 10
                    } while at > length
                    length += count
                    text(0x302E, 2)  // .0
                } else {
                    // The integer part has at least one digit ("0.05").
                    let end = length + max(count, decimals + 1) + 1
                    var at = end
                    for _ in 0..<decimals {
                        at -= 1
                        base.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digits % 10), toByteOffset: at, as: UInt8.self)
                        digits /= 10
                    }
                    at -= 1
                    base.storeBytes(of: UInt8(ascii: "."), toByteOffset: at, as: UInt8.self)
                    while at > length {
                        at -= 1
                        base.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digits % 10), toByteOffset: at, as: UInt8.self)
                        digits /= 10
                    }
                    length = end
                }
                return true
            }
            scale *= 10
        }
        return false
    }

    /// The bytes `members` may take for a key of `count` bytes: `"metric":"`,
    /// the bytes, at most 11 bytes of punctuation for each, and slack.
    static func membersCapacity(_ count: Int) -> Int { 10 + 11 * count + 8 }

    private static let high: UInt64 = 0x8080_8080_8080_8080
    private static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// 0x80 in each byte of `x` that is zero, 0 in the others (exact: no
    /// carry crosses a byte).
    @inline(__always)
    private static func zeroBytes(_ x: UInt64) -> UInt64 { ~(((x & low7) &+ low7) | x) & high }

    /// `"metric":"...","tags":{...}` from a series key's canonical bytes
    /// (SeriesKey) when every byte but the NULs is printable ASCII other
    /// than `"` and `\` (copied as is); false when one is not (the caller
    /// takes the general path). The bytes are copied eight at a time, each
    /// NUL replaced by its punctuation. Throws CORRUPTION for a malformed
    /// plain key (an even number of parts, or no NUL at the end).
    mutating func members(_ key: UnsafeRawBufferPointer) throws -> Bool {
        let count = key.count
        guard let source = key.baseAddress, count > 0 else {
            throw CairnError.corruption("time-series catalog: a malformed series key")
        }
        let start = length
        text(Text.metric)
        text(Text.metricEnd)
        var i = 0
        var nul = 0
        while i + 8 <= count {
            let raw = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let x = UInt64(littleEndian: raw)
            var zero = RowWriter.zeroBytes(x)
            // Bytes below 0x20 (but NUL), past ASCII, '"' (0x22), '\' (0x5C).
            let control = ~((x & RowWriter.low7) &+ 0x6060_6060_6060_6060) & RowWriter.high & ~zero
            let bad = (x & RowWriter.high) | control
                | RowWriter.zeroBytes(x ^ 0x2222_2222_2222_2222) | RowWriter.zeroBytes(x ^ 0x5C5C_5C5C_5C5C_5C5C)
            guard bad == 0 else { length = start; return false }
            base.storeBytes(of: raw, toByteOffset: length, as: UInt64.self)
            // Each NUL of the word in turn: the text before it is in place;
            // its punctuation follows, then the rest of the word again.
            var consumed = 0
            while zero != 0 {
                let at = zero.trailingZeroBitCount >> 3
                length += at - consumed
                consumed = at + 1
                zero &= zero &- 1
                try punctuate(nul, last: i + consumed == count, start: start)
                nul += 1
                if consumed < 8 {
                    base.storeBytes(of: (x >> (8 * UInt64(consumed))).littleEndian, toByteOffset: length, as: UInt64.self)
                }
            }
            length += 8 - consumed
            i += 8
        }
        while i < count {
            let byte = source.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            if byte != 0 {
                guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") else {
                    length = start
                    return false
                }
                base.storeBytes(of: byte, toByteOffset: length, as: UInt8.self)
                length += 1
                continue
            }
            try punctuate(nul, last: i == count, start: start)
            nul += 1
        }
        guard nul & 1 == 1, source.load(fromByteOffset: count - 1, as: UInt8.self) == 0 else {
            length = start
            throw CairnError.corruption("time-series catalog: a malformed series key")
        }
        return true
    }

    /// The punctuation of NUL number `nul` of a key (after the metric, a
    /// tag name or a tag value; `last` at the key's end).
    private mutating func punctuate(_ nul: Int, last: Bool, start: Int) throws {
        if nul == 0 {
            text(Text.tags)
            text(last ? Text.noTags : Text.firstTag)
        } else if last {
            guard nul & 1 == 0 else {
                length = start
                throw CairnError.corruption("time-series catalog: a malformed series key")
            }
            text(Text.lastValue)
        } else {
            text(nul & 1 == 1 ? Text.nameEnd : Text.valueEnd)
        }
    }
}
