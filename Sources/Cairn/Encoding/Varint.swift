/// LEB128 variable-length unsigned integers, as LevelDB and protobuf use
/// them: 7 bits a byte, low bits first, the high bit set on every byte but
/// the last. Part of the on-disk format of the write-ahead log, the
/// manifest and the tables; never change.
enum Varint {
    /// The most bytes a 64-bit varint can take.
    static let maxLength = 10

    /// The bytes `append` writes for `value`.
    static func length(of value: UInt64) -> Int {
        var length = 1
        var v = value
        while v >= 0x80 {
            v >>= 7
            length += 1
        }
        return length
    }

    static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }
}

/// Reads the framed fields of a record from borrowed bytes, never past the
/// end: every read checks the remaining length and throws CORRUPTION.
struct ByteReader {
    let base: UnsafeRawBufferPointer
    private(set) var offset: Int = 0
    let what: String

    init(_ base: UnsafeRawBufferPointer, what: String) {
        self.base = base
        self.what = what
    }

    var isAtEnd: Bool { offset >= base.count }
    var remaining: Int { base.count - offset }

    mutating func readByte() throws -> UInt8 {
        guard offset < base.count else { throw truncated() }
        defer { offset += 1 }
        return base[offset]
    }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw CairnError.corruption("\(what): varint overflows 64 bits at byte \(offset)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw CairnError.corruption("\(what): varint too long at byte \(offset)") }
        }
    }

    mutating func readUInt64LE() throws -> UInt64 {
        guard remaining >= 8 else { throw truncated() }
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Borrows `count` bytes; the view lives as long as `base`.
    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw truncated() }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)])
    }

    /// A length-prefixed byte string.
    mutating func readLengthPrefixed() throws -> UnsafeRawBufferPointer {
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw truncated() }
        return try readBytes(Int(length))
    }

    private func truncated() -> CairnError {
        CairnError.corruption("\(what): record truncated at byte \(offset)")
    }
}

extension Array where Element == UInt8 {
    mutating func appendUInt64LE(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendUInt32LE(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends a literal's UTF-8 with one copy (a String's `utf8` view is
    /// appended byte by byte).
    mutating func appendText(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    mutating func appendLengthPrefixed(_ bytes: UnsafeRawBufferPointer) {
        Varint.append(UInt64(bytes.count), to: &self)
        append(contentsOf: bytes)
    }
}
