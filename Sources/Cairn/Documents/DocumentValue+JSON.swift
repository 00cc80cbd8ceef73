/// Binary documents back to JSON text. Dates and binary values become
/// canonical extended JSON ({"$date": "...Z"}, {"$binary": {"base64": ...,
/// "subType": ".."}}), so the text parses back to the same binary. Doubles
/// are written in Swift's shortest round-trip form, always with a '.' or an
/// exponent so they read back as doubles, not integers; Infinity, -Infinity
/// and NaN as {"$numberDouble": "Infinity"} and so on.
extension DocumentValue {
    /// Appends the value as JSON text. One pass over the bytes: each value
    /// is decoded once and its size comes back from writing it, where a
    /// walk through `kind()` and `forEachChild` decoded every size two or
    /// three times (a third of a small query's time went to JSON output).
    func appendJSON(to out: inout [UInt8]) throws {
        let text = ByteBuffer(capacity: 256)
        try appendJSON(to: text)
        let written = text.bytes
        if let base = written.baseAddress {
            out.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: written.count))
        }
    }

    /// Appends the value as JSON text to `out`, which a caller that writes
    /// many documents (a find's cursor) reuses: the writer stores bytes
    /// after one capacity check each, where appending to an Array also
    /// checked the uniqueness of its storage (a runtime call) every time.
    func appendJSON(to out: ByteBuffer) throws {
        _ = try DocumentValue.writeJSON(bytes, depth: 0, to: out)
    }

    private static func corruptJSON(_ detail: String) -> CairnError { CairnError.corruption("document: \(detail)") }

    /// Writes the value that starts `bytes` (which may run on) and returns
    /// its size in bytes. Every length is checked against the bytes there
    /// are: damage is CORRUPTION, never a read out of bounds.
    private static func writeJSON(_ bytes: UnsafeRawBufferPointer, depth: Int, to out: ByteBuffer) throws -> Int {
        guard let first = bytes.first, let tag = DocumentTag(rawValue: first) else { throw corruptJSON("unknown tag") }
        switch tag {
        case .null:
            out.append("null")
            return 1
        case .false:
            out.append("false")
            return 1
        case .true:
            out.append("true")
            return 1
        case .int, .double, .date:
            guard bytes.count >= 9 else { throw corruptJSON("truncated number") }
            let raw = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            switch tag {
            case .int: JSONValue.writeInteger(Int64(bitPattern: raw), to: out)
            case .date: viaArray(out) { writeDate(Int64(bitPattern: raw), to: &$0) }
            default: writeDouble(Double(bitPattern: raw), to: out)
            }
            return 9
        case .string, .binary:
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[1...]), what: "document")
            let length = try reader.readVarint()
            let extra = tag == .binary ? 1 : 0
            guard reader.remaining >= extra, length <= UInt64(reader.remaining - extra) else {
                throw corruptJSON("truncated string or binary")
            }
            let start = 1 + reader.offset + extra
            let data = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(length))])
            if tag == .string {
                JSONValue.writeString(utf8: data, to: out)
            } else {
                viaArray(out) { writeBinary(data, subtype: bytes[1 + reader.offset], to: &$0) }
            }
            return start + Int(length)
        case .array, .object:
            guard bytes.count >= 9 else { throw corruptJSON("truncated container") }
            // Documents are at most DocumentLimits.maxDepth deep (results of
            // a pipeline that nests them, a little more): ten times that is
            // damage, and must not exhaust the stack.
            guard depth <= 10 * DocumentLimits.maxDepth else { throw corruptJSON("nested deeper than \(10 * DocumentLimits.maxDepth)") }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
            guard length >= 4, length <= bytes.count - 5 else { throw corruptJSON("container length out of range") }
            let total = 5 + length
            let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 5, as: UInt32.self)))
            let isObject = tag == .object
            out.append(byte: UInt8(ascii: isObject ? "{" : "["))
            var offset = 9
            for index in 0..<count {
                if index > 0 { out.append(byte: UInt8(ascii: ",")) }
                if isObject {
                    var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[offset..<total]), what: "document")
                    JSONValue.writeString(utf8: try reader.readLengthPrefixed(), to: out)
                    offset += reader.offset
                    out.append(byte: UInt8(ascii: ":"))
                }
                guard offset < total else { throw corruptJSON("child out of range") }
                offset += try writeJSON(UnsafeRawBufferPointer(rebasing: bytes[offset..<total]), depth: depth + 1, to: out)
            }
            guard offset == total else { throw corruptJSON("container length does not match its children") }
            out.append(byte: UInt8(ascii: isObject ? "}" : "]"))
            return total
        }
    }

    /// The rare values (dates, binary) are written by their [UInt8]
    /// writers and copied.
    private static func viaArray(_ out: ByteBuffer, _ write: (inout [UInt8]) -> Void) {
        var text: [UInt8] = []
        write(&text)
        text.withUnsafeBytes { out.append($0) }
    }

    private static func writeDouble(_ value: Double, to out: ByteBuffer) {
        if !value.isFinite {
            // Plain JSON has no Infinity or NaN: canonical extended
            // JSON, which reads back as the same double.
            out.append(#"{"$numberDouble":""#)
            out.append(value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity"))
            out.append(#""}"#)
            return
        }
        if JSONValue.writeShortDecimal(value, to: out) { return }
        // The shortest text that reads back as the same double. A byte
        // scan, not String.contains (which walks Characters).
        var text = value.description
        text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            out.append(raw)
            if !raw.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") }) { out.append(".0") }
        }
    }

    private static func writeBinary(_ data: UnsafeRawBufferPointer, subtype: UInt8, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"$binary":{"base64":""#.utf8)
        out.append(contentsOf: Base64.encode(data))
        let hex = String(subtype, radix: 16)
        out.append(contentsOf: #"","subType":""#.utf8)
        out.append(contentsOf: (hex.count == 1 ? "0" + hex : hex).utf8)
        out.append(contentsOf: #""}}"#.utf8)
    }

    private static func writeDate(_ millis: Int64, to out: inout [UInt8]) {
        if let text = ISO8601.string(milliseconds: millis) {
            out.append(contentsOf: #"{"$date":""#.utf8)
            out.append(contentsOf: text.utf8)
            out.append(contentsOf: #""}"#.utf8)
        } else {
            // Outside years 0 to 9999, canonical extended JSON gives the
            // milliseconds, which read back as the same date.
            out.append(contentsOf: #"{"$date":{"$numberLong":""#.utf8)
            out.append(contentsOf: String(millis).utf8)
            out.append(contentsOf: #""}}"#.utf8)
        }
    }

    func json() throws -> String {
        var out: [UInt8] = []
        try appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
