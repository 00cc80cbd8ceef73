import Synchronization

/// A collection: a name in the catalog, a numeric id that prefixes its
/// documents' keys, its options and its indexes. Catalog entry (namespace
/// 0x02):
///
///     key   0x02 | name (UTF-8)
///     value a binary document {"id": <int>, "primary_key": "<path>",
///           "schema": <schema or null>, "indexes": [<index>...],
///           "next_index": <int>, "images": true (only when on)}
///
/// The key 0x02 0x00 holds the next id to hand out (names contain no NUL).
/// Document keys (namespace 0x03): 0x03 | id (u32 BE) | IndexKey of the
/// primary key's value. Renaming moves the entry; the id stays, so the
/// documents and index entries stay where they are.
struct CollectionInfo {
    var name: String
    let id: UInt32
    /// The dotted path of the field that keys documents ("_id").
    var primaryKey: String = "_id"
    var schema: Schema?
    var indexes: [IndexDefinition] = []
    var nextIndexID: UInt32 = 1
    /// The change feed records pre-images (and updates' post-images) of
    /// this collection's documents (MongoDB's changeStreamPreAndPostImages).
    var preAndPostImages = false

    var primaryKeyPath: [String] { primaryKey.split(separator: ".").map(String.init) }

    /// The first key of the collection's documents, and the first key after them.
    var documentRange: ([UInt8], [UInt8]) {
        (CollectionInfo.documentPrefix(id), CollectionInfo.documentPrefix(id + 1))
    }

    static func documentPrefix(_ id: UInt32) -> [UInt8] {
        var key = [Namespace.documents.rawValue]
        key.appendUInt32BE(id)
        return key
    }

    /// The engine key of the document whose primary key is `value`.
    func documentKey(for value: DocumentValue) throws -> [UInt8] {
        var key = CollectionInfo.documentPrefix(id)
        try IndexKey.append(value, to: &key)
        return key
    }

    /// The ranges of every index's keys (ordered entries, search
    /// structures): [first key, first key after).
    var indexRanges: [([UInt8], [UInt8])] {
        [Namespace.indexEntries, Namespace.fullText, Namespace.vectors].map { namespace in
            var lower = [namespace.rawValue], upper = [namespace.rawValue]
            lower.appendUInt32BE(id)
            upper.appendUInt32BE(id + 1)
            return (lower, upper)
        }
    }

    func index(named name: String) -> IndexDefinition? { indexes.first { $0.name == name } }

    // MARK: Catalog entry

    func encoded() -> [UInt8] {
        var members: [(key: String, value: MutableValue)] = [
            ("id", .int(Int64(id))), ("primary_key", .string(Array(primaryKey.utf8))),
            ("schema", schema?.definition ?? .null),
            ("indexes", .array(indexes.map { $0.catalogValue })), ("next_index", .int(Int64(nextIndexID))),
        ]
        if preAndPostImages { members.append(("images", .bool(true))) }
        return MutableValue.object(members).encoded()
    }

    static func decode(name: String, entry raw: UnsafeRawBufferPointer) throws -> CollectionInfo {
        let damaged = CairnError.corruption("catalog entry of collection '\(name)' is damaged")
        guard case .object(let members) = try MutableValue(DocumentValue(raw)) else { throw damaged }
        var id: UInt32?
        var info = CollectionInfo(name: name, id: 0)
        for (key, value) in members {
            switch (key, value) {
            case ("id", .int(let n)): id = UInt32(truncatingIfNeeded: n)
            case ("primary_key", .string(let utf8)): info.primaryKey = String(decoding: utf8, as: UTF8.self)
            case ("schema", .null): break
            case ("schema", let definition): info.schema = try Schema(definition)
            case ("indexes", .array(let list)): info.indexes = try list.map { try IndexDefinition(catalogValue: $0) }
            case ("next_index", .int(let n)): info.nextIndexID = UInt32(truncatingIfNeeded: n)
            case ("images", .bool(let on)): info.preAndPostImages = on
            default: throw damaged
            }
        }
        guard let id else { throw damaged }
        return CollectionInfo(name: name, id: id, primaryKey: info.primaryKey, schema: info.schema,
                              indexes: info.indexes, nextIndexID: info.nextIndexID, preAndPostImages: info.preAndPostImages)
    }

    static let maxNameBytes = 255

    static func validate(name: String) throws {
        let bytes = name.utf8
        guard !bytes.isEmpty else { throw CairnError.invalidArgument("collection name is empty") }
        guard bytes.count <= maxNameBytes else {
            throw CairnError.invalidArgument("collection name is \(bytes.count) bytes; the limit is \(maxNameBytes)")
        }
        guard !bytes.contains(0) else { throw CairnError.invalidArgument("collection name contains a NUL byte") }
        guard !name.hasPrefix("$") else { throw CairnError.invalidArgument("collection name '\(name)' starts with '$'") }
    }

    static func catalogKey(_ name: String) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(1 + name.utf8.count)
        key.append(Namespace.catalog.rawValue)
        key.append(contentsOf: name.utf8)
        return key
    }
    static let nextIDKey: [UInt8] = [Namespace.catalog.rawValue, 0]
}
