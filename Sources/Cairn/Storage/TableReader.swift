/// Reads one SSTable: the footer, index and filter are loaded when the
/// table opens and kept; data blocks are read on demand through the block
/// cache. Thread-safe: reads use pread and share no mutable state.
final class TableReader: @unchecked Sendable {
    let number: UInt64
    let path: String
    let fileSize: Int
    let entryCount: UInt64
    private let file: FileHandle
    private let index: Block
    private let filter: UnsafeMutableRawBufferPointer
    private let cache: BlockCache?
    let stats: EngineStats?

    init(path: String, number: UInt64, fileSystem: FileSystem, cache: BlockCache?, stats: EngineStats?) throws {
        self.path = path
        self.number = number
        self.cache = cache
        self.stats = stats
        file = try fileSystem.openForReading(path)
        fileSize = try file.size
        guard fileSize >= TableFormat.footerSize else { throw CairnError.corruption("\(path): too short to be a table") }
        let footerBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: TableFormat.footerSize, alignment: 8)
        defer { footerBytes.deallocate() }
        try file.read(at: fileSize - TableFormat.footerSize, count: TableFormat.footerSize, into: footerBytes.baseAddress!)
        let footer = try TableFormat.Footer.decode(UnsafeRawBufferPointer(footerBytes), what: path)
        entryCount = footer.entryCount
        index = try Block(storage: try TableReader.readStored(file: file, handle: footer.index, fileSize: fileSize, path: path), what: path)
        filter = try TableReader.readStored(file: file, handle: footer.filter, fileSize: fileSize, path: path)
    }

    deinit { filter.deallocate() }

    /// Reads, verifies and decompresses the block at `handle` into a new
    /// buffer the caller owns.
    private static func readStored(file: FileHandle, handle: TableFormat.BlockHandle, fileSize: Int,
                                   path: String) throws -> UnsafeMutableRawBufferPointer {
        let total = Int(clamping: handle.size) &+ TableFormat.trailerSize
        guard handle.offset <= UInt64(fileSize), handle.size <= UInt64(fileSize), Int(handle.offset) + total <= fileSize - TableFormat.footerSize else {
            throw CairnError.corruption("\(path): block handle \(handle.offset)+\(handle.size) is outside the file")
        }
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 8)
        do {
            try file.read(at: Int(handle.offset), count: total, into: raw.baseAddress!)
            let size = Int(handle.size)
            let storedCRC = UInt32(littleEndian: UnsafeRawBufferPointer(raw).loadUnaligned(fromByteOffset: size + 1, as: UInt32.self))
            let actual = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(size + 1)])))
            guard storedCRC == actual else { throw CairnError.corruption("\(path): block at byte \(handle.offset) fails its checksum") }
            guard let kind = CompressionKind(rawValue: raw[size]) else {
                throw CairnError.corruption("\(path): block at byte \(handle.offset) has unknown compression \(raw[size])")
            }
            if kind == .none { return UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]) }
            defer { raw.deallocate() }
            return try Compression.decompress(UnsafeRawBufferPointer(rebasing: raw[0..<size]), kind: kind, what: "\(path) block at byte \(handle.offset)")
        } catch {
            raw.deallocate()
            throw error
        }
    }

    /// The data block at `handle`, from the cache or the file. Compactions
    /// pass `fillCache: false`, so one pass over old tables does not evict
    /// the blocks readers use.
    func dataBlock(_ handle: TableFormat.BlockHandle, fillCache: Bool = true) throws -> Block {
        if let cache, let block = cache.lookup(table: number, offset: handle.offset) {
            if let stats { EngineStats.bump(stats.blockCacheHits) }
            return block
        }
        if let stats { EngineStats.bump(stats.blockCacheMisses) }
        let block = try Block(storage: try TableReader.readStored(file: file, handle: handle, fileSize: fileSize, path: path), what: path)
        if fillCache { cache?.insert(table: number, offset: handle.offset, block: block) }
        return block
    }

    func mayContain(userKeyHash: UInt64) -> Bool {
        BloomFilter.mayContain(UnsafeRawBufferPointer(filter), hash: userKeyHash)
    }

    /// A fresh iterator over the index block.
    func makeIndexIterator() -> BlockIterator { BlockIterator(block: index) }

    /// The newest entry for `userKey` with a sequence <= `sequence`, or nil.
    /// `lookupKey` is the internal key (userKey, sequence, kind max).
    func get(userKey: UnsafeRawBufferPointer, hash: UInt64, lookupKey: UnsafeRawBufferPointer) throws -> TableEntry? {
        guard mayContain(userKeyHash: hash) else {
            if let stats { EngineStats.bump(stats.bloomUseful) }
            return nil
        }
        let found = try index.find(lookupKey, compare: InternalKey.compare) { _, value in
            try TableFormat.BlockHandle.decode(value, what: path)
        }
        guard let handle = found else { return nil }
        let block = try dataBlock(handle)
        return try block.find(lookupKey, compare: InternalKey.compare) { key, value -> TableEntry? in
            guard key.count >= InternalKey.trailerSize, compareBytes(InternalKey.userKey(key), userKey) == 0 else {
                if let stats { EngineStats.bump(stats.bloomFalsePositives) }
                return nil
            }
            return try TableEntry(trailer: InternalKey.trailer(key), value: value, block: block, what: path)
        } ?? nil
    }
}

/// One entry read from a table: its sequence, kind, expiry and value. The
/// value is a view into `block`, which the entry retains.
struct TableEntry {
    let sequence: UInt64
    let kind: UInt8
    let expiresAt: Int64
    let value: UnsafeRawBufferPointer
    let block: Block

    init(trailer: UInt64, value raw: UnsafeRawBufferPointer, block: Block, what: String) throws {
        sequence = trailer >> 8
        kind = UInt8(truncatingIfNeeded: trailer)
        self.block = block
        (expiresAt, value) = try InternalKey.decodeValue(kind: kind, stored: raw, what: what)
    }

    var isTombstone: Bool { kind == InternalKey.kindTombstone }
}
