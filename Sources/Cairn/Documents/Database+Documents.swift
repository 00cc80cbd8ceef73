/// The document layer's operations on a database: collections of JSON
/// documents queried with MongoDB's language. Every write (a document with
/// its catalog entry, an update_many) is one write batch, so it is atomic
/// and crash-consistent. Read-check-write sequences (the duplicate-_id check
/// of an insert, the read of an update) run under `documentLock`, so
/// concurrent writers in this process cannot interleave them.
///
/// Still to come (issue 4): secondary indexes and the planner, JSON Schema
/// validation, transactions, aggregation, $regex, and the C ABI.
extension Database {
    // MARK: Catalog

    func collectionInfo(_ name: String) throws -> CollectionInfo? {
        try CollectionInfo.validate(name: name)
        let view = try engine.readView()
        var info: CollectionInfo?
        let key = CollectionInfo.catalogKey(name)
        _ = try key.withUnsafeBytes { k in
            try engine.withValue(forKey: k, now: currentTimeMillis(), in: view) { raw in
                let entry = DocumentValue(raw)
                guard case .int(let id)? = try entry.field("id")?.kind(), let options = try entry.field("options") else {
                    throw CairnError.corruption("catalog entry of collection '\(name)' is damaged")
                }
                info = CollectionInfo(name: name, id: UInt32(truncatingIfNeeded: id), options: try MutableValue(options))
            }
        }
        return info
    }

    /// Adds the catalog entry for a new collection to `batch`.
    private func newCollection(_ name: String, options: MutableValue, in batch: inout WriteBatch) throws -> CollectionInfo {
        let view = try engine.readView()
        var next: UInt32 = 1
        _ = try CollectionInfo.nextIDKey.withUnsafeBytes { k in
            try engine.withValue(forKey: k, now: 0, in: view) { raw in
                guard raw.count == 4 else { throw CairnError.corruption("catalog: damaged collection counter") }
                next = UInt32(bigEndian: raw.loadUnaligned(as: UInt32.self))
            }
        }
        let info = CollectionInfo(name: name, id: next, options: options)
        let entry = MutableValue.object([("id", .int(Int64(next))), ("options", options)]).encoded()
        var counter: [UInt8] = []
        counter.appendUInt32BE(next + 1)
        CollectionInfo.catalogKey(name).withUnsafeBytes { k in entry.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
        CollectionInfo.nextIDKey.withUnsafeBytes { k in counter.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
        return info
    }

    /// Creates a collection. Options: `{}` for now (a schema and a primary
    /// key field come with issue 4's later steps). An existing name is
    /// INVALID_ARGUMENT.
    public func createCollection(_ name: String, optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws {
        try documentLock.withLock {
            guard try collectionInfo(name) == nil else { throw CairnError.invalidArgument("collection '\(name)' already exists") }
            var options = MutableValue.object([])
            if optionsJSON.count > 0 {
                let binary = try DocumentBuilder.document(fromJSON: optionsJSON, what: "collection options")
                options = try binary.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
            }
            if case .object(let members) = options, let unknown = members.first {
                throw CairnError.invalidArgument("collection options.\(unknown.key): unknown option")
            }
            var batch = WriteBatch()
            _ = try newCollection(name, options: options, in: &batch)
            try engine.write(batch)
        }
    }

    /// The names of all collections, sorted.
    public func collectionNames() throws -> [String] {
        let lower: [UInt8] = [Namespace.catalog.rawValue, 1]
        let upper = Namespace.catalog.upperBound
        let iterator = try lower.withUnsafeBytes { l in try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false) } }
        var names: [String] = []
        while try iterator.iterator.next() { names.append(String(decoding: iterator.iterator.key[1...], as: UTF8.self)) }
        return names
    }

    /// Drops a collection and all its documents (one range tombstone).
    /// Dropping a missing collection is not an error.
    public func dropCollection(_ name: String) throws {
        try documentLock.withLock {
            guard let info = try collectionInfo(name) else { return }
            var batch = WriteBatch()
            let (lower, upper) = info.documentRange
            lower.withUnsafeBytes { l in upper.withUnsafeBytes { u in batch.deleteRange(l, u) } }
            CollectionInfo.catalogKey(name).withUnsafeBytes { batch.delete($0) }
            try engine.write(batch)
        }
    }

    // MARK: Writes

    /// Inserts one document (JSON text) and returns its `_id` as JSON. A
    /// missing `_id` is generated; a duplicate one is CONSTRAINT. The
    /// collection is created on first insert.
    @discardableResult
    public func insertOne(into collection: String, json: UnsafeRawBufferPointer) throws -> String {
        try insertMany(into: collection, documents: [Array(json)], ordered: true).first!
    }

    /// Inserts the documents of a JSON array atomically. Each document is
    /// limited to 16 MiB; the array as a whole to 256 MiB.
    public func insertMany(into collection: String, arrayJSON: UnsafeRawBufferPointer) throws -> [String] {
        guard arrayJSON.count <= 256 << 20 else { throw CairnError.invalidArgument("documents: the array is over 256 MiB") }
        var builder = DocumentBuilder(reservingCapacity: arrayJSON.count)
        try JSONParser.parse(arrayJSON, what: "documents", into: &builder)
        let array = builder.bytes
        var binaries: [[UInt8]] = []
        try array.withUnsafeBytes { raw in
            let value = DocumentValue(raw)
            guard value.tag == .array else { throw CairnError.invalidArgument("documents must be a JSON array of objects") }
            var index = 0
            try value.forEachChild { _, element in
                guard element.tag == .object else { throw CairnError.invalidArgument("document \(index) must be a JSON object") }
                guard element.bytes.count <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("document \(index) is over \(DocumentLimits.maxDocumentBytes) bytes")
                }
                try FieldNames.validate(element, path: "document \(index)")
                binaries.append(Array(element.bytes))
                index += 1
            }
        }
        guard !binaries.isEmpty else { throw CairnError.invalidArgument("documents: the array is empty") }
        return try documentLock.withLock { try insertLocked(into: collection, binaries: binaries) }
    }

