import Synchronization

/// Adjacency lists read from the LSM, kept in memory for the graph
/// algorithms: a vertex's entries of one adjacency index, as the prefix
/// scan found them. A walk reads one list per vertex it expands, and each
/// LSM read is a seek in every memtable, level-0 table and level (about
/// 3-5 us right after an ingest); a cached list is a hash lookup. Shortest
/// paths, traversals and their counts read the same lists again and
/// again, as in-memory libraries (networkx, igraph) do for free.
///
/// Lists are keyed by their prefix (0x04 | collection id | index id |
/// key(vertex)); index and collection ids are never reused, so a dropped
/// index's lists are never found again (they are forgotten to free the
/// memory).
///
/// Coherent as the vector node cache's neighbour lists are
/// (VectorNodeCache):
///   - a commit that writes adjacency entries begins a `Change` before it
///     can be visible (at its first such write, Transaction+Graph), and
///     after it is visible removes the lists it changed and raises
///     `minFill` to the sequence visible then, in one step that also ends
///     the change (a transaction that never commits ends it when it lets
///     go of its hooks);
///   - a reader fills only lists read at a snapshot >= `minFill` (an older
///     list may predate a change whose removal already ran);
///   - a reader takes a `Mark` after its snapshot and uses the cache only
///     if no change was under way then and none that ended is newer than
///     its snapshot; each lookup also checks that no change began or ended
///     since the mark, and the reader stops using the cache once one has.
///     Then every commit its snapshot sees had removed its lists before
///     the mark, and no list newer than its snapshot can have been filled.
///
/// Memory: at most `capacity` bytes in two generations (a list is counted
/// at its bytes plus a fixed overhead): lists go into the young one; when
/// the two would hold more than the capacity, the old one is dropped and
/// the young one becomes the old; a hit in the old one moves the list back
/// to the young. An approximation of least-recently-used that costs no
/// bookkeeping per hit, and keeps a working set up to the capacity whole.
/// The lock is a leaf (docs/architecture.md, "Locks").
final class AdjacencyCache: @unchecked Sendable {
    /// One vertex's entries of one adjacency index: each entry key without
    /// the list's prefix, as a 2-byte big-endian length then the bytes, in
    /// index order.
    final class List: Sendable {
        let prefix: [UInt8]
        let entries: [UInt8]

        init(prefix: [UInt8], entries: [UInt8]) {
            self.prefix = prefix
            self.entries = entries
        }

        var bytes: Int { prefix.count + entries.count + AdjacencyCache.overheadPerList }
    }

    /// What a list costs besides its bytes: the object, its two arrays'
    /// headers and its dictionary slot.
    static let overheadPerList = 128

    /// Where the changes stood when a reader began (see the type's comment).
    struct Mark {
        let usable: Bool
        fileprivate let events: UInt64

        /// For a reader that must not use the cache (pending writes, no cache).
        static let unusable = Mark(usable: false, events: 0)
    }

    private struct State {
        var young: [UInt64: List] = [:]
        var old: [UInt64: List] = [:]
        var youngBytes = 0
        var oldBytes = 0
        /// Changes begun and not ended.
        var underWay = 0
        /// Begun and ended changes, counted (wraps: only compared for equality).
        var events: UInt64 = 0
        /// The largest sequence a change ended at.
        var newest: UInt64 = 0
        /// Lists read at an older snapshot are not filled.
        var minFill: UInt64 = 0
        var hits: UInt64 = 0
        var misses: UInt64 = 0
    }

    /// The most bytes the lists take; 0 turns the cache off.
    let capacity: Int
    /// A pthread lock (Lock) rather than Synchronization's Mutex, so that
    /// ThreadSanitizer sees it (`make test-tsan` runs GraphCacheTests).
    private let lock = Lock()
    private var state = State()

    init(capacity: Int) { self.capacity = max(0, capacity) }

    var isOn: Bool { capacity > 0 }

    /// The largest list kept: a vertex with more entries (a celebrity's
    /// in-edges) is read from the LSM each time rather than evict the rest.
    var maxListBytes: Int { capacity / 8 }

