/// Writes one binary document (see DocumentFormat). Containers are opened
/// and closed like a stack; their byte lengths and counts are filled in at
/// close. Also a JSONSink, so JSON text parses straight into binary with
/// extended JSON's `{"$date": ...}` and `{"$binary": ...}` turned into date
/// and binary values.
///
/// Lifecycle: write one value (normally an object), then take `bytes`.
struct DocumentBuilder: JSONSink {
    private(set) var bytes: [UInt8] = []
    /// Open containers: where each one's tag is.
    private var open: [Int] = []

    init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: Scalars

    mutating func null() { bytes.append(DocumentTag.null.rawValue) }

    mutating func bool(_ value: Bool) { bytes.append((value ? DocumentTag.true : DocumentTag.false).rawValue) }

    mutating func int(_ value: Int64) {
        bytes.append(DocumentTag.int.rawValue)
        bytes.appendUInt64LE(UInt64(bitPattern: value))
    }

    mutating func double(_ value: Double) {
        bytes.append(DocumentTag.double.rawValue)
        bytes.appendUInt64LE(value.bitPattern)
    }

    mutating func string(_ utf8: UnsafeRawBufferPointer) {
        bytes.append(DocumentTag.string.rawValue)
        bytes.appendLengthPrefixed(utf8)
    }

    mutating func binary(_ data: UnsafeRawBufferPointer, subtype: UInt8) {
        bytes.append(DocumentTag.binary.rawValue)
        Varint.append(UInt64(data.count), to: &bytes)
        bytes.append(subtype)
        bytes.append(contentsOf: data)
    }

    mutating func date(millisecondsSinceEpoch value: Int64) {
        bytes.append(DocumentTag.date.rawValue)
        bytes.appendUInt64LE(UInt64(bitPattern: value))
    }

    // MARK: Containers

    mutating func beginArray() { begin(.array) }
    mutating func endArray(count: Int) { end(count: count) }
    mutating func beginObject() { begin(.object) }
    mutating func endObject(count: Int) throws {
        let start = open.last!
        end(count: count)
        if count == 1 { try rewriteExtendedJSON(at: start) }
    }

    /// Closes an object without the extended-JSON rewrite (for trees built
    /// in code, where `{"$date": ...}` is already a date).
    mutating func closeObject(count: Int) { end(count: count) }

    mutating func key(_ utf8: UnsafeRawBufferPointer) {
        bytes.appendLengthPrefixed(utf8)
    }

    private mutating func begin(_ tag: DocumentTag) {
        open.append(bytes.count)
        bytes.append(tag.rawValue)
        bytes.appendUInt32LE(0)  // byte length, filled in at the end
        bytes.appendUInt32LE(0)  // count, filled in at the end
    }

    private mutating func end(count: Int) {
        let start = open.removeLast()
        let length = UInt32(bytes.count - start - 5)
        withUnsafeBytes(of: length.littleEndian) { for i in 0..<4 { bytes[start + 1 + i] = $0[i] } }
        withUnsafeBytes(of: UInt32(count).littleEndian) { for i in 0..<4 { bytes[start + 5 + i] = $0[i] } }
    }

    // MARK: Extended JSON

