import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// When an acknowledged write reaches stable storage.
public enum SyncMode: String, Sendable {
    /// fsync the write-ahead log before a write returns (one fsync per group).
    case always
    /// fsync at most every `sync_interval_ms`: a power loss loses at most that much.
    case interval
    /// Leave flushing to the OS: survives a process crash, not a power loss.
    case never
}

/// The log-structured merge-tree (LSM) storage engine under every layer:
/// one ordered, versioned key space in one directory.
///
/// Writes go to the write-ahead log (group commit), then to the memtable.
/// A full memtable is frozen and flushed by the background worker into a
/// level-0 table; the worker also compacts levels (leveled, size ratio 10).
/// Reads look at the memtables, then the levels newest first, with bloom
/// filters and the block cache; iterators merge every source lazily.
///
/// The directory holds:
///   LOCK             the OS lock that makes one handle the owner
///   MANIFEST         the live tables per level (replaced atomically)
///   <n>.sst          tables (docs/format/sstable.md)
///   wal-<n>.log      write-ahead log segments not yet covered by tables
///
/// Thread safety: any number of threads may call any method. The group
/// commit leader alone appends to the log and inserts into the memtable;
/// `stateLock` guards the memtables, version and visible sequence that
/// readers pin; the background worker alone installs new versions.
final class StorageEngine: @unchecked Sendable {
    struct Options {
        var sync: SyncMode = .always
        var syncIntervalMillis = 100
        var memtableBytes = 16 << 20
        var table = TableBuilder.Options()
        /// The compression of levels 0 and 1, which are rewritten often and
        /// read most; `table.compression` applies from level 2 down, where
        /// most of the data settles (RocksDB's bottommost compression).
        var upperLevelCompression: CompressionKind = .lz4
        var blockCacheBytes = 8 << 20
        var maxOpenTables = 1000
        var levelSizeRatio = 10
        var level1Bytes: UInt64 = 64 << 20
        var targetFileBytes: UInt64 = 16 << 20
        var level0CompactionTrigger = 4
        var level0SlowdownTrigger = 8
        var level0StopTrigger = 12
        var maxImmutableMemtables = 2
    }

    let directory: String
    let options: Options
    let stats = EngineStats()
    let fileSystem: FileSystem
    let context: TableContext
    private let lockFile: FileHandle

    // MARK: State readers pin (guarded by stateLock)

    let stateLock = Lock()
    var memtable = MemTable()
    var memtableLogNumber: UInt64 = 0
    /// Frozen memtables waiting for their flush, newest first, with the log
    /// segment that holds their writes.
    var immutables: [(table: MemTable, logNumber: UInt64)] = []
    var version = Version.empty
    var visibleSequence: UInt64 = 0
    /// The sequence of the last commit of an explicit transaction (written
    /// by the group-commit leader only).
    var lastTransactionCommit: UInt64 = 0
    var nextFileNumber: UInt64 = 1
    /// Sequences of open iterators: compaction keeps what they can see.
    var snapshots: [UInt64: Int] = [:]
    /// Set when background work failed; writes then fail with it.
    var backgroundError: CairnError?
    /// The sources readers share; nil after any change to them, rebuilt by
    /// the next read (see ReadState).
    var cachedReadState: ReadState?
    var stallReason = ""

    // MARK: Owned by the group-commit leader

    let writeQueue = WriteQueue()
    /// Guards `wal` between the leader and the interval syncer.
    let walLock = Lock()
    var wal: WALWriter?
    var nextSequence: UInt64 = 1
    var payloadBuffer: [UInt8] = []
    var lastSyncNanoseconds: UInt64 = 0
    var walDirty = false

    // MARK: Background work

    let background = Condition()
    var shuttingDown = false
    var workRequested = false
    var workerRunning = false
    /// Serializes everything that installs a new version (flush, compaction).
    let versionEditLock = Lock()
    var compactPointers: [[UInt8]] = Array(repeating: [], count: Version.levelCount)

