#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What the vector layer keeps for an open database: each vector index's
/// node cache. `Database.vectors` holds it. Its lock is a leaf
/// (docs/architecture.md, "Locks").
final class VectorLayer: @unchecked Sendable {
    private let caches = Mutex<[UInt64: VectorNodeCache]>([:])

    /// The node cache of an index (created empty; filled by the walks).
    func cache(collection: UInt32, index: UInt32, dimensions: Int, maxLinks0: Int) -> VectorNodeCache {
        let id = UInt64(collection) << 32 | UInt64(index)
        return caches.withLock { known in
            if let cache = known[id], cache.dimensions == dimensions, cache.maxLinks0 == maxLinks0 { return cache }
            let made = VectorNodeCache(dimensions: dimensions, maxLinks0: maxLinks0)
            known[id] = made
            return made
        }
    }

    /// Forgets every index's state: a secondary caught up with its
    /// writer, whose indexes may have changed in any way.
    func forgetAll() { caches.withLock { $0.removeAll() } }

    /// Forgets an index's cache (its index or collection was dropped, or a
    /// build starts afresh).
    func forget(collection: UInt32, index: UInt32? = nil) {
        caches.withLock { known in
            if let index {
                known[UInt64(collection) << 32 | UInt64(index)] = nil
            } else {
                known = known.filter { $0.key >> 32 != UInt64(collection) }
            }
        }
    }
}

/// The committed node records of one vector index, by node number: the
/// vectors side by side in one buffer, so the walk computes distances on
/// memory it reads without a lookup in the LSM.
///
/// Coherent by construction: a node's record never changes once committed
/// and numbers are never reused (VectorIndexFormat), so the cache only
/// ever learns records read from committed state (never a transaction's
/// pending write) and never needs invalidating. A node deleted since is
/// unreachable through the links of any later snapshot, so its stale entry
/// is never used.
///
/// It also keeps neighbour lists, which do change, for searches only (a
/// writer always reads its own snapshot, so its conflicts are detected).
/// Level-0 lists, which a walk reads at every step, sit in one flat table
/// beside the node records (a row per record: a count, then `maxLinks0`
/// links), so reading one is an index and no hash, copy or reference count
/// (hnswlib's layout); the few upper-level lists sit in a dictionary. For
/// both:
///   - a commit that changed lists removes them here after it is visible
///     (Transaction.afterCommit) and raises `minFillSequence` to the
///     sequence visible then;
///   - a search uses and fills lists only when its snapshot is at or after
///     `minFillSequence` (and its transaction wrote nothing); so a list it
///     learns is the list at a snapshot that every invalidation before it
///     has seen, and one read before a later commit's invalidation is
///     refused (its snapshot is then below `minFillSequence`) or removed by
///     that invalidation.
/// Between a commit becoming visible and its invalidation (a few
/// microseconds) a search may walk that commit's predecessor lists; it
/// still reads documents at its own snapshot.
///
/// Thread safety: an operation reads under the shared lock for its whole
/// walk (`beginRead`); the records it had to fetch from the LSM are added
/// afterwards under the exclusive lock, skipped when another holds it (the
/// cache is best effort; a later walk adds them). Memory grows with the
/// index (4·dimensions bytes a vector plus the primary key and filter
/// values, and 4·(maxLinks0 + 1) bytes a record for its level-0 list);
/// nodes numbered beyond 2^26 are not cached.
final class VectorNodeCache: @unchecked Sendable {
    let dimensions: Int
    let maxLinks0: Int
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    /// Slot of each node number, -1 when not cached.
    private var slots: [Int32] = []
    private var vectors: [Float] = []
    private var records: [(level: UInt8, primaryKey: [UInt8], filterValues: [UInt8])] = []
    /// Level-0 lists by record slot, `maxLinks0 + 1` words each: the count
    /// (`VectorNodeCache.absent` when not cached), then the links.
    private var level0: [UInt32] = []
    /// Upper-level lists by node << 8 | level (see above).
    private var lists: [UInt64: [UInt32]] = [:]
    private var minFillSequence: UInt64 = 0
    /// Visited marks for walks, reused (VisitedMarks); a leaf lock.
    private let marksLock = Lock()
    private var marksPool: [VisitedMarks] = []
    /// The commits that change lists, for `listsUnchanged` (a leaf lock):
    /// how many are under way (from the end of their operation, before the
    /// commit, to their invalidation or their transaction's end), how many
    /// started or ended in all, and the newest sequence an invalidation saw.
    private let changes = Mutex<(underWay: Int, events: UInt64, newest: UInt64)>((0, 0, 0))

    static let maxNode = 1 << 26
    static let absent = UInt32.max

