/// The document operations, written once against a transaction: reads see
/// its snapshot and its own writes, and every document change writes the
/// document and its index entries together. Database runs each of them as
/// a transaction of its own (Scope.swift, Scope+Documents.swift); an explicit
/// transaction runs many before one commit.
extension Transaction {
    // MARK: Catalog

    /// The collection's catalog entry as this transaction sees it.
    func collection(_ name: String) throws -> CollectionInfo? {
        if let cached = documents.collections[name] { return cached }
        try CollectionInfo.validate(name: name)
        let key = CollectionInfo.catalogKey(name)
        if writes.isEmpty, let generation = documents.catalogGeneration, let known = database.documents.catalogCache.cached(name, generation: generation) {
            noteCatalogRead(key)
            documents.collections[name] = known
            return known
        }
        var stored: [UInt8]?
        _ = try readCatalog(key) { stored = Array($0) }
        let info = try stored.withUnsafeBufferPointerIfPresent { raw in
            try database.documents.catalogCache.decode(name: name, entry: raw, generation: writes.isEmpty ? documents.catalogGeneration : nil)
        }
        documents.collections[name] = info
        return info
    }

    /// Writes a collection's catalog entry.
    func save(_ info: CollectionInfo) throws {
        try put(CollectionInfo.catalogKey(info.name), info.encoded())
        documents.collections[info.name] = info
    }

    /// Defines a new collection (the name must be free).
    func defineCollection(_ name: String, primaryKey: String = "_id", schema: Schema? = nil, images: Bool = false) throws -> CollectionInfo {
        var next: UInt32 = 1
        _ = try readCatalog(CollectionInfo.nextIDKey) { raw in
            guard raw.count == 4 else { throw CairnError.corruption("catalog: damaged collection counter") }
            next = UInt32(bigEndian: raw.loadUnaligned(as: UInt32.self))
        }
        var counter: [UInt8] = []
        counter.appendUInt32BE(next + 1)
        try put(CollectionInfo.nextIDKey, counter)
        var info = CollectionInfo(name: name, id: next, primaryKey: primaryKey, schema: schema)
        info.preAndPostImages = images
        try save(info)
        if recordsChanges {
            // The options, so that a replica can create the same collection.
            var options: [(key: String, value: MutableValue)] = []
            if primaryKey != "_id" { options.append(("primary_key", .string(Array(primaryKey.utf8)))) }
            if let schema { options.append(("schema", schema.definition)) }
            if images { options.append(("changeStreamPreAndPostImages", .object([("enabled", .bool(true))]))) }
            recordChange(.collection("create", name, options.isEmpty ? [] : [("o", .object(options))]))
        }
        return info
    }

    func collectionOrCreate(_ name: String) throws -> CollectionInfo {
        try collection(name) ?? defineCollection(name)
    }

    /// cairn_collection_create: options {"schema": ..., "primary_key": "..."}.
    func createCollection(_ name: String, options: MutableValue) throws {
        guard try collection(name) == nil else { throw CairnError.invalidArgument("collection '\(name)' already exists") }
        guard case .object(let members) = options else { throw CairnError.invalidArgument("collection options must be a JSON object") }
        var primaryKey = "_id"
        var schema: Schema?
        var images = false
        for (key, value) in members {
            switch key {
            case "schema":
                schema = try Schema(value)
            case "primary_key":
                guard case .string(let utf8) = value else { throw CairnError.invalidArgument("collection options.primary_key must be a field path") }
                primaryKey = String(decoding: utf8, as: UTF8.self)
                try Filter.validateFieldPath(primaryKey, at: "collection options.primary_key")
            case "changeStreamPreAndPostImages":
                guard case .object(let flags) = value, flags.count == 1, flags[0].key == "enabled", case .bool(let on) = flags[0].value else {
                    throw CairnError.invalidArgument("collection options.changeStreamPreAndPostImages must be {\"enabled\": true or false}")
                }
                images = on
            default:
                throw CairnError.invalidArgument("collection options.\(key): unknown option (known: schema, primary_key, changeStreamPreAndPostImages)")
            }
        }
        _ = try defineCollection(name, primaryKey: primaryKey, schema: schema, images: images)
    }

    // MARK: Writing one document

