/// Order-preserving byte encoding of values for index keys: for any two
/// values, comparing their encodings bytewise gives ValueOrder.compare's
/// answer, so an index range is a byte range in the storage engine.
/// Part of the on-disk format of indexes; never change.
///
/// Each value starts with its type rank (ValueOrder.typeRank), then:
///
///     null             nothing
///     number           the ordered double of its value (8 bytes), then the
///                      ordered int64 difference between an int64 and that
///                      double (8 bytes; 0 for doubles), so 1 and 1.0 encode
///                      alike and large int64s keep exact order
///     string           the UTF-8 bytes with 0x00 escaped as 0x00 0xFF,
///                      then the terminator 0x00 0x00
///     binary           u32 BE length, subtype, bytes
///     boolean          0x00 or 0x01
///     date             ordered int64
///     object           for each member: key as a string, then value; then 0x00
///     array            each element; then 0x00
///
/// A descending index field stores the complement of its component's
/// bytes; the string and container encodings are prefix-free, so the
/// complement reverses the order exactly.
enum IndexKey {
    static func append(_ value: DocumentValue, descending: Bool = false, to out: inout [UInt8]) throws {
        let start = out.count
        try appendAscending(value, to: &out)
        if descending {
            for i in start..<out.count { out[i] = ~out[i] }
        }
    }

    private static func appendAscending(_ value: DocumentValue, to out: inout [UInt8]) throws {
        guard let tag = value.tag else { throw CairnError.corruption("document: unknown tag") }
        out.append(ValueOrder.typeRank(tag))
        switch try value.kind() {
        case .null:
            break
        case .int(let i):
            let d = Double(i)
            appendOrderedDouble(d, to: &out)
            // d rounds i to 53 bits; the remainder restores the exact order.
            let remainder: Int64 = d >= 9_223_372_036_854_775_808.0 ? i &- Int64.max &- 1 : i &- Int64(d)
            appendOrderedInt64(remainder, to: &out)
        case .double(let d):
            appendOrderedDouble(d, to: &out)
            appendOrderedInt64(0, to: &out)
        case .string(let utf8):
            appendEscaped(utf8, to: &out)
        case .binary(let data, let subtype):
            out.appendUInt32BE(UInt32(data.count))
            out.append(subtype)
            out.append(contentsOf: data)
        case .bool(let flag):
            out.append(flag ? 1 : 0)
        case .date(let millis):
            appendOrderedInt64(millis, to: &out)
        case .object:
            try value.forEachChild { key, child in
                out.append(1)  // a member follows (0 ends the object)
                appendEscaped(key!, to: &out)
                try appendAscending(child, to: &out)
            }
            out.append(0)
        case .array:
            try value.forEachChild { _, child in
                out.append(1)  // an element follows (0 ends the array)
                try appendAscending(child, to: &out)
            }
            out.append(0)
        }
    }

    private static func appendEscaped(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(byte)
            if byte == 0 { out.append(0xFF) }
        }
        out.append(0)
        out.append(0)
    }

    /// Big-endian with the sign bit flipped: bytewise order is numeric order.
    static func appendOrderedInt64(_ value: Int64, to out: inout [UInt8]) {
        out.appendUInt64BE(UInt64(bitPattern: value) ^ (1 << 63))
    }

    /// IEEE 754 bits, big-endian, with negatives complemented and positives'
    /// sign bit set: bytewise order is numeric order. NaN sorts first; -0 and
    /// +0 encode alike.
    static func appendOrderedDouble(_ value: Double, to out: inout [UInt8]) {
        if value.isNaN {
            out.appendUInt64BE(0)
            return
        }
        let bits = (value == 0 ? 0.0 : value).bitPattern
        out.appendUInt64BE(bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63))
    }
}

extension Array where Element == UInt8 {
    mutating func appendUInt64BE(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendUInt32BE(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