    private let closed = Atomic<Bool>(false)
    var isClosed: Bool { closed.load(ordering: .acquiring) }

    // MARK: Opening

    init(directory: String, options: Options, createIfMissing: Bool, errorIfExists: Bool,
         fileSystem: FileSystem = POSIXFileSystem()) throws {
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
        context = TableContext(directory: directory, fileSystem: fileSystem,
                               cache: options.blockCacheBytes > 0 ? BlockCache(capacityBytes: options.blockCacheBytes) : nil,
                               maxOpenTables: options.maxOpenTables, stats: stats)
        switch fileSystem.kind(of: directory) {
        case .missing:
            guard createIfMissing else { throw CairnError(.notFound, "database \(directory) does not exist") }
            try fileSystem.createDirectory(directory)
        case .directory:
            break
        case .regularFile, .other:
            throw CairnError.invalidArgument("\(directory) exists and is not a directory")
        }
        lockFile = try fileSystem.lockFile(directory + "/LOCK")
        do {
            let names = try fileSystem.listDirectory(directory)
            let hasData = names.contains { $0 == Manifest.fileName || $0.hasSuffix(".log") }
            if hasData && errorIfExists { throw CairnError.invalidArgument("database \(directory) already exists") }
            if !hasData && !createIfMissing { throw CairnError(.notFound, "database \(directory) does not exist") }
            try recover(names: names)
        } catch {
            lockFile.close()
            throw error
        }
        startWorker()
    }

    func path(_ name: String) -> String { directory + "/" + name }

