/// Reads one SSTable: the footer, index and filter are loaded when the
/// table opens and kept; data blocks are read on demand through the block
/// cache, from the file mapped into memory (no system call, no copy of the
/// stored bytes) or, when mapping is off or refused, with pread.
/// Thread-safe: reads share no mutable state.
final class TableReader: @unchecked Sendable {
    let number: UInt64
    let path: String
    let fileSize: Int
    let entryCount: UInt64
    private let file: FileHandle
    private let mapped: MappedFile?
    private let index: Block
    private let filter: UnsafeMutableRawBufferPointer
    private let cache: BlockCache?
    let stats: EngineStats?

    /// What the manifest says the table is; the reader refuses a file that
    /// is not it (TableFormat, "properties checksum").
    struct Expectation {
        var size: UInt64
        var databaseID: DatabaseID
        var propertiesChecksum: UInt32
        /// False for tables written before identities existed.
        var requiresIdentity: Bool
    }

    /// Opens the table at `path`. With `expected`, checks that the file is
    /// the one the manifest recorded; without (repair), reads any table.
    init(path: String, number: UInt64, env: Env, cache: BlockCache?, stats: EngineStats?,
         expected: Expectation?, mapReads: Bool = false) throws {
        self.path = path
        self.number = number
        self.cache = cache
        self.stats = stats
        file = try env.openForReading(path)
        fileSize = try file.size
        guard fileSize >= TableFormat.legacyFooterSize else { throw CairnError.corruption("\(path): too short to be a table") }
        let tailSize = min(fileSize, TableFormat.footerSize)
        let tail = UnsafeMutableRawBufferPointer.allocate(byteCount: tailSize, alignment: 8)
        defer { tail.deallocate() }
        try file.read(at: fileSize - tailSize, count: tailSize, into: tail.baseAddress!)
        let footer = try TableFormat.Footer.decode(tail: UnsafeRawBufferPointer(tail), what: path)
        self.footer = footer
        if let expected { try TableReader.verify(footer, fileSize: fileSize, number: number, expected: expected, path: path) }
        entryCount = footer.entryCount
        // Mapped only once the file is known to be the table the manifest
        // recorded, with its full size.
        mapped = mapReads ? env.mapForReading(file, size: fileSize) : nil
        let dataEnd = fileSize - footer.size
        index = try Block(storage: try TableReader.readStored(file: file, mapped: mapped, handle: footer.index, dataEnd: dataEnd, path: path), what: path)
        filter = try TableReader.readStored(file: file, mapped: mapped, handle: footer.filter, dataEnd: dataEnd, path: path)
    }

    /// The footer of the table at `path`, or nil when the file has none
    /// (a table whose write never finished). Reads only the file's end.
    static func footer(at path: String, env: Env) throws -> TableFormat.Footer? {
        let file = try env.openForReading(path)
        let size = try file.size
        guard size >= TableFormat.legacyFooterSize else { return nil }
        let tailSize = min(size, TableFormat.footerSize)
        var tail = [UInt8](repeating: 0, count: tailSize)
        try tail.withUnsafeMutableBytes { try file.read(at: size - tailSize, count: tailSize, into: $0.baseAddress!) }
        return tail.withUnsafeBytes { try? TableFormat.Footer.decode(tail: $0, what: path) }
    }

    /// The footer, whose identity recovery and repair read.
    let footer: TableFormat.Footer

    private static func verify(_ footer: TableFormat.Footer, fileSize: Int, number: UInt64, expected: Expectation,
                               path: String) throws {
        guard UInt64(fileSize) == expected.size else {
            throw CairnError.corruption("\(path): the file is \(fileSize) bytes, the manifest recorded \(expected.size) (truncated or replaced table)")
        }
        guard let identity = footer.identity else {
            guard !expected.requiresIdentity else {
                throw CairnError.corruption("\(path): the table has no identity footer, but the manifest recorded one (replaced table)")
            }
            return
        }
        guard identity.databaseID == expected.databaseID else {
            throw CairnError.corruption("\(path): the table belongs to another database (id \(identity.databaseID), this one is \(expected.databaseID))")
        }
        guard identity.number == number else {
            throw CairnError.corruption("\(path): the file holds table \(identity.number), not \(number) (tables exchanged or renamed)")
        }
        guard identity.propertiesChecksum == expected.propertiesChecksum else {
            throw CairnError.corruption("\(path): the table's properties do not match the manifest (stale or replaced table)")
        }
    }

    deinit { filter.deallocate() }

