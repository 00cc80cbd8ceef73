#if canImport(Glibc)
import Glibc
#endif

/// The write path: group commit into the log, then the memtable; memtable
/// switching; and the slowdowns and stalls that keep memory bounded when
/// flushes or compactions fall behind.
extension StorageEngine {
    /// Commits `batch` atomically and (per the sync mode) durably.
    func write(_ batch: borrowing WriteBatch) throws {
        guard !isClosed else { throw CairnError.closed }
        guard mode == .primary else { throw readOnlyError }
        guard !batch.isEmpty else { return }
        guard batch.encodedSize <= WriteBatch.maxEncodedSize else {
            throw CairnError.invalidArgument("a commit of \(batch.encodedSize) bytes (one batch, transaction or call) is larger than one commit may be (\(WriteBatch.maxEncodedSize) bytes, CAIRN_MAX_BATCH_SIZE); nothing was written: split it into smaller ones")
        }
        // The log record and the memtable each copy the batch.
        try Allocation.reserve(2 * batch.encodedSize, for: "a write of \(batch.encodedSize) bytes")
        let start = env.monotonicNanoseconds()
        try writeQueue.submit(batch) { group in try commit(group) }
        stats.writeLatency.record(since: start)
    }

    /// Why a read-only or secondary handle refuses a write.
    var readOnlyError: CairnError {
        CairnError(.readOnly, "the database \(directory) is open \(mode == .secondary ? "as a secondary" : "read-only"); writes go through the handle that opened it for writing")
    }

    /// Runs as the group-commit leader: one log record for the whole group,
    /// less the members that conflict (each gets its own CONFLICT).
    private func commit(_ all: [WriteQueue.Pending]) throws {
        guard !isClosed else { throw CairnError.closed }
        let group = try withoutConflicts(all)
        guard !group.isEmpty else { return }
        let table = try makeRoomForWrite()
        let first = nextSequence
        var count = 0, payloadBytes = 0
        var needsClock = false, checked = false
        for pending in group {
            count += pending.count
            payloadBytes += pending.payloadBytes
            needsClock = needsClock || pending.needsClock
            checked = checked || pending.isChecked
        }
        // The record is built in place behind room for its header, so the
        // log write copies nothing (RecordFormat.fillHeader). The clock is
        // read only when a batch has TTLs or stamps to fill.
        recordBuffer.removeAll(keepingCapacity: true)
        recordBuffer.append(contentsOf: RecordFormat.emptyHeader)
        WriteBatch.appendWALPayload(of: group, count: count, firstSequence: first, now: needsClock ? env.nowMillis() : 0,
                                    to: &recordBuffer)
        var syncNanoseconds: UInt64 = 0
        // Set when the memtable inserts ran during the fsync (GroupApplier).
        var applied: (first: UInt64, last: UInt64)?
        try walLock.withLock {
            if wal == nil {
                // Opened on a full disk (recovery), or closed.
                guard !isClosed else { throw CairnError.closed }
                wal = try openSegment(memtableLogNumber)
            }
            guard let wal else { throw CairnError.closed }
            let sync: Bool
            switch options.sync {
            case .always: sync = true
            case .never: sync = false
            case .interval:
                sync = env.monotonicNanoseconds() &- lastSyncNanoseconds >= UInt64(options.syncIntervalMillis) * 1_000_000
            }
            let appendStart = sync ? env.monotonicNanoseconds() : 0
            if sync && count >= GroupApplier.minimumEntries {
                try appendAndSyncApplying(to: table, wal: wal, applied: &applied)
            } else {
                try wal.append(record: &recordBuffer, sync: sync)
            }
            appendedSequence = first + UInt64(count) - 1
            if sync {
                syncedSequence = appendedSequence
                lastSyncNanoseconds = env.monotonicNanoseconds()
                syncNanoseconds = max(1, lastSyncNanoseconds &- appendStart)
                walDirty = false
                EngineStats.bump(stats.walSyncs)
            } else {
                walDirty = true
            }
        }
        // Only under sync "always" is every group synced, and worth
        // gathering for (WriteQueue.gather).
        if options.sync == .always { writeQueue.noteSync(nanoseconds: syncNanoseconds) }
        let (_, last) = try applied ?? recordBuffer.withUnsafeBytes {
            try apply(payload: UnsafeRawBufferPointer(rebasing: $0[RecordFormat.headerSize...]), to: table, what: "batch", lockState: true)
        }
        precondition(last == first + UInt64(count) - 1, "a batch must use exactly one sequence per operation")
        nextSequence = first + UInt64(count)
        stateLock.withLock { visibleSequence = last }
        commitObserver?(last)
        if checked { lastCheckedCommit = last }
        let counters = stats  // one retain for the four counters
        EngineStats.bumpAsOwner(counters.writes, by: UInt64(group.count))
        EngineStats.bumpAsOwner(counters.writeGroups)
        EngineStats.bumpAsOwner(counters.bytesWritten, by: UInt64(payloadBytes))
        EngineStats.bumpAsOwner(counters.walBytesWritten, by: UInt64(recordBuffer.count))
        if recordBuffer.capacity > 1 << 20 { recordBuffer = [] }  // do not pin one huge group's buffer
    }

