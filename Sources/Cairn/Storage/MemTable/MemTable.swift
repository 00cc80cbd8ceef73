import CCairnSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The kinds of entry a memtable holds, in each node's kind byte. Memory
/// only: tables record kinds of their own (InternalKey).
enum EntryKind: UInt8 {
    case value = 1
    case tombstone = 2
}

/// An ordered, multi-version map from keys to values in arena memory: a
/// skiplist whose nodes are ordered by key ascending, then by sequence
/// number descending, so the newest version of a key comes first.
///
/// Thread safety:
///  1. One writer at a time inserts (the group-commit leader).
///  2. Any number of readers run concurrently with that writer, without
///     locks: a node is fully written before it is linked, and each link is
///     published with a releasing store that readers load acquiring.
///  3. Nodes are never removed or changed after they are linked, so a
///     reader's node pointer stays valid while it retains the memtable.
///
/// Node layout (all in the arena):
///
///     0  sequence: u64     8  expiresAt: i64 (ms since epoch, 0 = never)
///     16 key length: u32   20 value length: u32
///     24 kind: u8          25 height: u8
///     32 next[height]: Atomic<UInt> (node addresses)
///     ...key bytes, value bytes
final class MemTable: @unchecked Sendable {
    static let maxHeight = 12
    private static let branching: UInt64 = 4

    private let arena = Arena()
    private let head: MemNode
    private let height = Atomic<Int>(1)
    private var random: UInt64 = 0x2545_F491_4F6C_DD1D
    private let entries = Atomic<Int>(0)
    /// The insert path's per-level predecessors, allocated once: the writer
    /// is single, so one scratch buffer serves every insert. After an
    /// insert it holds, per level, the last node before the inserted one's
    /// successor (the inserted node itself on its own levels), so the next
    /// insert of a larger key starts there instead of at the head (a
    /// finger search, RocksDB's splice): a batch applied in key order
    /// (Transaction.commit sorts its writes) walks a few nodes per entry
    /// in memory it just touched, instead of a search from the top.
    private let splice: UnsafeMutablePointer<MemNode>
    /// The node inserted last; nil before the first insert.
    private var lastInserted: MemNode?

    init() {
        head = MemTable.makeNode(in: arena, sequence: 0, kind: .value, key: UnsafeRawBufferPointer(start: nil, count: 0),
                                 value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAt: 0, height: MemTable.maxHeight)
        splice = .allocate(capacity: MemTable.maxHeight)
        splice.initialize(repeating: head, count: MemTable.maxHeight)
    }

    deinit { splice.deallocate() }

    /// Range deletes written into this memtable. REQUIRES: mutated only
    /// under the engine's state lock, and read under it (ReadView copies it).
    private(set) var rangeTombstones: [RangeTombstone] = []

    func addRangeTombstone(_ tombstone: RangeTombstone) { rangeTombstones.append(tombstone) }

    /// The smallest sequence held, for deciding when a range tombstone can
    /// go (read by the compaction thread while the writer inserts).
    private let smallest = Atomic<UInt64>(.max)
    var smallestSequence: UInt64 { smallest.load(ordering: .relaxed) }

    /// Number of entries (all versions, tombstones included).
    var entryCount: Int { entries.load(ordering: .relaxed) }

    /// Bytes of memory reserved for entries.
    var memoryBytes: Int { arena.reservedBytes }

    /// Bytes of entries written.
    var usedBytes: Int { arena.usedBytes }

    /// Bytes of the entries a flush may merge (FlushCoalescer).
    private let mergeableBytes = Atomic<Int>(0)

    /// What the memtable counts against its size: its bytes, with those of
    /// entries a flush may merge counted at a quarter. A flush merges a
    /// time-series batch's chunks about four times as much as it compresses
    /// other entries (at 40,000 series a memtable of 16 MiB wrote about 3
    /// bytes a point, against 2.3 times smaller tables for key-value
    /// entries), so a memtable of such chunks fills to four times its size
    /// before it flushes a level-0 table as large as others, and the levels
    /// below are rewritten a quarter as often (bench/RESULTS.md, "Written
    /// chunks merged at flush").
    var flushSizeBytes: Int {
        let mergeable = mergeableBytes.load(ordering: .relaxed)
        return arena.usedBytes - mergeable + mergeable / 4
    }

    // MARK: Writing

