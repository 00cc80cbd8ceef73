/// The keys of a vector index (namespace 0x07). Every key starts with the
/// index's prefix P = 0x07 | collection id (u32 BE) | index id (u32 BE):
///
///     P | 0x00                       the entry point: node (u32 BE), level (u8)
///     P | 0x01 | stripe (u8)         the stripe's next local number (varint)
///     P | 0x02 | node (u32 BE)       the node: level (u8), primary key
///                                    (varint length, bytes), filter values
///                                    (varint length, a binary document of
///                                    the index's filter_fields), then the
///                                    vector, `dimensions` float32 LE
///     P | 0x03 | node | level (u8)   the node's links at that level: u32 LE
///                                    node numbers, at most M (2·M at level 0)
///     P | 0x04 | primary key         the document's node (u32 BE)
///     P | 0x05 | node | level (u8)   the node's in-links at that level:
///                                    u32 LE numbers of the nodes that link
///                                    to it. Deleting a node finds every node
///                                    that links to it here and repairs their
///                                    lists; one key, so a point read.
///     P | 0x06 | level | node        nodes above level 0 (empty value), to
///                                    find a new entry point when it goes
///
/// A node is one vector of one document. Its record never changes: an
/// update that changes the vector or a filter value deletes the node and
/// inserts a new one, so a committed record can be cached forever by its
/// number, and numbers are never reused (a stripe's counter only grows).
/// Node numbers are local · 16 + stripe, the stripe a hash of the primary
/// key, so two concurrent inserts take numbers from one counter key only
/// one time in 16. Part of the on-disk format; never change.
///
/// Components are stored little-endian and read in place by the distance
/// functions, which load host floats: Cairn runs on little-endian hosts.
enum VectorIndexFormat {
    static let stripes = 16

    enum Tag: UInt8 {
        case entry = 0x00, counter = 0x01, node = 0x02, links = 0x03, owner = 0x04, inLink = 0x05, upper = 0x06
    }

    static func prefix(collection: UInt32, index: UInt32) -> [UInt8] {
        var prefix = [Namespace.vectors.rawValue]
        prefix.appendUInt32BE(collection)
        prefix.appendUInt32BE(index)
        return prefix
    }

    static func stripe(of primaryKey: [UInt8]) -> Int {
        primaryKey.withUnsafeBytes { Int(Hash64.hash($0) % UInt64(stripes)) }
    }

    static func entryKey(_ p: [UInt8]) -> [UInt8] { p + [Tag.entry.rawValue] }
    static func counterKey(_ p: [UInt8], stripe: Int) -> [UInt8] { p + [Tag.counter.rawValue, UInt8(stripe)] }

    static func nodeKey(_ p: [UInt8], _ node: UInt32) -> [UInt8] {
        var key = p + [Tag.node.rawValue]
        key.appendUInt32BE(node)
        return key
    }

    static func linksKey(_ p: [UInt8], _ node: UInt32, level: Int) -> [UInt8] {
        var key = p + [Tag.links.rawValue]
        key.appendUInt32BE(node)
        key.append(UInt8(level))
        return key
    }

    static func ownerKey(_ p: [UInt8], primaryKey: [UInt8]) -> [UInt8] { p + [Tag.owner.rawValue] + primaryKey }

    static func inLinkKey(_ p: [UInt8], _ node: UInt32, level: Int) -> [UInt8] {
        var key = p + [Tag.inLink.rawValue]
        key.appendUInt32BE(node)
        key.append(UInt8(level))
        return key
    }

    /// The most in-links one node may have (a sanity bound for a stored list).
    static let maxInLinks = 1 << 20

    static func upperKey(_ p: [UInt8], level: Int, node: UInt32) -> [UInt8] {
        var key = p + [Tag.upper.rawValue, UInt8(level)]
        key.appendUInt32BE(node)
        return key
    }

    // MARK: Values

    /// The entry point: node and level.
    static func encodeEntry(node: UInt32, level: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.appendUInt32BE(node)
        out.append(UInt8(level))
        return out
    }

    static func decodeEntry(_ raw: UnsafeRawBufferPointer, index: String) throws -> (node: UInt32, level: Int) {
        guard raw.count == 5 else { throw CairnError.corruption("vector index '\(index)': damaged entry point") }
        return (readUInt32BE(raw, 0), Int(raw[4]))
    }

    static func readUInt32BE(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(raw[at]) << 24 | UInt32(raw[at + 1]) << 16 | UInt32(raw[at + 2]) << 8 | UInt32(raw[at + 3])
    }

    /// A node record (see the layout above).
    static func encodeNode(level: Int, primaryKey: [UInt8], filterValues: [UInt8], vector: [Float]) -> [UInt8] {
        var out: [UInt8] = [UInt8(level)]
        out.reserveCapacity(1 + 10 + primaryKey.count + filterValues.count + 4 * vector.count)
        Varint.append(UInt64(primaryKey.count), to: &out)
        out.append(contentsOf: primaryKey)
        Varint.append(UInt64(filterValues.count), to: &out)
        out.append(contentsOf: filterValues)
        for x in vector { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    /// A node record's parts, lent from `raw`. CORRUPTION naming the index
    /// when it is damaged or its vector is not `dimensions` long.
    struct NodeRecord {
        var level: Int
        var primaryKey: UnsafeRawBufferPointer
        var filterValues: UnsafeRawBufferPointer
        var vector: UnsafeRawBufferPointer
    }

    static func decodeNode(_ raw: UnsafeRawBufferPointer, dimensions: Int, index: String) throws -> NodeRecord {
        var reader = ByteReader(raw, what: "vector index '\(index)' node")
        let level = Int(try reader.readByte())
        let primaryKey = try reader.readLengthPrefixed()
        let filterValues = try reader.readLengthPrefixed()
        let rest = raw.count - reader.offset
        guard level <= HNSW.maxLevel, rest == dimensions * 4 else {
            throw CairnError.corruption("vector index '\(index)': damaged node (a vector of \(rest) bytes, \(dimensions) float32 expected)")
        }
        return NodeRecord(level: level, primaryKey: primaryKey, filterValues: filterValues,
                          vector: UnsafeRawBufferPointer(rebasing: raw[reader.offset...]))
    }

    static func encodeLinks(_ links: [UInt32]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(links.count * 4)
        for link in links { withUnsafeBytes(of: link.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    static func decodeLinks(_ raw: UnsafeRawBufferPointer, max: Int, index: String) throws -> [UInt32] {
        guard raw.count % 4 == 0, raw.count / 4 <= max else {
            throw CairnError.corruption("vector index '\(index)': damaged neighbour list (\(raw.count) bytes)")
        }
        var out = [UInt32](repeating: 0, count: raw.count / 4)
        for i in out.indices { out[i] = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        return out
    }
}
