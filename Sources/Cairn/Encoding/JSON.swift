/// A JSON value as parsed from text, for options and other small
/// structured inputs at the API boundary.
///
/// Integers that fit in 64 bits stay `.int`, so `1` and `1.0` round-trip as
/// written. Object members keep their order; lookups are linear, which is
/// right for the handful of keys an options object holds.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Parsing

/// Receives what a `JSONParser` reads, in document order. The parser is
/// generic over its sink, so each sink (a JSONValue tree, a binary
/// document) gets a specialized parser with no dynamic dispatch. Views passed
/// to a sink are valid for the call only.
protocol JSONSink {
    mutating func null() throws
    mutating func bool(_ value: Bool) throws
    mutating func int(_ value: Int64) throws
    mutating func double(_ value: Double) throws
    /// A string value, as validated UTF-8.
    mutating func string(_ utf8: UnsafeRawBufferPointer) throws
    mutating func beginArray() throws
    mutating func endArray(count: Int) throws
    mutating func beginObject() throws
    /// A member's key, as validated UTF-8; its value follows.
    mutating func key(_ utf8: UnsafeRawBufferPointer) throws
    mutating func endObject(count: Int) throws
}

extension JSONValue {
    /// The deepest nesting of arrays and objects the parser accepts, so
    /// that hostile input cannot exhaust the stack.
    public static let maxDepth = 100

    /// Parses one JSON text (RFC 8259). Malformed JSON and invalid UTF-8
    /// throw INVALID_ARGUMENT with the byte offset of the problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer, what: String = "JSON") throws -> JSONValue {
        var builder = JSONValueBuilder()
        try JSONParser.parse(bytes, what: what, into: &builder)
        return builder.result
    }

    public static func parse(_ text: String, what: String = "JSON") throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { try parse(UnsafeRawBufferPointer($0), what: what) }
    }
}

/// Builds a JSONValue tree from parser events.
struct JSONValueBuilder: JSONSink {
    private enum Open {
        case array([JSONValue])
        case object([(key: String, value: JSONValue)], pendingKey: String?)
    }

    private var stack: [Open] = []
    private(set) var result: JSONValue = .null

    private mutating func emit(_ value: JSONValue) {
        guard let top = stack.popLast() else {
            result = value
            return
        }
        switch top {
        case .array(var elements):
            elements.append(value)
            stack.append(.array(elements))
        case .object(var members, let key):
            members.append((key ?? "", value))
            stack.append(.object(members, pendingKey: nil))
        }
    }

    mutating func null() { emit(.null) }
    mutating func bool(_ value: Bool) { emit(.bool(value)) }
    mutating func int(_ value: Int64) { emit(.int(value)) }
    mutating func double(_ value: Double) { emit(.double(value)) }
    mutating func string(_ utf8: UnsafeRawBufferPointer) { emit(.string(String(decoding: utf8, as: UTF8.self))) }
    mutating func beginArray() { stack.append(.array([])) }
    mutating func endArray(count: Int) {
        if case .array(let elements)? = stack.popLast() { emit(.array(elements)) }
    }
    mutating func beginObject() { stack.append(.object([], pendingKey: nil)) }
    mutating func key(_ utf8: UnsafeRawBufferPointer) {
        if case .object(let members, _)? = stack.popLast() {
            stack.append(.object(members, pendingKey: String(decoding: utf8, as: UTF8.self)))
        }
    }
    mutating func endObject(count: Int) {
        if case .object(let members, _)? = stack.popLast() { emit(.object(members)) }
    }
}

/// 10^0 ... 10^22, every one an exact double (JSONParser.exactDouble).
private let exactPowersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                          1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

/// A strict RFC 8259 parser over raw bytes. Errors are INVALID_ARGUMENT
/// naming `what` and the byte offset; the depth is bounded by
/// `JSONValue.maxDepth`; strings are checked to be valid UTF-8 and escapes
/// (surrogate pairs included) are decoded.
struct JSONParser<Sink: JSONSink> {
    let bytes: UnsafeRawBufferPointer
    let what: String
    var offset = 0
    /// Strings with escapes are decoded here (made on first use: most JSON
    /// has none, and its strings are views of the input).
    private var scratch: ByteBuffer?
    /// The keys of the objects being parsed (innermost last), to refuse a
    /// duplicate: `keyBytes` holds them back to back, `keys` their ends and
    /// hashes. An object's keys start at the `keys` count it saw on entry.
    private let keyBytes = ByteBuffer(capacity: 256)
    private var keys: [(end: Int, hash: Int)] = []

