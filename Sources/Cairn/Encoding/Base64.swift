/// Standard base64 (RFC 4648, with padding), for extended JSON's $binary.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decoding: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Both ways write into the result's storage directly: a query's
    /// vector arrives as base64 (700 bytes at 128 dimensions), and an
    /// append per byte cost 35 instructions a character.
    static func encode(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        let length = (data.count + 2) / 3 * 4
        return alphabet.withUnsafeBufferPointer { alphabet in
            [UInt8](unsafeUninitializedCapacity: length) { out, count in
                var i = 0, o = 0
                while i + 3 <= data.count {
                    let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
                    out[o] = alphabet[Int((n >> 18) & 63)]
                    out[o + 1] = alphabet[Int((n >> 12) & 63)]
                    out[o + 2] = alphabet[Int((n >> 6) & 63)]
                    out[o + 3] = alphabet[Int(n & 63)]
                    i += 3
                    o += 4
                }
                let rest = data.count - i
                if rest > 0 {
                    var n = UInt32(data[i]) << 16
                    if rest == 2 { n |= UInt32(data[i + 1]) << 8 }
                    out[o] = alphabet[Int((n >> 18) & 63)]
                    out[o + 1] = alphabet[Int((n >> 12) & 63)]
                    out[o + 2] = rest == 2 ? alphabet[Int((n >> 6) & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                }
                count = length
            }
        }
    }

    /// The decoded bytes, or nil when `text` is not valid padded base64:
    /// a length that is a multiple of 4, only alphabet characters, and "="
    /// only as the last one or two.
    static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        let length = text.count
        guard length % 4 == 0 else { return nil }
        guard length > 0 else { return [] }
        let padding = text[length - 1] != UInt8(ascii: "=") ? 0 : text[length - 2] != UInt8(ascii: "=") ? 1 : 2
        var valid = true
        let out = decoding.withUnsafeBufferPointer { table in
            // Safe: every index is a byte, and the table has 256 entries.
            [UInt8](unsafeUninitializedCapacity: length / 4 * 3) { out, count in
                var i = 0, o = 0
                while i < length {
                    let last = i + 4 == length
                    let a = table[Int(text[i])], b = table[Int(text[i + 1])]
                    let c = last && padding == 2 ? 0 : table[Int(text[i + 2])]
                    let d = last && padding >= 1 ? 0 : table[Int(text[i + 3])]
                    guard a | b | c | d >= 0 else {
                        valid = false
                        break
                    }
                    let n = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: n >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: n >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: n)
                    i += 4
                    o += 3
                }
                count = valid ? length / 4 * 3 - padding : 0
            }
        }
        return valid ? out : nil
    }
}
