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
            return transaction.vectorResults(info, spec: spec, hits: hits, options: options)
        }
    }
}
