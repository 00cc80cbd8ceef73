/// The full-text layer's operations on any scope (Scope.swift).
extension Scope {
    /// Searches `collection`'s text index with `query` (TextQuery's
    /// syntax) and options (SearchOptions); a cursor over the hits,
    /// `{"document": ..., "score": ...}`, best first. A missing collection
    /// gives no hits; a collection without a text index is NOT_FOUND.
    public func search(collection: String, query: UnsafeRawBufferPointer, optionsJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        try CollectionInfo.validate(name: collection)
        guard let text = String(validating: query, as: UTF8.self) else { throw CairnError.invalidArgument("search query is not valid UTF-8") }
        let options = try SearchOptions.parse(json: optionsJSON)
        let hits = try withTransaction(writing: false) { try $0.search(in: collection, query: text, options: options) }
        var next = 0
        return DocumentCursor(database: database) { out in
            guard next < hits.count else { return false }
            out.append(contentsOf: hits[next])
            next += 1
            return true
        }
    }
}
