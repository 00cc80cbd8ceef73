/// Vertex keys (GraphKey) numbered densely as a search meets them: the
/// keys back to back in one byte array, found through an open-addressing
/// table of their numbers. A search that meets a million vertices makes a
/// few dozen allocations (the arrays' growth) instead of one or two per
/// vertex, as a dictionary of [UInt8] keys does, and hashes each key in
/// one call over its bytes.
struct VertexTable {
    private var bytes: [UInt8] = []
    /// Where each key ends in `bytes` (it starts where the previous ends).
    private var ends: [Int] = []
    private var hashes: [UInt64] = []
    /// Numbers of keys, -1 for an empty slot; at most half full.
    private var slots: [Int32] = Array(repeating: -1, count: 64)

    /// How many keys are numbered (0 ..< count).
    var count: Int { ends.count }

    /// The bytes each key costs beyond its own length (for budgets).
    static let overheadPerKey = 40

    /// The number of `key`, and whether it was numbered now (the next
    /// number). Throws INVALID_ARGUMENT past 2^31 keys.
    mutating func insert(_ key: UnsafeRawBufferPointer) throws -> (id: Int32, inserted: Bool) {
        let hash = Hash64.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash && matches(Int(id), key) { return (id, false) }
            slot = (slot + 1) & mask
        }
        guard ends.count < Int(Int32.max) else { throw CairnError.invalidArgument("graph: more than 2^31 vertices in one search") }
        let id = Int32(ends.count)
        bytes.append(contentsOf: key)
        ends.append(bytes.count)
        hashes.append(hash)
        slots[slot] = id
        if ends.count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// The number of `key`, or nil when it was never inserted.
    func find(_ key: UnsafeRawBufferPointer) -> Int32? {
        let hash = Hash64.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { return nil }
            if hashes[Int(id)] == hash && matches(Int(id), key) { return id }
            slot = (slot + 1) & mask
        }
    }

    private func range(_ id: Int) -> Range<Int> {
        (id == 0 ? 0 : ends[id - 1])..<ends[id]
    }

    private func matches(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let range = range(id)
        guard range.count == key.count else { return false }
        return bytes.withUnsafeBytes { compareBytes(UnsafeRawBufferPointer(rebasing: $0[range]), key) == 0 }
    }

    private mutating func grow() {
        var larger = [Int32](repeating: -1, count: slots.count * 2)
        let mask = larger.count - 1
        for id in 0..<ends.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while larger[slot] >= 0 { slot = (slot + 1) & mask }
            larger[slot] = Int32(id)
        }
        slots = larger
    }

    /// The key numbered `id`.
    func key(_ id: Int32) -> [UInt8] { Array(bytes[range(Int(id))]) }

    /// Replaces `out` with the key numbered `id` (a buffer reused across
    /// calls, so the key can be read while the table grows).
    func copyKey(_ id: Int32, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: bytes[range(Int(id))])
    }
}