    /// Writes the group's record and syncs it while the GroupApplier
    /// inserts the group into `table` (see GroupApplier for why this is
    /// safe). Sets `applied` once the inserts ran; if they could not be
    /// handed off, leaves it nil for the caller to insert inline. A failed
    /// sync after the inserts sets `logFailure`: the entries stay
    /// unpublished for good. REQUIRES: the group-commit leader, holding
    /// walLock; the record's header is not yet filled.
    private func appendAndSyncApplying(to table: MemTable, wal: WALWriter, applied: inout (first: UInt64, last: UInt64)?) throws {
        recordBuffer.withUnsafeMutableBytes { RecordFormat.fillHeader(of: $0) }
        // A second reference to the record's storage, for the applier's
        // thread to read while the leader writes it (neither mutates it).
        let record = recordBuffer
        var handedOff = false
        do {
            try wal.appendAndSync(framed: record) {
                handedOff = groupApplier.begin(using: env) { [self] in
                    try record.withUnsafeBytes {
                        try apply(payload: UnsafeRawBufferPointer(rebasing: $0[RecordFormat.headerSize...]), to: table, what: "batch", lockState: true)
                    }
                }
            }
        } catch {
            if handedOff {
                _ = try? groupApplier.finish()
                let failure = CairnError(.ioError, "the write-ahead log could not be synced after its writes entered the memtable (\((error as? CairnError)?.message ?? "\(error)")); the failed writes are not applied, and every later write fails until the database is reopened")
                stateLock.withLock { logFailure = failure }
            }
            throw error
        }
        if handedOff { applied = try groupApplier.finish() }
    }

    /// The members of a group that may commit: each batch with a conflict
    /// check is checked against what was committed before its group (the
    /// engine) and against the keys that earlier members of the group
    /// write, in queue order; one that conflicts gets CONFLICT as its own
    /// error and is left out. (No checked batch follows an unchecked one in
    /// a group; see WriteQueue.) REQUIRES: the
    /// caller is the group-commit leader, so the checks and the commit see
    /// the same state.
    private func withoutConflicts(_ group: [WriteQueue.Pending]) throws -> [WriteQueue.Pending] {
        guard group.contains(where: { $0.isChecked }) else { return group }
        var members: [WriteQueue.Pending] = []
        var writtenInGroup = Set<EngineKey>()
        var view: ReadView?
        for (position, pending) in group.enumerated() {
            guard pending.isChecked, let check = pending.batch?.pointee.conflictCheck else {
                members.append(pending)
                continue
            }
            if try conflicts(check, writtenInGroup: writtenInGroup, view: &view) {
                EngineStats.bump(stats.transactionConflicts)
                pending.error = CairnError(.conflict, "a concurrent transaction changed the same data first; retry the transaction")
                continue
            }
            // Later members are checked against these keys; the last
            // member (a group of one, for a single writer) has none after it.
            if position < group.count - 1 {
                _ = check.keys.contains(first: check.written) { key in
                    writtenInGroup.insert(EngineKey(Array(key)))
                    return false
                }
            }
            members.append(pending)
        }
        return members
    }

