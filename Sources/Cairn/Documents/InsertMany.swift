// insert_many: the documents of one JSON array, each checked on its own,
// and the options and result of the call.

/// The documents of a JSON array (at most 256 MiB), each checked on its own
/// (an object, at most 16 MiB, valid field names): those that pass as
/// binary documents and those that fail with their error, both with their
/// position. A text that is not a JSON array is INVALID_ARGUMENT.
func documents(ofArray arrayJSON: UnsafeRawBufferPointer) throws
    -> (binaries: [(position: Int, binary: [UInt8])], failures: [(position: Int, error: CairnError)]) {
    guard arrayJSON.count <= 256 << 20 else { throw CairnError.invalidArgument("documents: the array is over 256 MiB") }
    var builder = DocumentBuilder(reservingCapacity: arrayJSON.count, checkingFieldNamesAt: 2)
    try JSONParser.parse(arrayJSON, what: "documents", into: &builder)
    var binaries: [(position: Int, binary: [UInt8])] = []
    var failures: [(position: Int, error: CairnError)] = []
    try builder.withBytes { raw in
        let value = DocumentValue(raw)
        guard value.tag == .array else { throw CairnError.invalidArgument("documents must be a JSON array of objects") }
        var index = 0
        try value.forEachChild { _, element in
            do {
                guard element.tag == .object else { throw CairnError.invalidArgument("document \(index) must be a JSON object") }
                guard element.bytes.count <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("document \(index) is over \(DocumentLimits.maxDocumentBytes) bytes")
                }
                if !builder.fieldNamesValid { try FieldNames.validate(element, path: "document \(index)") }
                binaries.append((index, Array(element.bytes)))
            } catch let error as CairnError {
                failures.append((index, error))
            }
            index += 1
        }
    }
    return (binaries, failures)
}

/// An atomic insert_many that met a failing document: nothing is written.
struct AllOrNothing: Error {
    let errors: [(position: Int, error: CairnError)]
}

/// What insert_many with options did.
public struct InsertManyResult: Sendable {
    /// The primary keys (JSON) of the documents inserted, in order.
    public var insertedIDs: [String]
    /// The documents that failed: their position in the array and why.
    public var errors: [(index: Int, error: CairnError)]

    /// {"inserted_ids": [...], "errors": [{"index", "status", "message"}]}
    public var json: String {
        let errorList = errors.map { entry -> JSONValue in
            .object([("index", .int(Int64(entry.index))), ("code", .int(Int64(entry.error.code.rawValue))),
                     ("status", .string(entry.error.code.name)), ("message", .string(entry.error.message))])
        }
        return "{\"inserted_ids\":[" + insertedIDs.joined(separator: ",") + "],\"errors\":" + JSONValue.array(errorList).serialized + "}"
    }
}

/// Options of insert_many: {"ordered": true, "atomic": false, "ttl":
/// "1h"}.
struct InsertManyOptions {
    var ordered = true
    var atomic = false
    /// Each document expires this long after the insert (Expiry.swift);
    /// a duration string as for key-value TTLs, or milliseconds.
    var ttlMillis: Int64?

    static func parse(json: UnsafeRawBufferPointer) throws -> InsertManyOptions {
        var options = InsertManyOptions()
        guard json.count > 0 else { return options }
        guard case .object(let members) = try JSONValue.parse(json, what: "insert options") else {
            throw CairnError.invalidArgument("insert options must be a JSON object")
        }
        for (key, value) in members {
            if key == "ttl" {
                switch value {
                case .string(let text): options.ttlMillis = try Duration.milliseconds(in: text)
                case .int(let millis) where millis > 0: options.ttlMillis = millis
                default: throw CairnError.invalidArgument("insert options.ttl must be a duration like \"1h\" or a positive number of milliseconds")
                }
                continue
            }
            guard case .bool(let flag) = value else { throw CairnError.invalidArgument("insert options.\(key) must be true or false") }
            switch key {
            case "ordered": options.ordered = flag
            case "atomic": options.atomic = flag
            default: throw CairnError.invalidArgument("insert options.\(key): unknown option (known: ordered, atomic, ttl)")
            }
        }
        return options
    }
}
