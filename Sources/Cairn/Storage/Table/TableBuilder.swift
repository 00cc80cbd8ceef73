/// Writes one SSTable (see TableFormat) from entries added in internal-key
/// order. Lifecycle: `add` entries, then `finish` once; the file is synced
/// and closed when `finish` returns. On any error the caller deletes the
/// partial file.
final class TableBuilder {
    struct Options {
        var blockSize = 4096
        var compression: CompressionKind = .zstd
        var bloomBitsPerKey = 10
        /// The length of a key's filter prefix, or nil when it has none
        /// (RocksDB's prefix_extractor). The layers above decide which keys
        /// are scanned by prefix and install this; the engine only puts the
        /// prefix in each table's bloom filter, so that `sources(prefix:)`
        /// can skip tables without it. The answer for a key must never
        /// change: it is part of the tables already written.
        var prefixLength: (@Sendable (UnsafeRawBufferPointer) -> Int?)?
    }

    /// Who the table is, for its footer (TableFormat.Identity).
    struct Owner {
        var number: UInt64
        var databaseID: DatabaseID
        var generation: UInt64
    }

    private let file: FileHandle
    private let options: Options
    private let owner: Owner
    private let dataBlock = BlockBuilder()
    private let indexBlock = BlockBuilder(restartInterval: 1)
    private var keyHashes: [UInt64] = []
    private var lastUserKeyHash: UInt64?
    private var lastPrefixHash: UInt64?
    private var pendingIndexKey: [UInt8]?
    private var pendingHandle = TableFormat.BlockHandle(offset: 0, size: 0)
    private var stored: [UInt8] = []
    private var scratch: [UInt8] = []
    private(set) var offset: UInt64 = 0
    private(set) var entryCount: UInt64 = 0
    private(set) var smallestSequence = UInt64.max
    private(set) var largestSequence: UInt64 = 0
    private(set) var smallestKey: [UInt8] = []
    private(set) var largestKey: [UInt8] = []

    init(file: FileHandle, options: Options, owner: Owner) {
        self.file = file
        self.options = options
        self.owner = owner
    }

    /// Bytes written so far plus the block being built.
    var estimatedFileSize: UInt64 { offset + UInt64(dataBlock.estimatedSize) }

    /// Indexes the last finished data block by its last key. Done lazily,
    /// when the next block starts or the table ends.
    private func indexPendingBlock() {
        guard let pending = pendingIndexKey else { return }
        pending.withUnsafeBytes { key in
            scratch.removeAll(keepingCapacity: true)
            pendingHandle.encode(into: &scratch)
            scratch.withUnsafeBytes { indexBlock.add(key: key, value: $0) }
        }
        pendingIndexKey = nil
    }

    func add(internalKey: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        indexPendingBlock()
        if entryCount == 0 { smallestKey = Array(internalKey) }
        let userKey = InternalKey.userKey(internalKey)
        let hash = Hash64.hash(userKey)
        if hash != lastUserKeyHash {
            keyHashes.append(hash)
            lastUserKeyHash = hash
            // Keys that have a filter prefix (Options.prefixLength) also
            // put it in the filter, tombstones included, so a prefix scan
            // may skip this table only when no version of any key with
            // that prefix is in it.
            if let length = options.prefixLength?(userKey), length > 0, length <= userKey.count {
                let prefixHash = Hash64.hash(UnsafeRawBufferPointer(rebasing: userKey[0..<length]))
                if prefixHash != lastPrefixHash {
                    keyHashes.append(prefixHash)
                    lastPrefixHash = prefixHash
                }
            }
        }
        let sequence = InternalKey.trailer(internalKey) >> 8
        smallestSequence = min(smallestSequence, sequence)
        largestSequence = max(largestSequence, sequence)
        dataBlock.add(key: internalKey, value: value)
        entryCount += 1
        if dataBlock.estimatedSize >= options.blockSize { try flushDataBlock() }
    }

    private func flushDataBlock() throws {
        guard !dataBlock.isEmpty else { return }
        let lastKey = dataBlock.lastKeyAdded
        let contents = dataBlock.finish()
        pendingHandle = try contents.withUnsafeBytes { try writeBlock($0, compression: options.compression) }
        pendingIndexKey = lastKey
        largestKey = lastKey
        dataBlock.reset()
    }

    /// Writes a block and its trailer; returns its handle.
    private func writeBlock(_ raw: UnsafeRawBufferPointer, compression: CompressionKind) throws -> TableFormat.BlockHandle {
        stored.removeAll(keepingCapacity: true)
        var kind = CompressionKind.none
        if compression != .none && Compression.compress(raw, kind: compression, into: &stored) {
            kind = compression
        } else {
            stored.removeAll(keepingCapacity: true)
            stored.append(contentsOf: raw)
        }
        let handle = TableFormat.BlockHandle(offset: offset, size: UInt64(stored.count))
        stored.append(kind.rawValue)
        let crc = stored.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
        stored.appendUInt32LE(crc)
        try stored.withUnsafeBytes { try file.append($0) }
        offset += UInt64(stored.count)
        return handle
    }

    /// The identity the footer records; its checksum covers the same
    /// properties the manifest keeps (TableFormat.propertiesChecksum).
    var identity: TableFormat.Identity {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let checksum = smallestKey.withUnsafeBytes { smallest in
            largestKey.withUnsafeBytes { largest in
                TableFormat.propertiesChecksum(
                    number: owner.number, databaseID: owner.databaseID, entryCount: entryCount,
                    smallestSequence: entryCount == 0 ? 0 : smallestSequence, largestSequence: largestSequence,
                    smallestUserKey: entryCount == 0 ? empty : InternalKey.userKey(smallest),
                    largestUserKey: entryCount == 0 ? empty : InternalKey.userKey(largest))
            }
        }
        return TableFormat.Identity(number: owner.number, databaseID: owner.databaseID, generation: owner.generation,
                                    propertiesChecksum: checksum)
    }

    func finish() throws {
        try flushDataBlock()
        indexPendingBlock()
        var filter: [UInt8] = []
        if options.bloomBitsPerKey > 0 { BloomFilter.build(hashes: keyHashes, bitsPerKey: options.bloomBitsPerKey, into: &filter) }
        let filterHandle = try filter.withUnsafeBytes { try writeBlock($0, compression: .none) }
        if indexBlock.isEmpty {
            // An empty table still has a well-formed (empty) index block.
            indexBlock.reset()
        }
        let index = indexBlock.finish()
        let indexHandle = try index.withUnsafeBytes { try writeBlock($0, compression: .none) }
        var footer: [UInt8] = []
        TableFormat.Footer.encode(index: indexHandle, filter: filterHandle, entryCount: entryCount,
                                  smallestSequence: entryCount == 0 ? 0 : smallestSequence,
                                  identity: identity, into: &footer)
        try footer.withUnsafeBytes { try file.append($0) }
        offset += UInt64(footer.count)
        try file.sync()
        file.close()
    }
}