    static func walName(_ number: UInt64) -> String {
        let digits = String(number)
        return "wal-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    static func walNumber(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    /// Loads the manifest, replays the log segments it does not cover into a
    /// memtable, flushes that to a table, and starts a fresh segment. Never
    /// needs a repair step: a torn log tail is the expected result of a
    /// crash and is cut off.
    private func recover(names: [String]) throws {
        for name in names where name.hasSuffix(".tmp") { try fileSystem.remove(path(name)) }
        let manifest = try Manifest.read(directory: directory, fileSystem: fileSystem) ?? Manifest()
        var levels: [[TableFile]] = Array(repeating: [], count: Version.levelCount)
        var sequence = manifest.lastSequence
        var live = Set<UInt64>()
        for (level, tables) in manifest.levels.enumerated() {
            for table in tables {
                guard fileSystem.kind(of: path(TableFormat.fileName(table.number))) == .regularFile else {
                    throw CairnError.corruption("\(path(TableFormat.fileName(table.number))): table listed in the manifest is missing")
                }
                levels[level].append(TableFile(
                    number: table.number, size: table.size, smallestUserKey: table.smallestUserKey,
                    largestUserKey: table.largestUserKey, smallestSequence: table.smallestSequence,
                    largestSequence: table.largestSequence, entryCount: table.entryCount, context: context))
                sequence = max(sequence, table.largestSequence)
                live.insert(table.number)
            }
        }
        // Tables a crash left behind before their manifest was written.
        for name in names {
            if let number = TableFormat.number(fromFileName: name), !live.contains(number) { try fileSystem.remove(path(name)) }
        }
        version = Version(levels: levels, rangeTombstones: manifest.rangeTombstones)
        nextFileNumber = manifest.nextFileNumber

        let replay = MemTable()
        let segments = names.compactMap { StorageEngine.walNumber(fromFileName: $0) }.sorted()
        var replayed = false
        for number in segments where number >= manifest.logNumber {
            let name = StorageEngine.walName(number)
            let bytes = try fileSystem.openForReading(path(name)).readAll()
            let outcome = try bytes.withUnsafeBytes { raw in
                try RecordReader(path: path(name)).forEachRecord(in: raw) { payload in
                    sequence = max(sequence, try apply(payload: payload, to: replay, what: path(name), lockState: false))
                    replayed = true
                    EngineStats.bump(stats.recoveredRecords)
                }
            }
            if outcome.hadTornTail { EngineStats.bump(stats.tornTails) }
            nextFileNumber = max(nextFileNumber, number + 1)
        }
        visibleSequence = sequence
        nextSequence = sequence + 1

        var edited = manifest
        edited.lastSequence = sequence
        if replayed {
            let table = try writeLevel0Table(from: replay)
            var newLevels = version.levels
            if let table { newLevels[0].insert(table, at: 0) }
            version = Version(levels: newLevels, rangeTombstones: version.rangeTombstones + replay.rangeTombstones)
        }
        memtableLogNumber = allocateFileNumber()
        wal = try openSegment(memtableLogNumber)
        edited = manifestFor(version, logNumber: memtableLogNumber)
        try edited.write(directory: directory, fileSystem: fileSystem)
        for number in segments { try fileSystem.remove(path(StorageEngine.walName(number))) }
    }

    func allocateFileNumber() -> UInt64 {
        stateLock.withLock {
            defer { nextFileNumber += 1 }
            return nextFileNumber
        }
    }

    func openSegment(_ number: UInt64) throws -> WALWriter {
        let file = try fileSystem.create(path(StorageEngine.walName(number)))
        try fileSystem.syncDirectory(directory)
        return try WALWriter(file: file, number: number)
    }

    func manifestFor(_ version: Version, logNumber: UInt64) -> Manifest {
        var manifest = Manifest()
        manifest.nextFileNumber = stateLock.withLock { nextFileNumber }
        manifest.lastSequence = stateLock.withLock { visibleSequence }
        manifest.logNumber = logNumber
        manifest.rangeTombstones = version.rangeTombstones
        for (level, files) in version.levels.enumerated() {
            manifest.levels[level] = files.map {
                Manifest.Table(number: $0.number, size: $0.size, smallestUserKey: $0.smallestUserKey, largestUserKey: $0.largestUserKey,
                               smallestSequence: $0.smallestSequence, largestSequence: $0.largestSequence, entryCount: $0.entryCount)
            }
        }
        return manifest
    }

    /// Applies one WAL payload to `table`; returns the last sequence used.
    @discardableResult
    func apply(payload: UnsafeRawBufferPointer, to table: MemTable, what: String, lockState: Bool) throws -> UInt64 {
        var last: UInt64 = 0
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let header = try WriteBatchDecoder.forEachOperation(in: payload, what: what) { sequence, op in
            last = sequence
            switch op.kind {
            case .put, .putWithExpiry:
                table.insert(sequence: sequence, kind: .value, key: op.key, value: op.value, expiresAt: op.expiresAt)
            case .delete:
                table.insert(sequence: sequence, kind: .tombstone, key: op.key, value: empty, expiresAt: 0)
            case .deleteRange:
                guard compareBytes(op.key, op.value) < 0 else { return }
                let tombstone = RangeTombstone(start: Array(op.key), end: Array(op.value), sequence: sequence)
                if lockState {
                    stateLock.withLock {
                        table.addRangeTombstone(tombstone)
                        cachedReadState = nil
                    }
                } else {
                    table.addRangeTombstone(tombstone)
                }
            }
        }
        return header.count == 0 ? header.firstSequence &- 1 : last
    }

    // MARK: Closing

    /// Stops background work, syncs the log and releases the directory.
    /// Idempotent. Unflushed memtables need no flush: the log holds them.
    func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var failure: Error?
        do {
            try writeQueue.exclusive { [self] in
                try walLock.withLock {
                    if walDirty { try wal?.sync() }
                    wal?.close()
                    wal = nil
                }
            }
        } catch {
            failure = error
        }
        stopWorker()
        lockFile.close()
        if let failure { throw failure }
    }

    /// Forgets the directory the way a killed process does (tests only):
    /// no sync, no flush, lock released.
    func abandonForCrashTest() {
        _ = closed.exchange(true, ordering: .acquiringAndReleasing)
        stopWorker()
        walLock.withLock {
            wal?.close()
            wal = nil
        }
        lockFile.close()
    }
}
