/// A sharded LRU cache of decoded blocks, keyed by (table number, block
/// offset), bounded by the bytes its blocks hold. Shards cut lock
/// contention between threads; each shard is a plain LRU under its own lock.
///
/// Thread-safe. A block handed out stays valid while the caller retains it,
/// even after the cache evicts it.
final class BlockCache: @unchecked Sendable {
    private static let shardCount = 16

    private final class Entry {
        let key: UInt64Pair
        let block: Block
        var newer: Entry?
        // Safe: an entry is in the dictionary (which owns it) while linked.
        unowned(unsafe) var older: Entry?
        init(key: UInt64Pair, block: Block) {
            self.key = key
            self.block = block
        }
    }

    struct UInt64Pair: Hashable {
        var table: UInt64
        var offset: UInt64
    }

    private final class Shard {
        let lock = Lock()
        var entries: [UInt64Pair: Entry] = [:]
        /// Least recently used at `oldest`, most recently used at `newest`.
        var oldest: Entry?
        var newest: Entry?
        var charge = 0
        let capacity: Int
        init(capacity: Int) { self.capacity = capacity }

        func unlink(_ entry: Entry) {
            if let older = entry.older { older.newer = entry.newer } else { oldest = entry.newer }
            if let newer = entry.newer { newer.older = entry.older } else { newest = entry.older }
            entry.newer = nil
            entry.older = nil
        }

        func pushNewest(_ entry: Entry) {
            entry.older = newest
            entry.newer = nil
            newest?.newer = entry
            newest = entry
            if oldest == nil { oldest = entry }
        }
    }

    private let shards: [Shard]
    let capacity: Int

    init(capacityBytes: Int) {
        capacity = capacityBytes
        let perShard = max(capacityBytes / BlockCache.shardCount, 1)
        shards = (0..<BlockCache.shardCount).map { _ in Shard(capacity: perShard) }
    }

    private func shard(for key: UInt64Pair) -> Shard {
        let mixed = (key.table &* 0x9E37_79B9_7F4A_7C15) ^ (key.offset &* 0xC2B2_AE3D_27D4_EB4F)
        return shards[Int(mixed >> 60) & (BlockCache.shardCount - 1)]
    }

    func lookup(table: UInt64, offset: UInt64) -> Block? {
        let key = UInt64Pair(table: table, offset: offset)
        let shard = shard(for: key)
        return shard.lock.withLock {
            guard let entry = shard.entries[key] else { return nil }
            shard.unlink(entry)
            shard.pushNewest(entry)
            return entry.block
        }
    }

    func insert(table: UInt64, offset: UInt64, block: Block) {
        guard capacity > 0 else { return }
        let key = UInt64Pair(table: table, offset: offset)
        let shard = shard(for: key)
        shard.lock.withLock {
            if let existing = shard.entries[key] {
                shard.unlink(existing)
                shard.charge -= existing.block.charge
            }
            let entry = Entry(key: key, block: block)
            shard.entries[key] = entry
            shard.pushNewest(entry)
            shard.charge += block.charge
            while shard.charge > shard.capacity, let victim = shard.oldest, victim !== entry {
                shard.unlink(victim)
                shard.entries[victim.key] = nil
                shard.charge -= victim.block.charge
            }
        }
    }

    /// Drops every block of a deleted table.
    func evict(table: UInt64) {
        for shard in shards {
            shard.lock.withLock {
                for (key, entry) in shard.entries where key.table == table {
                    shard.unlink(entry)
                    shard.entries[key] = nil
                    shard.charge -= entry.block.charge
                }
            }
        }
    }

    var usage: Int { shards.reduce(0) { total, shard in total + shard.lock.withLock { shard.charge } } }
}
