/// The rows of a vector search (cairn_vector_search): each hit's document,
/// cut by the projection, with the scores after it.
///
/// Covered results: when the projection keeps only `_id` (`{"_id": 1}`,
/// the common "give me the ids" search, as the peers return labels), the
/// collection's primary key is `_id` and no TTL index can hide a document,
/// each row comes from the node record the walk already holds, whose
/// filter values carry the document's `_id` (VectorFilterValues), and no
/// document is read. Reading them was a fifth of such a query's time: each
/// document carries its vector, so their blocks rarely stay in the block
/// cache. Exact by construction:
///   - the node record and its document are written in the same atomic
///     batch (Transaction+Vector), and the search reads both at the one
///     snapshot (and the transaction's own pending writes), where every
///     hit's node is its document's node (Transaction.vectorSearch);
///   - the row is built as the document's would be: the projection applied
///     to `{"_id": <the stored value>}`, which is what it keeps of the whole
///     document, then the scores, through the same encoder.
/// A hit whose record holds no `_id` (written before records held it) reads
/// its document.
extension Transaction {
    func vectorResults(_ info: CollectionInfo, spec: VectorIndexSpec, hits: [VectorHit], options: VectorSearchOptions) -> DocumentCursor {
        let covered = options.projection?.keepsOnlyID == true && info.primaryKey == "_id"
            && DocumentExpiry(info, now: engine.env.nowMillis()) == nil
        // A record whose filter values do not decode gives no `_id`: its row
        // reads the document, as every row did before.
        return documentCursor(info, hits: hits.map { hit in
            (hit.primaryKey,
             covered ? (try? VectorFilterValues.id(in: hit.filterValues, fields: spec.filterFields)) ?? nil : nil,
             options.includeScores ? [
                ("_distance", MutableValue.double(Double(hit.distance) + 0)),  // + 0: no -0.0
                ("_score", MutableValue.double(spec.metric.score(distance: hit.distance))),
             ] : [])
        }, projection: options.projection)
    }

    /// A cursor over the documents of `hits` (primary keys, in order), each
    /// cut by `projection` and then with `extra` fields appended; documents
    /// gone at this snapshot are left out. A hit with an `id` (the binary
    /// `_id` of its document, for a projection that keeps only `_id`) is
    /// not read: its document is taken as `{"_id": id}`.
    func documentCursor(_ info: CollectionInfo, hits: [(primaryKey: [UInt8], id: [UInt8]?, extra: [(key: String, value: MutableValue)])],
                        projection: Projection? = nil) -> DocumentCursor {
        var position = 0
        let reader = self.reader
        let prefix = CollectionInfo.documentPrefix(info.id)
        let expiry = DocumentExpiry(info, now: engine.env.nowMillis())
        func append(_ stored: MutableValue, extra: [(key: String, value: MutableValue)], to out: inout [UInt8]) throws {
            var document = stored
            if let projection { document = try projection.apply(to: document) }
            guard case .object(var members) = document else {
                throw CairnError.corruption("collection '\(info.name)': a document that is not an object")
            }
            members.removeAll { member in extra.contains { $0.key == member.key } }
            members += extra
            try MutableValue.object(members).encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        }
        return DocumentCursor(database: database) { out in
            while position < hits.count {
                let hit = hits[position]
                position += 1
                if let id = hit.id {
                    if hit.extra.isEmpty {
                        // What `append` writes for {"_id": v} cut by {"_id": 1}
                        // (itself), without building the value twice.
                        out.append(contentsOf: #"{"_id":"#.utf8)
                        try id.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
                        out.append(UInt8(ascii: "}"))
                    } else {
                        let value = try id.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
                        try append(.object([("_id", value)]), extra: hit.extra, to: &out)
                    }
                    return true
                }
                var found = false
                _ = try reader.read(prefix + hit.primaryKey) { raw in
                    if let expiry, try expiry.hides(raw) { return }
                    found = true
                    if hit.extra.isEmpty && projection == nil {
                        try DocumentValue(raw).appendJSON(to: &out)
                    } else {
                        try append(try MutableValue(DocumentValue(raw)), extra: hit.extra, to: &out)
                    }
                }
                if found { return true }
            }
            return false
        }
    }
}
