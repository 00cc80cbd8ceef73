/// MongoDB's bulkWrite: a list of inserts, updates, replacements and
/// deletes on one collection, run in order. Each operation is atomic on its
/// own (on the database, a short transaction; in an explicit transaction,
/// an operation of it), as if each were called by itself; the list as a
/// whole is not. Ordered, the first operation that fails stops the list
/// and those before it stay applied; unordered, every operation is tried
/// and the failures are reported. As in insert_many, an operation's own
/// failure (a duplicate key, the schema, a malformed filter or update) is
/// reported, while a failure of the database itself (closed, I/O, no
/// space, a conflict in a transaction) stops the call and is thrown.
///
/// The operations, as JSON (pymongo's request classes by their names):
///   {"insert_one": {"document": {...}}}
///   {"update_one" | "update_many": {"filter": {...}, "update": {...} or [stages],
///                                   "upsert": bool, "array_filters": [...]}}
///   {"replace_one": {"filter": {...}, "replacement": {...}, "upsert": bool}}
///   {"delete_one" | "delete_many": {"filter": {...}}}
/// Options: {"ordered": bool}, true by default.
public struct BulkWriteResult: Sendable {
    public var insertedCount = 0
    public var matchedCount = 0
    public var modifiedCount = 0
    public var deletedCount = 0
    public var upsertedCount = 0
    /// The primary keys (JSON) of inserted and upserted documents, by the
    /// index of the operation that wrote them.
    public var insertedIDs: [(index: Int, id: String)] = []
    public var upsertedIDs: [(index: Int, id: String)] = []
    /// The operations that failed: their index and why.
    public var errors: [(index: Int, error: CairnError)] = []

    /// {"inserted_count", "matched_count", "modified_count", "deleted_count",
    /// "upserted_count", "inserted_ids": {"0": id, ...}, "upserted_ids":
    /// {"3": id}, "errors": [{"index", "code", "status", "message"}]}
    public var json: String {
        func ids(_ list: [(index: Int, id: String)]) -> String {
            "{" + list.map { JSONValue.string(String($0.index)).serialized + ":" + $0.id }.joined(separator: ",") + "}"
        }
        let errorList = errors.map { entry -> JSONValue in
            .object([("index", .int(Int64(entry.index))), ("code", .int(Int64(entry.error.code.rawValue))),
                     ("status", .string(entry.error.code.name)), ("message", .string(entry.error.message))])
        }
        return "{\"inserted_count\":\(insertedCount),\"matched_count\":\(matchedCount),\"modified_count\":\(modifiedCount)"
            + ",\"deleted_count\":\(deletedCount),\"upserted_count\":\(upsertedCount)"
            + ",\"inserted_ids\":" + ids(insertedIDs) + ",\"upserted_ids\":" + ids(upsertedIDs)
            + ",\"errors\":" + JSONValue.array(errorList).serialized + "}"
    }
}

/// One operation of a bulk write, checked for shape before any runs.
enum BulkOperation {
    case insertOne(document: [UInt8])
    case update(filter: [UInt8], update: [UInt8], mode: UpdateMode, options: [UInt8])
    case delete(filter: [UInt8], many: Bool)

    /// The operations of `json`: INVALID_ARGUMENT naming the first that is
    /// not of a known shape ("operations[2].update_one: ...").
    static func parse(_ json: UnsafeRawBufferPointer) throws -> [BulkOperation] {
        guard case .array(let items) = try JSONValue.parse(json, what: "operations") else {
            throw CairnError.invalidArgument("operations must be a JSON array")
        }
        return try items.enumerated().map { index, item in try operation(item, path: "operations[\(index)]") }
    }