    /// Reads, verifies and decompresses the block at `handle` into a new
    /// buffer the caller owns: straight from the mapping when there is one,
    /// else through a pread into a buffer of its own.
    private static func readStored(file: FileHandle, mapped: MappedFile?, handle: TableFormat.BlockHandle, dataEnd: Int,
                                   path: String) throws -> UnsafeMutableRawBufferPointer {
        // Safe: both bounds are checked against the file size before the sum.
        guard handle.offset <= UInt64(dataEnd), handle.size <= UInt64(dataEnd),
              Int(handle.offset) + Int(handle.size) + TableFormat.trailerSize <= dataEnd else {
            throw CairnError.corruption("\(path): block handle \(handle.offset)+\(handle.size) is outside the file")
        }
        let offset = Int(handle.offset), size = Int(handle.size)
        let total = size + TableFormat.trailerSize
        if let mapped, offset + total <= mapped.bytes.count {
            let stored = UnsafeRawBufferPointer(rebasing: mapped.bytes[offset..<(offset + total)])
            return try decodeStored(stored, owned: nil, offset: handle.offset, path: path)
        }
        let raw = try Allocation.buffer(total, for: "\(path) (a block of \(total) bytes)")
        do {
            try file.read(at: offset, count: total, into: raw.baseAddress!)
            return try decodeStored(UnsafeRawBufferPointer(raw), owned: raw, offset: handle.offset, path: path)
        } catch {
            raw.deallocate()
            throw error
        }
    }

    /// Checks the stored block (contents, compression byte, CRC) and returns
    /// its contents in a buffer the caller owns: `owned` itself when the
    /// block is stored uncompressed in it, else a new buffer (`owned`, if
    /// any, is then deallocated). Throws without deallocating `owned`.
    private static func decodeStored(_ stored: UnsafeRawBufferPointer, owned: UnsafeMutableRawBufferPointer?,
                                     offset: UInt64, path: String) throws -> UnsafeMutableRawBufferPointer {
        let size = stored.count - TableFormat.trailerSize
        let storedCRC = UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: size + 1, as: UInt32.self))
        let actual = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: stored[0..<(size + 1)])))
        guard storedCRC == actual else { throw CairnError.corruption("\(path): block at byte \(offset) fails its checksum") }
        guard let kind = CompressionKind(rawValue: stored[size]) else {
            throw CairnError.corruption("\(path): block at byte \(offset) has unknown compression \(stored[size])")
        }
        let contents = UnsafeRawBufferPointer(rebasing: stored[0..<size])
        if kind == .none {
            if let owned { return UnsafeMutableRawBufferPointer(rebasing: owned[0..<size]) }
            let copy = try Allocation.buffer(size, for: "\(path) (a block of \(size) bytes)")
            if size > 0 { copy.baseAddress!.copyMemory(from: contents.baseAddress!, byteCount: size) }
            return UnsafeMutableRawBufferPointer(rebasing: copy[0..<size])
        }
        let decompressed = try Compression.decompress(contents, kind: kind, what: "\(path) block at byte \(offset)")
        owned?.deallocate()
        return decompressed
    }

    /// The data block at `handle`, from the cache or the file. Compactions
    /// pass `fillCache: false`, so one pass over old tables does not evict
    /// the blocks readers use; they also read with pread rather than the
    /// map, so a compaction's pass over whole tables does not fill the
    /// process's resident pages with tables about to be deleted.
    func dataBlock(_ handle: TableFormat.BlockHandle, fillCache: Bool = true) throws -> Block {
        if let cache, let block = cache.lookup(table: number, offset: handle.offset) {
            if let stats { EngineStats.bump(stats.blockCacheHits) }
            return block
        }
        if let stats { EngineStats.bump(stats.blockCacheMisses) }
        let block = try Block(storage: try TableReader.readStored(file: file, mapped: fillCache ? mapped : nil, handle: handle,
                                                                  dataEnd: fileSize - footer.size, path: path), what: path)
        if fillCache { cache?.insert(table: number, offset: handle.offset, block: block) }
        return block
    }

    /// The data block at `handle` read from the file itself (never the
    /// cache or the map), so its CRC is checked now: verification.
    func readBlockFromFile(_ handle: TableFormat.BlockHandle) throws -> Block {
        try Block(storage: try TableReader.readStored(file: file, mapped: nil, handle: handle, dataEnd: fileSize - footer.size, path: path),
                  what: path)
    }

    func mayContain(userKeyHash: UInt64) -> Bool {
        BloomFilter.mayContain(UnsafeRawBufferPointer(filter), hash: userKeyHash)
    }

    /// A fresh iterator over the index block, rebuilding its keys in
    /// `keyBuffer` (an iterator that moves between tables passes its own, so
    /// the move allocates nothing).
    func makeIndexIterator(keyBuffer: ByteBuffer = ByteBuffer()) -> BlockIterator { BlockIterator(block: index, keyBuffer: keyBuffer) }

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