    /// Inserts one version. REQUIRES: the caller is the group-commit leader
    /// (or recovery, before any writer runs) and
    /// `sequence` is larger than every sequence inserted before.
    func insert(sequence: UInt64, kind: EntryKind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAt: Int64,
                mergesAtFlush: Bool = false) {
        let before = mergesAtFlush ? arena.usedBytes : 0
        let previous = splice
        findPredecessors(key: key, sequence: sequence, previous: previous)
        let nodeHeight = randomHeight()
        let currentHeight = height.load(ordering: .relaxed)
        if nodeHeight > currentHeight {
            // Readers that see the larger height before the new links find
            // head's null pointers at those levels and simply drop a level.
            height.store(nodeHeight, ordering: .relaxed)
        }
        let node = MemTable.makeNode(in: arena, sequence: sequence, kind: kind, key: key, value: value,
                                     expiresAt: expiresAt, height: nodeHeight)
        for level in 0..<nodeHeight {
            node.initializeNext(level, previous[level].next(level))
            previous[level].publishNext(level, node)
            previous[level] = node
        }
        lastInserted = node
        entries.add(1, ordering: .relaxed)
        if mergesAtFlush { mergeableBytes.add(arena.usedBytes - before, ordering: .relaxed) }
        if sequence < smallest.load(ordering: .relaxed) { smallest.store(sequence, ordering: .relaxed) }
    }

    /// Fills `previous` with the last node before (key, sequence) on every
    /// level. When (key, sequence) follows the last node inserted, the
    /// splice that insert left is a predecessor on every level; levels
    /// whose splice node is followed by a node still before the key are
    /// searched again from the lowest level that brackets it (if a level
    /// brackets, every level above does: its nodes are a subset). Else a
    /// search from the head.
    private func findPredecessors(key: UnsafeRawBufferPointer, sequence: UInt64, previous: UnsafeMutablePointer<MemNode>) {
        let top = height.load(ordering: .relaxed)
        guard let last = lastInserted, last.compare(key: key, sequence: sequence) < 0 else {
            previous.update(repeating: head, count: MemTable.maxHeight)
            _ = findGreaterOrEqual(key: key, sequence: sequence, previous: previous)
            return
        }
        var level = 0
        while level < top {
            if let next = previous[level].next(level), next.compare(key: key, sequence: sequence) < 0 {
                level += 1
            } else {
                break
            }
        }
        guard level > 0 else { return }
        // previous[level] (head above the list's height) brackets the key.
        var node = level < MemTable.maxHeight ? previous[level] : head
        var current = level - 1
        while true {
            if let next = node.next(current) {
                next.prefetchNext(current)
                guard next.compare(key: key, sequence: sequence) < 0 else {
                    previous[current] = node
                    if current == 0 { return }
                    current -= 1
                    continue
                }
                node = next
            } else {
                previous[current] = node
                if current == 0 { return }
                current -= 1
            }
        }
    }

    private func randomHeight() -> Int {
        var level = 1
        while level < MemTable.maxHeight {
            random ^= random << 13
            random ^= random >> 7
            random ^= random << 17
            if random % MemTable.branching != 0 { break }
            level += 1
        }
        return level
    }

    private static func makeNode(in arena: Arena, sequence: UInt64, kind: EntryKind, key: UnsafeRawBufferPointer,
                                 value: UnsafeRawBufferPointer, expiresAt: Int64, height: Int) -> MemNode {
        let size = MemNode.headerSize + height * 8 + key.count + value.count
        let raw = arena.allocate(size)
        raw.storeBytes(of: sequence, as: UInt64.self)
        raw.storeBytes(of: expiresAt, toByteOffset: 8, as: Int64.self)
        raw.storeBytes(of: UInt32(key.count), toByteOffset: 16, as: UInt32.self)
        raw.storeBytes(of: UInt32(value.count), toByteOffset: 20, as: UInt32.self)
        raw.storeBytes(of: kind.rawValue, toByteOffset: 24, as: UInt8.self)
        raw.storeBytes(of: UInt8(height), toByteOffset: 25, as: UInt8.self)
        let links = (raw + MemNode.headerSize).bindMemory(to: Atomic<UInt>.self, capacity: height)
        for level in 0..<height { (links + level).initialize(to: Atomic<UInt>(0)) }
        let data = raw + MemNode.headerSize + height * 8
        if key.count > 0 { data.copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if value.count > 0 { (data + key.count).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        return MemNode(raw: raw)
    }

    // MARK: Reading

    /// The first node at or after (key, sequence) in skiplist order: for an
    /// existing key, its newest version with a sequence <= `sequence`.
    func seek(key: UnsafeRawBufferPointer, sequence: UInt64) -> MemNode? {
        findGreaterOrEqual(key: key, sequence: sequence, previous: nil)
    }

    /// The first node of the list, or nil when empty.
    var first: MemNode? { head.next(0) }

    /// The last node whose key is strictly less than `key`, or nil.
    func lastNode(before key: UnsafeRawBufferPointer) -> MemNode? {
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            if let next = node.next(level), next.compareKey(key) < 0 {
                node = next
            } else if level == 0 {
                return node.raw == head.raw ? nil : node
            } else {
                level -= 1
            }
        }
    }

    /// The last node ordered before (key, sequence), or nil.
    func lastNode(before key: UnsafeRawBufferPointer, sequence: UInt64) -> MemNode? {
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            if let next = node.next(level), next.compare(key: key, sequence: sequence) < 0 {
                node = next
            } else if level == 0 {
                return node.raw == head.raw ? nil : node
            } else {
                level -= 1
            }
        }
    }