    /// Inserts documents atomically: all of them or, on the first error,
    /// none. Returns their `_id`s as JSON.
    public func insertMany(into collection: String, documents: [[UInt8]], ordered: Bool = true) throws -> [String] {
        var binaries: [[UInt8]] = []
        for (index, text) in documents.enumerated() {
            let what = documents.count == 1 ? "document" : "document \(index)"
            let binary = try text.withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0, what: what) }
            try binary.withUnsafeBytes { try FieldNames.validate(DocumentValue($0), path: what) }
            binaries.append(binary)
        }
        return try documentLock.withLock { try insertLocked(into: collection, binaries: binaries) }
    }

    /// Inserts validated binary documents as one batch, giving each a
    /// generated `_id` when it has none. REQUIRES: documentLock held.
    private func insertLocked(into collection: String, binaries: [[UInt8]]) throws -> [String] {
        var batch = WriteBatch()
        let info = try collectionInfo(collection) ?? newCollection(collection, options: .object([]), in: &batch)
        let view = try engine.readView()
        var ids: [String] = []
        var seen = Set<[UInt8]>()
        for (index, original) in binaries.enumerated() {
            let what = binaries.count == 1 ? "document" : "document \(index)"
            var binary = original
            if try binary.withUnsafeBytes({ try DocumentValue($0).field("_id") }) == nil {
                guard case .object(var members) = try binary.withUnsafeBytes({ try MutableValue(DocumentValue($0)) }) else { continue }
                members.insert(("_id", .string(Array(ObjectID.next().utf8))), at: 0)
                binary = MutableValue.object(members).encoded()
            }
            guard binary.count <= DocumentLimits.maxDocumentBytes else {
                throw CairnError.invalidArgument("\(what) is over \(DocumentLimits.maxDocumentBytes) bytes")
            }
            let (key, idJSON) = try binary.withUnsafeBytes { raw -> ([UInt8], String) in
                let id = try DocumentValue(raw).field("_id")!
                guard id.tag != .array else { throw CairnError.invalidArgument("\(what): _id may not be an array") }
                return (try info.documentKey(for: id), try id.json())
            }
            let exists = try key.withUnsafeBytes { k in try engine.withValue(forKey: k, now: 0, in: view) { _ in } }
            guard !exists, seen.insert(key).inserted else {
                throw CairnError(.constraint, "duplicate _id \(idJSON) in collection '\(collection)'")
            }
            key.withUnsafeBytes { k in binary.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
            ids.append(idJSON)
        }
        try engine.write(batch)
        return ids
    }

    /// Applies `update` to the first (or every) document matching `filter`;
    /// with `upsert` and no match, inserts one built from the filter's
    /// equality fields and the update. Everything is one write batch: a
    /// failure on any document changes none.
    /// The options of an update: `{"upsert": true}`; any other key is
    /// INVALID_ARGUMENT naming it. Empty input means no upsert.
    public static func upsertOption(json: UnsafeRawBufferPointer) throws -> Bool {
        guard json.count > 0 else { return false }
        guard case .object(let members) = try JSONValue.parse(json, what: "update options") else {
            throw CairnError.invalidArgument("update options must be a JSON object")
        }
        var upsert = false
        for (key, value) in members {
            guard key == "upsert" else { throw CairnError.invalidArgument("update options.\(key): unknown option (known: upsert)") }
            guard case .bool(let flag) = value else { throw CairnError.invalidArgument("update options.upsert must be true or false") }
            upsert = flag
        }
        return upsert
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

    public func update(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                       many: Bool, upsert: Bool = false) throws -> (matched: Int, modified: Int, upsertedID: String?) {
        try update(collection: collection, filterJSON: filterJSON, updateJSON: updateJSON, mode: many ? .many : .oneAnyForm, upsert: upsert)
    }

    public func update(collection: String, filterJSON: UnsafeRawBufferPointer, updateJSON: UnsafeRawBufferPointer,
                       mode: UpdateMode, upsert: Bool) throws -> (matched: Int, modified: Int, upsertedID: String?) {
        let filter = try Filter.parse(json: filterJSON)
        let update = try Update.parse(json: updateJSON)
        let many = mode == .many
        switch (update.kind, mode) {
        case (.replacement, .one), (.replacement, .many):
            throw CairnError.invalidArgument("update: \(many ? "update_many" : "update_one") needs update operators; use replace_one to replace a document")
        case (.operators, .replaceOne):
            throw CairnError.invalidArgument("replacement: replace_one takes a document without update operators")
        default:
            break
        }
        return try documentLock.withLock {
            var batch = WriteBatch()
            var matched = 0, modified = 0
            let now = currentTimeMillis()
            if let info = try collectionInfo(collection) {
                let (lower, upper) = info.documentRange
                let iterator = try lower.withUnsafeBytes { l in try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false) } }
                while try iterator.iterator.next() {
                    let document = DocumentValue(iterator.iterator.value)
                    guard try filter.matches(document) else { continue }
                    matched += 1
                    let before = try MutableValue(document)
                    let after = try update.apply(to: before, now: now).encoded()
                    if after != Array(iterator.iterator.value) {
                        try after.withUnsafeBytes { try FieldNames.validate(DocumentValue($0)) }
                        guard after.count <= DocumentLimits.maxDocumentBytes else {
                            throw CairnError.invalidArgument("the updated document is over \(DocumentLimits.maxDocumentBytes) bytes")
                        }
                        let key = Array(iterator.iterator.key)
                        key.withUnsafeBytes { k in after.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
                        modified += 1
                    }
                    if !many { break }
                }
            }
            if matched == 0 && upsert {
                let seed = try Database.upsertSeed(from: filter)
                let document = try update.apply(to: seed, now: now).encoded()
                try document.withUnsafeBytes { try FieldNames.validate(DocumentValue($0)) }
                return (0, 0, try insertLocked(into: collection, binaries: [document]).first)
            }
            try engine.write(batch)
            return (matched, modified, nil)
        }
    }

    /// The document an upsert starts from: the filter's top-level equality
    /// fields (`{"name": "ann", "age": {"$gt": 3}}` gives `{"name": "ann"}`).
    private static func upsertSeed(from filter: Filter) throws -> MutableValue {
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

    /// Deletes the first (or every) document matching `filter`; returns how many.
    public func delete(collection: String, filterJSON: UnsafeRawBufferPointer, many: Bool) throws -> Int {
        let filter = try Filter.parse(json: filterJSON)
        return try documentLock.withLock {
            guard let info = try collectionInfo(collection) else { return 0 }
            var batch = WriteBatch()
            var deleted = 0
            let (lower, upper) = info.documentRange
            let iterator = try lower.withUnsafeBytes { l in try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false) } }
            while try iterator.iterator.next() {
                guard try filter.matches(DocumentValue(iterator.iterator.value)) else { continue }
                Array(iterator.iterator.key).withUnsafeBytes { batch.delete($0) }
                deleted += 1
                if !many { break }
            }
            try engine.write(batch)
            return deleted
        }
    }

    // MARK: Reads

    /// A cursor over the documents matching `filter` (JSON; empty matches
    /// all), with find options (sort, skip, limit, projection).
    public func find(collection: String, filterJSON: UnsafeRawBufferPointer,
                     optionsJSON: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws -> DocumentCursor {
        let filter = try Filter.parse(json: filterJSON)
        let options = try FindOptions.parse(json: optionsJSON)
        return try DocumentCursor(database: self, collection: try collectionInfo(collection), filter: filter, options: options)
    }

    /// The number of documents matching `filter`.
    public func count(collection: String, filterJSON: UnsafeRawBufferPointer) throws -> Int {
        let filter = try Filter.parse(json: filterJSON)
        guard let info = try collectionInfo(collection) else { return 0 }
        let (lower, upper) = info.documentRange
        let iterator = try lower.withUnsafeBytes { l in try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false) } }
        var count = 0
        while try iterator.iterator.next() {
            if try filter.matches(DocumentValue(iterator.iterator.value)) { count += 1 }
        }
        return count
    }
}
