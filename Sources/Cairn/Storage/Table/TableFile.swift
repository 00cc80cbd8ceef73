import Synchronization

/// One SSTable of a version: its metadata, and its reader once opened.
///
/// A table removed by a compaction is marked obsolete; its file is deleted
/// when the last version, read or iterator holding it lets go (the object
/// dies), so no reader ever loses a file under its feet.
final class TableFile: @unchecked Sendable {
    let number: UInt64
    let size: UInt64
    let smallestUserKey: [UInt8]
    let largestUserKey: [UInt8]
    let smallestSequence: UInt64
    let largestSequence: UInt64
    let entryCount: UInt64
    let path: String
    /// The database the table must belong to, and whether its footer must
    /// say so (false for tables written before identities existed).
    let databaseID: DatabaseID
    let requiresIdentity: Bool
    private let context: TableContext
    /// A leaf lock around `opened` (the table cache is told only after it
    /// is released) (docs/architecture.md, "Locks").
    private let lock = Lock()
    private var opened: TableReader?
    private let obsolete = Atomic<Bool>(false)
    /// Set by every read, cleared by the table cache's sweep (CLOCK).
    private let recentlyUsed = Atomic<Bool>(false)

    init(number: UInt64, size: UInt64, smallestUserKey: [UInt8], largestUserKey: [UInt8],
         smallestSequence: UInt64, largestSequence: UInt64, entryCount: UInt64,
         databaseID: DatabaseID, requiresIdentity: Bool, context: TableContext) {
        self.databaseID = databaseID
        self.requiresIdentity = requiresIdentity
        self.number = number
        self.size = size
        self.smallestUserKey = smallestUserKey
        self.largestUserKey = largestUserKey
        self.smallestSequence = smallestSequence
        self.largestSequence = largestSequence
        self.entryCount = entryCount
        self.context = context
        path = context.directory + "/" + TableFormat.fileName(number)
    }

    deinit {
        context.tables.closed(self)
        if obsolete.load(ordering: .acquiring) {
            opened = nil
            try? context.env.remove(path)
            context.cache?.evict(table: number)
        }
    }

    /// The reader, opening the file when it is not open (the table cache
    /// may close the least recently used tables to stay within its bound).
    func reader() throws -> TableReader {
        recentlyUsed.store(true, ordering: .relaxed)
        if let reader = lock.withLock({ opened }) { return reader }
        let reader = try lock.withLock { () -> TableReader in
            if let opened { return opened }
            let reader = try TableReader(path: path, number: number, env: context.env,
                                         cache: context.cache, stats: context.stats, expected: expectation,
                                         mapReads: context.mapReads)
            opened = reader
            return reader
        }
        for victim in context.tables.opened(self) { victim.closeReader() }
        return reader
    }

    /// What the file must be: the manifest's record of this table.
    private var expectation: TableReader.Expectation {
        let checksum = smallestUserKey.withUnsafeBytes { smallest in
            largestUserKey.withUnsafeBytes { largest in
                TableFormat.propertiesChecksum(number: number, databaseID: databaseID, entryCount: entryCount,
                                               smallestSequence: smallestSequence, largestSequence: largestSequence,
                                               smallestUserKey: smallest, largestUserKey: largest)
            }
        }
        return TableReader.Expectation(size: size, databaseID: databaseID, propertiesChecksum: checksum,
                                       requiresIdentity: requiresIdentity)
    }

    /// Drops the reader; readers in use keep it alive until they finish.
    func closeReader() {
        lock.withLock { opened = nil }
        EngineStats.bump(context.stats.tableCacheEvictions)
    }

    /// Returns whether the table was read since the last call, and clears it.
    func takeRecentUse() -> Bool { recentlyUsed.exchange(false, ordering: .relaxed) }

    func markObsolete() { obsolete.store(true, ordering: .releasing) }

    /// True when the table's key range overlaps [smallest, largest].
    func overlaps(smallest: UnsafeRawBufferPointer, largest: UnsafeRawBufferPointer) -> Bool {
        smallestUserKey.withUnsafeBytes { compareBytes($0, largest) <= 0 }
            && largestUserKey.withUnsafeBytes { compareBytes(smallest, $0) <= 0 }
    }

    func contains(_ userKey: UnsafeRawBufferPointer) -> Bool { overlaps(smallest: userKey, largest: userKey) }
}

/// What every table of one database shares.
final class TableContext: Sendable {
    let directory: String
    let env: Env
    let cache: BlockCache?
    let tables: TableCache
    let stats: EngineStats
    /// Whether readers map their files (TableReader).
    let mapReads: Bool

    init(directory: String, env: Env, cache: BlockCache?, maxOpenTables: Int, mapReads: Bool = true, stats: EngineStats) {
        self.directory = directory
        self.env = env
        self.cache = cache
        self.mapReads = mapReads
        self.tables = TableCache(capacity: maxOpenTables)
        self.stats = stats
    }
}
