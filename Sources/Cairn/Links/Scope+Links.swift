/// Links between key-value keys and documents (ekoDB's links): a key may
/// point at any number of documents, each link carrying optional metadata,
/// and a document knows the keys that point at it.
///
/// Consistency: both directions of a link live in the engine (namespace
/// 0x09) and change in the same atomic write. Deleting a document, by any
/// path (delete, the TTL purge, dropping its collection), removes its links
/// in the same transaction. Deleting a key keeps its links, so that a
/// key-value delete stays one blind write; they are not listed while the
/// key is absent, and `unlinkAll(key:)` in the same transaction as the
/// delete removes them with it.
extension Scope {
    /// Links `key` to the document of `collection` whose primary key is
    /// the JSON value `idJSON`, with `metadataJSON` (a JSON object, or nil)
    /// kept on the link. Linking again replaces the metadata. Both the key
    /// and the document must exist (NOT_FOUND).
    public func link(key: UnsafeRawBufferPointer, collection: String, idJSON: UnsafeRawBufferPointer,
                     metadataJSON: UnsafeRawBufferPointer?) throws {
        try Database.validateKey(key)
        let metadata = try metadataJSON.map { json -> [UInt8] in
            let binary = try DocumentBuilder.document(fromJSON: json, what: "metadata")
            try binary.withUnsafeBytes { try FieldNames.validate(DocumentValue($0), path: "metadata") }
            return binary
        }
        try withTransaction(writing: true) { try $0.link(key: key, collection: collection, idJSON: idJSON, metadata: metadata) }
    }

    /// Removes one link; returns whether it existed.
    public func unlink(key: UnsafeRawBufferPointer, collection: String, idJSON: UnsafeRawBufferPointer) throws -> Bool {
        try Database.validateKey(key)
        return try withTransaction(writing: true) { try $0.unlink(key: key, collection: collection, idJSON: idJSON) }
    }

    /// Removes every link of `key`; returns how many it removed.
    public func unlinkAll(key: UnsafeRawBufferPointer) throws -> Int {
        try Database.validateKey(key)
        return try withTransaction(writing: true) { try $0.unlinkAll(key: key) }
    }

    /// The documents `key` links to, as a JSON array of {"collection",
    /// "id", "metadata"}.
    public func links(ofKey key: UnsafeRawBufferPointer) throws -> [UInt8] {
        try Database.validateKey(key)
        return try withTransaction(writing: false) { try $0.links(ofKey: key) }
    }

    /// The keys linked to a document, as a JSON array of {"key",
    /// "key_base64", "metadata"}.
    public func links(ofDocumentIn collection: String, idJSON: UnsafeRawBufferPointer) throws -> [UInt8] {
        try withTransaction(writing: false) { try $0.links(ofDocumentIn: collection, idJSON: idJSON) }
    }
}