    /// Whether a key of `check` has a version newer than its snapshot, or
    /// is written by an earlier member of the group. A single operation
    /// (not explicit) skips the engine when no checked batch committed
    /// since its snapshot: it held the document lock shared from its
    /// snapshot on, so nothing unchecked (a collection drop or rename) can
    /// have changed what it read. An explicit transaction's snapshot may
    /// be older than such a change, so it always looks.
    private func conflicts(_ check: ConflictCheck, writtenInGroup: Set<EngineKey>, view: inout ReadView?) throws -> Bool {
        if !writtenInGroup.isEmpty && check.keys.contains(where: { writtenInGroup.contains(EngineKey(Array($0))) }) { return true }
        if !check.explicit && lastCheckedCommit <= check.snapshot { return false }
        if view == nil { view = try readView() }
        let current = view!
        return try check.keys.contains { try newestSequence(forKey: $0, in: current) > check.snapshot }
    }

    /// Makes sure the memtable has room and returns it: slows writes down
    /// (1 ms, once) when level 0 grows, stalls them while flushes or level-0
    /// compactions are behind, and switches to a fresh memtable when the
    /// current is full. Fails with the background error once there is one.
    private func makeRoomForWrite() throws -> MemTable {
        var slowedDown = false
        while true {
            let (level0, frozen, full, table, failure) = stateLock.withLock {
                (version.levels[0].count, immutables.count, memtable.flushSizeBytes >= options.memtableBytes, memtable, logFailure ?? backgroundError)
            }
            if let failure { throw failure }
            if !slowedDown && level0 >= options.level0SlowdownTrigger {
                slowedDown = true
                EngineStats.bump(stats.slowdowns)
                stateLock.withLock { stallReason = "level 0 has \(level0) tables (slowdown at \(options.level0SlowdownTrigger))" }
                usleep(1000)
                continue
            }
            guard full else { return table }
            if frozen >= options.maxImmutableMemtables || level0 >= options.level0StopTrigger {
                let reason = frozen >= options.maxImmutableMemtables
                    ? "\(frozen) memtables waiting for their flush" : "level 0 has \(level0) tables (stop at \(options.level0StopTrigger))"
                let start = env.monotonicNanoseconds()
                EngineStats.bump(stats.stalls)
                stateLock.withLock { stallReason = reason }
                background.withLock {
                    flushRequested = true
                    compactionRequested = true
                    background.broadcast()
                    background.wait(milliseconds: 100)
                }
                EngineStats.bump(stats.stallMicros, by: (env.monotonicNanoseconds() &- start) / 1000)
                if let error = stateLock.withLock({ backgroundError }) { throw error }
                if isClosed { throw CairnError.closed }
                continue
            }
            try switchMemtable()
            return stateLock.withLock { memtable }
        }
    }

    /// Freezes the memtable and starts a new one with its own log segment.
    /// The old segment ends with a record naming the new one (WALFormat),
    /// written only once the new one exists, so recovery can tell a
    /// segment deleted after it from one never made.
    /// REQUIRES: the caller is the group-commit leader.
    func switchMemtable() throws {
        // A memtable holding a failed group's entries must never be flushed.
        if let failure = stateLock.withLock({ logFailure }) { throw failure }
        let number = allocateFileNumber()
        let segment = try openSegment(number)
        do {
            try walLock.withLock {
                try wal?.appendNextSegment(number)
                walDirty = false
                syncedSequence = appendedSequence
                wal?.close()
                wal = segment
            }
        } catch {
            segment.close()
            try? env.remove(path(StorageEngine.walName(number)))
            throw error
        }
        stateLock.withLock {
            immutables.insert((memtable, memtableLogNumber, memtableStartSequence), at: 0)
            memtable = MemTable()
            memtableLogNumber = number
            memtableStartSequence = nextSequence
            cachedReadState = nil
        }
        wakeWorker()
    }

    /// Syncs the log when sync mode "interval" left writes unsynced for
    /// longer than the interval (called by the background worker).
    func syncIntervalIfDue() {
        guard options.sync == .interval else { return }
        walLock.withLock {
            guard walDirty, env.monotonicNanoseconds() &- lastSyncNanoseconds >= UInt64(options.syncIntervalMillis) * 1_000_000 else { return }
            if (try? wal?.sync()) != nil {
                walDirty = false
                syncedSequence = appendedSequence
                lastSyncNanoseconds = env.monotonicNanoseconds()
                EngineStats.bump(stats.walSyncs)
            }
        }
    }
}
