/// Walks the live entries of a memtable as of one sequence number, in key
/// order or in reverse, within optional bounds [lower, upper). For each key
/// it yields the newest version visible at the sequence, and skips the key
/// when that version is a tombstone (or has expired).
///
/// The bounds are copied, so the caller's buffers may die after `init`.
/// Nodes returned stay valid while the cursor (which retains the memtable)
/// lives. Used by one caller at a time.
final class MemTableCursor {
    let table: MemTable
    let sequence: UInt64
    let now: Int64
    let reverse: Bool
    private let lower: UnsafeMutableRawBufferPointer?
    private let upper: UnsafeMutableRawBufferPointer?

    /// Forward: the next node to examine. Reverse: unused.
    private var pending: MemNode?
    /// Reverse: the exclusive upper bound of the next key to yield, as a
    /// view into the memtable (nil means the end of the bounds).
    private var reverseBound: UnsafeRawBufferPointer?
    private var reverseStarted = false
    private var exhausted = false

    init(table: MemTable, sequence: UInt64, now: Int64, lower: UnsafeRawBufferPointer?, upper: UnsafeRawBufferPointer?, reverse: Bool) {
        self.table = table
        self.sequence = sequence
        self.now = now
        self.reverse = reverse
        self.lower = lower.map { MemTableCursor.copy($0) }
        self.upper = upper.map { MemTableCursor.copy($0) }
        if !reverse { pending = self.lower.map { table.seek(key: UnsafeRawBufferPointer($0), sequence: .max) } ?? table.first }
    }

    deinit {
        lower?.deallocate()
        upper?.deallocate()
        seekBuffer?.deallocate()
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        if bytes.count > 0 { buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count])
    }

    private var seekBuffer: UnsafeMutableRawBufferPointer?

    /// Repositions: forward, at the first key >= `target`; in reverse, at
    /// the last key <= `target`. Bounds still apply.
    func seek(_ target: UnsafeRawBufferPointer) {
        exhausted = false
        if !reverse {
            var start = target
            if let lower, compareBytes(UnsafeRawBufferPointer(lower), target) > 0 { start = UnsafeRawBufferPointer(lower) }
            pending = table.seek(key: start, sequence: .max)
        } else {
            // "Keys <= target" is "keys < target + 0x00".
            seekBuffer?.deallocate()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: target.count + 1, alignment: 8)
            if target.count > 0 { buffer.baseAddress!.copyMemory(from: target.baseAddress!, byteCount: target.count) }
            buffer[target.count] = 0
            seekBuffer = buffer
            reverseBound = UnsafeRawBufferPointer(buffer)
            if let upper, compareBytes(UnsafeRawBufferPointer(upper), UnsafeRawBufferPointer(buffer)) < 0 {
                reverseBound = UnsafeRawBufferPointer(upper)
            }
            reverseStarted = true
        }
    }

    /// The next live node, or nil at the end.
    func next(includeExpired: Bool = false) -> MemNode? {
        if exhausted { return nil }
        let result = reverse ? previousLive(includeExpired) : nextLive(includeExpired)
        if result == nil { exhausted = true }
        return result
    }

    private func nextLive(_ includeExpired: Bool) -> MemNode? {
        var candidate = pending
        while let node = candidate {
            if let upper, node.compareKey(UnsafeRawBufferPointer(upper)) >= 0 { return nil }
            if node.sequence > sequence {
                // Too new for this snapshot; older versions of the key follow.
                candidate = node.next(0)
                continue
            }
            // The newest visible version of its key. Skip the older ones.
            let key = node.key
            var after = node.next(0)
            while let older = after, compareBytes(older.key, key) == 0 { after = older.next(0) }
            if node.kind == .value && (includeExpired || !node.isExpired(at: now)) {
                pending = after
                return node
            }
            candidate = after
        }
        pending = nil
        return nil
    }

    private func previousLive(_ includeExpired: Bool) -> MemNode? {
        if !reverseStarted {
            reverseStarted = true
            reverseBound = upper.map { UnsafeRawBufferPointer($0) }
        }
        while true {
            let candidate = reverseBound.map { table.lastNode(before: $0) } ?? table.last
            guard let candidate else { return nil }
            let key = candidate.key
            if let lower, compareBytes(key, UnsafeRawBufferPointer(lower)) < 0 { return nil }
            reverseBound = key
            if let visible = table.seek(key: key, sequence: sequence), visible.compareKey(key) == 0,
               visible.kind == .value, includeExpired || !visible.isExpired(at: now) {
                return visible
            }
        }
    }
}