    init(bytes: UnsafeRawBufferPointer, what: String) {
        self.bytes = bytes
        self.what = what
    }

    /// Parses exactly one value (surrounded by optional whitespace) into `sink`.
    static func parse(_ bytes: UnsafeRawBufferPointer, what: String, into sink: inout Sink) throws {
        var parser = JSONParser(bytes: bytes, what: what)
        parser.skipWhitespace()
        try parser.parseValue(depth: 0, into: &sink)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("unexpected text after the JSON value") }
    }

    func error(_ message: String) -> CairnError {
        CairnError.invalidArgument("invalid \(what) at byte \(offset): \(message)")
    }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int, into sink: inout Sink) throws {
        guard let c = current else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): try parseObject(depth: depth + 1, into: &sink)
        case UInt8(ascii: "["): try parseArray(depth: depth + 1, into: &sink)
        case UInt8(ascii: "\""):
            try sink.string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); try sink.bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); try sink.bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); try sink.null()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber(into: &sink)
        default: throw error("unexpected character '\(Unicode.Scalar(c))'")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let n = literal.utf8CodeUnitCount
        guard bytes.count - offset >= n else { throw error("unexpected end of input") }
        for i in 0..<n where bytes[offset + i] != literal.utf8Start[i] {
            throw error("invalid literal")
        }
        offset += n
    }

    mutating func parseObject(depth: Int, into sink: inout Sink) throws {
        guard depth <= JSONValue.maxDepth else { throw error("nesting deeper than \(JSONValue.maxDepth)") }
        offset += 1
        try sink.beginObject()
        var count = 0
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            offset += 1
            try sink.endObject(count: 0)
            return
        }
        let firstKey = keys.count
        defer {
            keyBytes.truncate(to: firstKey == 0 ? 0 : keys[firstKey - 1].end)
            keys.removeSubrange(firstKey...)
        }
        var seen: Set<Int>?
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = offset
            let key = try parseString()
            try checkDuplicate(key, firstKey: firstKey, seen: &seen, at: keyOffset)
            try sink.key(key)
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            offset += 1
            skipWhitespace()
            try parseValue(depth: depth, into: &sink)
            count += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                try sink.endObject(count: count)
                return
            case nil: throw error("unexpected end of input")
            default: throw error("expected ',' or '}'")
            }
        }
    }

    /// Refuses `key` when the object (whose keys start at `firstKey`)
    /// already has it: one JSON text has one meaning, so the stored
    /// document, its index entries and every filter agree.
    ///
    /// An object's first 16 keys are compared with the earlier ones
    /// directly, lengths first (at most 120 comparisons of short strings):
    /// hashing every key cost about 800 instructions a key, 7% of a
    /// single-document insert. From the 17th key on, a set of hashes keeps
    /// the check linear.
    private mutating func checkDuplicate(_ key: UnsafeRawBufferPointer, firstKey: Int, seen: inout Set<Int>?, at keyOffset: Int) throws {
        let count = keys.count - firstKey
        if count == 0 && keys.capacity < JSONParser.keysCompared {
            // Room for a typical document's keys, once per parse, in the
            // one allocation the first key makes anyway.
            keys.reserveCapacity(JSONParser.keysCompared)
        }
        if seen == nil && count < JSONParser.keysCompared {
            let stored = keyBytes.bytes
            var start = firstKey == 0 ? 0 : keys[firstKey - 1].end
            for i in firstKey..<keys.count {
                let end = keys[i].end
                if end - start == key.count && compareBytes(UnsafeRawBufferPointer(rebasing: stored[start..<end]), key) == 0 {
                    throw duplicate(key, at: keyOffset)
                }
                start = end
            }
            keyBytes.append(key)
            keys.append((keyBytes.count, 0))
            return
        }
        if seen == nil {
            // The 17th key: hash the earlier ones once.
            var hashes = Set<Int>(minimumCapacity: 2 * count)
            let stored = keyBytes.bytes
            for i in firstKey..<keys.count {
                let start = i == 0 ? 0 : keys[i - 1].end
                let hash = JSONParser.hash(UnsafeRawBufferPointer(rebasing: stored[start..<keys[i].end]))
                keys[i].hash = hash
                hashes.insert(hash)
            }
            seen = hashes
        }
        let hash = JSONParser.hash(key)
        if seen?.contains(hash) == true {
            let stored = keyBytes.bytes
            for i in firstKey..<keys.count where keys[i].hash == hash {
                let start = i == 0 ? 0 : keys[i - 1].end
                if compareBytes(UnsafeRawBufferPointer(rebasing: stored[start..<keys[i].end]), key) == 0 { throw duplicate(key, at: keyOffset) }
            }
        }
        keyBytes.append(key)
        keys.append((keyBytes.count, hash))
        seen?.insert(hash)
    }

    /// How many keys of an object are checked by comparison, before a set.
    static var keysCompared: Int { 16 }

    /// Hasher, not Hash64: its seed is random per process, so no crafted
    /// set of keys can make them all collide and the check quadratic.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    private mutating func duplicate(_ key: UnsafeRawBufferPointer, at keyOffset: Int) -> CairnError {
        offset = keyOffset
        return error("duplicate key \"\(String(decoding: key, as: UTF8.self))\" in an object")
    }

    mutating func parseArray(depth: Int, into sink: inout Sink) throws {
        guard depth <= JSONValue.maxDepth else { throw error("nesting deeper than \(JSONValue.maxDepth)") }
        offset += 1
        try sink.beginArray()
        var count = 0
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            offset += 1
            try sink.endArray(count: 0)
            return
        }
        while true {
            skipWhitespace()
            try parseValue(depth: depth, into: &sink)
            count += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                try sink.endArray(count: count)
                return
            case nil: throw error("unexpected end of input")
            default: throw error("expected ',' or ']'")
            }
        }
    }

    mutating func parseNumber(into sink: inout Sink) throws {
        let start = offset
        var isInteger = true
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        guard let first = current, first >= 0x30, first <= 0x39 else { throw error("expected a digit") }
        // Integers accumulate as negative magnitudes, so Int64.min fits.
        var magnitude: Int64 = 0
        var overflow = false
        if first == 0x30 {
            offset += 1
            if let c = current, c >= 0x30, c <= 0x39 { throw error("leading zero in a number") }
        } else {
            while let c = current, c >= 0x30, c <= 0x39 {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.subtractingReportingOverflow(Int64(c - 0x30))
                overflow = overflow || o1 || o2
                magnitude = next
                offset += 1
            }
        }
        if current == UInt8(ascii: ".") {
            isInteger = false
            offset += 1
            guard let c = current, c >= 0x30, c <= 0x39 else { throw error("expected a digit after '.'") }
            while let c = current, c >= 0x30, c <= 0x39 { offset += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard let c = current, c >= 0x30, c <= 0x39 else { throw error("expected a digit in the exponent") }
            while let c = current, c >= 0x30, c <= 0x39 { offset += 1 }
        }
        if isInteger {
            if !overflow && negative {
                try sink.int(magnitude)
                return
            }
            if !overflow && magnitude != Int64.min {
                try sink.int(-magnitude)
                return
            }
            // One rule wherever JSON enters (documents, filters, updates,
            // pipelines, options): an integer is a 64-bit integer. Rounding
            // one beyond that to a double would make 2^63 + 1 match 2^63.
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
            offset = start
            throw error("the integer \(text) does not fit in 64 bits (write it with a fraction or an exponent for a double)")
        }
        // A fraction or an exponent: a double.
        if let value = JSONParser.exactDouble(UnsafeRawBufferPointer(rebasing: bytes[start..<offset])) {
            try sink.double(value)
            return
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            offset = start
            throw error("number out of range")
        }
        try sink.double(value)
    }

    /// The double a number's text (already checked to be JSON's number
    /// grammar) denotes, when it is found exactly without the standard
    /// library's conversion, which takes a String (an allocation past 15
    /// bytes, and most of a number's parse); nil otherwise. Exact when the
    /// digits form an integer of at most 2^53 and the power of ten is at
    /// most 10^22: both are exact doubles, so one correctly rounded multiply
    /// or divide is the correctly rounded result (Clinger's fast path, as
    /// in strtod and fast_float). Nearly every decimal a document holds
    /// ("19.99", "0.5", "1e3") takes it.
    static func exactDouble(_ text: UnsafeRawBufferPointer) -> Double? {
        var index = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { index = 1 }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits in `mantissa`
        var exponent = 0  // of ten, from the fraction's digits
        var inFraction = false
        while index < text.count {
            let c = text[index]
            if c == UInt8(ascii: ".") {
                inFraction = true
            } else if c >= 0x30 && c <= 0x39 {
                if mantissa == 0 && c == 0x30 {
                    // A leading zero adds no significant digit.
                } else {
                    digits += 1
                    guard digits <= 16 else { return nil }
                    mantissa = mantissa &* 10 &+ UInt64(c &- 0x30)
                }
                if inFraction { exponent -= 1 }
            } else {
                break  // 'e' or 'E'
            }
            index += 1
        }
        if index < text.count {
            index += 1
            var exponentNegative = false
            if text[index] == UInt8(ascii: "-") { exponentNegative = true; index += 1 } else if text[index] == UInt8(ascii: "+") { index += 1 }
            var written = 0
            while index < text.count {
                written = written * 10 + Int(text[index] &- 0x30)
                guard written <= 400 else { return nil }
                index += 1
            }
            exponent += exponentNegative ? -written : written
        }
        guard mantissa <= 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
        let power = exactPowersOfTen[exponent < 0 ? -exponent : exponent]
        let magnitude = exponent < 0 ? Double(mantissa) / power : Double(mantissa) * power
        return negative ? -magnitude : magnitude
    }

    /// Reads the string whose opening quote is at `offset` and returns its
    /// UTF-8, validated: a view of the input itself when the string has no
    /// escape (nearly every string), else of `scratch` with the escapes
    /// decoded. The view is valid until the next call.
    mutating func parseString() throws -> UnsafeRawBufferPointer {
        offset += 1  // the opening quote
        let start = offset
        while offset < bytes.count {
            let c = bytes[offset]
            if c == UInt8(ascii: "\"") {
                offset += 1
                return UnsafeRawBufferPointer(rebasing: bytes[start..<(offset - 1)])
            }
            if c == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
            if c < 0x20 { throw error("control character in a string") }
            offset += c < 0x80 ? 1 : try multibyteScalarLength()
        }
        throw error("unterminated string")
    }

    /// parseString's path for a string with an escape at `offset`: what
    /// came before it is copied into `scratch`, and the rest decoded there.
    private mutating func parseEscapedString(from start: Int) throws -> UnsafeRawBufferPointer {
        let decoded: ByteBuffer
        if let scratch { decoded = scratch } else {
            decoded = ByteBuffer(capacity: 64)
            scratch = decoded
        }
        decoded.removeAll()
        // Safe: the string's opening quote is in the input, so it has a base.
        let base = bytes.baseAddress!
        decoded.append(base + start, count: offset - start)
        while true {
            guard let c = current else { throw error("unterminated string") }
            switch c {
            case UInt8(ascii: "\""):
                offset += 1
                return decoded.bytes
            case UInt8(ascii: "\\"):
                offset += 1
                try parseEscape(into: decoded)
            case 0..<0x20:
                throw error("control character in a string")
            case 0x80...:
                let length = try multibyteScalarLength()
                decoded.append(base + offset, count: length)
                offset += length
            default:
                var end = offset &+ 1
                while end < bytes.count {
                    let b = bytes[end]
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
                    end &+= 1
                }
                decoded.append(base + offset, count: end &- offset)
                offset = end
            }
        }
    }

    mutating func parseEscape(into decoded: ByteBuffer) throws {
        guard let c = current else { throw error("unterminated escape") }
        offset += 1
        switch c {
        case UInt8(ascii: "\""): decoded.append(byte: 0x22)
        case UInt8(ascii: "\\"): decoded.append(byte: 0x5C)
        case UInt8(ascii: "/"): decoded.append(byte: 0x2F)
        case UInt8(ascii: "b"): decoded.append(byte: 0x08)
        case UInt8(ascii: "f"): decoded.append(byte: 0x0C)
        case UInt8(ascii: "n"): decoded.append(byte: 0x0A)
        case UInt8(ascii: "r"): decoded.append(byte: 0x0D)
        case UInt8(ascii: "t"): decoded.append(byte: 0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate in \\u escape")
                }
                offset += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired surrogate in \\u escape")
            }
            // Safe: the scalar is at most 0x10FFFF and not a surrogate.
            for unit in UTF8.encode(Unicode.Scalar(scalar)!)! { decoded.append(byte: unit) }
        default:
            offset -= 1
            throw error("invalid escape")
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        guard bytes.count - offset >= 4 else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }

    /// Validates the UTF-8 encoded scalar of two to four bytes at `offset`
    /// and returns its length.
    mutating func multibyteScalarLength() throws -> Int {
        let lead = bytes[offset]
        let length: Int
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
        default: throw error("invalid UTF-8")
        }
        guard bytes.count - offset >= length else { throw error("invalid UTF-8") }
        for i in 1..<length {
            let b = bytes[offset + i]
            guard b & 0xC0 == 0x80 else { throw error("invalid UTF-8") }
            scalar = scalar << 6 | UInt32(b & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
            throw error("invalid UTF-8")
        }
        return length
    }
}