    /// Turns the one-member object just closed at `start` into a date or a
    /// binary value when it is `{"$date": ...}` or `{"$binary": ...}`. The
    /// key is looked at in place first: ordinary one-member objects cost a
    /// byte comparison, not a copy.
    private mutating func rewriteExtendedJSON(at start: Int) throws {
        // Layout: tag | u32 length | u32 count | varint key length | key.
        let keyLength = Int(bytes[start + 9])
        guard keyLength == 5 || keyLength == 7 || keyLength == 13, bytes[start + 10] == UInt8(ascii: "$") else { return }
        let key = bytes[(start + 10)..<(start + 10 + keyLength)]
        guard key.elementsEqual("$date".utf8) || key.elementsEqual("$binary".utf8) || key.elementsEqual("$numberDouble".utf8) else { return }
        let object = Array(bytes[start...])
        try object.withUnsafeBytes { raw in
            let view = DocumentValue(raw)
            guard let (key, value) = try view.members().first else { return }
            switch key {
            case "$date":
                let millis: Int64
                switch try value.kind() {
                case .int(let ms): millis = ms
                case .string(let text):
                    guard let parsed = ISO8601.milliseconds(String(decoding: text, as: UTF8.self)) else {
                        throw CairnError.invalidArgument("$date: '\(String(decoding: text, as: UTF8.self))' is not an ISO-8601 date")
                    }
                    millis = parsed
                case .object:
                    guard let inner = try value.field("$numberLong"), case .string(let digits) = try inner.kind(),
                          let ms = Int64(String(decoding: digits, as: UTF8.self)) else {
                        throw CairnError.invalidArgument("$date must be an ISO-8601 string, milliseconds, or {\"$numberLong\": \"...\"}")
                    }
                    millis = ms
                default:
                    throw CairnError.invalidArgument("$date must be an ISO-8601 string or milliseconds since the epoch")
                }
                bytes.removeSubrange(start...)
                date(millisecondsSinceEpoch: millis)
            case "$numberDouble":
                // Canonical extended JSON's double, the only way JSON text
                // can carry Infinity, -Infinity and NaN.
                guard case .string(let text) = try value.kind() else {
                    throw CairnError.invalidArgument("$numberDouble must be a string such as \"Infinity\" or \"1.5\"")
                }
                let number: Double
                switch String(decoding: text, as: UTF8.self) {
                case "Infinity": number = .infinity
                case "-Infinity": number = -.infinity
                case "NaN": number = .nan
                case let other:
                    guard let parsed = Double(other), parsed.isFinite else {
                        throw CairnError.invalidArgument("$numberDouble: '\(other)' is not a number")
                    }
                    number = parsed
                }
                bytes.removeSubrange(start...)
                double(number)
            case "$binary":
                guard let base64Field = try value.field("base64"), case .string(let text) = try base64Field.kind() else {
                    throw CairnError.invalidArgument("$binary must be {\"base64\": \"...\", \"subType\": \"..\"}")
                }
                var subtype: UInt8 = 0
                if let sub = try value.field("subType") {
                    guard case .string(let hex) = try sub.kind(), let parsed = UInt8(String(decoding: hex, as: UTF8.self), radix: 16) else {
                        throw CairnError.invalidArgument("$binary.subType must be a hex string such as \"00\"")
                    }
                    subtype = parsed
                }
                guard let data = Base64.decode(text) else { throw CairnError.invalidArgument("$binary.base64 is not valid base64") }
                bytes.removeSubrange(start...)
                data.withUnsafeBytes { binary($0, subtype: subtype) }
            default:
                return
            }
        }
    }
}

extension DocumentBuilder {
    /// Parses JSON text into a binary document. Malformed JSON, invalid
    /// UTF-8, nesting deeper than 100, a text or result over 16 MiB, and a
    /// top level that is not an object are INVALID_ARGUMENT naming the byte
    /// offset or the limit; nothing is half-built.
    static func document(fromJSON text: UnsafeRawBufferPointer, what: String = "document") throws -> [UInt8] {
        guard text.count <= DocumentLimits.maxDocumentBytes else {
            throw CairnError.invalidArgument("\(what) is \(text.count) bytes; the limit is \(DocumentLimits.maxDocumentBytes)")
        }
        // The binary form, the write batch, the log record and the memtable.
        try Allocation.reserve(4 * text.count, for: "a \(text.count)-byte \(what)")
        var builder = DocumentBuilder(reservingCapacity: text.count)
        try JSONParser.parse(text, what: what, into: &builder)
        guard builder.bytes.first == DocumentTag.object.rawValue else {
            throw CairnError.invalidArgument("\(what) must be a JSON object")
        }
        guard builder.bytes.count <= DocumentLimits.maxDocumentBytes else {
            throw CairnError.invalidArgument("\(what) is over \(DocumentLimits.maxDocumentBytes) bytes")
        }
        return builder.bytes
    }

    /// Parses any JSON value (not only an object) into its binary form.
    static func value(fromJSON text: UnsafeRawBufferPointer, what: String) throws -> [UInt8] {
        guard text.count <= DocumentLimits.maxDocumentBytes else {
            throw CairnError.invalidArgument("\(what) is \(text.count) bytes; the limit is \(DocumentLimits.maxDocumentBytes)")
        }
        var builder = DocumentBuilder(reservingCapacity: text.count)
        try JSONParser.parse(text, what: what, into: &builder)
        return builder.bytes
    }
}
