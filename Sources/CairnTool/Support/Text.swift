/// Small text helpers of the tool: CSV quoting, base64, bracket balance.
enum CSV {
    /// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a
    /// line break, with quotes doubled.
    static func quote(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = "\""
        for ch in text { if ch == "\"" { out += "\"\"" } else { out.append(ch) } }
        out += "\""
        return out
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decoding: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
            out += rest == 2 ? [alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")] : [UInt8(ascii: "="), UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil when `text` is not base64.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [], bits: UInt32 = 0, count = 0, padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") { padding += 1; continue }
            guard padding == 0 else { return nil }
            let v = decoding[Int(c)]
            guard v != 0xFF else { return nil }
            bits = bits << 6 | UInt32(v)
            count += 1
            if count == 4 {
                out += [UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
                bits = 0; count = 0
            }
        }
        switch count {
        case 0: break
        case 2: out.append(UInt8(bits >> 4 & 0xFF))
        case 3: out += [UInt8(bits >> 10 & 0xFF), UInt8(bits >> 2 & 0xFF)]
        default: return nil
        }
        return out
    }
}

/// Tracks whether JSON text typed so far has unbalanced brackets, outside
/// strings: the shell reads more lines while it has.
struct BracketBalance {
    private(set) var depth = 0
    private var inString = false
    private var escaped = false

    mutating func feed<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
    }

    var isOpen: Bool { depth > 0 || inString }
}

/// A key or value for people and JSON: text when it is UTF-8, else
/// extended JSON's binary.
func keyValueJSON(_ bytes: UnsafeRawBufferPointer) -> JSONValue {
    if let text = String(validating: bytes, as: UTF8.self) { return .string(text) }
    return .object([("$binary", .object([("base64", .string(Base64.encode(bytes))), ("subType", .string("00"))]))])
}

/// The bytes of a key or value given as a JSON string or extended JSON's
/// binary; nil when it is neither.
func keyValueBytes(_ value: JSONValue) -> [UInt8]? {
    switch value {
    case .string(let text): return Array(text.utf8)
    case .object(let members):
        guard members.count == 1, members[0].key == "$binary" else { return nil }
        switch members[0].value {
        case .string(let b64): return Base64.decode(b64)
        case .object(let inner):
            guard case .string(let b64)? = inner.first(where: { $0.key == "base64" })?.value else { return nil }
            return Base64.decode(b64)
        default: return nil
        }
    default: return nil
    }
}

import Cairn
