/// A sharded cache of decoded blocks, keyed by (table number, block
/// offset), bounded by the bytes its blocks hold. Shards cut lock
/// contention between threads.
///
/// Each shard is one flat open-addressing table (linear probing) evicted by
/// CLOCK, not a dictionary of linked LRU entries: a profile of random reads
/// put a tenth of each read in the dictionary's SipHash and in the cache
/// misses of walking linked entries on eviction. A lookup here is one hash
/// multiply and a probe of adjacent slots; an eviction sweeps the same array.
/// CLOCK keeps what is read again and drops what was read once, as LRU does,
/// at a fraction of the bookkeeping (a bit per slot instead of a list).
///
/// Thread-safe. A block handed out stays valid while the caller retains it,
/// even after the cache evicts it.
final class BlockCache: @unchecked Sendable {
    private static let shardCount = 16

    private struct Slot {
        var table: UInt64 = 0
        var offset: UInt64 = 0
        /// nil: the slot is empty.
        var block: Block?
        /// Set by a lookup, cleared by the clock hand: a slot is evicted when
        /// the hand finds it unreferenced since its last pass.
        var referenced = false
    }

    private final class Shard {
        /// A leaf lock: no other lock is taken inside it (docs/architecture.md, "Locks").
        let lock = Lock()
        private var slots: UnsafeMutablePointer<Slot>
        /// Slots - 1; the slot count is a power of two.
        private var mask: Int
        private var count = 0
        private var hand = 0
        private(set) var charge = 0
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            mask = 63
            slots = .allocate(capacity: 64)
            slots.initialize(repeating: Slot(), count: 64)
        }

        deinit {
            slots.deinitialize(count: mask + 1)
            slots.deallocate()
        }

        @inline(__always)
        private func home(_ mixed: UInt64) -> Int { Int(truncatingIfNeeded: mixed ^ (mixed >> 29)) & mask }

        func lookup(table: UInt64, offset: UInt64, mixed: UInt64) -> Block? {
            var index = home(mixed)
            while let block = slots[index].block {
                if slots[index].table == table && slots[index].offset == offset {
                    slots[index].referenced = true
                    return block
                }
                index = (index + 1) & mask
            }
            return nil
        }

        func insert(table: UInt64, offset: UInt64, mixed: UInt64, block: Block) {
            var index = home(mixed)
            while slots[index].block != nil {
                if slots[index].table == table && slots[index].offset == offset {
                    charge += block.charge - slots[index].block!.charge
                    slots[index].block = block
                    slots[index].referenced = true
                    return
                }
                index = (index + 1) & mask
            }
            // Make room first, so the new block is never its own victim
            // (a block larger than the whole shard is still kept, alone).
            while charge + block.charge > capacity && count > 0 { evictOne() }
            if (count + 1) * 2 > mask + 1 { grow() }
            index = home(mixed)
            while slots[index].block != nil { index = (index + 1) & mask }
            slots[index] = Slot(table: table, offset: offset, block: block, referenced: false)
            count += 1
            charge += block.charge
        }

        /// Advances the clock hand to the first slot not referenced since
        /// its last pass, clearing the bits it passes, and evicts it.
        private func evictOne() {
            while true {
                let index = hand
                hand = (hand + 1) & mask
                guard slots[index].block != nil else { continue }
                if slots[index].referenced {
                    slots[index].referenced = false
                    continue
                }
                remove(at: index)
                // The removal may have shifted a later block into this slot.
                hand = index
                return
            }
        }

        /// Empties the slot at `index` and shifts back the blocks after it
        /// that probed past it, so every block stays reachable from its home.
        private func remove(at index: Int) {
            charge -= slots[index].block!.charge
            count -= 1
            slots[index].block = nil
            var hole = index
            var next = index
            while true {
                next = (next + 1) & mask
                guard slots[next].block != nil else { return }
                let mixed = BlockCache.mix(table: slots[next].table, offset: slots[next].offset)
                let want = home(mixed)
                // The block at `next` may move into the hole unless its home
                // lies cyclically in (hole, next].
                let stays = hole <= next ? (want > hole && want <= next) : (want > hole || want <= next)
                if !stays {
                    slots[hole] = slots[next]
                    slots[next].block = nil
                    hole = next
                }
            }
        }

        private func grow() {
            let old = slots, oldCount = mask + 1
            mask = oldCount * 2 - 1
            slots = .allocate(capacity: mask + 1)
            slots.initialize(repeating: Slot(), count: mask + 1)
            for i in 0..<oldCount where old[i].block != nil {
                var index = home(BlockCache.mix(table: old[i].table, offset: old[i].offset))
                while slots[index].block != nil { index = (index + 1) & mask }
                slots[index] = old[i]
            }
            hand = 0
            old.deinitialize(count: oldCount)
            old.deallocate()
        }

        /// Drops every block of `table`.
        func evict(table: UInt64) {
            var index = 0
            while index <= mask {
                if slots[index].block != nil && slots[index].table == table {
                    // The shift may bring another of its blocks into this slot.
                    remove(at: index)
                } else {
                    index += 1
                }
            }
        }
    }

    private let shards: [Shard]
    let capacity: Int

    init(capacityBytes: Int) {
        capacity = capacityBytes
        let perShard = max(capacityBytes / BlockCache.shardCount, 1)
        shards = (0..<BlockCache.shardCount).map { _ in Shard(capacity: perShard) }
    }

    @inline(__always)
    fileprivate static func mix(table: UInt64, offset: UInt64) -> UInt64 {
        (table &* 0x9E37_79B9_7F4A_7C15) ^ (offset &* 0xC2B2_AE3D_27D4_EB4F)
    }

    @inline(__always)
    private func shard(_ mixed: UInt64) -> Shard {
        shards[Int(mixed >> 60) & (BlockCache.shardCount - 1)]
    }

    func lookup(table: UInt64, offset: UInt64) -> Block? {
        let mixed = BlockCache.mix(table: table, offset: offset)
        let shard = shard(mixed)
        return shard.lock.withLock { shard.lookup(table: table, offset: offset, mixed: mixed) }
    }

    func insert(table: UInt64, offset: UInt64, block: Block) {
        guard capacity > 0 else { return }
        let mixed = BlockCache.mix(table: table, offset: offset)
        let shard = shard(mixed)
        shard.lock.withLock { shard.insert(table: table, offset: offset, mixed: mixed, block: block) }
    }

    /// Drops every block of a deleted table.
    func evict(table: UInt64) {
        for shard in shards { shard.lock.withLock { shard.evict(table: table) } }
    }

    var usage: Int { shards.reduce(0) { total, shard in total + shard.lock.withLock { shard.charge } } }
}
