// How an update runs: which form it takes (update_one, update_many,
// replace_one), and the options of updates and find-and-modify calls.

public enum UpdateMode: Sendable {
    /// update_one: operators, first match.
    case one
    /// update_many: operators, every match.
    case many
    /// replace_one: a replacement document, first match.
    case replaceOne
    /// Either form, first match (the Swift API's convenience).
    case oneAnyForm
}

extension Database {
    public typealias UpdateMode = Cairn.UpdateMode

    /// Operators for update_one/update_many, a replacement for replace_one.
    static func check(_ update: Update, mode: UpdateMode) throws {
        switch (update.kind, mode) {
        case (.replacement, .one), (.replacement, .many):
            throw CairnError.invalidArgument("update: \(mode == .many ? "update_many" : "update_one") needs update operators or a pipeline; use replace_one to replace a document")
        case (.operators, .replaceOne), (.pipeline, .replaceOne):
            throw CairnError.invalidArgument("replacement: replace_one takes a document without update operators")
        default:
            break
        }
    }
}

/// The options of update_one and update_many: `{"upsert": true,
/// "array_filters": [{"x.grade": {"$gte": 85}}]}`; any other key is
/// INVALID_ARGUMENT naming it. Empty input means none.
struct UpdateOptions {
    var upsert = false
    var arrayFilters: [(id: String, filter: Filter)] = []

    static func parse(json: UnsafeRawBufferPointer) throws -> UpdateOptions {
        var options = UpdateOptions()
        guard json.count > 0 else { return options }
        let document = try DocumentBuilder.value(fromJSON: json, what: "update options")
        try document.withUnsafeBytes { raw in
            let value = DocumentValue(raw)
            guard value.tag == .object else { throw CairnError.invalidArgument("update options must be a JSON object") }
            for (key, member) in try value.members() {
                switch key {
                case "upsert":
                    guard case .bool(let flag) = try member.kind() else { throw CairnError.invalidArgument("update options.upsert must be true or false") }
                    options.upsert = flag
                case "array_filters":
                    options.arrayFilters = try Update.parseArrayFilters(member, at: "update options.array_filters")
                default:
                    throw CairnError.invalidArgument("update options.\(key): unknown option (known: upsert, array_filters)")
                }
            }
        }
        return options
    }
}

/// Options of find_one_and_update, find_one_and_replace and
/// find_one_and_delete.
struct FindAndModifyOptions {
    var sort: [(path: [String], direction: Int)] = []
    var projection: Projection?
    var upsert = false
    var returnAfter = false
    var arrayFilters: [(id: String, filter: Filter)] = []

    static let known = ["sort", "projection", "upsert", "return_document"]

    static func parse(json: UnsafeRawBufferPointer, allowing allowed: [String] = known) throws -> FindAndModifyOptions {
        var options = FindAndModifyOptions()
        guard json.count > 0 else { return options }
        let document = try DocumentBuilder.document(fromJSON: json, what: "options")
        try document.withUnsafeBytes { raw in
            for (key, value) in try DocumentValue(raw).members() {
                guard allowed.contains(key) else {
                    throw CairnError.invalidArgument("options.\(key): unknown option (known: \(allowed.joined(separator: ", ")))")
                }
                switch key {
                case "sort":
                    options.sort = try FindOptions.parseSort(value, at: "options.sort")
                case "projection":
                    options.projection = try Projection.parse(value, what: "options.projection")
                case "upsert":
                    guard case .bool(let flag) = try value.kind() else { throw CairnError.invalidArgument("options.upsert must be true or false") }
                    options.upsert = flag
                case "return_document":
                    guard case .string(let utf8) = try value.kind(), ["before", "after"].contains(String(decoding: utf8, as: UTF8.self)) else {
                        throw CairnError.invalidArgument("options.return_document must be \"before\" or \"after\"")
                    }
                    options.returnAfter = String(decoding: utf8, as: UTF8.self) == "after"
                case "array_filters":
                    options.arrayFilters = try Update.parseArrayFilters(value, at: "options.array_filters")
                default:
                    break  // refused above
                }
            }
        }
        return options
    }

    /// A stored document as the caller gets it: through the projection,
    /// as JSON; nil stays nil (an upsert asked for "before").
    func present(_ binary: [UInt8]?) throws -> String? {
        guard var chosen = binary else { return nil }
        if let projection {
            chosen = try chosen.withUnsafeBytes { try projection.apply(to: try MutableValue(DocumentValue($0))).encoded() }
        }
        return try chosen.withUnsafeBytes { try DocumentValue($0).json() }
    }
}
