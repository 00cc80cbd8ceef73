/// Writes one binary document (see DocumentFormat). Containers are opened
/// and closed like a stack; their byte lengths and counts are filled in at
/// close. Also a JSONSink, so JSON text parses straight into binary with
/// extended JSON's `{"$date": ...}` and `{"$binary": ...}` turned into date
/// and binary values.
///
/// Lifecycle: write one value (normally an object), then take `bytes` (a
/// copy) or read them in place with `withBytes`. The bytes live in a
/// ByteBuffer, which every builder owns alone: a builder is passed inout,
/// never copied and written on both sides.
struct DocumentBuilder: JSONSink {
    /// Appending here is a capacity check and a store; an Array's append
    /// also checked its storage's uniqueness (a runtime call), and appending
    /// a view took the generic path: together a third of parsing a
    /// document, which every insert does.
    private let buffer: ByteBuffer
    /// Open containers: where each one's tag is.
    private var open: [Int] = []
    /// How many containers are open where keys are a document's top-level
    /// field names, when keys are checked against FieldNames' rule as
    /// they come (0: not checked).
    private let namesDepth: Int
    /// False once a key broke FieldNames' rule; FieldNames.validate then
    /// finds it again to say which, with its path.
    private(set) var fieldNamesValid = true

    /// `namesDepth`: 1 to check the field names of a document, 2 of an
    /// array of documents, 0 not to check.
    init(reservingCapacity capacity: Int = 256, checkingFieldNamesAt namesDepth: Int = 0) {
        buffer = ByteBuffer(capacity: capacity)
        self.namesDepth = namesDepth
    }

    /// The value built, as an array (a copy).
    var bytes: [UInt8] { buffer.array }

    /// Calls `body` with the value built, in place.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(buffer.bytes) }

    // MARK: Scalars

    mutating func null() { buffer.append(byte: DocumentTag.null.rawValue) }

    mutating func bool(_ value: Bool) { buffer.append(byte: (value ? DocumentTag.true : DocumentTag.false).rawValue) }

    mutating func int(_ value: Int64) {
        buffer.append(byte: DocumentTag.int.rawValue)
        buffer.append(littleEndian: UInt64(bitPattern: value))
    }

    mutating func double(_ value: Double) {
        buffer.append(byte: DocumentTag.double.rawValue)
        buffer.append(littleEndian: value.bitPattern)
    }

    mutating func string(_ utf8: UnsafeRawBufferPointer) {
        buffer.append(byte: DocumentTag.string.rawValue)
        buffer.append(varint: UInt64(utf8.count))
        buffer.append(utf8)
    }

    mutating func binary(_ data: UnsafeRawBufferPointer, subtype: UInt8) {
        buffer.append(byte: DocumentTag.binary.rawValue)
        buffer.append(varint: UInt64(data.count))
        buffer.append(byte: subtype)
        buffer.append(data)
    }

    mutating func date(millisecondsSinceEpoch value: Int64) {
        buffer.append(byte: DocumentTag.date.rawValue)
        buffer.append(littleEndian: UInt64(bitPattern: value))
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
        if namesDepth > 0 && fieldNamesValid && !FieldNames.isValid(utf8, topLevel: open.count == namesDepth) { fieldNamesValid = false }
        buffer.append(varint: UInt64(utf8.count))
        buffer.append(utf8)
    }

    private mutating func begin(_ tag: DocumentTag) {
        open.append(buffer.count)
        buffer.append(byte: tag.rawValue)
        buffer.append(littleEndian: 0 as UInt64)  // u32 byte length and u32 count, filled in at the end
    }

    private mutating func end(count: Int) {
        let start = open.removeLast()
        buffer.store(littleEndian: UInt32(buffer.count - start - 5), at: start + 1)
        buffer.store(littleEndian: UInt32(count), at: start + 5)
    }

    // MARK: Extended JSON

    /// Turns the one-member object just closed at `start` into a date or a
    /// binary value when it is `{"$date": ...}` or `{"$binary": ...}`. The
    /// key is looked at in place first: ordinary one-member objects cost a
    /// byte comparison, not a copy.
    private mutating func rewriteExtendedJSON(at start: Int) throws {
        // Layout: tag | u32 length | u32 count | varint key length | key.
        let written = buffer.bytes
        let keyLength = Int(written[start + 9])
        guard keyLength == 5 || keyLength == 7 || keyLength == 13, written[start + 10] == UInt8(ascii: "$") else { return }
        let key = written[(start + 10)..<(start + 10 + keyLength)]
        guard key.elementsEqual("$date".utf8) || key.elementsEqual("$binary".utf8) || key.elementsEqual("$numberDouble".utf8) else { return }
        let object = Array(written[start...])
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
                buffer.truncate(to: start)
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
                buffer.truncate(to: start)
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
                buffer.truncate(to: start)
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
        try parsed(text, what: what, checkingFieldNames: false).bytes
    }

    /// As document(fromJSON:what:), with the field names checked as well
    /// (FieldNames.validate), in the same pass.
    static func validatedDocument(fromJSON text: UnsafeRawBufferPointer, what: String = "document") throws -> [UInt8] {
        let builder = try parsed(text, what: what, checkingFieldNames: true)
        if !builder.fieldNamesValid { try builder.withBytes { try FieldNames.validate(DocumentValue($0), path: what) } }
        return builder.bytes
    }

    private static func parsed(_ text: UnsafeRawBufferPointer, what: String, checkingFieldNames: Bool) throws -> DocumentBuilder {
        guard text.count <= DocumentLimits.maxDocumentBytes else {
            throw CairnError.invalidArgument("\(what) is \(text.count) bytes; the limit is \(DocumentLimits.maxDocumentBytes)")
        }
        // The binary form, the write batch, the log record and the memtable.
        try Allocation.reserve(4 * text.count, for: "a \(text.count)-byte \(what)")
        var builder = DocumentBuilder(reservingCapacity: text.count, checkingFieldNamesAt: checkingFieldNames ? 1 : 0)
        try JSONParser.parse(text, what: what, into: &builder)
        guard builder.withBytes({ $0.first }) == DocumentTag.object.rawValue else {
            throw CairnError.invalidArgument("\(what) must be a JSON object")
        }
        guard builder.withBytes({ $0.count }) <= DocumentLimits.maxDocumentBytes else {
            throw CairnError.invalidArgument("\(what) is over \(DocumentLimits.maxDocumentBytes) bytes")
        }
        return builder
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