    /// Replaces the document at `key` (`old`, or none) with `new` (or
    /// deletes it when nil): checks the schema, then updates every index,
    /// checking unique ones. Nothing is written when a check fails, and
    /// the caller discards the transaction's writes on any error (single
    /// operations) or leaves that to the user (explicit transactions),
    /// so a half-done change never commits.
    func writeDocument(_ info: inout CollectionInfo, key: [UInt8], primaryKey: [UInt8],
                       old: DocumentValue?, new: [UInt8]?) throws {
        if let new, let schema = info.schema {
            try new.withUnsafeBytes { try schema.validate(DocumentValue($0)) }
        }
        var catalogChanged = false
        for position in info.indexes.indices {
            let index = info.indexes[position]
            guard index.kind.isOrdered else {
                try new.withUnsafeBufferPointerIfPresent { raw in
                    try updateSearchIndex(index, collection: info.id, primaryKey: primaryKey, old: old, new: raw.map(DocumentValue.init))
                }
                continue
            }
            let before = try old.map { try index.entryKeys(of: $0, collection: info.id, primaryKey: primaryKey).keys } ?? []
            var after: [[UInt8]] = []
            if let new {
                let (keys, multikey) = try new.withUnsafeBytes { try index.entryKeys(of: DocumentValue($0), collection: info.id, primaryKey: primaryKey) }
                after = keys
                if multikey && !index.multikey {
                    info.indexes[position].multikey = true
                    catalogChanged = true
                }
            }
            // Entries in both stay as they are (most updates leave most
            // indexed fields alone).
            let kept = before.isEmpty || after.isEmpty ? [] : Set(before.map(EngineKey.init)).intersection(after.map(EngineKey.init))
            // A graph's adjacency lists may be cached (Graph/AdjacencyCache.swift).
            let adjacency = index.name == GraphDefinition.outIndexName || index.name == GraphDefinition.inIndexName
            for entry in before where kept.isEmpty || !kept.contains(EngineKey(entry)) {
                try delete(entry)
                if adjacency { noteAdjacencyWrite(entry) }
            }
            for entry in after where kept.isEmpty || !kept.contains(EngineKey(entry)) {
                if adjacency { noteAdjacencyWrite(entry) }
                if index.unique {
                    var owner: [UInt8]?
                    if try read(entry, { owner = Array($0) }), let owner, owner != primaryKey,
                       try !removeIfExpired(&info, primaryKey: owner) {
                        throw duplicate(entry, of: index, in: info, document: new)
                    }
                    if index.building && database.documents.indexBuilds.progress(info.name, index.name) == nil {
                        try checkUniqueByScan(entry, of: index, in: info, primaryKey: primaryKey, document: new)
                    }
                }
                try put(entry, index.entryValue(primaryKey: primaryKey))
            }
        }
        if let new { try put(key, new) } else { try delete(key) }
        if catalogChanged { try save(info) }
    }

    /// A unique index whose build a crash interrupted has entries for only
    /// some documents until the next open's background build reaches it, so
    /// its constraint is checked here against every document: slow, but
    /// only in that window (while a build runs it holds the document lock,
    /// and explicit transactions that race it conflict on the entry key).
    private func checkUniqueByScan(_ entry: [UInt8], of index: IndexDefinition, in info: CollectionInfo,
                                   primaryKey: [UInt8], document: [UInt8]?) throws {
        let (lower, upper) = info.documentRange
        let scan = try self.scan(lower: lower, upper: upper)
        while try scan.next() {
            let other = Array(scan.key[lower.count...])
            guard other != primaryKey else { continue }
            let (keys, _) = try index.entryKeys(of: DocumentValue(scan.value), collection: info.id, primaryKey: other)
            if keys.contains(entry) { throw duplicate(entry, of: index, in: info, document: document) }
        }
    }

    /// CONSTRAINT for a unique index violation, naming the index, the
    /// collection and the duplicate value.
    private func duplicate(_ entry: [UInt8], of index: IndexDefinition, in info: CollectionInfo, document: [UInt8]?) -> CairnError {
        let value = document.flatMap { bytes in
            try? bytes.withUnsafeBytes { try index.describe(entry: entry, of: DocumentValue($0), collection: info.id) }
        }
        return CairnError(.constraint, "duplicate key in unique index '\(index.name)' of collection '\(info.name)'"
                          + (value.map { ": \($0)" } ?? ""))
    }

