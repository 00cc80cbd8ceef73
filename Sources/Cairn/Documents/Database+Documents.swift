/// Something document operations run against: the database (each operation
/// its own transaction) or an explicit transaction (operations join it).
/// The operations themselves live in Transaction+Documents.swift; this
/// layer parses the JSON arguments once and hands the work to a
/// transaction.
public protocol DocumentStore: AnyObject {
    /// Runs `body` in a transaction: for a database, a new one (committed
    /// when `writing`); for a transaction, itself.
    func withTransaction<T>(writing: Bool, _ body: (Transaction) throws -> T) throws -> T
}

extension Database: DocumentStore {
    /// Single operations run one at a time under `documentLock`, each as a
    /// transaction committed at its end. Reads need no lock: they take a
    /// snapshot. A write that conflicts with an explicit transaction
    /// committed meanwhile is simply run again on a fresh snapshot.
    public func withTransaction<T>(writing: Bool, _ body: (Transaction) throws -> T) throws -> T {
        guard writing else { return try body(try Transaction(database: self, readOnly: true, explicit: false)) }
        return try documentLock.withLock {
            var attempt = 0
            while true {
                let transaction = try Transaction(database: self, readOnly: false, explicit: false)
                let result = try body(transaction)
                do {
                    try transaction.commit()
                    return result
                } catch let error as CairnError where error.code == .conflict && attempt < 100 {
                    attempt += 1
                }
            }
        }
    }

    /// Begins an explicit transaction at a snapshot taken now.
    public func beginTransaction(readOnly: Bool = false) throws -> Transaction {
        guard !isClosed else { throw CairnError.closed }
        return try Transaction(database: self, readOnly: readOnly, explicit: true)
    }
}

extension Transaction: DocumentStore {
    public func withTransaction<T>(writing: Bool, _ body: (Transaction) throws -> T) throws -> T {
        try runOperation { try body(self) }
    }
}

extension DocumentStore {
    // MARK: Collections

