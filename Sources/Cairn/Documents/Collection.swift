/// A collection: a name in the catalog and a numeric id that prefixes its
/// documents' keys. Catalog entry (namespace 0x02):
///
///     key   0x02 | name (UTF-8)
///     value a binary document {"id": <int>, "options": {...}}
///
/// The key 0x02 0x00 holds the next id to hand out (names contain no NUL).
/// Document keys (namespace 0x03): 0x03 | id (u32 BE) | IndexKey of _id.
struct CollectionInfo {
    let name: String
    let id: UInt32
    let options: MutableValue

    /// The first key of the collection's documents, and the first key after them.
    var documentRange: ([UInt8], [UInt8]) {
        (CollectionInfo.documentPrefix(id), CollectionInfo.documentPrefix(id + 1))
    }

    static func documentPrefix(_ id: UInt32) -> [UInt8] {
        var key = [Namespace.documents.rawValue]
        key.appendUInt32BE(id)
        return key
    }

    /// The engine key of the document whose `_id` is `id`.
    func documentKey(for idValue: DocumentValue) throws -> [UInt8] {
        var key = CollectionInfo.documentPrefix(id)
        try IndexKey.append(idValue, to: &key)
        return key
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
/// top-level name may not start with '$' (that is an operator).
enum FieldNames {
    static let maxBytes = 1024

    static func validate(_ value: DocumentValue, path: String = "document", topLevel: Bool = true) throws {
        switch value.tag {
        case .object:
            try value.forEachChild { key, child in
                let name = String(decoding: key!, as: UTF8.self)
                let here = path + "." + name
                guard !key!.isEmpty else { throw CairnError.invalidArgument("\(path): empty field name") }
                guard key!.count <= maxBytes else { throw CairnError.invalidArgument("\(here): field name longer than \(maxBytes) bytes") }
                guard !key!.contains(0) else { throw CairnError.invalidArgument("\(path): field name contains a NUL byte") }
                if topLevel && name.hasPrefix("$") { throw CairnError.invalidArgument("\(here): field names may not start with '$'") }
                try validate(child, path: here, topLevel: false)
            }
        case .array:
            var index = 0
            try value.forEachChild { _, child in
                try validate(child, path: "\(path).\(index)", topLevel: false)
                index += 1
            }
        default:
            break
        }
    }
}
