/// Operations on whole collections and their indexes. They change the
/// catalog outside any explicit transaction, holding the document lock
/// exclusively (no document write runs meanwhile);
/// a transaction that read the entry they change fails its commit with
/// CONFLICT, so it never writes documents computed from a stale definition.
extension Database {
    /// The collection's definition as committed now.
    func committedCollection(_ name: String) throws -> CollectionInfo? {
        try Transaction(database: self, readOnly: true, explicit: false).collection(name)
    }

    /// Drops a collection, its documents and index entries (range
    /// tombstones). Dropping a missing collection is not an error.
    public func dropCollection(_ name: String) throws {
        try documents.lock.withExclusiveLock {
            guard let info = try committedCollection(name) else { return }
            var batch = WriteBatch()
            let (lower, upper) = info.documentRange
            lower.withUnsafeBytes { l in upper.withUnsafeBytes { u in batch.deleteRange(l, u) } }
            for (indexLower, indexUpper) in info.indexRanges {
                indexLower.withUnsafeBytes { l in indexUpper.withUnsafeBytes { u in batch.deleteRange(l, u) } }
            }
            // Links of its documents, both directions (Links/).
            for key in try linkKeys(ofCollection: info.id, in: try Transaction(database: self, readOnly: true, explicit: false)) {
                key.withUnsafeBytes { batch.delete($0) }
            }
            CollectionInfo.catalogKey(name).withUnsafeBytes { batch.delete($0) }
            if feed.isRecording { try feed.append([.collection("drop", name)], to: &batch) }
            try documents.catalogCache.changing { try engine.write(batch) }
            fullText.forget(collection: info.id)
            vectors.forget(collection: info.id)
            graphs.adjacency.forgetAll()
        }
    }