// MARK: - Writing

extension JSONValue {
    /// Compact JSON text.
    public var serialized: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite { out.append(contentsOf: d.description.utf8) } else { out.append(contentsOf: "null".utf8) }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        var text = s
        text.withUTF8 { writeString(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Writes UTF-8 bytes as a JSON string. Runs without escapes are copied
    /// whole, as typed bytes (one memcpy each): most strings have none. A
    /// run appended as raw bytes went through the generic sequence path,
    /// a byte at a time, and was a third of the JSON output of a find.
    static func writeString(utf8: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let count = utf8.count
        guard count > 0, let base = utf8.baseAddress else {
            out.append(UInt8(ascii: "\""))
            return
        }
        // Safe: UInt8 is a trivial type that may view any bytes.
        let text = base.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var position = 0
        while position < count {
            let byte = text[position]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                position += 1
                continue
            }
            if position > runStart { out.append(contentsOf: UnsafeBufferPointer(start: text + runStart, count: position - runStart)) }
            position += 1
            runStart = position
            out.append(0x5C)
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                let hex = UInt8(ascii: "0")
                out.append(UInt8(ascii: "u"))
                out.append(hex)
                out.append(hex)
                out.append(byte >> 4 < 10 ? hex + (byte >> 4) : UInt8(ascii: "a") + (byte >> 4) - 10)
                out.append(byte & 0xF < 10 ? hex + (byte & 0xF) : UInt8(ascii: "a") + (byte & 0xF) - 10)
            }
        }
        if count > runStart { out.append(contentsOf: UnsafeBufferPointer(start: text + runStart, count: count - runStart)) }
        out.append(UInt8(ascii: "\""))
    }