    @inline(__always)
    private func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try lock.withLock { try body(&state) }
    }

    static func hash(_ prefix: UnsafeRawBufferPointer) -> UInt64 { Hash64.hash(prefix, seed: 0x6A0C_ACE5) }

    // MARK: Readers

    /// Taken by a reader after its snapshot, before its first lookup.
    func mark(snapshot: UInt64) -> Mark {
        guard isOn else { return .unusable }
        return withState { s in Mark(usable: s.underWay == 0 && s.newest <= snapshot, events: s.events) }
    }

    /// The list cached for `prefix`, or nil: none is, or a change began or
    /// ended since `mark` (then `mark` is no longer usable, and the caller
    /// stops asking).
    func lookup(_ prefix: UnsafeRawBufferPointer, hash: UInt64, mark: inout Mark) -> List? {
        guard mark.usable else { return nil }
        return withState { s -> List? in
            guard s.events == mark.events else {
                mark = .unusable
                return nil
            }
            if let list = s.young[hash] {
                guard list.prefix.withUnsafeBytes({ compareBytes($0, prefix) }) == 0 else { s.misses &+= 1; return nil }
                s.hits &+= 1
                return list
            }
            guard let list = s.old.removeValue(forKey: hash) else { s.misses &+= 1; return nil }
            s.oldBytes -= list.bytes
            guard list.prefix.withUnsafeBytes({ compareBytes($0, prefix) }) == 0 else { s.misses &+= 1; return nil }
            s.hits &+= 1
            insert(list, hash: hash, into: &s)
            return list
        }
    }

    /// Keeps `list`, read at `snapshot` with no pending writes.
    func fill(_ list: List, hash: UInt64, snapshot: UInt64) {
        guard isOn, list.bytes <= maxListBytes else { return }
        withState { s in
            guard snapshot >= s.minFill else { return }
            if let replaced = s.old.removeValue(forKey: hash) { s.oldBytes -= replaced.bytes }
            insert(list, hash: hash, into: &s)
        }
    }

    private func insert(_ list: List, hash: UInt64, into s: inout State) {
        if let replaced = s.young.removeValue(forKey: hash) { s.youngBytes -= replaced.bytes }
        if s.youngBytes + s.oldBytes + list.bytes > capacity {
            // The lists not read since the last turn go.
            s.old = s.young
            s.oldBytes = s.youngBytes
            s.young = [:]
            s.youngBytes = 0
            // A young generation turned full: room for the new list (at
            // most an eighth of the capacity) from any old lists.
            while s.oldBytes + list.bytes > capacity, !s.old.isEmpty {
                s.oldBytes -= s.old.remove(at: s.old.startIndex).value.bytes
            }
        }
        s.young[hash] = list
        s.youngBytes += list.bytes
    }

    // MARK: Writers

    /// A commit that writes adjacency entries: begun before it can be
    /// visible, ended once (by `end`, or when it is let go).
    final class Change: Sendable {
        private let cache: AdjacencyCache
        private let ended = Atomic<Bool>(false)

        fileprivate init(_ cache: AdjacencyCache) { self.cache = cache }

        /// The commit is visible at `sequence`: removes the lists of
        /// `prefixes` (nil: every list) and ends the change. Without a
        /// sequence (never committed) it only ends it.
        func end(removing prefixes: [[UInt8]]?, sequence: UInt64?) {
            guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
            cache.withState { s in
                if let sequence {
                    if let prefixes {
                        for prefix in prefixes {
                            let hash = prefix.withUnsafeBytes { AdjacencyCache.hash($0) }
                            if let list = s.young.removeValue(forKey: hash) { s.youngBytes -= list.bytes }
                            if let list = s.old.removeValue(forKey: hash) { s.oldBytes -= list.bytes }
                        }
                    } else {
                        AdjacencyCache.clear(&s)
                    }
                    s.minFill = max(s.minFill, sequence)
                    s.newest = max(s.newest, sequence)
                }
                s.underWay -= 1
                s.events &+= 1
            }
        }

        deinit { end(removing: nil, sequence: nil) }
    }

    func beginChange() -> Change {
        withState { s in
            s.underWay += 1
            s.events &+= 1
        }
        return Change(self)
    }

    /// Frees every list (an index or collection was dropped: their ids are
    /// never reused, so their lists would only take room). Always safe: a
    /// list is only ever an answer a scan would give.
    func forgetAll() { withState { AdjacencyCache.clear(&$0) } }

    private static func clear(_ s: inout State) {
        s.young = [:]
        s.old = [:]
        s.youngBytes = 0
        s.oldBytes = 0
    }

    /// Hits, misses and the bytes held, for cairn_stats().
    var counters: (hits: UInt64, misses: UInt64, bytes: Int) {
        withState { ($0.hits, $0.misses, $0.youngBytes + $0.oldBytes) }
    }
}
