/// Vertex keys (GraphKey) numbered densely as a search meets them: the
/// keys back to back in one byte buffer, found through an open-addressing
/// table of their numbers. A search that meets a million vertices makes a
/// few dozen allocations (the buffers' growth) instead of one or two per
/// vertex, as a dictionary of [UInt8] keys does, and hashes each key in
/// one call over its bytes.
///
/// Each slot holds the high 32 bits of its key's hash beside the key's
/// number (hash tag << 32 | number + 1; 0 is empty), and a key's home slot
/// comes from those bits too: a probe compares key bytes only when the
/// tags agree, and growing rehashes from the slots alone. A class, so the
/// bidirectional search's many inserts pay no copy-on-write checks.
final class VertexTable {
    private let bytes = ByteBuffer(capacity: 4096)
    /// Where each key ends in `bytes` (it starts where the previous ends).
    private var ends: [Int] = []
    private var slots: UnsafeMutablePointer<UInt64>
    /// A power of two; at most half the slots are used.
    private var slotCount = 64

    init() {
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
    }

    deinit { slots.deallocate() }

    /// How many keys are numbered (0 ..< count).
    var count: Int { ends.count }

    /// The bytes each key costs beyond its own length (for budgets).
    static let overheadPerKey = 40

    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000

    @inline(__always)
    private func home(_ tag: UInt64) -> Int { Int(truncatingIfNeeded: tag >> 32) & (slotCount - 1) }

    /// The number of `key`, and whether it was numbered now (the next
    /// number). Throws INVALID_ARGUMENT past 2^31 keys.
    func insert(_ key: UnsafeRawBufferPointer) throws -> (id: Int32, inserted: Bool) {
        let tag = Hash64.hash(key) & VertexTable.tagMask
        let mask = slotCount - 1
        var slot = home(tag)
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if entry & VertexTable.tagMask == tag {
                let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if matches(id, key) { return (Int32(truncatingIfNeeded: id), false) }
            }
            slot = (slot + 1) & mask
        }
        guard ends.count < Int(Int32.max) else { throw CairnError.invalidArgument("graph: more than 2^31 vertices in one search") }
        let id = ends.count
        bytes.append(key)
        ends.append(bytes.count)
        slots[slot] = tag | UInt64(id + 1)
        if ends.count * 2 > slotCount { grow() }
        return (Int32(id), true)
    }

    /// The number of `key`, or nil when it was never inserted.
    func find(_ key: UnsafeRawBufferPointer) -> Int32? {
        let tag = Hash64.hash(key) & VertexTable.tagMask
        let mask = slotCount - 1
        var slot = home(tag)
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry & VertexTable.tagMask == tag {
                let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if matches(id, key) { return Int32(truncatingIfNeeded: id) }
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func range(_ id: Int) -> Range<Int> {
        (id == 0 ? 0 : ends[id - 1])..<ends[id]
    }

    @inline(__always)
    private func matches(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let range = range(id)
        guard range.count == key.count else { return false }
        return compareBytes(UnsafeRawBufferPointer(rebasing: bytes.bytes[range]), key) == 0
    }

    private func grow() {
        let larger = slotCount * 2
        let old = slots, oldCount = slotCount
        slots = .allocate(capacity: larger)
        slots.initialize(repeating: 0, count: larger)
        slotCount = larger
        let mask = larger - 1
        for index in 0..<oldCount where old[index] != 0 {
            var slot = home(old[index] & VertexTable.tagMask)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = old[index]
        }
        old.deallocate()
    }

    /// The key numbered `id`.
    func key(_ id: Int32) -> [UInt8] { Array(UnsafeRawBufferPointer(rebasing: bytes.bytes[range(Int(id))])) }

    /// Replaces the contents of `out` with the key numbered `id` (a buffer
    /// reused across calls, so the key can be read while the table grows).
    func copyKey(_ id: Int32, into out: ByteBuffer) {
        out.set(UnsafeRawBufferPointer(rebasing: bytes.bytes[range(Int(id))]))
    }
}