    /// Renames a collection: its catalog entry moves, its id (and so its
    /// documents and index entries) stays.
    public func renameCollection(_ from: String, to: String) throws {
        try CollectionInfo.validate(name: from)
        try CollectionInfo.validate(name: to)
        try documents.lock.withExclusiveLock {
            guard var info = try committedCollection(from) else { throw CairnError(.notFound, "collection '\(from)' does not exist") }
            guard from != to else { return }
            guard try committedCollection(to) == nil else { throw CairnError.invalidArgument("collection '\(to)' already exists") }
            var batch = WriteBatch()
            CollectionInfo.catalogKey(from).withUnsafeBytes { batch.delete($0) }
            info.name = to
            CollectionInfo.catalogKey(to).withUnsafeBytes { k in info.encoded().withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
            if feed.isRecording { try feed.append([.collection("rename", from, [("to", .string(Array(to.utf8)))])], to: &batch) }
            try documents.catalogCache.changing { try engine.write(batch) }
        }
    }

    /// {"name", "documents", "bytes", "primary_key", "schema", "indexes": [...]} as JSON.
    public func collectionStats(_ name: String) throws -> String {
        let transaction = try Transaction(database: self, readOnly: true, explicit: false)
        guard let info = try transaction.collection(name) else { throw CairnError(.notFound, "collection '\(name)' does not exist") }
        let (lower, upper) = info.documentRange
        let scan = try transaction.scan(lower: lower, upper: upper)
        var documents: Int64 = 0, bytes: Int64 = 0
        while try scan.next() {
            documents += 1
            bytes += Int64(scan.value.count)
        }
        var indexes: [MutableValue] = []
        for index in info.indexes {
            let prefix = index.storagePrefix(collection: info.id)
            let entries = try transaction.scan(lower: prefix, upper: prefixUpperBound(prefix))
            var count: Int64 = 0
            while try entries.next() { count += 1 }
            guard case .object(var members) = index.publicDescription else { continue }
            members.append(("entries", .int(count)))
            indexes.append(.object(members))
        }
        let stats = MutableValue.object([
            ("name", .string(Array(name.utf8))), ("documents", .int(documents)), ("bytes", .int(bytes)),
            ("primary_key", .string(Array(info.primaryKey.utf8))), ("schema", info.schema?.definition ?? .null),
            ("indexes", .array(indexes)),
        ]).encoded()
        return try stats.withUnsafeBytes { try DocumentValue($0).json() }
    }

    // MARK: Indexes

    /// Creates an index from a spec ({"keys": {...}, "name", "unique",
    /// "sparse"}) and indexes the existing documents before returning.
    /// Returns the index name.
    ///
    /// The definition is first committed as "building", so writes of
    /// explicit transactions begun after it maintain the index too; the
    /// existing documents are then indexed in chunks under the document
    /// lock (readers go on; writers wait); finally the index is marked
    /// ready and queries start using it. A crash in between leaves a
    /// building index that queries ignore and that the next open finishes
    /// in the background (resumeIndexBuilds); create or drop also do.
    public func createIndex(collection name: String, specJSON: UnsafeRawBufferPointer) throws -> String {
        try CollectionInfo.validate(name: name)
        let spec = try DocumentBuilder.document(fromJSON: specJSON, what: "index spec")
        let ticket = engine.interrupts.ticket
        return try documents.lock.withExclusiveLock {
            // 1. Define it.
            let define = try Transaction(database: self, readOnly: false, explicit: false)
            var info = try define.collectionOrCreate(name)
            guard info.nextIndexID < 0x8000_0000 else { throw CairnError.invalidArgument("collection '\(name)': too many indexes were created") }
            var index = try spec.withUnsafeBytes { try IndexDefinition.parse(spec: DocumentValue($0), id: info.nextIndexID) }
            if let existing = info.index(named: index.name) {
                guard existing.sameKeys(as: index) else {
                    throw CairnError.invalidArgument("index '\(index.name)' already exists with other keys or options")
                }
                if !existing.building { return index.name }
                index = existing  // finish an interrupted build
            } else {
                if let twin = info.indexes.first(where: { $0.sameKeys(as: index) }) {
                    throw CairnError.invalidArgument("index '\(twin.name)' already has these keys")
                }
                index.building = true
                info.indexes.append(index)
                info.nextIndexID += 1
                try define.save(info)
                try define.commit()
            }
            try build(index, of: name, interruptible: ticket)
            if index.expireAfterSeconds != nil { expiryPurge.start(self) }
            return index.name
        }
    }

    /// Indexes the existing documents for a "building" index, then marks
    /// it ready. On failure the index is removed (a unique index the
    /// documents break, a full disk), except when the database is closing:
    /// then it stays "building" and the next open resumes the build. A
    /// removal that fails too (the disk still full) also leaves it
    /// "building": never listed as ready. A build that a caller waits for
    /// (`interruptible`: its Interrupts ticket) stops when the database is
    /// interrupted, and the index is removed as on any failure; a resumed
    /// build runs for no caller and is not interrupted. REQUIRES:
    /// documents.lock.
    private func build(_ index: IndexDefinition, of name: String, interruptible ticket: UInt64? = nil) throws {
        documents.indexBuilds.started(name, index.name)
        defer { documents.indexBuilds.ended(name, index.name) }
        do {
            try backfill(index, of: name, interruptible: ticket)
        } catch {
            if !documents.indexBuilds.isStopping && !isClosed { try? removeIndex(index.name, of: name, announce: false) }
            throw error
        }
        let finish = try Transaction(database: self, readOnly: false, explicit: false)
        guard var ready = try finish.collection(name), let position = ready.indexes.firstIndex(where: { $0.id == index.id }) else {
            throw CairnError(.internal, "index '\(index.name)' vanished while it was built")
        }
        ready.indexes[position].building = false
        try finish.save(ready)
        let built = ready.indexes[position]
        // The index's spec, as cairn_index_create takes it (a replica makes the same index).
        finish.recordChange(.collection("createIndexes", name, [("i", built.specValue)]))
        try finish.commit()
    }

    /// Finishes, on a background thread, the builds that a crash or a close
    /// interrupted, so that no index stays "building" until someone calls
    /// create again. Queries use other plans until each is ready; a unique
    /// index's constraint holds for every write meanwhile (checked against
    /// every document until the build holds the document lock; see
    /// Transaction.checkUniqueByScan), and the build checks every document.
    func resumeIndexBuilds() throws {
        var pending: [(collection: String, index: IndexDefinition)] = []
        for name in try collectionNames() {
            for index in try committedCollection(name)?.indexes ?? [] where index.building { pending.append((name, index)) }
        }
        guard !pending.isEmpty else { return }
        try documents.indexBuilds.startThread(env: engine.env) { [self, pending] in
            for (name, index) in pending where !documents.indexBuilds.isStopping {
                try? documents.lock.withExclusiveLock {
                    // Still there and still building (not dropped meanwhile)?
                    guard let current = try committedCollection(name)?.indexes.first(where: { $0.id == index.id }),
                          current.building else { return }
                    try build(current, of: name)
                }
            }
        }
    }

    /// Writes the entries of every document for `index`. REQUIRES: documents.lock, exclusively.
    private func backfill(_ index: IndexDefinition, of name: String, interruptible ticket: UInt64?) throws {
        if !index.kind.isOrdered, let id = try committedCollection(name)?.id {
            // A search index's structures are not idempotent to write again
            // (counters), so a build resumed after a crash starts afresh.
            let prefix = index.storagePrefix(collection: id)
            var clear = WriteBatch()
            prefix.withUnsafeBytes { l in prefixUpperBound(prefix).withUnsafeBytes { u in clear.deleteRange(l, u) } }
            try engine.write(clear)
            fullText.forget(collection: id, index: index.id)
            vectors.forget(collection: id, index: index.id)
        }
        let snapshot = try Transaction(database: self, readOnly: true, explicit: false)
        guard let info = try snapshot.collection(name) else { return }
        let (lower, upper) = info.documentRange
        let scan = try snapshot.scan(lower: lower, upper: upper)
        let prefixLength = lower.count
        var chunk = try Transaction(database: self, readOnly: false, explicit: false)
        // A search index's counters are held in memory for a chunk and
        // written once before it commits (TextIndexCounters).
        func startChunk() { if !index.kind.isOrdered { chunk.textCounters = TextIndexCounters(building: true) } }
        func endChunk() throws {
            if let counters = chunk.textCounters {
                try counters.write(to: chunk)
                chunk.textCounters = nil
            }
        }
        startChunk()
        var inChunk = 0
        var multikey = index.multikey
        while try scan.next() {
            if let ticket { try engine.interrupts.check(ticket) }
            let primaryKey = Array(scan.key[prefixLength...])
            if index.kind.isOrdered {
                let (keys, isArray) = try index.entryKeys(of: DocumentValue(scan.value), collection: info.id, primaryKey: primaryKey)
                multikey = multikey || isArray
                for key in keys {
                    if index.unique {
                        var owner: [UInt8]?
                        if try chunk.read(key, { owner = Array($0) }), owner != primaryKey {
                            let value = try index.describe(entry: key, of: DocumentValue(scan.value), collection: info.id)
                            throw CairnError(.constraint, "duplicate key in unique index '\(index.name)' of collection '\(name)': the existing documents break it (\(value) is held by more than one)")
                        }
                    }
                    try chunk.put(key, index.entryValue(primaryKey: primaryKey))
                }
            } else {
                try chunk.updateSearchIndex(index, collection: info.id, primaryKey: primaryKey, old: nil, new: DocumentValue(scan.value))
            }
            inChunk += 1
            if inChunk == 4096 {
                try endChunk()
                try chunk.commit()
                documents.indexBuilds.advanced(name, index.name, by: inChunk)
                if documents.indexBuilds.isStopping { throw CairnError.closed }
                chunk = try Transaction(database: self, readOnly: false, explicit: false)
                startChunk()
                inChunk = 0
            }
        }
        try endChunk()
        if multikey && !index.multikey, var current = try chunk.collection(name),
           let position = current.indexes.firstIndex(where: { $0.id == index.id }) {
            current.indexes[position].multikey = true
            try chunk.save(current)
        }
        try chunk.commit()
    }

    /// Drops an index by name; NOT_FOUND when there is none.
    public func dropIndex(collection name: String, index indexName: String) throws {
        try CollectionInfo.validate(name: name)
        try documents.lock.withExclusiveLock { try removeIndex(indexName, of: name, announce: true) }
    }

    /// Removes an index's definition and entries; `announce`: a dropIndexes
    /// event (not for a build that failed: no createIndexes announced it).
    /// REQUIRES: documents.lock, exclusively.
    private func removeIndex(_ indexName: String, of name: String, announce: Bool) throws {
        guard var info = try committedCollection(name), let position = info.indexes.firstIndex(where: { $0.name == indexName }) else {
            throw CairnError(.notFound, "collection '\(name)' has no index '\(indexName)'")
        }
        let prefix = info.indexes[position].storagePrefix(collection: info.id)
        fullText.forget(collection: info.id, index: info.indexes[position].id)
        vectors.forget(collection: info.id, index: info.indexes[position].id)
        graphs.adjacency.forgetAll()
        info.indexes.remove(at: position)
        var batch = WriteBatch()
        prefix.withUnsafeBytes { l in prefixUpperBound(prefix).withUnsafeBytes { u in batch.deleteRange(l, u) } }
        CollectionInfo.catalogKey(name).withUnsafeBytes { k in info.encoded().withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
        if announce && feed.isRecording {
            try feed.append([.collection("dropIndexes", name, [("i", .object([("name", .string(Array(indexName.utf8)))]))])], to: &batch)
        }
        try documents.catalogCache.changing { try engine.write(batch) }
    }

    /// The indexes of a collection as a JSON array.
    public func listIndexes(collection name: String) throws -> String {
        try CollectionInfo.validate(name: name)
        let indexes = try committedCollection(name)?.indexes ?? []
        let list = MutableValue.array(indexes.map { index in
            guard index.building, let done = documents.indexBuilds.progress(name, index.name),
                  case .object(var members) = index.publicDescription else { return index.publicDescription }
            members.append(("documents_indexed", .int(Int64(done))))
            return .object(members)
        }).encoded()
        return try list.withUnsafeBytes { try DocumentValue($0).json() }
    }
}