    /// The last node of the list, or nil when empty.
    var last: MemNode? {
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            if let next = node.next(level) {
                node = next
            } else if level == 0 {
                return node.raw == head.raw ? nil : node
            } else {
                level -= 1
            }
        }
    }

    private func findGreaterOrEqual(key: UnsafeRawBufferPointer, sequence: UInt64, previous: UnsafeMutablePointer<MemNode>?) -> MemNode? {
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            let next = node.next(level)
            next?.prefetchNext(level)
            if let next, next.compare(key: key, sequence: sequence) < 0 {
                node = next
            } else {
                previous?[level] = node
                if level == 0 { return next }
                level -= 1
            }
        }
    }
}

/// A borrowed view of one memtable node. Valid while its memtable lives.
struct MemNode {
    static let headerSize = 32
    let raw: UnsafeMutableRawPointer

    var sequence: UInt64 { raw.load(as: UInt64.self) }
    var expiresAt: Int64 { raw.load(fromByteOffset: 8, as: Int64.self) }
    var kind: EntryKind { EntryKind(rawValue: raw.load(fromByteOffset: 24, as: UInt8.self)) ?? .tombstone }
    private var height: Int { Int(raw.load(fromByteOffset: 25, as: UInt8.self)) }
    private var keyCount: Int { Int(raw.load(fromByteOffset: 16, as: UInt32.self)) }
    private var valueCount: Int { Int(raw.load(fromByteOffset: 20, as: UInt32.self)) }

    var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw + MemNode.headerSize + height * 8, count: keyCount)
    }

    var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw + MemNode.headerSize + height * 8 + keyCount, count: valueCount)
    }

    /// True when the entry has a TTL that has passed at `now` (ms since epoch).
    @inline(__always)
    func isExpired(at now: Int64) -> Bool {
        let expiry = expiresAt
        return expiry != 0 && expiry <= now
    }

    private func link(_ level: Int) -> UnsafeMutablePointer<Atomic<UInt>> {
        (raw + MemNode.headerSize).assumingMemoryBound(to: Atomic<UInt>.self) + level
    }

    func next(_ level: Int) -> MemNode? {
        let address = link(level).pointee.load(ordering: .acquiring)
        return address == 0 ? nil : MemNode(raw: UnsafeMutableRawPointer(bitPattern: address)!)
    }

    /// Starts loading the node after this one at `level`: a search that
    /// moves on to this node compares that one next, and its cache miss
    /// then overlaps this node's comparison.
    @inline(__always)
    func prefetchNext(_ level: Int) {
        let address = link(level).pointee.load(ordering: .relaxed)
        if address != 0 { cairn_support_prefetch(UnsafeRawPointer(bitPattern: address)) }
    }

    /// Links `node` after this one at `level`, visible to readers at once.
    func publishNext(_ level: Int, _ node: MemNode?) {
        link(level).pointee.store(node.map { UInt(bitPattern: $0.raw) } ?? 0, ordering: .releasing)
    }

    /// Sets a link of a node that readers cannot reach yet.
    func initializeNext(_ level: Int, _ node: MemNode?) {
        link(level).pointee.store(node.map { UInt(bitPattern: $0.raw) } ?? 0, ordering: .relaxed)
    }

    /// Compares this node's key with `other` bytewise.
    func compareKey(_ other: UnsafeRawBufferPointer) -> Int {
        compareBytes(key, other)
    }

    /// Skiplist order: key ascending, then sequence descending.
    func compare(key other: UnsafeRawBufferPointer, sequence: UInt64) -> Int {
        let c = compareBytes(key, other)
        if c != 0 { return c }
        let mine = self.sequence
        return mine > sequence ? -1 : (mine < sequence ? 1 : 0)
    }
}
