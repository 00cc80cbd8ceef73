#if canImport(Glibc)
import Glibc
#endif

/// The background worker: one thread that flushes frozen memtables into
/// level-0 tables, compacts levels, and syncs the log under sync mode
/// "interval". A failure stops background work and fails later writes with
/// its error (reads go on); nothing acknowledged is lost, since the log
/// keeps every write that is not yet in a table.
extension StorageEngine {
    func startWorker() throws {
        background.withLock { workerRunning = true }
        do {
            try env.startThread { [self] in workerLoop() }
        } catch {
            background.withLock { workerRunning = false }
            throw error
        }
    }

    func stopWorker() {
        background.withLock {
            shuttingDown = true
            background.broadcast()
            while workerRunning { background.wait(milliseconds: 50) }
        }
    }

    /// Asks the worker to look for work now. The request is a flag checked
    /// under the lock before the worker sleeps, so it is never lost.
    func wakeWorker() {
        background.withLock {
            workRequested = true
            background.broadcast()
        }
    }

    private func workerLoop() {
        while true {
            let stopping = background.withLock { () -> Bool in
                workRequested = false
                return shuttingDown
            }
            if stopping { break }
            var worked = false
            // A full disk is the one failure retried: once space is freed,
            // the next attempt (at most every second) succeeds and writes
            // resume without a reopen, as RocksDB's error handler does.
            // Other failures stop background work until the next open.
            let failure = stateLock.withLock { backgroundError }
            if failure == nil || (failure?.code == .noSpace && env.monotonicNanoseconds() &- lastBackgroundFailure >= 1_000_000_000) {
                do {
                    if try flushOldestImmutable() {
                        worked = true
                    } else if try compactOnce() {
                        worked = true
                    }
                    if failure != nil {
                        stateLock.withLock { backgroundError = nil }
                        EngineStats.bump(stats.backgroundRecoveries)
                    }
                } catch let error as CairnError where error.code == .closed {
                    // Closing: not a failure (close writes the last manifest).
                } catch {
                    let failure = (error as? CairnError) ?? CairnError(.internal, "\(error)")
                    let retry = failure.code == .noSpace ? " (retried once space is freed)" : ""
                    stateLock.withLock { backgroundError = CairnError(failure.code, "background work failed: \(failure.message)\(retry)") }
                    lastBackgroundFailure = env.monotonicNanoseconds()
                    EngineStats.bump(stats.backgroundErrors)
                }
            }
            syncIntervalIfDue()
            background.withLock {
                background.broadcast()  // wake stalled writers
                if !worked && !workRequested && !shuttingDown {
                    background.wait(milliseconds: options.sync == .interval ? max(1, options.syncIntervalMillis / 2) : 1000)
                }
            }
        }
        background.withLock {
            workerRunning = false
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
                if !hidden {
                    try output.add(userKey: key, sequence: iterator.sequence, kind: iterator.kind,
                                   expiresAt: iterator.expiresAt, value: iterator.value, scratch: &scratch)
                }
                iterator.advance()
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
