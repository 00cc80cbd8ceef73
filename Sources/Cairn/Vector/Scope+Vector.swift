/// The vector layer's public calls, on a database or in a transaction.
extension Scope {
    /// A cursor over the `k` documents nearest to the options' vector,
    /// nearest first (VectorSearchOptions). A missing collection gives no
    /// documents; a collection without a vector index is NOT_FOUND.
    public func vectorSearch(collection: String, optionsJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        let options = try VectorSearchOptions.parse(json: optionsJSON)
        try CollectionInfo.validate(name: collection)
        return try withTransaction(writing: false) { transaction in
            guard let info = try transaction.collection(collection) else { return DocumentCursor.empty(transaction.database) }
            let (index, spec) = try transaction.vectorIndex(of: info, named: options.index)
            let hits = try transaction.vectorSearch(info, index: index, spec: spec, options: options)
            return transaction.documentCursor(info, hits: hits.map { ($0.primaryKey, options.includeScores ? [
                ("_distance", MutableValue.double(Double($0.distance) + 0)),  // + 0: no -0.0
                ("_score", MutableValue.double(spec.metric.score(distance: $0.distance))),
            ] : []) }, projection: options.projection)
        }
    }
}

extension Transaction {
    /// A cursor over the documents of `hits` (primary keys, in order), each
    /// cut by `projection` and then with `extra` fields appended; documents
    /// gone at this snapshot are left out.
    func documentCursor(_ info: CollectionInfo, hits: [(primaryKey: [UInt8], extra: [(key: String, value: MutableValue)])],
                        projection: Projection? = nil) -> DocumentCursor {
        var position = 0
        let reader = self.reader
        let prefix = CollectionInfo.documentPrefix(info.id)
        let expiry = DocumentExpiry(info, now: engine.env.nowMillis())
        return DocumentCursor(database: database) { out in
            while position < hits.count {
                let hit = hits[position]
                position += 1
                var found = false
                _ = try reader.read(prefix + hit.primaryKey) { raw in
                    if let expiry, try expiry.hides(raw) { return }
                    found = true
                    if hit.extra.isEmpty && projection == nil {
                        try DocumentValue(raw).appendJSON(to: &out)
                    } else {
                        var document = try MutableValue(DocumentValue(raw))
                        if let projection { document = try projection.apply(to: document) }
                        guard case .object(var members) = document else {
                            throw CairnError.corruption("collection '\(info.name)': a document that is not an object")
                        }
                        members.removeAll { member in hit.extra.contains { $0.key == member.key } }
                        members += hit.extra
                        try MutableValue.object(members).encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
                    }
                }
                if found { return true }
            }
            return false
        }
    }
}