    private static func operation(_ item: JSONValue, path: String) throws -> BulkOperation {
        guard case .object(let members) = item, members.count == 1, let member = members.first else {
            throw CairnError.invalidArgument("\(path) must be an object with one operation, such as {\"insert_one\": {\"document\": {...}}}")
        }
        let name = member.key, spec = member.value
        let where_ = "\(path).\(name)"
        guard case .object(let fields) = spec else { throw CairnError.invalidArgument("\(where_) must be an object") }
        func take(_ allowed: [String], required: [String]) throws -> [String: JSONValue] {
            var found: [String: JSONValue] = [:]
            for (key, value) in fields {
                guard allowed.contains(key) else { throw CairnError.invalidArgument("\(where_): unknown field \"\(key)\"") }
                guard found.updateValue(value, forKey: key) == nil else {
                    throw CairnError.invalidArgument("\(where_): duplicate field \"\(key)\"")
                }
            }
            for key in required where found[key] == nil { throw CairnError.invalidArgument("\(where_) lacks \"\(key)\"") }
            return found
        }
        func text(_ value: JSONValue) -> [UInt8] { Array(value.serialized.utf8) }
        func updateOptions(_ found: [String: JSONValue]) throws -> [UInt8] {
            var options: [(key: String, value: JSONValue)] = []
            if let upsert = found["upsert"] {
                guard case .bool = upsert else { throw CairnError.invalidArgument("\(where_).upsert must be a boolean") }
                options.append(("upsert", upsert))
            }
            if let arrayFilters = found["array_filters"] { options.append(("array_filters", arrayFilters)) }
            return text(.object(options))
        }
        switch name {
        case "insert_one":
            let found = try take(["document"], required: ["document"])
            return .insertOne(document: text(found["document"]!))
        case "update_one", "update_many":
            let found = try take(["filter", "update", "upsert", "array_filters"], required: ["filter", "update"])
            return .update(filter: text(found["filter"]!), update: text(found["update"]!), mode: name == "update_one" ? .one : .many,
                           options: try updateOptions(found))
        case "replace_one":
            let found = try take(["filter", "replacement", "upsert"], required: ["filter", "replacement"])
            return .update(filter: text(found["filter"]!), update: text(found["replacement"]!), mode: .replaceOne,
                           options: try updateOptions(found))
        case "delete_one", "delete_many":
            let found = try take(["filter"], required: ["filter"])
            return .delete(filter: text(found["filter"]!), many: name == "delete_many")
        default:
            throw CairnError.invalidArgument("\(path): unknown operation \"\(name)\" (insert_one, update_one, update_many, replace_one, delete_one, delete_many)")
        }
    }

    /// Whether `error` is this operation's own failure, reported in the
    /// result, rather than the database's, which stops the call.
    static func isOperationFailure(_ error: CairnError) -> Bool {
        switch error.code {
        case .constraint, .schema, .invalidArgument, .notFound: return true
        default: return false
        }
    }
}

extension Scope {
    /// Runs the operations of `operationsJSON` on `collection` (see
    /// BulkWriteResult) with options `{"ordered": bool}`.
    public func bulkWrite(collection: String, operationsJSON: UnsafeRawBufferPointer,
                          optionsJSON: UnsafeRawBufferPointer) throws -> BulkWriteResult {
        var ordered = true
        if optionsJSON.count > 0 {
            guard case .object(let members) = try JSONValue.parse(optionsJSON, what: "bulk write options") else {
                throw CairnError.invalidArgument("bulk write options must be a JSON object")
            }
            for (key, value) in members {
                guard key == "ordered" else { throw CairnError.invalidArgument("bulk write options: unknown option \"\(key)\"") }
                guard case .bool(let flag) = value else { throw CairnError.invalidArgument("bulk write options: ordered must be a boolean") }
                ordered = flag
            }
        }
        let operations = try BulkOperation.parse(operationsJSON)
        try CollectionInfo.validate(name: collection)
        // Refused as a whole, not once per operation.
        if let transaction, transaction.isReadOnly { throw CairnError.invalidArgument("the transaction is read-only") }
        var result = BulkWriteResult()
        running: for (index, operation) in operations.enumerated() {
            do {
                switch operation {
                case .insertOne(let document):
                    let id = try document.withUnsafeBytes { try insertOne(into: collection, json: $0) }
                    result.insertedCount += 1
                    result.insertedIDs.append((index, id))
                case .update(let filter, let update, let mode, let options):
                    let outcome = try filter.withUnsafeBytes { f in
                        try update.withUnsafeBytes { u in
                            try options.withUnsafeBytes { o in
                                try self.update(collection: collection, filterJSON: f, updateJSON: u, mode: mode, optionsJSON: o)
                            }
                        }
                    }
                    result.matchedCount += outcome.matched
                    result.modifiedCount += outcome.modified
                    if let id = outcome.upsertedID {
                        result.upsertedCount += 1
                        result.upsertedIDs.append((index, id))
                    }
                case .delete(let filter, let many):
                    result.deletedCount += try filter.withUnsafeBytes { try delete(collection: collection, filterJSON: $0, many: many) }
                }
            } catch let error as CairnError where BulkOperation.isOperationFailure(error) {
                result.errors.append((index, error))
                if ordered { break running }
            }
        }
        return result
    }
}