    /// As writeString(utf8:to:) for [UInt8], into a ByteBuffer: each byte
    /// written is a store after one capacity check, where an Array's append
    /// also checks that its storage is unique (a runtime call per append).
    static func writeString(utf8: UnsafeRawBufferPointer, to out: ByteBuffer) {
        // Most strings a document holds are short field names and values
        // with nothing to escape: checked and copied in one pass, without
        // the word loop's setup and a memcpy call (half their cost).
        if utf8.count <= 16, let base = utf8.baseAddress, out.appendQuotedIfPlain(base, count: utf8.count) { return }
        out.append(byte: UInt8(ascii: "\""))
        let count = utf8.count
        guard count > 0, let base = utf8.baseAddress else {
            out.append(byte: UInt8(ascii: "\""))
            return
        }
        let text = base.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var position = 0
        while position < count {
            // Eight bytes at a time while none of them needs an escape
            // (a byte below 0x20, '"' or '\\'; the tests are exact as to
            // whether a word holds one, if not which).
            while position + 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(text + position).loadUnaligned(as: UInt64.self))
                let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                let control = (word &- 0x2020_2020_2020_2020) & ~word & highs
                let quote = word ^ 0x2222_2222_2222_2222, backslash = word ^ 0x5C5C_5C5C_5C5C_5C5C
                let quotes = (quote &- ones) & ~quote & highs
                let backslashes = (backslash &- ones) & ~backslash & highs
                guard control | quotes | backslashes == 0 else { break }
                position += 8
            }
            guard position < count else { break }
            let byte = text[position]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                position += 1
                continue
            }
            if position > runStart { out.append(base + runStart, count: position - runStart) }
            position += 1
            runStart = position
            out.append(byte: 0x5C)
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte: byte)
            case 0x0A: out.append(byte: UInt8(ascii: "n"))
            case 0x0D: out.append(byte: UInt8(ascii: "r"))
            case 0x09: out.append(byte: UInt8(ascii: "t"))
            default:
                let hex = UInt8(ascii: "0")
                out.append(byte: UInt8(ascii: "u"))
                out.append(byte: hex)
                out.append(byte: hex)
                out.append(byte: byte >> 4 < 10 ? hex + (byte >> 4) : UInt8(ascii: "a") + (byte >> 4) - 10)
                out.append(byte: byte & 0xF < 10 ? hex + (byte & 0xF) : UInt8(ascii: "a") + (byte & 0xF) - 10)
            }
        }
        if count > runStart { out.append(base + runStart, count: count - runStart) }
        out.append(byte: UInt8(ascii: "\""))
    }

    /// Writes a finite double as its `description` reads (the shortest
    /// text that parses back to the same double), without the String that
    /// `description` makes, when the value is at least 0.001 and below
    /// 2^50 in magnitude: the shortest such text then has a fixed-point
    /// form, found by trying 0, 1, 2... fraction digits. With k fraction
    /// digits, m = round(|value| x 10^k) is exact (below 2^50 the product's
    /// rounding error is under 1/16) and m / 10^k is correctly rounded (both
    /// exact doubles, as in JSONParser.exactDouble), so the first k whose
    /// m / 10^k is the value gives the shortest text, and of that length
    /// the nearest one, as `description` does. Returns false, having
    /// written nothing, for other values.
    static func writeShortDecimal(_ value: Double, to out: ByteBuffer) -> Bool {
        let magnitude = value.magnitude
        guard magnitude >= 0.001, magnitude < 0x1p50 else { return false }
        var digits = 0
        while digits <= 22 {
            let power = exactPowersOfTen[digits]
            let scaled = (magnitude * power).rounded()
            guard scaled < 0x1p50 else { return false }
            if scaled / power == magnitude {
                // Safe: 0 <= scaled < 2^50, an integer.
                let m = UInt64(scaled)
                if value < 0 { out.append(byte: UInt8(ascii: "-")) }
                // Fits: 0.001 x 10^digits <= scaled < 2^50 keeps digits <= 18.
                let divisor = UInt64(power)
                withDigits(of: m / divisor) { out.append(UnsafeRawPointer($0.baseAddress!), count: $0.count) }
                out.append(byte: UInt8(ascii: "."))
                if digits == 0 {
                    out.append(byte: UInt8(ascii: "0"))
                } else {
                    var fraction = m % divisor
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 22) { text in
                        for position in stride(from: digits - 1, through: 0, by: -1) {
                            text[position] = UInt8(ascii: "0") + UInt8(fraction % 10)
                            fraction /= 10
                        }
                        out.append(UnsafeRawPointer(text.baseAddress!), count: digits)
                    }
                }
                return true
            }
            digits += 1
        }
        return false
    }

    /// As writeInteger(_:to:) for [UInt8], into a ByteBuffer.
    static func writeInteger(_ value: Int64, to out: ByteBuffer) {
        if value < 0 { out.append(byte: UInt8(ascii: "-")) }
        withDigits(of: value.magnitude) { out.append(UnsafeRawPointer($0.baseAddress!), count: $0.count) }
    }

    /// Writes a decimal integer without making a String.
    static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // A typed buffer: appended with one copy, not byte by byte.
        withDigits(of: value.magnitude) { out.append(contentsOf: $0) }
    }

    /// The decimal digits of `magnitude`, most significant first, in a
    /// buffer on the stack.
    @inline(__always)
    private static func withDigits(of magnitude: UInt64, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = magnitude
            var count = 0
            repeat {
                digits[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            body(UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }
}
