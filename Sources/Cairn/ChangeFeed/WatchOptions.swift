/// What a watch follows: one collection, every collection, the keys with a
/// prefix, or every change of the database.
public enum WatchTarget: Sendable, Equatable {
    case everything
    case collections
    case collection(String)
    case keyPrefix([UInt8])
}

/// The options of a watch, parsed from the JSON object every language
/// passes (unknown keys are INVALID_ARGUMENT naming them):
///
///     "filter"                   a filter in MongoDB's language over the
///                                event document, as $match on a change stream
///     "fullDocument"             "default" (or "off"): inserts and
///                                replacements carry the document, updates
///                                not; "updateLookup": updates carry the
///                                document as it is when the event is read;
///                                "whenAvailable": updates carry their
///                                post-image when the collection records
///                                images; "required": as whenAvailable, and an
///                                update without one fails the watch (NOT_FOUND)
///     "fullDocumentBeforeChange" "off" (default), "whenAvailable", "required":
///                                the pre-image of updates, replacements and
///                                deletes of collections that record images
///     "resumeAfter"              an event's _id: start after that event
///     "startAfter"               the same
///     "startAtOperationTime"     an integer: start at the first commit with
///                                that sequence or later; {"$date": ...}: at
///                                the first commit at that time or later
///
/// Without a start, the watch starts now: with the first commit after it
/// was opened.
public struct WatchOptions {
    public enum Images: String, Sendable {
        case off, updateLookup, whenAvailable, required
    }

    public enum Start: Sendable, Equatable {
        case now
        case after(ChangePosition)
        case atTime(Int64)
    }

    var filter: Filter?
    public var fullDocument: Images = .off
    public var fullDocumentBeforeChange: Images = .off
    public var start: Start = .now

    public init() {}

    static let names = ["filter", "fullDocument", "fullDocumentBeforeChange", "resumeAfter", "startAfter", "startAtOperationTime"]

    public static func parse(json: UnsafeRawBufferPointer) throws -> WatchOptions {
        var options = WatchOptions()
        guard json.count > 0 else { return options }
        let document = try DocumentBuilder.document(fromJSON: json, what: "watch options")
        var starts = 0
        try document.withUnsafeBytes { raw in
            let root = DocumentValue(raw)
            guard root.tag == .object else { throw CairnError.invalidArgument("watch options must be a JSON object") }
            for (key, value) in try root.members() {
                switch key {
                case "filter":
                    options.filter = try Filter.parse(document: value, path: "watch options.filter")
                case "fullDocument":
                    guard case .string(let utf8) = try value.kind() else { throw badImages(key) }
                    switch String(decoding: utf8, as: UTF8.self) {
                    case "default", "off": options.fullDocument = .off
                    case "updateLookup": options.fullDocument = .updateLookup
                    case "whenAvailable": options.fullDocument = .whenAvailable
                    case "required": options.fullDocument = .required
                    default: throw badImages(key)
                    }
                case "fullDocumentBeforeChange":
                    guard case .string(let utf8) = try value.kind() else { throw badImages(key) }
                    switch String(decoding: utf8, as: UTF8.self) {
                    case "off": options.fullDocumentBeforeChange = .off
                    case "whenAvailable": options.fullDocumentBeforeChange = .whenAvailable
                    case "required": options.fullDocumentBeforeChange = .required
                    default: throw badImages(key)
                    }
                case "resumeAfter", "startAfter":
                    options.start = .after(try token(value, key))
                    starts += 1
                case "startAtOperationTime":
                    switch try value.kind() {
                    case .int(let sequence):
                        guard sequence >= 1 else { throw CairnError.invalidArgument("watch options.startAtOperationTime: a sequence starts at 1") }
                        options.start = .after(ChangePosition(sequence: UInt64(sequence) - 1, position: UInt32.max))
                    case .date(let ms):
                        options.start = .atTime(ms)
                    default:
                        throw CairnError.invalidArgument("watch options.startAtOperationTime must be a sequence (integer) or a {\"$date\": ...}")
                    }
                    starts += 1
                default:
                    throw CairnError.invalidArgument("unknown watch option '\(key)' (known: \(names.joined(separator: ", ")))")
                }
            }
        }
        guard starts <= 1 else { throw CairnError.invalidArgument("watch options: give at most one of resumeAfter, startAfter, startAtOperationTime") }
        return options
    }

    private static func badImages(_ key: String) -> CairnError {
        key == "fullDocument"
            ? CairnError.invalidArgument("watch options.fullDocument must be \"default\", \"off\", \"updateLookup\", \"whenAvailable\" or \"required\"")
            : CairnError.invalidArgument("watch options.fullDocumentBeforeChange must be \"off\", \"whenAvailable\" or \"required\"")
    }

    /// A resume token: an event's `_id`, {"seq": n, "pos": n}.
    static func token(_ value: DocumentValue, _ key: String) throws -> ChangePosition {
        let bad = CairnError.invalidArgument("watch options.\(key) must be an event's _id: {\"seq\": <integer>, \"pos\": <integer>}")
        guard value.tag == .object else { throw bad }
        var sequence: Int64?, position: Int64?
        for (field, member) in try value.members() {
            guard case .int(let number) = try member.kind(), number >= 0 else { throw bad }
            switch field {
            case "seq": sequence = number
            case "pos": position = number
            default: throw bad
            }
        }
        guard let sequence, let position, position < Int64(UInt32.max) else { throw bad }
        return ChangePosition(sequence: UInt64(sequence), position: UInt32(position))
    }
}
