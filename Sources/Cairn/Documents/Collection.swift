import Synchronization

/// A collection: a name in the catalog, a numeric id that prefixes its
/// documents' keys, its options and its indexes. Catalog entry (namespace
/// 0x02):
///
///     key   0x02 | name (UTF-8)
///     value a binary document {"id": <int>, "primary_key": "<path>",
///           "schema": <schema or null>, "indexes": [<index>...],
///           "next_index": <int>}
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

    /// The first key of the collection's index entries, and the first after.
    var indexEntryRange: ([UInt8], [UInt8]) {
        var lower = [Namespace.indexEntries.rawValue], upper = [Namespace.indexEntries.rawValue]
        lower.appendUInt32BE(id)
        upper.appendUInt32BE(id + 1)
        return (lower, upper)
    }

    func index(named name: String) -> IndexDefinition? { indexes.first { $0.name == name } }

    // MARK: Catalog entry

    func encoded() -> [UInt8] {
        let members: [(key: String, value: MutableValue)] = [
            ("id", .int(Int64(id))), ("primary_key", .string(Array(primaryKey.utf8))),
            ("schema", schema?.definition ?? .null),
            ("indexes", .array(indexes.map { $0.catalogValue })), ("next_index", .int(Int64(nextIndexID))),
        ]
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
            default: throw damaged
            }
        }
        guard let id else { throw damaged }
        return CollectionInfo(name: name, id: id, primaryKey: info.primaryKey, schema: info.schema,
                              indexes: info.indexes, nextIndexID: info.nextIndexID)
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

    static func catalogKey(_ name: String) -> [UInt8] { [Namespace.catalog.rawValue] + Array(name.utf8) }
    static let nextIDKey: [UInt8] = [Namespace.catalog.rawValue, 0]
}

/// Field names stored in documents: no NUL, not empty, at most 1 KiB; a
/// top-level name may not start with '$' (that is an operator). Also the
/// nesting limit of JSON input (100), for documents that updates built.
enum FieldNames {
    static let maxBytes = 1024

    static func validate(_ value: DocumentValue, path: @autoclosure () -> String = "document", topLevel: Bool = true) throws {
        // Almost every document is valid: check without building any path
        // text, and build the message only for the rare bad one.
        if try allValid(value, topLevel: topLevel, depth: 1) { return }
        try describeFirstProblem(value, path: path(), topLevel: topLevel, depth: 1)
    }

    private static func allValid(_ value: DocumentValue, topLevel: Bool, depth: Int) throws -> Bool {
        switch value.tag {
        case .object:
            guard depth <= JSONValue.maxDepth else { return false }
            return try value.forEachChildUntil { key, child in
                let name = key!
                guard !name.isEmpty, name.count <= maxBytes, !name.contains(0),
                      !(topLevel && name.first == UInt8(ascii: "$")) else { return false }
                return try allValid(child, topLevel: false, depth: depth + 1)
            }
        case .array:
            guard depth <= JSONValue.maxDepth else { return false }
            return try value.forEachChildUntil { _, child in try allValid(child, topLevel: false, depth: depth + 1) }
        default:
            return true
        }
    }

    private static func describeFirstProblem(_ value: DocumentValue, path: String, topLevel: Bool, depth: Int) throws {
        if (value.tag == .object || value.tag == .array) && depth > JSONValue.maxDepth {
            throw CairnError.invalidArgument("\(path): nested deeper than \(JSONValue.maxDepth) levels")
        }
        switch value.tag {
        case .object:
            try value.forEachChild { key, child in
                let name = String(decoding: key!, as: UTF8.self)
                let here = path + "." + name
                guard !key!.isEmpty else { throw CairnError.invalidArgument("\(path): empty field name") }
                guard key!.count <= maxBytes else { throw CairnError.invalidArgument("\(here): field name longer than \(maxBytes) bytes") }
                guard !key!.contains(0) else { throw CairnError.invalidArgument("\(path): field name contains a NUL byte") }
                if topLevel && name.hasPrefix("$") { throw CairnError.invalidArgument("\(here): field names may not start with '$'") }
                try describeFirstProblem(child, path: here, topLevel: false, depth: depth + 1)
            }
        case .array:
            var index = 0
            try value.forEachChild { _, child in
                try describeFirstProblem(child, path: "\(path).\(index)", topLevel: false, depth: depth + 1)
                index += 1
            }
        default:
            break
        }
    }
}

/// Decoded catalog entries, so that a query neither reads nor parses its
/// collection's definition (schema, indexes) on every call.
///
/// Every write that touches the catalog bumps `generation` once before it
/// becomes visible and once after, so an odd generation means "changing".
/// A reader notes the generation before and after taking its snapshot; when
/// both are the same even number, its snapshot holds exactly the catalog of
/// that generation, and an entry decoded by any reader of that generation
/// is the one it would read itself. Otherwise it reads and decodes as
/// usual, and the stored bytes still decide whether a decoded entry is
/// reused.
final class CatalogCache: @unchecked Sendable {
    private let lock = Lock()
    private var entries: [String: (generation: UInt64?, bytes: [UInt8], info: CollectionInfo?)] = [:]
    let generation = Atomic<UInt64>(0)

    /// Runs a catalog write between the two bumps.
    func changing<T>(_ body: () throws -> T) rethrows -> T {
        generation.add(1, ordering: .sequentiallyConsistent)
        defer { generation.add(1, ordering: .sequentiallyConsistent) }
        return try body()
    }

    /// The entry a reader of stable `generation` may use without reading:
    /// .some(nil) for "no such collection", nil when not known.
    func cached(_ name: String, generation: UInt64) -> CollectionInfo?? {
        lock.withLock {
            guard let entry = entries[name], entry.generation == generation else { return nil }
            return .some(entry.info)
        }
    }

    /// Decodes a stored entry (nil: absent), reusing a decoded one with the
    /// same bytes, and remembers it for readers of `generation`.
    func decode(name: String, entry raw: UnsafeRawBufferPointer?, generation: UInt64?) throws -> CollectionInfo? {
        let previous = lock.withLock { entries[name] }
        var info: CollectionInfo?
        if let raw {
            if let previous, let known = previous.info, previous.bytes.count == raw.count,
               previous.bytes.withUnsafeBytes({ compareBytes($0, raw) == 0 }) {
                info = known
            } else {
                info = try CollectionInfo.decode(name: name, entry: raw)
            }
        }
        lock.withLock {
            if entries.count > 1024 { entries.removeAll() }
            entries[name] = (generation, raw.map { Array($0) } ?? [], info)
        }
        return info
    }
}
