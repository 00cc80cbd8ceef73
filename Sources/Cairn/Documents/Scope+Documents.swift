/// The documents layer's operations, on any scope: each parses its JSON
/// arguments once, then does its work in a transaction (Scope.swift) with
/// the operations of Transaction+Documents.swift.
extension Scope {
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

    /// The instant documents inserted now with `ttlMillis` expire, once the
    /// collection has the TTL index that governs `_expiresAt`. On the
    /// database the index is created here (an index build of its own, before
    /// the insert); an explicit transaction cannot build one mid-way, so
    /// there it must exist already (INVALID_ARGUMENT saying how).
    func expiryForInsert(into collection: String, ttlMillis: Int64) throws -> Int64 {
        let governed = try withTransaction(writing: false) { transaction in
            try transaction.collection(collection).map(DocumentExpiry.governsTTLField) ?? false
        }
        if !governed {
            guard self.transaction == nil else {
                throw CairnError.invalidArgument("insert with a TTL in a transaction needs the TTL index on '\(DocumentExpiry.field)' first: "
                                                 + "create {\"keys\": {\"\(DocumentExpiry.field)\": 1}, \"expireAfterSeconds\": 0} on '\(collection)', "
                                                 + "or insert with a TTL once outside a transaction")
            }
            _ = try DocumentExpiry.indexSpecJSON.withUnsafeBytes { try database.createIndex(collection: collection, specJSON: $0) }
        }
        let (expiresAt, overflow) = database.engine.env.nowMillis().addingReportingOverflow(ttlMillis)
        guard !overflow else { throw CairnError.invalidArgument("TTL of \(ttlMillis) ms is too large") }
        return expiresAt
    }

    /// Inserts one document (JSON text) and returns its primary key as
    /// JSON. A missing `_id` is generated; a duplicate is CONSTRAINT. The
    /// collection is created on first insert.
    @discardableResult
    public func insertOne(into collection: String, json: UnsafeRawBufferPointer) throws -> String {
        let binary = try DocumentBuilder.validatedDocument(fromJSON: json, what: "document")
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: true) { try $0.insertDocuments(into: collection, binaries: [binary]) }.first!
    }

    /// Inserts one document that expires `ttlMillis` after now: its
    /// `_expiresAt` field holds that instant (Expiry.swift).
    @discardableResult
    public func insertOne(into collection: String, json: UnsafeRawBufferPointer, ttlMillis: Int64) throws -> String {
        guard ttlMillis > 0 else { throw CairnError.invalidArgument("TTL must be positive (got \(ttlMillis) ms)") }
        try CollectionInfo.validate(name: collection)
        var binary = try DocumentBuilder.validatedDocument(fromJSON: json, what: "document")
        binary = try DocumentExpiry.stamp(binary, expiresAt: try expiryForInsert(into: collection, ttlMillis: ttlMillis))
        return try withTransaction(writing: true) { try $0.insertDocuments(into: collection, binaries: [binary]) }.first!
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
        var (binaries, failures) = try documents(ofArray: arrayJSON)
        try CollectionInfo.validate(name: collection)
        if let ttl = options.ttlMillis {
            let expiresAt = try expiryForInsert(into: collection, ttlMillis: ttl)
            for position in binaries.indices { binaries[position].binary = try DocumentExpiry.stamp(binaries[position].binary, expiresAt: expiresAt) }
        }
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
            binaries.append(try text.withUnsafeBytes { try DocumentBuilder.validatedDocument(fromJSON: $0, what: what) })
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