    /// Creates a collection with options `{"schema": ..., "primary_key":
    /// ...}`. An existing name is INVALID_ARGUMENT.
    public func createCollection(_ name: String, optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws {
        try CollectionInfo.validate(name: name)
        var options = MutableValue.object([])
        if optionsJSON.count > 0 {
            let binary = try DocumentBuilder.document(fromJSON: optionsJSON, what: "collection options")
            options = try binary.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
        }
        try withTransaction(writing: true) { try $0.createCollection(name, options: options) }
    }

    /// The names of all collections, sorted.
    public func collectionNames() throws -> [String] {
        try withTransaction(writing: false) { try $0.collectionNames() }
    }

    // MARK: Writes

    /// Inserts one document (JSON text) and returns its primary key as
    /// JSON. A missing `_id` is generated; a duplicate is CONSTRAINT. The
    /// collection is created on first insert.
    @discardableResult
    public func insertOne(into collection: String, json: UnsafeRawBufferPointer) throws -> String {
        try insertMany(into: collection, documents: [Array(json)]).first!
    }

    /// Inserts the documents of a JSON array atomically. Each document is
    /// limited to 16 MiB; the array as a whole to 256 MiB.
    public func insertMany(into collection: String, arrayJSON: UnsafeRawBufferPointer) throws -> [String] {
        let parsed = try documents(ofArray: arrayJSON)
        if let failure = parsed.failures.first { throw failure.error }
        guard !parsed.binaries.isEmpty else { throw CairnError.invalidArgument("documents: the array is empty") }
        try CollectionInfo.validate(name: collection)
        let binaries = parsed.binaries.map(\.binary)
        return try withTransaction(writing: true) { try $0.insertDocuments(into: collection, binaries: binaries) }
    }

    /// MongoDB's insertMany over a JSON array, with options `{"ordered":
    /// true|false, "atomic": true|false}` (see cairn_insert_many_with_options).
    /// A document that fails is reported, not thrown; the call throws only
    /// for bad options, a non-array, or a failure of the database itself.
    public func insertMany(into collection: String, arrayJSON: UnsafeRawBufferPointer,
                           optionsJSON: UnsafeRawBufferPointer) throws -> InsertManyResult {
        let options = try InsertManyOptions.parse(json: optionsJSON)
        let (binaries, failures) = try documents(ofArray: arrayJSON)
        try CollectionInfo.validate(name: collection)
        do {
            let outcome = try withTransaction(writing: true) { transaction in
                let outcome = try transaction.insertDocumentsSkippingFailures(into: collection, binaries: binaries, failures: failures,
                                                                              ordered: options.ordered || options.atomic)
                if options.atomic && !outcome.errors.isEmpty { throw AllOrNothing(errors: outcome.errors) }
                return outcome
            }
            return InsertManyResult(insertedIDs: outcome.ids, errors: outcome.errors.map { ($0.position, $0.error) })
        } catch let failure as AllOrNothing {
            return InsertManyResult(insertedIDs: [], errors: failure.errors.map { ($0.position, $0.error) })
        }
    }

    /// Inserts documents (each JSON text) atomically: all of them or, on
    /// the first error, none. Returns their primary keys as JSON.
    public func insertMany(into collection: String, documents: [[UInt8]]) throws -> [String] {
        var binaries: [[UInt8]] = []
        for (index, text) in documents.enumerated() {
            let what = documents.count == 1 ? "document" : "document \(index)"
            let binary = try text.withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0, what: what) }
            try binary.withUnsafeBytes { try FieldNames.validate(DocumentValue($0), path: what) }
            binaries.append(binary)
        }
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: true) { try $0.insertDocuments(into: collection, binaries: binaries) }
    }

    public func update(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                       many: Bool, upsert: Bool = false) throws -> (matched: Int, modified: Int, upsertedID: String?) {
        try update(collection: collection, filterJSON: filterJSON, updateJSON: updateJSON, mode: many ? .many : .oneAnyForm, upsert: upsert)
    }

    /// Applies an update to the first (or every) match; with `upsert` and no
    /// match, inserts one built from the filter's equality fields and the
    /// update. A failure on any document changes none.
    public func update(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                       mode: UpdateMode, upsert: Bool) throws -> (matched: Int, modified: Int, upsertedID: String?) {
        try update(collection: collection, filterJSON: filterJSON, updateJSON: updateJSON, mode: mode,
                   options: UpdateOptions(upsert: upsert))
    }

    /// As above, with the update options as JSON: `{"upsert": true,
    /// "array_filters": [...]}`.
    public func update(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                       mode: UpdateMode, optionsJSON: UnsafeRawBufferPointer) throws -> (matched: Int, modified: Int, upsertedID: String?) {
        try update(collection: collection, filterJSON: filterJSON, updateJSON: updateJSON, mode: mode,
                   options: try UpdateOptions.parse(json: optionsJSON))
    }

    private func update(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                        mode: UpdateMode, options: UpdateOptions) throws -> (matched: Int, modified: Int, upsertedID: String?) {
        let filter = try Filter.parse(json: filterJSON)
        let update = try Update.parse(json: updateJSON, arrayFilters: options.arrayFilters)
        try Database.check(update, mode: mode)
        try CollectionInfo.validate(name: collection)
        let result = try withTransaction(writing: true) {
            try $0.updateDocuments(in: collection, filter: filter, update: update, many: mode == .many, upsert: options.upsert)
        }
        return (result.matched, result.modified, result.upsertedID)
    }

    /// Finds the first match (in `options.sort` order), applies the update
    /// operators and returns the document before or after it as JSON; nil
    /// when nothing matched and nothing was upserted. Options: sort,
    /// projection, upsert, return_document ("before" or "after").
    public func findOneAndUpdate(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                                 optionsJSON: UnsafeRawBufferPointer) throws -> (found: Bool, json: String?) {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindAndModifyOptions.parse(json: optionsJSON, allowing: FindAndModifyOptions.known + ["array_filters"])
        let update = try Update.parse(json: updateJSON, arrayFilters: options.arrayFilters)
        try Database.check(update, mode: .one)
        try CollectionInfo.validate(name: collection)
        let result = try withTransaction(writing: true) {
            try $0.updateDocuments(in: collection, filter: filter, update: update, many: false, upsert: options.upsert, sort: options.sort)
        }
        guard result.matched > 0 || result.upsertedID != nil else { return (false, nil) }
        return (true, try options.present(options.returnAfter ? result.after : result.before))
    }

    /// Finds the first match (in `options.sort` order) and replaces it with
    /// `replacementJSON` (a document without operators; its primary key
    /// stays), returning the document before or after as JSON; nil when
    /// nothing matched and nothing was upserted. Options as
    /// findOneAndUpdate.
    public func findOneAndReplace(collection: String, filterJSON: UnsafeRawBufferPointer, replacementJSON: UnsafeRawBufferPointer,
                                  optionsJSON: UnsafeRawBufferPointer) throws -> (found: Bool, json: String?) {
        let filter = try Filter.parse(json: filterJSON)
        let update = try Update.parse(json: replacementJSON)
        try Database.check(update, mode: .replaceOne)
        let options = try FindAndModifyOptions.parse(json: optionsJSON)
        try CollectionInfo.validate(name: collection)
        let result = try withTransaction(writing: true) {
            try $0.updateDocuments(in: collection, filter: filter, update: update, many: false, upsert: options.upsert, sort: options.sort)
        }
        guard result.matched > 0 || result.upsertedID != nil else { return (false, nil) }
        return (true, try options.present(options.returnAfter ? result.after : result.before))
    }

    /// Finds the first match (in `options.sort` order), deletes it and
    /// returns it as JSON (through `options.projection`); nil when nothing
    /// matched. Options: sort, projection.
    public func findOneAndDelete(collection: String, filterJSON: UnsafeRawBufferPointer,
                                 optionsJSON: UnsafeRawBufferPointer) throws -> String? {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindAndModifyOptions.parse(json: optionsJSON, allowing: ["sort", "projection"])
        try CollectionInfo.validate(name: collection)
        let deleted = try withTransaction(writing: true) {
            try $0.deleteDocuments(in: collection, filter: filter, many: false, sort: options.sort).first
        }
        guard let deleted else { return nil }
        return try options.present(deleted)
    }

    /// Deletes the first (or every) document matching `filter`; returns how many.
    public func delete(collection: String, filterJSON: UnsafeRawBufferPointer, many: Bool) throws -> Int {
        let filter = try Filter.parse(json: filterJSON)
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: true) { try $0.deleteDocuments(in: collection, filter: filter, many: many).count }
    }

    // MARK: Reads

    /// A cursor over the documents matching `filter` (JSON; empty matches
    /// all), with find options (sort, skip, limit, projection).
    public func find(collection: String, filterJSON: UnsafeRawBufferPointer,
                     optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws -> DocumentCursor {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindOptions.parse(json: optionsJSON)
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: false) { try $0.openFind(in: collection, filter: filter, options: options) }
    }

    /// The first document find would return, as JSON; nil when none.
    public func findOne(collection: String, filterJSON: UnsafeRawBufferPointer,
                        optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws -> String? {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindOptions.parse(json: optionsJSON)
        try CollectionInfo.validate(name: collection)
        let found = try withTransaction(writing: false) { try $0.findFirst(in: collection, filter: filter, options: options) }
        return found.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The document whose primary key equals the JSON value `idJSON`; nil when none.
    public func findByID(collection: String, idJSON: UnsafeRawBufferPointer) throws -> String? {
        try CollectionInfo.validate(name: collection)
        let id = Array(idJSON)
        let found = try withTransaction(writing: false) { try $0.findByPrimaryKey(in: collection, idJSON: id) }
        return found.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The number of documents matching `filter`; `optionsJSON` may hold
    /// MongoDB's countDocuments options `{"skip": n, "limit": n}` (the
    /// count of the matches after skipping `skip`, at most `limit`).
    public func count(collection: String, filterJSON: UnsafeRawBufferPointer,
                      optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws -> Int {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindOptions.parse(json: optionsJSON, allowing: ["skip", "limit"], what: "count options")
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: false) { try $0.countDocuments(in: collection, filter: filter, options: options) }
    }

    /// The distinct values of `field` among the matches, as a JSON array.
    public func distinct(collection: String, field: String, filterJSON: UnsafeRawBufferPointer) throws -> String {
        let filter = try Filter.parse(json: filterJSON)
        try CollectionInfo.validate(name: collection)
        let json = try withTransaction(writing: false) { try $0.distinctValues(in: collection, field: field, filter: filter) }
        return String(decoding: json, as: UTF8.self)
    }

    /// Runs the find and describes its plan and work as JSON.
    public func explain(collection: String, filterJSON: UnsafeRawBufferPointer, optionsJSON: UnsafeRawBufferPointer) throws -> String {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindOptions.parse(json: optionsJSON)
        try CollectionInfo.validate(name: collection)
        let json = try withTransaction(writing: false) { try $0.explainFind(in: collection, filter: filter, options: options) }
        return String(decoding: json, as: UTF8.self)
    }

    /// Runs an aggregation pipeline (a JSON array of stages).
    public func aggregate(collection: String, pipelineJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        let pipeline = try Pipeline.parse(json: pipelineJSON)
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: false) { try $0.openAggregate(in: collection, pipeline: pipeline) }
    }
}

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
            throw CairnError.invalidArgument("update: \(mode == .many ? "update_many" : "update_one") needs update operators; use replace_one to replace a document")
        case (.operators, .replaceOne):
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

/// The documents of a JSON array (at most 256 MiB), each checked on its own
/// (an object, at most 16 MiB, valid field names): those that pass as
/// binary documents and those that fail with their error, both with their
/// position. A text that is not a JSON array is INVALID_ARGUMENT.
private func documents(ofArray arrayJSON: UnsafeRawBufferPointer) throws
    -> (binaries: [(position: Int, binary: [UInt8])], failures: [(position: Int, error: CairnError)]) {
    guard arrayJSON.count <= 256 << 20 else { throw CairnError.invalidArgument("documents: the array is over 256 MiB") }
    var builder = DocumentBuilder(reservingCapacity: arrayJSON.count)
    try JSONParser.parse(arrayJSON, what: "documents", into: &builder)
    var binaries: [(position: Int, binary: [UInt8])] = []
    var failures: [(position: Int, error: CairnError)] = []
    try builder.bytes.withUnsafeBytes { raw in
        let value = DocumentValue(raw)
        guard value.tag == .array else { throw CairnError.invalidArgument("documents must be a JSON array of objects") }
        var index = 0
        try value.forEachChild { _, element in
            do {
                guard element.tag == .object else { throw CairnError.invalidArgument("document \(index) must be a JSON object") }
                guard element.bytes.count <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("document \(index) is over \(DocumentLimits.maxDocumentBytes) bytes")
                }
                try FieldNames.validate(element, path: "document \(index)")
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
private struct AllOrNothing: Error {
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

/// Options of insert_many: {"ordered": true, "atomic": false}.
struct InsertManyOptions {
    var ordered = true
    var atomic = false

    static func parse(json: UnsafeRawBufferPointer) throws -> InsertManyOptions {
        var options = InsertManyOptions()
        guard json.count > 0 else { return options }
        guard case .object(let members) = try JSONValue.parse(json, what: "insert options") else {
            throw CairnError.invalidArgument("insert options must be a JSON object")
        }
        for (key, value) in members {
            guard case .bool(let flag) = value else { throw CairnError.invalidArgument("insert options.\(key) must be true or false") }
            switch key {
            case "ordered": options.ordered = flag
            case "atomic": options.atomic = flag
            default: throw CairnError.invalidArgument("insert options.\(key): unknown option (known: ordered, atomic)")
            }
        }
        return options
    }
}
