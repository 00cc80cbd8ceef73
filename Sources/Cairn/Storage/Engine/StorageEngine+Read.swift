/// The read path: point reads through memtables, then levels newest first
/// (bloom filters and the block cache skip most of the work), and iterators
/// that merge every source at a pinned snapshot.
extension StorageEngine {
    /// Pins the current memtables, version and sequence together.
    func readView() throws -> ReadView {
        guard !isClosed else { throw CairnError.closed }
        return stateLock.withLock {
            let state: ReadState
            if let cached = cachedReadState {
                state = cached
            } else {
                state = ReadState(memtable: memtable, immutables: immutables.map { $0.table }, version: version)
                cachedReadState = state
            }
            return ReadView(state: state, sequence: visibleSequence)
        }
    }

    /// Calls `body` with the live value of `key` at the view's snapshot and
    /// returns true, or returns false when the key is absent, deleted or
    /// expired. The value is borrowed for `body` only.
    func withValue(forKey key: UnsafeRawBufferPointer, now: Int64, in view: ReadView,
                   _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let start = env.monotonicNanoseconds()
        defer { stats.getLatency.record(since: start) }
        return try withNewestVersion(of: key, in: view, memtable: { node, rangeDeleted in
            guard node.sequence > rangeDeleted, node.kind == .value, !node.isExpired(at: now) else { return false }
            try body(node.value)
            return true
        }, table: { entry, rangeDeleted in
            guard entry.sequence > rangeDeleted, !entry.isTombstone else { return false }
            if entry.kind == InternalKey.kindValueWithExpiry && entry.expiresAt <= now { return false }
            try body(entry.value)
            return true
        }, absent: { _ in false })
    }

    /// As `withValue`, also handing `body` the entry's expiry (milliseconds
    /// since the epoch; 0 for an entry that never expires).
    func withEntry(forKey key: UnsafeRawBufferPointer, now: Int64, in view: ReadView,
                   _ body: (_ value: UnsafeRawBufferPointer, _ expiresAt: Int64) throws -> Void) throws -> Bool {
        try withNewestVersion(of: key, in: view, memtable: { node, rangeDeleted in
            guard node.sequence > rangeDeleted, node.kind == .value, !node.isExpired(at: now) else { return false }
            try body(node.value, node.expiresAt)
            return true
        }, table: { entry, rangeDeleted in
            guard entry.sequence > rangeDeleted, !entry.isTombstone else { return false }
            if entry.kind == InternalKey.kindValueWithExpiry && entry.expiresAt <= now { return false }
            try body(entry.value, entry.kind == InternalKey.kindValueWithExpiry ? entry.expiresAt : 0)
            return true
        }, absent: { _ in false })
    }

    /// The sequence of the newest version of `key` visible in `view`
    /// (a value, a deletion or a covering range deletion), or 0.
    func newestSequence(forKey key: UnsafeRawBufferPointer, in view: ReadView) throws -> UInt64 {
        try withNewestVersion(of: key, in: view, memtable: { node, rangeDeleted in max(node.sequence, rangeDeleted) },
                              table: { entry, rangeDeleted in max(entry.sequence, rangeDeleted) },
                              absent: { rangeDeleted in rangeDeleted })
    }

