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
/// Recovery (StorageEngine+Recovery.swift) never deletes a file it cannot
/// prove obsolete, and every file carries the database's id, so damage,
/// missing files and files from elsewhere are CORRUPTION naming the file.
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
        /// Tables are read through memory maps, falling back to pread when
        /// the system refuses one (TableReader).
        var mmapReads = true
        var levelSizeRatio = 10
        var level1Bytes: UInt64 = 64 << 20
        var targetFileBytes: UInt64 = 16 << 20
        /// Level 0 is merged into level 1 at this many tables. Every level-0
        /// table overlaps every seek and scan (each costs a block read per
        /// seek), and with 16 MiB memtables two of them already hold more
        /// than the block cache: at 4 (LevelDB's value, for its 4 MiB
        /// memtables) seekrandom ran at half the speed it does at 2, while
        /// fillrandom and overwrite were at most 5-10% faster (within this
        /// machine's noise; bench/RESULTS.md).
        var level0CompactionTrigger = 2
        var level0SlowdownTrigger = 8
        var level0StopTrigger = 12
        var maxImmutableMemtables = 2
        /// Merges runs of a layer's small keys at flush (FlushCoalescer.swift).
        var coalescer: FlushCoalescer?
        /// Refuse to open (CORRUPTION) when the last log record fails its
        /// checksum, instead of cutting it off (RocksDB's kAbsoluteConsistency).
        var paranoidRecovery = false
        /// Repair's open: replay whatever log records survive, reading past
        /// missing segments and stopping at damage, instead of refusing.
        var salvageLog = false
        /// How long an open waits for the directory lock held by another
        /// handle before it fails with BUSY (0: it fails at once).
        var lockTimeoutMillis = 0
    }

    /// How a handle holds its directory.
    enum Mode: Sendable {
        /// The one writer: holds the directory lock (LOCK), recovers,
        /// flushes and compacts.
        case primary
        /// Reads the state as of open (StorageEngine+Follower.swift): takes
        /// no lock, creates, changes and deletes no file, refuses writes.
        case readOnly
        /// As readOnly, and follows a primary in another process when asked
        /// to catch up (RocksDB's secondary instance).
        case secondary
    }

    let directory: String
    let options: Options
    let stats = EngineStats()
    /// Operations running on this database stop when interrupted.
    let interrupts = Interrupts()
    let env: Env
    let context: TableContext
    let mode: Mode
    /// The directory lock; nil for a read-only or secondary handle.
    private let lockFile: FileHandle?

    // MARK: State readers pin (guarded by stateLock)

    /// Lock order 5 (docs/architecture.md, "Locks"): held briefly, with no lock
    /// taken inside it; versionEditLock and walLock come before it.
    let stateLock = Lock()
    var memtable = MemTable()
    var memtableLogNumber: UInt64 = 0
    /// The first sequence the active memtable may hold: every older one is
    /// in an older memtable or a table.
    var memtableStartSequence: UInt64 = 1
    /// Frozen memtables waiting for their flush, newest first, with the log
    /// segment that holds their writes and their first sequence.
    var immutables: [(table: MemTable, logNumber: UInt64, startSequence: UInt64)] = []
    var version = Version.empty
    var visibleSequence: UInt64 = 0
    /// The sequence of the last commit of a batch with a conflict check
    /// (written by the group-commit leader only): a transaction whose
    /// snapshot is at or after it cannot conflict.
    var lastCheckedCommit: UInt64 = 0
    var nextFileNumber: UInt64 = 1
    /// The database's identity (DatabaseID), set by recovery.
    var databaseID = DatabaseID(bytes: Array(repeating: 0, count: DatabaseID.byteCount))
    /// Tables numbered from here on carry an identity footer.
    var identityFromFile: UInt64 = 1
    /// The generation of the last manifest written; new tables and log
    /// segments record it, so recovery can tell a stale manifest.
    var manifestGeneration: UInt64 = 0
    /// What recovery found and did (files deleted as obsolete, a damaged
    /// log tail cut off), for stats.
    var recoveryNotes: [String] = []
    /// Sequences of open iterators: compaction keeps what they can see.
    var snapshots: [UInt64: Int] = [:]
    /// Set when background work failed; writes then fail with it (a full
    /// disk is retried, see the worker).
    var backgroundError: CairnError?
    /// When background work last failed (monotonic ns).
    var lastBackgroundFailure: UInt64 = 0
    /// The sources readers share; nil after any change to them, rebuilt by
    /// the next read (see ReadState).
    var cachedReadState: ReadState?
    var stallReason = ""

    // MARK: Owned by the group-commit leader

    let writeQueue = WriteQueue()
    /// Called by the group-commit leader with the last sequence of each
    /// group once it is visible to readers (a layer above wakes whoever
    /// waits for new commits; the change feed). Set once, right after
    /// open and before any write; it must be quick and must not write.
    var commitObserver: (@Sendable (UInt64) -> Void)?
    /// Guards `wal` between the leader and the interval syncer. Lock order 5
    /// (docs/architecture.md, "Locks"): after the write queue, before stateLock, and never
    /// held while taking versionEditLock.
    let walLock = Lock()
    var wal: WALWriter?
    var nextSequence: UInt64 = 1
    /// The group commit's log record, built in place: header room, then
    /// the payload (RecordFormat.fillHeader). Used by the leader only.
    var recordBuffer: [UInt8] = []
    var lastSyncNanoseconds: UInt64 = 0
    var walDirty = false
    /// The last sequence appended to the log, and the last one known to be
    /// on stable storage there (guarded by walLock). A manifest records the
    /// latter, so recovery knows which records the log must still hold.
    var appendedSequence: UInt64 = 0
    var syncedSequence: UInt64 = 0
    /// Inserts large synced groups into the memtable during their fsync.
    let groupApplier = GroupApplier()
    /// Set (under stateLock) when a log sync failed after its group was
    /// inserted into the memtable (GroupApplier): those entries must never
    /// be published or flushed, so every later write and memtable switch
    /// fails with this until the database is reopened.
    var logFailure: CairnError?

    // MARK: Background work

    /// A leaf lock: the workers' wake-up flags, with no other lock taken
    /// inside it (docs/architecture.md, "Locks").
    let background = Condition()
    var shuttingDown = false
    var flushRequested = false
    var compactionRequested = false
    var workersRunning = 0
    /// Passes of the workers' loops, for tests: an idle database's workers
    /// sleep, so the count stays still.
    var backgroundPasses = 0
    /// Serializes compactions (the compaction worker's and compactRange's),
    /// which alone change levels 1 and below; held while one merges, without
    /// versionEditLock (Compaction.swift, `run`). Lock order 5
    /// (docs/architecture.md, "Locks"): taken before versionEditLock.
    let compactionLock = Lock()
    /// Serializes everything that installs a new version (flush, compaction).
    /// Lock order 5 (docs/architecture.md, "Locks"): taken before stateLock, never while
    /// holding walLock.
    let versionEditLock = Lock()
    var compactPointers: [[UInt8]] = Array(repeating: [], count: Version.levelCount)

    private let closed = Atomic<Bool>(false)
    var isClosed: Bool { closed.load(ordering: .acquiring) }
    /// The process that opened the database. After fork() the child has
    /// none of its threads and shares its files, so close there only
    /// forgets the handle (see close()).
    let ownerProcess = getpid()

    // MARK: Opening

    init(directory: String, options: Options, createIfMissing: Bool, errorIfExists: Bool,
         env: Env = PosixEnv(), mode: Mode = .primary) throws {
        self.directory = directory
        self.options = options
        self.env = env
        self.mode = mode
        // A follower keeps every table it reads open (descriptor and map),
        // so the writer deleting one after a compaction takes nothing from
        // under its reads: the table cache never closes one.
        context = TableContext(directory: directory, env: env,
                               cache: options.blockCacheBytes > 0 ? BlockCache(capacityBytes: options.blockCacheBytes) : nil,
                               maxOpenTables: mode == .primary ? options.maxOpenTables : Int.max / 2, mapReads: options.mmapReads, stats: stats)
        if mode != .primary {
            guard env.kind(of: directory) == .directory else { throw CairnError(.notFound, "database \(directory) does not exist") }
            lockFile = nil
            try loadFollowerState()
            return
        }
        switch env.kind(of: directory) {
        case .missing:
            guard createIfMissing else { throw CairnError(.notFound, "database \(directory) does not exist") }
            try env.createDirectory(directory)
        case .directory:
            break
        case .regularFile, .other:
            throw CairnError.invalidArgument("\(directory) exists and is not a directory")
        }
        let lock = try env.lockFile(directory + "/LOCK", timeoutMillis: options.lockTimeoutMillis)
        lockFile = lock
        do {
            let names = try env.listDirectory(directory)
            if names.contains(Manifest.fileName) && errorIfExists { throw CairnError.invalidArgument("database \(directory) already exists") }
            try recover(names: names, createIfMissing: createIfMissing)
            try startWorker()
        } catch {
            walLock.withLock {
                wal?.close()
                wal = nil
            }
            lock.close()
            throw error
        }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    static func walName(_ number: UInt64) -> String {
        let digits = String(number)
        return "wal-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    /// The number of a log segment name: exactly the 16 digits `walName`
    /// writes.
    static func walNumber(fromFileName name: String) -> UInt64? {
        guard name.utf8.count == 24, name.hasPrefix("wal-"), name.hasSuffix(".log"),
              name.utf8.dropFirst(4).prefix(16).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    func allocateFileNumber() -> UInt64 {
        stateLock.withLock {
            defer { nextFileNumber += 1 }
            return nextFileNumber
        }
    }

    /// Creates log segment `number` with its header (WALFormat), durably
    /// in the directory.
    func openSegment(_ number: UInt64) throws -> WALWriter {
        let name = path(StorageEngine.walName(number))
        let file = try env.create(name)
        do {
            try env.syncDirectory(directory)
            let header = WALFormat.Header(databaseID: databaseID, number: number,
                                          generation: stateLock.withLock { manifestGeneration })
            return try WALWriter(file: file, number: number, header: header)
        } catch {
            file.close()
            try? env.remove(name)
            throw error
        }
    }

    /// The manifest describing `version` and the current memtables; with
    /// `flushingOldest`, as it will be once the oldest frozen memtable is in
    /// `version` (a flush installing it). The generation is the next one.
    func manifestFor(_ version: Version, flushingOldest: Bool = false) -> Manifest {
        var manifest = Manifest()
        manifest.databaseID = databaseID
        manifest.identityFromFile = identityFromFile
        let durable = walLock.withLock { syncedSequence }
        stateLock.withLock {
            manifest.generation = manifestGeneration + 1
            manifest.nextFileNumber = nextFileNumber
            manifest.lastSequence = visibleSequence
            // The oldest memtable not in tables: its log segment is the
            // oldest still needed, and every sequence before its first is
            // in tables.
            let pending = flushingOldest ? immutables.dropLast() : immutables[...]
            manifest.logNumber = pending.last?.logNumber ?? memtableLogNumber
            manifest.flushedSequence = (pending.last?.startSequence ?? memtableStartSequence) - 1
        }
        manifest.durableSequence = max(durable, manifest.flushedSequence ?? 0)
        manifest.rangeTombstones = version.rangeTombstones
        for (level, files) in version.levels.enumerated() {
            manifest.levels[level] = files.map {
                Manifest.Table(number: $0.number, size: $0.size, smallestUserKey: $0.smallestUserKey, largestUserKey: $0.largestUserKey,
                               smallestSequence: $0.smallestSequence, largestSequence: $0.largestSequence, entryCount: $0.entryCount)
            }
        }
        return manifest
    }

    /// Writes `manifest` (made by manifestFor) and makes its generation
    /// current. `newTables` are the tables it installs: when the write fails
    /// before the new manifest is in place they are deleted (never
    /// installed); when it fails after (the directory sync), they are kept,
    /// since the manifest on disk may list them, and the error is an
    /// IO_ERROR that background work does not retry.
    /// REQUIRES: versionEditLock held, or recovery.
    func writeManifest(_ manifest: Manifest, newTables: [TableFile] = []) throws {
        do {
            try manifest.write(directory: directory, env: env)
        } catch {
            guard error.mayBeInstalled else {
                for table in newTables { table.markObsolete() }
                throw error.error
            }
            stateLock.withLock { manifestGeneration = max(manifestGeneration, manifest.generation) }
            throw CairnError(.ioError, "the manifest was replaced, but making it durable failed: \(error.error.message)")
        }
        stateLock.withLock { manifestGeneration = manifest.generation }
    }

    /// Applies one WAL batch payload to `table`; returns its first and last
    /// sequence. With `lockState`, range tombstones go in under stateLock
    /// (the table is live); recovery's table is its own.
    @discardableResult
    func apply(payload: UnsafeRawBufferPointer, to table: MemTable, what: String,
               lockState: Bool = false) throws -> (first: UInt64, last: UInt64) {
        var last: UInt64 = 0
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let header = try WriteBatchDecoder.forEachOperation(in: payload, what: what) { sequence, op in
            last = sequence
            switch op.kind {
            case .put, .putWithExpiry:
                table.insert(sequence: sequence, kind: .value, key: op.key, value: op.value, expiresAt: op.expiresAt,
                             mergesAtFlush: op.kind == .put && (options.coalescer?.groupLength(op.key) ?? 0) > 0)
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
        return (header.firstSequence, header.count == 0 ? header.firstSequence &- 1 : last)
    }

    // MARK: Closing

    /// Stops background work, syncs the log and releases the directory.
    /// Idempotent. Unflushed memtables need no flush: the log holds them.
    func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // In a child of fork(): the worker thread does not exist there (so
        // waiting for it would hang), and the log, manifest and lock belong
        // to the parent, which goes on using them. Touch nothing.
        guard getpid() == ownerProcess else { return }
        // A follower has no log, worker, manifest or lock of its own.
        guard mode == .primary else { return }
        var failure: Error?
        do {
            try writeQueue.exclusive { [self] in
                try walLock.withLock {
                    if walDirty { try wal?.sync() }
                    syncedSequence = appendedSequence
                    wal?.close()
                    wal = nil
                }
            }
        } catch {
            failure = error
        }
        groupApplier.stop()
        stopWorker()
        // A last manifest records every write as durable, so a log segment
        // truncated or deleted after a clean close is CORRUPTION at open.
        if failure == nil && stateLock.withLock({ backgroundError == nil && logFailure == nil }) {
            do {
                try versionEditLock.withLock { try writeManifest(manifestFor(stateLock.withLock { version })) }
            } catch {
                failure = error
            }
        }
        lockFile?.unlock()
        lockFile?.close()
        if let failure { throw failure }
    }

    /// Forgets the directory the way a killed process does (tests only):
    /// no sync, no flush, lock released.
    func abandonForCrashTest() {
        _ = closed.exchange(true, ordering: .acquiringAndReleasing)
        groupApplier.stop()
        stopWorker()
        walLock.withLock {
            wal?.close()
            wal = nil
        }
        lockFile?.close()
    }
}
