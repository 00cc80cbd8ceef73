#if canImport(Glibc)
import Glibc
#endif

/// The background workers: two threads, one that flushes frozen memtables
/// into level-0 tables (and syncs the log under sync mode "interval"), and
/// one that compacts levels. With one thread, as LevelDB has, a compaction
/// of hundreds of megabytes holds up every flush behind it, and writers stop
/// once the frozen memtables fill, although a core is idle; apart, a flush
/// waits only for a compaction's install (RocksDB's flush and compaction
/// pools). A failure stops background work and fails later writes with its
/// error (reads go on); nothing acknowledged is lost, since the log keeps
/// every write that is not yet in a table.
extension StorageEngine {
    enum BackgroundRole: CaseIterable { case flush, compaction }

    func startWorker() throws {
        for role in BackgroundRole.allCases {
            background.withLock { workersRunning += 1 }
            do {
                try env.startThread { [self] in workerLoop(role) }
            } catch {
                background.withLock { workersRunning -= 1 }
                stopWorker()
                throw error
            }
        }
    }

    func stopWorker() {
        background.withLock {
            shuttingDown = true
            background.broadcast()
            while workersRunning > 0 { background.wait(milliseconds: 50) }
        }
    }

    /// Asks the workers to look for work now. The requests are flags checked
    /// under the lock before a worker sleeps, so they are never lost.
    func wakeWorker() {
        background.withLock {
            flushRequested = true
            compactionRequested = true
            background.broadcast()
        }
    }

    private func workerLoop(_ role: BackgroundRole) {
        while true {
            let stopping = background.withLock { () -> Bool in
                if role == .flush { flushRequested = false } else { compactionRequested = false }
                return shuttingDown
            }
            if stopping { break }
            var worked = false
            // Whether this pass changed what others wait on: a table written,
            // or the background error set or cleared.
            var changed = false
            // A full disk is the one failure retried: once space is freed,
            // the next attempt (at most every second) succeeds and writes
            // resume without a reopen, as RocksDB's error handler does.
            // Other failures stop background work until the next open.
            let (failure, failedAt) = stateLock.withLock { (backgroundError, lastBackgroundFailure) }
            if failure == nil || (failure?.code == .noSpace && env.monotonicNanoseconds() &- failedAt >= 1_000_000_000) {
                do {
                    worked = role == .flush ? try flushOldestImmutable() : try compactOnce()
                    changed = worked
                    if failure != nil {
                        stateLock.withLock { backgroundError = nil }
                        EngineStats.bump(stats.backgroundRecoveries)
                        changed = true
                    }
                } catch let error as CairnError where error.code == .closed {
                    // Closing: not a failure (close writes the last manifest).
                } catch {
                    let failure = (error as? CairnError) ?? CairnError(.internal, "\(error)")
                    let retry = failure.code == .noSpace ? " (retried once space is freed)" : ""
                    stateLock.withLock {
                        backgroundError = CairnError(failure.code, "background work failed: \(failure.message)\(retry)")
                        lastBackgroundFailure = env.monotonicNanoseconds()
                    }
                    EngineStats.bump(stats.backgroundErrors)
                    changed = true
                }
            }
            if role == .flush { syncIntervalIfDue() }
            background.withLock {
                backgroundPasses += 1
                // A new level-0 table may make a compaction due.
                if worked && role == .flush { compactionRequested = true }
                // Wake stalled writers and the other worker only on a change:
                // a pass that found nothing to do must not wake the other
                // worker, whose pass would wake this one again (the two
                // workers woke each other without end, a core's worth of
                // futex calls on an idle database).
                if changed { background.broadcast() }
                let requested = role == .flush ? flushRequested : compactionRequested
                if !worked && !requested && !shuttingDown {
                    background.wait(milliseconds: role == .flush && options.sync == .interval ? max(1, options.syncIntervalMillis / 2) : 1000)
                }
            }
        }
        background.withLock {
            workersRunning -= 1
            background.broadcast()
        }
    }

    /// Flushes the oldest frozen memtable, if any. Returns whether it did.
    func flushOldestImmutable() throws -> Bool {
        try versionEditLock.withLock {
            // After close's last manifest nothing may write one: the
            // directory may belong to another handle by now.
            guard !isClosed else { throw CairnError.closed }
            guard let oldest = stateLock.withLock({ immutables.last }) else { return false }
            let start = env.monotonicNanoseconds()
            let table = try writeLevel0Table(from: oldest.table)
            let edited = stateLock.withLock { () -> Version in
                var levels = version.levels
                if let table { levels[0].insert(table, at: 0) }
                return Version(levels: levels, rangeTombstones: version.rangeTombstones + oldest.table.rangeTombstones)
            }
            let manifest = manifestFor(edited, flushingOldest: true)
            try writeManifest(manifest, newTables: table.map { [$0] } ?? [])
            stateLock.withLock {
                version = edited
                immutables.removeLast()
                cachedReadState = nil
            }
            // Segments older than the manifest's log number are in tables.
            for name in try env.listDirectory(directory) {
                if let number = StorageEngine.walNumber(fromFileName: name), number < manifest.logNumber { try env.remove(path(name)) }
            }
            EngineStats.bump(stats.flushes)
            EngineStats.bump(stats.flushBytes, by: table?.size ?? 0)
            stats.flushLatency.record(since: start)
            return true
        }
    }

