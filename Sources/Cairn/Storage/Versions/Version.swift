/// The set of live tables, per level, plus the range tombstones already
/// flushed out of memtables. Immutable: a flush or compaction makes a new
/// version, and readers keep the one they started with.
///
/// Level 0 holds whole flushed memtables, which may overlap; they are kept
/// newest first. Levels 1 and up hold tables sorted by key that do not
/// overlap, and every version of a user key lives in one table.
final class Version: Sendable {
    static let levelCount = 7

    let levels: [[TableFile]]
    let rangeTombstones: [RangeTombstone]

    init(levels: [[TableFile]], rangeTombstones: [RangeTombstone]) {
        precondition(levels.count == Version.levelCount)
        self.levels = levels
        self.rangeTombstones = rangeTombstones
        checkInvariants()  // Version+Invariants.swift; empty unless CAIRN_INVARIANTS
    }

    static let empty = Version(levels: Array(repeating: [], count: levelCount), rangeTombstones: [])

    func bytes(at level: Int) -> UInt64 { levels[level].reduce(0) { $0 + $1.size } }

    /// The tables of `level` overlapping [smallest, largest].
    func overlapping(level: Int, smallest: UnsafeRawBufferPointer, largest: UnsafeRawBufferPointer) -> [TableFile] {
        levels[level].filter { $0.overlaps(smallest: smallest, largest: largest) }
    }

    /// The table of a sorted level (1 and up) that may hold `userKey`.
    func file(at level: Int, containing userKey: UnsafeRawBufferPointer) -> TableFile? {
        let files = levels[level]
        var low = 0, high = files.count
        while low < high {
            let mid = (low + high) / 2
            if files[mid].largestUserKey.withUnsafeBytes({ compareBytes($0, userKey) }) < 0 { low = mid + 1 } else { high = mid }
        }
        guard low < files.count, files[low].smallestUserKey.withUnsafeBytes({ compareBytes($0, userKey) }) <= 0 else { return nil }
        return files[low]
    }
}

/// The sources a read looks at: the memtables and the version, plus every
/// range tombstone among them. Built once per change of any of them (a
/// memtable switch, a flush, a compaction, a range delete) and shared by
/// every read until the next change, so a point read allocates nothing.
/// Holding it keeps every table file alive.
final class ReadState: @unchecked Sendable {
    let memtable: MemTable
    /// Frozen memtables waiting for their flush, newest first.
    let immutables: [MemTable]
    let version: Version
    let rangeTombstones: [RangeTombstone]

    /// Merging iterators over these sources, with their buffers
    /// (IteratorParts), that closed iterators gave back (`recycle`), so
    /// that an iterator opened for a seek and a few
    /// steps (the document layer's lookups, the key-value API's seeks)
    /// does not allocate a source iterator per table, its buffers and the
    /// merge heap every time. A profile of seekrandom put a quarter of each
    /// seek in making and freeing them. They are kept here, not in the
    /// engine, so they die with the sources they walk: a new ReadState
    /// (after a flush, a compaction, a memtable switch) starts with none,
    /// and pooled iterators never keep an obsolete table's file alive past
    /// the last reader of its state.
    private var pool: [IteratorParts] = []
    /// A leaf lock around `pool` (docs/architecture.md, "Locks").
    private let poolLock = Lock()
    /// At most this many iterators wait in the pool: one per reader thread
    /// that opens iterators one after another is enough.
    static let poolLimit = 8

    init(memtable: MemTable, immutables: [MemTable], version: Version) {
        self.memtable = memtable
        self.immutables = immutables
        self.version = version
        var tombstones = version.rangeTombstones
        tombstones.append(contentsOf: memtable.rangeTombstones)
        for table in immutables { tombstones.append(contentsOf: table.rangeTombstones) }
        rangeTombstones = tombstones
    }

    /// Iterators over every source, newest first. With `prefix` (a scan of
    /// keys that all start with it and share it as their filter prefix, see
    /// TableBuilder.Options.prefixLength), tables whose bloom filter rules
    /// the prefix out are left out. With `fillCache` false, tables are read
    /// past the block cache and the memory map (a one-off pass over
    /// everything, which should not evict what readers use).
    func sources(prefix: [UInt8]? = nil, fillCache: Bool = true) -> [EntryIterator] {
        var sources: [EntryIterator] = [MemTableIterator(table: memtable)]
        for table in immutables { sources.append(MemTableIterator(table: table)) }
        let prefixHash = prefix.map { $0.withUnsafeBytes { Hash64.hash($0) } }
        for file in version.levels[0] {
            if let reader = try? file.reader() {
                if let prefixHash, !reader.mayContain(userKeyHash: prefixHash) { continue }
                sources.append(TableIterator(reader: reader, fillCache: fillCache))
            } else {
                sources.append(LevelIterator(files: [file], fillCache: fillCache))  // reports its open error when used
            }
        }
        for level in 1..<Version.levelCount where !version.levels[level].isEmpty {
            var files = version.levels[level]
            if let prefix, let prefixHash {
                let end = prefixUpperBound(prefix)
                files = files.filter { file in
                    guard file.smallestUserKey.lexicographicallyPrecedes(end), !file.largestUserKey.lexicographicallyPrecedes(prefix) else { return false }
                    guard let reader = try? file.reader() else { return true }  // its open error shows when read
                    return reader.mayContain(userKeyHash: prefixHash)
                }
                if files.isEmpty { continue }
            }
            sources.append(LevelIterator(files: files, fillCache: fillCache))
        }
        return sources
    }
}

extension ReadState {
    /// A merging iterator over every source, newest first, with its
    /// buffers: from the pool when a closed iterator left parts for the same
    /// direction and cache use, else new. A scan with a bloom prefix uses
    /// the same parts and sets MergingIterator.prefix, which leaves out the
    /// tables that rule it out at each seek (as `sources(prefix:)` does when
    /// it builds them): a find by an indexed value opened a new iterator
    /// per source, its buffers and the merge heap per query before.
    func makeIteratorParts(reverse: Bool, fillCache: Bool) -> IteratorParts {
        if let pooled = poolLock.withLock({ () -> IteratorParts? in
            guard let index = pool.lastIndex(where: { $0.merged.reverse == reverse && $0.merged.fillCache == fillCache }) else {
                return nil
            }
            return pool.remove(at: index)
        }) {
            return pooled
        }
        return IteratorParts(merged: MergingIterator(sources: sources(fillCache: fillCache), reverse: reverse,
                                                     fillCache: fillCache))
    }

    /// Takes back parts `makeIteratorParts` made from this
    /// state, once nothing else can reach them (their database iterator is
    /// dying). They are parked, so the pool holds no data block.
    func recycle(_ parts: IteratorParts) {
        parts.park()
        poolLock.withLock {
            if pool.count < ReadState.poolLimit { pool.append(parts) }
        }
    }

    /// How many iterators wait in the pool (tests).
    var pooledIterators: Int { poolLock.withLock { pool.count } }
}

/// What one read sees: the shared sources and the sequence of its snapshot.
struct ReadView {
    let state: ReadState
    let sequence: UInt64

    var memtable: MemTable { state.memtable }
    var immutables: [MemTable] { state.immutables }
    var version: Version { state.version }
    var rangeTombstones: [RangeTombstone] { state.rangeTombstones }
    func sources(prefix: [UInt8]? = nil, fillCache: Bool = true) -> [EntryIterator] {
        state.sources(prefix: prefix, fillCache: fillCache)
    }
}
