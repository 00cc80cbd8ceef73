/// The keys of links between key-value keys and documents (namespace 0x09,
/// docs/format/links.md). Each link is written twice, once per direction,
/// in the same atomic write, so that both "the documents of a key" and
/// "the keys of a document" are prefix scans:
///
///     by key       0x09 0x01 | key length (u32 BE) | key
///                  | collection id (u32 BE) | IndexKey of the primary key
///                  value: a binary document {"id": <primary key value>,
///                  "metadata": <object or null>}
///     by document  0x09 0x02 | collection id (u32 BE)
///                  | primary key length (u32 BE) | IndexKey of the primary key
///                  | key
///                  value: empty
///
/// The collection's id, not its name, so that a rename keeps its links.
enum LinkFormat {
    static let byKey: UInt8 = 0x01
    static let byDocument: UInt8 = 0x02

    /// 0x09 0x01 | key length | key: every link of `key` starts so.
    static func keyPrefix(_ key: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = [Namespace.links.rawValue, byKey]
        out.reserveCapacity(key.count + 6 + 16)
        out.appendUInt32BE(UInt32(key.count))  // at most Database.maxKeySize
        out.append(contentsOf: key)
        return out
    }

    static func linkKey(key: UnsafeRawBufferPointer, collection: UInt32, primaryKey: [UInt8]) -> [UInt8] {
        var out = keyPrefix(key)
        out.appendUInt32BE(collection)
        out.append(contentsOf: primaryKey)
        return out
    }

    /// 0x09 0x02 | collection id [| primary key length | primary key]:
    /// every link of the collection, or of one of its documents.
    static func documentPrefix(collection: UInt32, primaryKey: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = [Namespace.links.rawValue, byDocument]
        out.appendUInt32BE(collection)
        if let primaryKey {
            out.appendUInt32BE(UInt32(primaryKey.count))  // an IndexKey of a document at most 16 MiB
            out.append(contentsOf: primaryKey)
        }
        return out
    }

    static func reverseKey(collection: UInt32, primaryKey: [UInt8], key: UnsafeRawBufferPointer) -> [UInt8] {
        var out = documentPrefix(collection: collection, primaryKey: primaryKey)
        out.append(contentsOf: key)
        return out
    }

    /// The collection id and primary key of a by-key link key.
    static func target(ofLinkKey linkKey: UnsafeRawBufferPointer, prefixLength: Int) throws -> (collection: UInt32, primaryKey: [UInt8]) {
        guard linkKey.count > prefixLength + 4 else { throw CairnError.corruption("links: damaged link key") }
        let collection = UInt32(linkKey[prefixLength]) << 24 | UInt32(linkKey[prefixLength + 1]) << 16
            | UInt32(linkKey[prefixLength + 2]) << 8 | UInt32(linkKey[prefixLength + 3])
        return (collection, Array(linkKey[(prefixLength + 4)...]))
    }
}