    /// The primary key value of `document`, or INVALID_ARGUMENT.
    private func primaryKeyValue(_ document: DocumentValue, _ info: CollectionInfo, what: @autoclosure () -> String) throws -> DocumentValue {
        guard let value = try document.value(atPath: info.primaryKey) else {
            throw CairnError.invalidArgument("\(what()): the primary key field '\(info.primaryKey)' is missing")
        }
        guard value.tag != .array else { throw CairnError.invalidArgument("\(what()): \(info.primaryKey) may not be an array") }
        return value
    }

    // MARK: Inserts

    /// Inserts validated binary documents, giving each a generated `_id`
    /// when the collection keys by `_id` and it has none. Returns the
    /// primary keys as JSON.
    func insertDocuments(into name: String, binaries: [[UInt8]], label: String? = nil) throws -> [String] {
        var info = try collectionOrCreate(name)
        reserveWrites(binaries.count * (1 + info.indexes.count))
        var ids: [String] = []
        ids.reserveCapacity(binaries.count)
        // A many-document insert reads the collection's largest stored key
        // once; a key above it is not stored, so only the transaction's own
        // writes can hold it (new keys usually ascend: counters, ObjectIDs).
        // This spares a point read per document through every level.
        let bounded = binaries.count >= Transaction.boundedInsertMinimum
        let storedBound = bounded ? try lastStoredDocumentKey(info) : nil
        // The text indexes' counters are written once for all the documents,
        // and the vector indexes' walks share what they read.
        try withTextCounterBatch { try withVectorMemo {
            for (position, original) in binaries.enumerated() {
                func what() -> String { label ?? (binaries.count == 1 ? "document" : "document \(position)") }
                var binary = original
                if info.primaryKey == "_id", try binary.withUnsafeBytes({ try DocumentValue($0).field("_id") }) == nil {
                    guard case .object(var members) = try binary.withUnsafeBytes({ try MutableValue(DocumentValue($0)) }) else { continue }
                    members.insert(("_id", .string(Array(ObjectID.next().utf8))), at: 0)
                    binary = MutableValue.object(members).encoded()
                }
                guard binary.count <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("\(what()) is over \(DocumentLimits.maxDocumentBytes) bytes")
                }
                let (key, primaryKey, idJSON) = try binary.withUnsafeBytes { raw -> ([UInt8], [UInt8], String) in
                    let id = try primaryKeyValue(DocumentValue(raw), info, what: what())
                    var encoded: [UInt8] = []
                    try IndexKey.append(id, to: &encoded)
                    return (CollectionInfo.documentPrefix(info.id) + encoded, encoded, try id.json())
                }
                var mayBeStored = true
                if bounded {
                    // Bounded with nothing stored: no key is.
                    mayBeStored = storedBound.map { bound in key.withUnsafeBytes { k in bound.withUnsafeBytes { compareBytes(k, $0) <= 0 } } } ?? false
                }
                let exists = mayBeStored ? try read(key) : try pendingValueExists(key)
                if exists, try !removeIfExpired(&info, primaryKey: primaryKey) {
                    throw CairnError(.constraint, "duplicate \(info.primaryKey) \(idJSON) in collection '\(name)'")
                }
                try writeDocument(&info, key: key, primaryKey: primaryKey, old: nil, new: binary)
                if recordsChanges {
                    let documentKey = try binary.withUnsafeBytes { try ChangeEvent.documentKey(info, primaryKeyValue(DocumentValue($0), info, what: what())) }
                    recordChange(try .insert(info, key: documentKey, document: binary))
                }
                ids.append(idJSON)
            }
        } }
        return ids
    }

    /// From this many documents on, an insert bounds the stored keys once
    /// instead of reading each key (insertDocuments).
    static let boundedInsertMinimum = 16

    /// The largest document key of the collection in this transaction's
    /// snapshot (its own writes aside), or nil when it holds none.
    private func lastStoredDocumentKey(_ info: CollectionInfo) throws -> [UInt8]? {
        try checkUsable()
        guard !engine.isClosed else { throw CairnError.closed }
        let (lower, upper) = info.documentRange
        let iterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: true, view: view) }
        }
        return try iterator.iterator.next() ? Array(iterator.iterator.key) : nil
    }

    /// Whether this transaction's own writes put a value at `key` (a key
    /// the snapshot does not hold).
    private func pendingValueExists(_ key: [UInt8]) throws -> Bool {
        try checkUsable()
        guard !writes.isEmpty else { return false }
        return key.withUnsafeBytes { key in
            writes.withWrite(key) { write in
                if case .put? = write { return true }
                return false
            }
        }
    }

    /// MongoDB's insertMany: in order, stopping at the first failure
    /// (`ordered`) or skipping failures; the documents that go in stay in.
    /// Returns the inserted primary keys (JSON) and, per failed document,
    /// its position and error.
    func insertDocumentsSkippingFailures(into name: String, binaries: [(position: Int, binary: [UInt8])],
                                         failures parseFailures: [(position: Int, error: CairnError)],
                                         ordered: Bool) throws -> (ids: [String], errors: [(position: Int, error: CairnError)]) {
        guard !isReadOnly else { throw CairnError.invalidArgument("the transaction is read-only") }
        // The text indexes' counters are written once for all the documents,
        // and the vector indexes' walks share what they read; a document
        // that fails takes its counts back (savepoint).
        return try withTextCounterBatch { () -> (ids: [String], errors: [(position: Int, error: CairnError)]) in try withVectorMemo {
            var ids: [String] = []
            var errors: [(position: Int, error: CairnError)] = []
            var pendingFailures = parseFailures[...]
            for (position, binary) in binaries {
                // A document that failed to parse stops an ordered insert where it stands.
                while let failure = pendingFailures.first, failure.position < position {
                    errors.append(failure)
                    pendingFailures = pendingFailures.dropFirst()
                    if ordered { return (ids, errors) }
                }
                do {
                    let inserted = try savepoint { try insertDocuments(into: name, binaries: [binary], label: "document \(position)") }
                    ids.append(contentsOf: inserted)
                } catch let error as CairnError where error.code != .closed && error.code != .ioError && error.code != .corruption {
                    errors.append((position, error))
                    if ordered { return (ids, errors) }
                }
            }
            errors.append(contentsOf: ordered ? Array(pendingFailures.prefix(1)) : Array(pendingFailures))
            return (ids, errors)
        } }
    }

    // MARK: Updates

    struct UpdateResult {
        var matched = 0
        var modified = 0
        var upsertedID: String?
        /// For find_one_and_update: the first match before and after.
        var before: [UInt8]?
        var after: [UInt8]?
    }

    /// Applies `update` to the first (sort order, else primary key order) or
    /// every match; with `upsert` and no match, inserts the document built
    /// from the filter's equality fields and the update.
    func updateDocuments(in name: String, filter: Filter, update: Update, many: Bool, upsert: Bool,
                         sort: [(path: [String], direction: Int)] = []) throws -> UpdateResult {
        var result = UpdateResult()
        let now = engine.env.nowMillis()
        if var info = try collection(name) {
            var options = FindOptions()
            options.sort = sort
            if !many { options.limit = 1 }
            let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
            let documentPrefix = CollectionInfo.documentPrefix(info.id)
            while let document = try execution.next() {
                result.matched += 1
                let oldBytes = Array(document.bytes)
                let before = try MutableValue(document)
                var after = try update.apply(to: before, now: now, query: filter)
                let id = try primaryKeyValue(document, info, what: "document")
                var primaryKey: [UInt8] = []
                try IndexKey.append(id, to: &primaryKey)
                if info.primaryKey != "_id" {
                    var isReplacement = false
                    if case .replacement = update.kind { isReplacement = true }
                    try keepPrimaryKey(&after, old: try MutableValue(id), path: info.primaryKeyPath, replacement: isReplacement)
                }
                let newBytes = after.encoded()
                if !many {
                    result.before = oldBytes
                    result.after = newBytes
                }
                guard newBytes != oldBytes else { continue }
                try newBytes.withUnsafeBytes { try FieldNames.validate(DocumentValue($0)) }
                guard newBytes.count <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("the updated document is over \(DocumentLimits.maxDocumentBytes) bytes")
                }
                try oldBytes.withUnsafeBytes { raw in
                    try writeDocument(&info, key: documentPrefix + primaryKey, primaryKey: primaryKey, old: DocumentValue(raw), new: newBytes)
                }
                if recordsChanges {
                    var isReplacement = false
                    if case .replacement = update.kind { isReplacement = true }
                    recordChange(.update(info, key: try ChangeEvent.documentKey(info, id), before: before, after: after, replacement: isReplacement))
                }
                result.modified += 1
            }
        }
        if result.matched == 0 && upsert {
            let seed = try Transaction.upsertSeed(from: filter)
            let document = try update.apply(to: seed, now: now, query: filter, inserting: true).encoded()
            try document.withUnsafeBytes { try FieldNames.validate(DocumentValue($0)) }
            result.upsertedID = try insertDocuments(into: name, binaries: [document]).first
            result.after = try storedDocument(in: name, idJSON: Array(result.upsertedID!.utf8))
        }
        return result
    }

    /// A collection keyed by another field than _id: updates may not change
    /// that field, and a replacement without it keeps the old value.
    private func keepPrimaryKey(_ document: inout MutableValue, old: MutableValue, path: [String], replacement: Bool) throws {
        let immutable = CairnError.invalidArgument("update: the primary key field '\(path.joined(separator: "."))' is immutable")
        if let current = document.value(at: path[...]) {
            guard try current.compare(old) == 0 else { throw immutable }
        } else {
            guard replacement else { throw immutable }
            try MutableValue.modify(&document, path: path[...], create: true, at: "update") { $0 = old }
        }
    }

    /// The document an upsert starts from: the filter's top-level equality
    /// fields (`{"name": "ann", "age": {"$gt": 3}}` gives `{"name": "ann"}`).
    static func upsertSeed(from filter: Filter) throws -> MutableValue {
        var seed = MutableValue.object([])
        func collect(_ filter: Filter) throws {
            switch filter {
            case .all(let parts): for part in parts { try collect(part) }
            case .field(let path, .equals(let operand)):
                let value = try operand.withValue { try MutableValue($0) }
                try MutableValue.modify(&seed, path: path[...], create: true, at: "upsert") { $0 = value }
            default: break
            }
        }
        try collect(filter)
        return seed
    }

    // MARK: Deletes

    /// Deletes the first (in `sort` order, else the plan's) or every match;
    /// returns the deleted documents (binary).
    @discardableResult
    func deleteDocuments(in name: String, filter: Filter, many: Bool,
                         sort: [(path: [String], direction: Int)] = [], purging limit: Int? = nil) throws -> [[UInt8]] {
        guard var info = try collection(name) else { return [] }
        var options = FindOptions()
        options.sort = sort
        if !many { options.limit = 1 }
        if let limit {
            // The TTL purge: its filter selects expired documents, which
            // every other read skips.
            options.limit = limit
            options.includeExpired = true
        }
        let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
        var deleted: [[UInt8]] = []
        while let document = try execution.next() {
            var primaryKey: [UInt8] = []
            try IndexKey.append(try primaryKeyValue(document, info, what: "document"), to: &primaryKey)
            let old = Array(document.bytes)
            try old.withUnsafeBytes { try deleteStored(&info, primaryKey: primaryKey, old: DocumentValue($0)) }
            deleted.append(old)
        }
        return deleted
    }

    /// Deletes the stored document `old` (whose primary key encodes as
    /// `primaryKey`): its index entries, its links to keys, its change event.
    private func deleteStored(_ info: inout CollectionInfo, primaryKey: [UInt8], old: DocumentValue) throws {
        try writeDocument(&info, key: CollectionInfo.documentPrefix(info.id) + primaryKey, primaryKey: primaryKey, old: old, new: nil)
        try removeLinks(ofDocumentIn: info.id, primaryKey: primaryKey)
        if recordsChanges {
            let documentKey = try ChangeEvent.documentKey(info, primaryKeyValue(old, info, what: "document"))
            recordChange(try .delete(info, key: documentKey, before: old))
        }
    }

    /// An expired document that the purge has not deleted yet still holds
    /// its primary key and its unique values. A write that needs one of
    /// them deletes it first, as the purge would (in the same atomic write,
    /// recorded as a delete), and then goes on. Returns false, deleting
    /// nothing, when the document at `primaryKey` has not expired.
    private func removeIfExpired(_ info: inout CollectionInfo, primaryKey: [UInt8]) throws -> Bool {
        guard let expiry = DocumentExpiry(info, now: engine.env.nowMillis()) else { return false }
        var stored: [UInt8]?
        _ = try read(CollectionInfo.documentPrefix(info.id) + primaryKey) { stored = Array($0) }
        guard let stored, try stored.withUnsafeBytes({ try expiry.hides($0) }) else { return false }
        try stored.withUnsafeBytes { try deleteStored(&info, primaryKey: primaryKey, old: DocumentValue($0)) }
        return true
    }

    // MARK: Reads

    func openFind(in name: String, filter: Filter, options: FindOptions) throws -> DocumentCursor {
        guard let info = try collection(name) else { return DocumentCursor.empty(database) }
        let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
        return DocumentCursor(database: database, producingText: { try execution.nextJSON(into: $0) })
    }

    /// The first result of the find as JSON, or nil.
    func findFirst(in name: String, filter: Filter, options: FindOptions) throws -> [UInt8]? {
        var options = options
        options.limit = 1
        guard let info = try collection(name) else { return nil }
        let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
        var out: [UInt8] = []
        return try execution.nextJSON(into: &out) ? out : nil
    }

    /// The document whose primary key is the JSON value `idJSON`, as JSON.
    func findByPrimaryKey(in name: String, idJSON: [UInt8]) throws -> [UInt8]? {
        guard let binary = try storedDocument(in: name, idJSON: idJSON) else { return nil }
        var out: [UInt8] = []
        try binary.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        return out
    }

    /// The stored (binary) document whose primary key is the JSON value `idJSON`.
    func storedDocument(in name: String, idJSON: [UInt8]) throws -> [UInt8]? {
        guard let info = try collection(name) else { return nil }
        let id = try idJSON.withUnsafeBytes { try DocumentBuilder.value(fromJSON: $0, what: "id") }
        let key = try id.withUnsafeBytes { try info.documentKey(for: DocumentValue($0)) }
        var out: [UInt8]?
        let expiry = DocumentExpiry(info, now: engine.env.nowMillis())
        _ = try read(key) { raw in
            if let expiry, try expiry.hides(raw) { return }
            out = Array(raw)
        }
        return out
    }

    /// The names of the collections this transaction sees, sorted.
    func collectionNames() throws -> [String] {
        let scan = try self.scan(lower: [Namespace.catalog.rawValue, 1], upper: Namespace.catalog.upperBound)
        var names: [String] = []
        while try scan.next() { names.append(String(decoding: scan.key[1...], as: UTF8.self)) }
        return names
    }

    func countDocuments(in name: String, filter: Filter, options: FindOptions = FindOptions()) throws -> Int {
        guard let info = try collection(name) else { return 0 }
        let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
        var count = 0
        while try execution.next() != nil { count += 1 }
        return count
    }

    /// The distinct values of `field` among the matches (array elements
    /// count one by one), in MongoDB's sort order, as a JSON array.
    func distinctValues(in name: String, field: String, filter: Filter) throws -> [UInt8] {
        try Filter.validateFieldPath(field, at: "field")
        var values: [(key: [UInt8], value: [UInt8])] = []
        var seen = Set<[UInt8]>()
        if let info = try collection(name) {
            let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: FindOptions())
            let components = field.split(separator: ".").map(String.init)
            while let document = try execution.next() {
                var found: [DocumentValue] = []
                var sawArray = false
                try IndexDefinition.collectValues(at: components[...], in: document, into: &found, sawArray: &sawArray)
                for value in found {
                    var key: [UInt8] = []
                    try IndexKey.append(value, to: &key)
                    if seen.insert(key).inserted { values.append((key, Array(value.bytes))) }
                }
            }
        }
        values.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (position, entry) in values.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            try entry.value.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    func explainFind(in name: String, filter: Filter, options: FindOptions) throws -> [UInt8] {
        guard let info = try collection(name) else {
            return Array(#"{"plan":"collection_scan","index":null,"bounds":{},"sort_from_index":false,"keys_examined":0,"documents_examined":0,"returned":0}"#.utf8)
        }
        let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
        let description = try execution.explanation().encoded()
        var out: [UInt8] = []
        try description.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        return out
    }
}