    /// Finds the newest version of `key` that `view` can see (memtables
    /// newest first, then level 0 newest first, then one candidate table per
    /// sorted level, bloom filters skipping most) and hands it to `memtable`
    /// or `table` (or calls `absent`), with the sequence of the newest range
    /// deletion covering the key. The version is borrowed for the call.
    @inline(__always)
    private func withNewestVersion<T>(of key: UnsafeRawBufferPointer, in view: ReadView,
                                      memtable: (MemNode, _ rangeDeleted: UInt64) throws -> T,
                                      table: (TableEntry, _ rangeDeleted: UInt64) throws -> T,
                                      absent: (_ rangeDeleted: UInt64) -> T) throws -> T {
        let snapshot = view.sequence
        let rangeDeleted: UInt64 = view.rangeTombstones.isEmpty ? 0 : RangeTombstoneSet(view.rangeTombstones, visibleAt: snapshot).newestCovering(key)
        var index = -1
        while index < view.immutables.count {
            let source = index < 0 ? view.memtable : view.immutables[index]
            index += 1
            if let node = source.seek(key: key, sequence: snapshot), node.compareKey(key) == 0 {
                return try memtable(node, rangeDeleted)
            }
        }
        let hash = Hash64.hash(key)
        return try withUnsafeTemporaryAllocation(byteCount: key.count + InternalKey.trailerSize, alignment: 8) { buffer in
            // The lookup key: (key, snapshot), so a seek lands on the newest
            // version the snapshot may see.
            if key.count > 0 { buffer.baseAddress!.copyMemory(from: key.baseAddress!, byteCount: key.count) }
            buffer.storeBytes(of: (snapshot << 8 | 0xFF).littleEndian, toByteOffset: key.count, as: UInt64.self)
            let lookupKey = UnsafeRawBufferPointer(buffer)
            let levels = view.version.levels
            for level in 0..<Version.levelCount where !levels[level].isEmpty {
                if level == 0 {
                    for file in levels[0] where file.contains(key) {
                        if let entry = try file.reader().get(userKey: key, hash: hash, lookupKey: lookupKey) {
                            return try table(entry, rangeDeleted)
                        }
                    }
                } else if let file = view.version.file(at: level, containing: key),
                          let entry = try file.reader().get(userKey: key, hash: hash, lookupKey: lookupKey) {
                    return try table(entry, rangeDeleted)
                }
            }
            return absent(rangeDeleted)
        }
    }

    /// Registers `view`'s snapshot so compactions keep what it sees, until
    /// the returned pin dies.
    func pin(_ view: ReadView) -> SnapshotPin {
        stateLock.withLock { snapshots[view.sequence, default: 0] += 1 }
        return SnapshotPin(engine: self, sequence: view.sequence)
    }

    /// An iterator over [lower, upper) at a snapshot taken now. The snapshot
    /// is registered so that compactions keep every version it can see.
    func makeIterator(lower: UnsafeRawBufferPointer?, upper: UnsafeRawBufferPointer?, reverse: Bool,
                      fillCache: Bool = true) throws -> EngineIterator {
        try makeIterator(lower: lower, upper: upper, reverse: reverse, view: try readView(), fillCache: fillCache)
    }

    /// An iterator over [lower, upper) at the snapshot of `view`. With
    /// `bloomPrefix`, every key in the range has that bloom prefix, and
    /// tables without it are skipped. With `fillCache` false, the scan
    /// leaves the block cache as it found it (see ReadState.sources).
    func makeIterator(lower: UnsafeRawBufferPointer?, upper: UnsafeRawBufferPointer?, reverse: Bool, view: ReadView,
                      bloomPrefix: [UInt8]? = nil, fillCache: Bool = true) throws -> EngineIterator {
        guard !isClosed else { throw CairnError.closed }
        stateLock.withLock { snapshots[view.sequence, default: 0] += 1 }
        EngineStats.bump(stats.iterators)
        let iterator = DatabaseIterator(view: view, lower: lower, upper: upper, reverse: reverse, now: env.nowMillis(), bloomPrefix: bloomPrefix,
                                        fillCache: fillCache)
        return EngineIterator(engine: self, sequence: view.sequence, iterator: iterator)
    }

    func releaseSnapshot(_ sequence: UInt64) {
        stateLock.withLock {
            if let count = snapshots[sequence], count > 1 { snapshots[sequence] = count - 1 } else { snapshots[sequence] = nil }
        }
    }

    /// The oldest sequence any reader may still need.
    func smallestSnapshot() -> UInt64 {
        stateLock.withLock { snapshots.keys.min() ?? visibleSequence }
    }
}

/// An iterator handed to the key-value layer: the database iterator plus the
/// registration of its snapshot, released when it dies.
final class EngineIterator {
    let engine: StorageEngine
    let sequence: UInt64
    let iterator: DatabaseIterator

    init(engine: StorageEngine, sequence: UInt64, iterator: DatabaseIterator) {
        self.engine = engine
        self.sequence = sequence
        self.iterator = iterator
    }

    deinit { engine.releaseSnapshot(sequence) }
}

/// A registered snapshot, released when the pin dies (a transaction's).
final class SnapshotPin {
    let engine: StorageEngine
    let sequence: UInt64

    init(engine: StorageEngine, sequence: UInt64) {
        self.engine = engine
        self.sequence = sequence
    }

    deinit { engine.releaseSnapshot(sequence) }
}
