/// The links layer's operations inside a transaction (Scope+Links.swift
/// is the public face). Both directions of a link are written and deleted
/// together (LinkFormat).
extension Transaction {
    /// The engine key of a document and its primary key's IndexKey, for a
    /// primary key given as JSON; nil when the collection does not exist.
    private func linkTarget(collection name: String, idJSON: UnsafeRawBufferPointer) throws -> (info: CollectionInfo, primaryKey: [UInt8])? {
        try CollectionInfo.validate(name: name)
        let id = try DocumentBuilder.value(fromJSON: idJSON, what: "id")
        guard let info = try collection(name) else { return nil }
        var primaryKey: [UInt8] = []
        try id.withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &primaryKey) }
        return (info, primaryKey)
    }

    /// Links `key` to a document, replacing the metadata of an existing
    /// link. Both must exist (NOT_FOUND naming which does not).
    func link(key: UnsafeRawBufferPointer, collection name: String, idJSON: UnsafeRawBufferPointer, metadata: [UInt8]?) throws {
        guard !isReadOnly else { throw CairnError.invalidArgument("the transaction is read-only") }
        guard try withValueInternal(forKey: key, { _ in }) else { throw CairnError(.notFound, "link: the key does not exist") }
        let idText = String(decoding: idJSON, as: UTF8.self)
        guard let (info, primaryKey) = try linkTarget(collection: name, idJSON: idJSON),
              let document = try storedDocument(in: name, idJSON: Array(idJSON)) else {
            throw CairnError(.notFound, "link: collection '\(name)' has no document with \(name.isEmpty ? "_id" : "primary key") \(idText)")
        }
        let id = try document.withUnsafeBytes { raw -> MutableValue in
            guard let value = try DocumentValue(raw).value(atPath: info.primaryKey) else {
                throw CairnError.corruption("collection '\(name)': a document without its primary key")
            }
            return try MutableValue(value)
        }
        let metadataValue = try metadata.map { bytes in try bytes.withUnsafeBytes { try MutableValue(DocumentValue($0)) } } ?? .null
        database.links.noteLinkWritten()
        try put(LinkFormat.linkKey(key: key, collection: info.id, primaryKey: primaryKey),
                MutableValue.object([("id", id), ("metadata", metadataValue)]).encoded())
        try put(LinkFormat.reverseKey(collection: info.id, primaryKey: primaryKey, key: key), [])
    }

    /// Removes the link between `key` and a document; false when there was none.
    func unlink(key: UnsafeRawBufferPointer, collection name: String, idJSON: UnsafeRawBufferPointer) throws -> Bool {
        guard !isReadOnly else { throw CairnError.invalidArgument("the transaction is read-only") }
        guard let (info, primaryKey) = try linkTarget(collection: name, idJSON: idJSON) else { return false }
        let linkKey = LinkFormat.linkKey(key: key, collection: info.id, primaryKey: primaryKey)
        guard try read(linkKey) else { return false }
        try delete(linkKey)
        try delete(LinkFormat.reverseKey(collection: info.id, primaryKey: primaryKey, key: key))
        return true
    }

    /// Removes every link of `key`; returns how many there were.
    func unlinkAll(key: UnsafeRawBufferPointer) throws -> Int {
        guard !isReadOnly else { throw CairnError.invalidArgument("the transaction is read-only") }
        guard database.links.mayExist || !writes.isEmpty else { return 0 }
        let prefix = LinkFormat.keyPrefix(key)
        var targets: [(collection: UInt32, primaryKey: [UInt8])] = []
        let scan = try self.scan(lower: prefix, upper: prefixUpperBound(prefix))
        while try scan.next() { targets.append(try LinkFormat.target(ofLinkKey: scan.key, prefixLength: prefix.count)) }
        for target in targets {
            try delete(LinkFormat.linkKey(key: key, collection: target.collection, primaryKey: target.primaryKey))
            try delete(LinkFormat.reverseKey(collection: target.collection, primaryKey: target.primaryKey, key: key))
        }
        return targets.count
    }

    /// Removes every link of a document, which is being deleted (in the
    /// same transaction, so a crash keeps both or neither).
    func removeLinks(ofDocumentIn collection: UInt32, primaryKey: [UInt8]) throws {
        guard database.links.mayExist else { return }
        let prefix = LinkFormat.documentPrefix(collection: collection, primaryKey: primaryKey)
        var keys: [[UInt8]] = []
        let scan = try self.scan(lower: prefix, upper: prefixUpperBound(prefix))
        while try scan.next() { keys.append(Array(scan.key[prefix.count...])) }
        for key in keys {
            try key.withUnsafeBytes { key in
                try delete(LinkFormat.linkKey(key: key, collection: collection, primaryKey: primaryKey))
            }
            try delete(prefix + key)
        }
    }

    /// The links of `key` as a JSON array of {"collection", "id",
    /// "metadata"}, by collection id then primary key. Links to a document
    /// that has expired (and awaits the purge) are left out.
    func links(ofKey key: UnsafeRawBufferPointer) throws -> [UInt8] {
        var entries: [MutableValue] = []
        if database.links.mayExist || !writes.isEmpty {
            let prefix = LinkFormat.keyPrefix(key)
            let names = try collectionsByID()
            let scan = try self.scan(lower: prefix, upper: prefixUpperBound(prefix))
            while try scan.next() {
                let target = try LinkFormat.target(ofLinkKey: scan.key, prefixLength: prefix.count)
                guard let info = names[target.collection] else { continue }
                guard case .object(let members) = try MutableValue(DocumentValue(scan.value)) else {
                    throw CairnError.corruption("links: a damaged link of collection '\(info.name)'")
                }
                let expiry = DocumentExpiry(info, now: engine.env.nowMillis())
                if let expiry {
                    var expired = false
                    _ = try read(CollectionInfo.documentPrefix(info.id) + target.primaryKey) { expired = try expiry.hides($0) }
                    if expired { continue }
                }
                entries.append(.object([("collection", .string(Array(info.name.utf8)))] + members))
            }
        }
        return try MutableValue.array(entries).jsonBytes()
    }

    /// The keys linked to a document as a JSON array of {"key" (the key as
    /// text, or null when it is not UTF-8), "key_base64", "metadata"}, in
    /// key order. Links whose key no longer exists (deleted, expired) are
    /// left out: a key's delete keeps its links unless the caller unlinks
    /// them (Scope.unlinkAll), so that a key-value delete stays one write.
    func links(ofDocumentIn name: String, idJSON: UnsafeRawBufferPointer) throws -> [UInt8] {
        var entries: [MutableValue] = []
        if database.links.mayExist || !writes.isEmpty, let (info, primaryKey) = try linkTarget(collection: name, idJSON: idJSON) {
            let prefix = LinkFormat.documentPrefix(collection: info.id, primaryKey: primaryKey)
            var keys: [[UInt8]] = []
            let scan = try self.scan(lower: prefix, upper: prefixUpperBound(prefix))
            while try scan.next() { keys.append(Array(scan.key[prefix.count...])) }
            for key in keys {
                try key.withUnsafeBytes { key in
                    guard try withValueInternal(forKey: key, { _ in }) else { return }
                    var metadata = MutableValue.null
                    _ = try read(LinkFormat.linkKey(key: key, collection: info.id, primaryKey: primaryKey)) { raw in
                        if case .object(let members) = try MutableValue(DocumentValue(raw)),
                           let stored = members.first(where: { $0.key == "metadata" }) {
                            metadata = stored.value
                        }
                    }
                    let text: MutableValue = String(validating: key, as: UTF8.self).map { .string(Array($0.utf8)) } ?? .null
                    entries.append(.object([("key", text), ("key_base64", .string(Base64.encode(key))), ("metadata", metadata)]))
                }
            }
        }
        return try MutableValue.array(entries).jsonBytes()
    }

    /// Every collection this transaction sees, by id.
    private func collectionsByID() throws -> [UInt32: CollectionInfo] {
        var out: [UInt32: CollectionInfo] = [:]
        for name in try collectionNames() {
            if let info = try collection(name) { out[info.id] = info }
        }
        return out
    }
}

extension Database {
    /// The link entries of collection `id`, both directions, for its drop
    /// to delete in the same write.
    func linkKeys(ofCollection id: UInt32, in view: Transaction) throws -> [[UInt8]] {
        guard links.mayExist else { return [] }
        let prefix = LinkFormat.documentPrefix(collection: id)
        var out: [[UInt8]] = []
        let scan = try view.scan(lower: prefix, upper: prefixUpperBound(prefix))
        while try scan.next() {
            // 0x09 0x02 | collection id | primary key length | primary key | key
            let rest = UnsafeRawBufferPointer(rebasing: scan.key[prefix.count...])
            guard rest.count >= 4 else { throw CairnError.corruption("links: a damaged link key") }
            let length = Int(rest[0]) << 24 | Int(rest[1]) << 16 | Int(rest[2]) << 8 | Int(rest[3])
            guard rest.count > 4 + length else { throw CairnError.corruption("links: a damaged link key") }
            let primaryKey = Array(rest[4..<(4 + length)])
            let key = UnsafeRawBufferPointer(rebasing: rest[(4 + length)...])
            out.append(LinkFormat.linkKey(key: key, collection: id, primaryKey: primaryKey))
            out.append(Array(scan.key))
        }
        return out
    }
}
