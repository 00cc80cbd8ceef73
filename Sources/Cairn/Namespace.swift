/// Every layer keeps its entries in its own part of the engine's one key
/// space, marked by a leading byte, so that user keys, documents, the
/// collection catalog and index entries never collide. Part of the on-disk
/// format; never change or reuse a value.
enum Namespace: UInt8 {
    /// Key-value pairs: 0x01 | user key.
    case keyValue = 0x01
    /// The collection catalog: 0x02 | collection name.
    case catalog = 0x02
    /// Documents: 0x03 | collection id (u32 BE) | index key of _id.
    case documents = 0x03
    /// Secondary index entries: 0x04 | collection id | index id | key | _id.
    case indexEntries = 0x04
    /// The change feed's history (ChangeFeed/ChangeFeedFormat.swift):
    /// 0x05 0x00 holds its state; 0x05 0x01 | commit sequence (u64 BE) |
    /// position in the commit (u32 BE) holds one event.
    case changeFeed = 0x05
    /// Text indexes (FullText/TextIndexFormat.swift): 0x06 | collection id
    /// | index id | postings, statistics and document numbers.
    case fullText = 0x06
    /// Vector indexes (Vector/VectorIndexFormat.swift): 0x07 | collection
    /// id | index id | HNSW nodes, links and entry point.
    case vectors = 0x07
    /// Time series (TimeSeries/TimeSeriesFormat.swift, docs/format/timeseries.md):
    /// 0x08 0x01 | series key -> id; 0x08 0x02 | id -> series key;
    /// 0x08 0x03 | tag 0x00 value 0x00 | id the tag index;
    /// 0x08 0x04 | id | bucket | commit sequence | form a chunk of points;
    /// 0x08 0x05 | 'm' metric or 'r' rule name the settings.
    case timeSeries = 0x08
    /// Links between keys and documents (Links/LinkFormat.swift,
    /// docs/format/links.md): 0x09 0x01 | key length | key | collection id
    /// | primary key; 0x09 0x02 | collection id | primary key length |
    /// primary key | key.
    case links = 0x09
    /// Graph declarations (Graph/GraphDefinition.swift, docs/format/graph.md):
    /// 0x0A | graph name -> the declaration, a binary document
    /// {"edges", "vertices", "weight"}. Edges and their adjacency index
    /// entries are ordinary documents (0x03) and index entries (0x04).
    case graphs = 0x0A

    /// The part of an engine key that table bloom filters also index, so a
    /// scan of every key with that prefix can skip tables without it:
    /// entries of non-unique indexes (marked by the top bit of their index
    /// id) end with the primary key and its length (u16 BE), and their
    /// prefix is everything before the primary key. Nil for other keys.
    /// Part of the on-disk format.
    static func bloomPrefixLength(of key: UnsafeRawBufferPointer) -> Int? {
        guard key.count >= 11, key[0] == Namespace.indexEntries.rawValue, key[5] & 0x80 != 0 else { return nil }
        let primaryKeyLength = Int(key[key.count - 2]) << 8 | Int(key[key.count - 1])
        let prefixLength = key.count - 2 - primaryKeyLength
        return prefixLength >= 9 ? prefixLength : nil
    }

    /// The first key after the namespace.
    var upperBound: [UInt8] { [rawValue + 1] }

    /// Calls `body` with `key` prefixed by this namespace's byte, in a
    /// buffer on the stack for keys up to 256 bytes.
    @inline(__always)
    func withKey<T>(_ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeTemporaryAllocation(byteCount: key.count + 1, alignment: 1) { buffer in
            buffer[0] = rawValue
            if key.count > 0 { (buffer.baseAddress! + 1).copyMemory(from: key.baseAddress!, byteCount: key.count) }
            return try body(UnsafeRawBufferPointer(buffer))
        }
    }

    func prefixed(_ key: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [rawValue]
        out.append(contentsOf: key)
        return out
    }
}