    /// Writes a memtable as one level-0 table, keeping for each key its
    /// newest version and the older ones an open snapshot may still see.
    /// Returns nil when nothing was left to write.
    func writeLevel0Table(from table: MemTable) throws -> TableFile? {
        table.checkInvariants()  // MemTable+Invariants.swift; empty unless CAIRN_INVARIANTS
        let number = allocateFileNumber()
        let iterator = MemTableIterator(table: table)
        iterator.seekToFirst()
        let output = try TableOutput(engine: self, number: number, level: 0)
        let oldestSnapshot = smallestSnapshot()
        var previousKey = ByteBuffer()
        var hasPrevious = false
        var previousSequence = UInt64.max
        var scratch: [UInt8] = []
        // Runs of keys a layer merges at flush (FlushCoalescer.swift).
        let coalescer = options.coalescer
        let rangeTombstones = table.rangeTombstones
        // Snapshots taken from now on see the whole memtable.
        let liveSnapshots = coalescer == nil ? [] : stateLock.withLock { snapshots.keys.sorted() }
        var run = CoalescingRun()
        do {
            while iterator.isValid {
                let key = iterator.userKey
                let sameKey = hasPrevious && compareBytes(previousKey.bytes, key) == 0
                if !sameKey {
                    previousKey.set(key)
                    hasPrevious = true
                    previousSequence = .max
                }
                // An older version hidden by a newer one every snapshot sees.
                let hidden = sameKey && previousSequence <= oldestSnapshot
                previousSequence = iterator.sequence
                if let coalescer {
                    let length = !sameKey && iterator.kind == InternalKey.kindValue ? coalescer.groupLength(key) : 0
                    if length > 0 && run.continues(key, groupLength: length) {
                        run.append(key: key, value: iterator.value, sequence: iterator.sequence)
                        iterator.advance()
                        continue
                    }
                    // A second version of the run's last key: the run stays as it is.
                    try run.emit(to: output, mayMerge: !sameKey, coalescer: coalescer, snapshots: liveSnapshots,
                                 rangeTombstones: rangeTombstones, scratch: &scratch)
                    if length > 0 {
                        run.start(groupLength: length)
                        run.append(key: key, value: iterator.value, sequence: iterator.sequence)
                        iterator.advance()
                        continue
                    }
                }
                if !hidden {
                    try output.add(userKey: key, sequence: iterator.sequence, kind: iterator.kind,
                                   expiresAt: iterator.expiresAt, value: iterator.value, scratch: &scratch)
                }
                iterator.advance()
            }
            if let coalescer {
                try run.emit(to: output, mayMerge: true, coalescer: coalescer, snapshots: liveSnapshots,
                             rangeTombstones: rangeTombstones, scratch: &scratch)
            }
            previousKey = ByteBuffer()
            return try output.finish()
        } catch {
            output.abandon()
            throw error
        }
    }
}

/// Writes one table for a flush or a compaction and describes it.
final class TableOutput {
    let engine: StorageEngine
    let number: UInt64
    let path: String
    private let builder: TableBuilder
    private var smallest: [UInt8]?
    private var largest: [UInt8] = []

    init(engine: StorageEngine, number: UInt64, level: Int) throws {
        self.engine = engine
        self.number = number
        path = engine.path(TableFormat.fileName(number))
        var options = engine.options.table
        if level <= 1 { options.compression = engine.options.upperLevelCompression }
        let owner = TableBuilder.Owner(number: number, databaseID: engine.databaseID,
                                       generation: engine.stateLock.withLock { engine.manifestGeneration })
        builder = TableBuilder(file: try engine.env.create(path), options: options, owner: owner)
    }

    var entryCount: UInt64 { builder.entryCount }
    var estimatedSize: UInt64 { builder.estimatedFileSize }

    func add(userKey: UnsafeRawBufferPointer, sequence: UInt64, kind: UInt8, expiresAt: Int64,
             value: UnsafeRawBufferPointer, scratch: inout [UInt8]) throws {
        scratch.removeAll(keepingCapacity: true)
        InternalKey.append(userKey: userKey, sequence: sequence, kind: kind, to: &scratch)
        let keyLength = scratch.count
        if kind == InternalKey.kindValueWithExpiry {
            scratch.appendUInt64LE(UInt64(bitPattern: expiresAt))
        }
        scratch.append(contentsOf: value)
        try scratch.withUnsafeBytes { all in
            try builder.add(internalKey: UnsafeRawBufferPointer(rebasing: all[0..<keyLength]),
                            value: UnsafeRawBufferPointer(rebasing: all[keyLength...]))
        }
        if smallest == nil { smallest = Array(userKey) }
        largest.removeAll(keepingCapacity: true)
        largest.append(contentsOf: userKey)
    }

    /// Finishes the file; nil (and no file) when it holds no entry.
    func finish() throws -> TableFile? {
        try builder.finish()
        guard let smallest, builder.entryCount > 0 else {
            try engine.env.remove(path)
            return nil
        }
        return TableFile(number: number, size: builder.offset, smallestUserKey: smallest, largestUserKey: largest,
                         smallestSequence: builder.smallestSequence, largestSequence: builder.largestSequence,
                         entryCount: builder.entryCount, databaseID: engine.databaseID, requiresIdentity: true,
                         context: engine.context)
    }

    func abandon() { try? engine.env.remove(path) }
}
