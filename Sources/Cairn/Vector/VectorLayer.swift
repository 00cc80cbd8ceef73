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
    func cache(collection: UInt32, index: UInt32, dimensions: Int) -> VectorNodeCache {
        let id = UInt64(collection) << 32 | UInt64(index)
        return caches.withLock { known in
            if let cache = known[id], cache.dimensions == dimensions { return cache }
            let made = VectorNodeCache(dimensions: dimensions)
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
/// writer always reads its own snapshot, so its conflicts are detected):
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
/// values, and the lists); nodes numbered beyond 2^26 are not cached.
final class VectorNodeCache: @unchecked Sendable {
    let dimensions: Int
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    /// Slot of each node number, -1 when not cached.
    private var slots: [Int32] = []
    private var vectors: [Float] = []
    private var records: [(level: UInt8, primaryKey: [UInt8], filterValues: [UInt8])] = []
    /// Neighbour lists by node << 8 | level (see above).
    private var lists: [UInt64: [UInt32]] = [:]
    private var minFillSequence: UInt64 = 0

    static let maxNode = 1 << 26

    init(dimensions: Int) {
        self.dimensions = dimensions
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
        let dimensions: Int
        let minFillSequence: UInt64
        fileprivate let cache: VectorNodeCache

        /// A cached neighbour list (for searches; see above).
        @inline(__always)
        func links(_ node: UInt32, level: Int) -> [UInt32]? {
            cache.lists[UInt64(node) << 8 | UInt64(level)]
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
        return Reader(slots: s, vectors: v, dimensions: dimensions, minFillSequence: minFillSequence, cache: self)
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
        if sequence >= minFillSequence {
            for (key, links) in newLists { lists[key] = links }
        }
        for fill in fills where Int(fill.node) < VectorNodeCache.maxNode && fill.vector.count == dimensions {
            let n = Int(fill.node)
            if n >= slots.count { slots.append(contentsOf: repeatElement(-1, count: max(n + 1 - slots.count, slots.count / 2))) }
            guard slots[n] < 0, records.count < Int(Int32.max) else { continue }
            slots[n] = Int32(records.count)
            records.append((fill.level, fill.primaryKey, fill.filterValues))
            vectors.append(contentsOf: fill.vector)
        }
    }

    /// Forgets lists a commit changed, once it is visible at `sequence`.
    func invalidate(_ keys: Set<UInt64>, sequence: UInt64) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        for key in keys { lists[key] = nil }
        minFillSequence = max(minFillSequence, sequence)
    }
}