    init(dimensions: Int, maxLinks0: Int) {
        self.dimensions = dimensions
        self.maxLinks0 = maxLinks0
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    var count: Int { withReader { $0.count } }

    /// A view of the cache, valid inside `read`'s body only.
    struct Reader {
        let slots: UnsafeBufferPointer<Int32>
        let vectors: UnsafePointer<Float>
        let level0: UnsafeBufferPointer<UInt32>
        let dimensions: Int
        let minFillSequence: UInt64
        fileprivate let cache: VectorNodeCache

        /// A cached upper-level neighbour list (for searches; see above).
        func links(_ node: UInt32, level: Int) -> [UInt32]? {
            cache.lists[UInt64(node) << 8 | UInt64(level)]
        }

        /// A cached level-0 neighbour list (for searches; see above),
        /// valid while the reader is.
        @inline(__always)
        func level0Links(_ node: UInt32) -> UnsafeBufferPointer<UInt32>? {
            let n = Int(node)
            guard n < slots.count else { return nil }
            let slot = Int(slots[n])
            guard slot >= 0 else { return nil }
            // Safe: every cached record has its row (add), of maxLinks0 + 1 words.
            let start = slot &* (cache.maxLinks0 &+ 1)
            let count = level0[start]
            guard count != VectorNodeCache.absent else { return nil }
            // Safe: count <= maxLinks0 (add checks), so the list lies inside the row.
            return UnsafeBufferPointer(start: level0.baseAddress! + (start &+ 1), count: Int(count))
        }

        var count: Int { cache.records.count }

        /// The cached vector of `node`, or nil.
        @inline(__always)
        func vector(_ node: UInt32) -> UnsafeRawPointer? {
            let n = Int(node)
            guard n < slots.count else { return nil }
            let slot = Int(slots[n])
            guard slot >= 0 else { return nil }
            // Safe: slot < records.count and vectors holds dimensions floats per slot.
            return UnsafeRawPointer(vectors + slot &* dimensions)
        }

        func record(_ node: UInt32) -> (level: UInt8, primaryKey: [UInt8], filterValues: [UInt8])? {
            let n = Int(node)
            guard n < slots.count, slots[n] >= 0 else { return nil }
            return cache.records[Int(slots[n])]
        }
    }

    /// Runs `body` with a reader, under the shared lock.
    func withReader<T>(_ body: (Reader) throws -> T) rethrows -> T {
        let reader = beginRead()
        defer { endRead() }
        return try body(reader)
    }

    /// Takes the shared lock and returns a reader valid until `endRead`.
    /// The arrays cannot change while any reader holds the shared lock (they
    /// change under the exclusive lock only), so their storage stays where
    /// the reader's pointers point until then.
    func beginRead() -> Reader {
        pthread_rwlock_rdlock(lock)
        let s = slots.withUnsafeBufferPointer { $0 }
        let v = vectors.withUnsafeBufferPointer { $0.baseAddress } ?? UnsafePointer(bitPattern: 16)!
        let l = level0.withUnsafeBufferPointer { $0 }
        return Reader(slots: s, vectors: v, level0: l, dimensions: dimensions, minFillSequence: minFillSequence, cache: self)
    }

    func endRead() { pthread_rwlock_unlock(lock) }

    /// A committed node record to add.
    struct Fill {
        var node: UInt32
        var level: UInt8
        var primaryKey: [UInt8]
        var filterValues: [UInt8]
        var vector: [Float]
    }

    /// Adds records read from committed state, and lists a search read at
    /// snapshot `sequence`; skipped when the lock is busy.
    func add(_ fills: [Fill], lists newLists: [(key: UInt64, links: [UInt32])] = [], sequence: UInt64 = 0) {
        guard !fills.isEmpty || !newLists.isEmpty, pthread_rwlock_trywrlock(lock) == 0 else { return }
        defer { pthread_rwlock_unlock(lock) }
        for fill in fills where Int(fill.node) < VectorNodeCache.maxNode && fill.vector.count == dimensions {
            let n = Int(fill.node)
            if n >= slots.count { slots.append(contentsOf: repeatElement(-1, count: max(n + 1 - slots.count, slots.count / 2))) }
            guard slots[n] < 0, records.count < Int(Int32.max) else { continue }
            slots[n] = Int32(records.count)
            records.append((fill.level, fill.primaryKey, fill.filterValues))
            vectors.append(contentsOf: fill.vector)
            level0.append(contentsOf: repeatElement(VectorNodeCache.absent, count: maxLinks0 + 1))
        }
        // After the records: a level-0 list has a row only beside its
        // node's record (a walk that reads a node's list has its vector too).
        guard sequence >= minFillSequence else { return }
        for (key, links) in newLists {
            guard key & 0xFF == 0 else {
                lists[key] = links
                continue
            }
            guard let row = level0Row(UInt32(truncatingIfNeeded: key >> 8)), links.count <= maxLinks0 else { continue }
            level0[row] = UInt32(links.count)
            for (i, link) in links.enumerated() { level0[row + 1 + i] = link }
        }
    }

    /// Where `node`'s level-0 list sits in `level0` (its record's slot),
    /// nil when its record is not cached.
    private func level0Row(_ node: UInt32) -> Int? {
        let n = Int(node)
        guard n < slots.count, slots[n] >= 0 else { return nil }
        return Int(slots[n]) * (maxLinks0 + 1)
    }

    /// Forgets lists a commit changed, once it is visible at `sequence`.
    func invalidate(_ keys: Set<UInt64>, sequence: UInt64) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        for key in keys {
            if key & 0xFF == 0 {
                if let row = level0Row(UInt32(truncatingIfNeeded: key >> 8)) { level0[row] = VectorNodeCache.absent }
            } else {
                lists[key] = nil
            }
        }
        minFillSequence = max(minFillSequence, sequence)
    }

    /// A commit that changes lists: begun by the operation that changed
    /// them (before its commit can become visible), ended by its
    /// invalidation or, when its transaction never commits, when the
    /// transaction lets it go.
    final class ListChange {
        private let cache: VectorNodeCache
        private var ended = false

        fileprivate init(_ cache: VectorNodeCache) { self.cache = cache }

        /// The commit is visible at `sequence` and its lists were invalidated.
        func end(sequence: UInt64?) {
            guard !ended else { return }
            ended = true
            cache.changes.withLock { state in
                state.underWay -= 1
                state.events &+= 1  // Wraps: only compared for equality
                if let sequence { state.newest = max(state.newest, sequence) }
            }
        }

        deinit { end(sequence: nil) }
    }

    func beginListChange() -> ListChange {
        changes.withLock { state in
            state.underWay += 1
            state.events &+= 1  // Wraps: only compared for equality
        }
        return ListChange(self)
    }

    /// Where the list changes stood when a search began its walk.
    struct ChangeMark {
        fileprivate let underWay: Int
        fileprivate let events: UInt64
    }

    func changeMark() -> ChangeMark { changes.withLock { ChangeMark(underWay: $0.underWay, events: $0.events) } }

    /// Whether every list a search at `snapshot` read from the cache since
    /// `mark` (taken after its snapshot, before its first list) was the list
    /// at its snapshot: no list-changing commit was under way at the mark,
    /// none began or ended since, and none that ended before it is newer
    /// than the snapshot. Then every commit its snapshot sees had been
    /// invalidated before the walk (each begins before it can be visible),
    /// and no search could have filled a list newer than the snapshot (its
    /// commit would have begun before it was visible, and so before the
    /// mark, and ended before it too, newer than the snapshot; or after the
    /// mark). Otherwise the search checks its results (Transaction.vectorSearch).
    func listsUnchanged(since mark: ChangeMark, snapshot: UInt64) -> Bool {
        guard mark.underWay == 0 else { return false }
        return changes.withLock { $0.events == mark.events && $0.newest <= snapshot }
    }

    /// Marks for one walk over node numbers mostly below `nodes`, cleared
    /// (see VisitedMarks); give them back with `recycle`.
    func visitedMarks(nodes: Int) -> VisitedMarks {
        let reused = marksLock.withLock { marksPool.popLast() }
        let marks = reused ?? VisitedMarks()
        marks.reset(nodes: nodes)
        return marks
    }

    func recycle(_ marks: VisitedMarks) {
        marksLock.withLock { if marksPool.count < 8 { marksPool.append(marks) } }
    }
}

/// The nodes one walk has visited: a mark per node number, stamped with
/// the walk's generation so that clearing is one increment (hnswlib's
/// VisitedList), and a set for numbers beyond the marks (nodes the cache
/// has not seen yet). Reused across walks through VectorNodeCache.
final class VisitedMarks {
    private var marks: UnsafeMutablePointer<UInt16>?
    private var capacity = 0
    private var generation: UInt16 = 0
    private var beyond = Set<UInt32>()

    /// Clears the marks, sized for node numbers below `nodes` (at most
    /// VectorNodeCache.maxNode).
    func reset(nodes: Int) {
        beyond.removeAll(keepingCapacity: true)
        let wanted = min(nodes, VectorNodeCache.maxNode)
        if wanted > capacity {
            marks?.deallocate()
            let grown = max(wanted, capacity * 3 / 2)
            marks = .allocate(capacity: grown)
            marks!.initialize(repeating: 0, count: grown)
            capacity = grown
            generation = 0
        }
        // Wraps: after 65,535 walks every stale mark is cleared once.
        generation &+= 1
        if generation == 0 {
            marks?.update(repeating: 0, count: capacity)
            generation = 1
        }
    }

    /// Marks `node`; false when it was marked already.
    @inline(__always)
    func insert(_ node: UInt32) -> Bool {
        let n = Int(node)
        if n < capacity, let marks {
            if marks[n] == generation { return false }
            marks[n] = generation
            return true
        }
        return beyond.insert(node).inserted
    }

    deinit { marks?.deallocate() }
}
