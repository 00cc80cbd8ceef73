/// Turns the merged stream of every version of every key into what a
/// reader sees at its snapshot: for each user key, the newest version with
/// a sequence <= the snapshot, skipped when it is a tombstone, has expired,
/// or is covered by a newer range tombstone. Bounds are [lower, upper).
///
/// Going forward, the yielded key and value are views into the sources,
/// valid until the next call. In reverse the newest version of a key comes
/// last, so the yielded pair is copied into buffers the iterator owns.
final class DatabaseIterator {
    private let merged: MergingIterator
    private let view: ReadView
    private let tombstones: RangeTombstoneSet
    private let now: Int64
    private let lower: [UInt8]?
    private let upper: [UInt8]?
    private var started = false
    private var pendingSeek: [UInt8]?
    private var exhausted = false
    /// The user key last yielded or skipped going forward, so that its
    /// older versions are skipped.
    private let previousKey = ByteBuffer()
    private var hasPrevious = false
    private let reverseKey = ByteBuffer()
    private let reverseValue = ByteBuffer()
    private(set) var key = UnsafeRawBufferPointer(start: nil, count: 0)
    private(set) var value = UnsafeRawBufferPointer(start: nil, count: 0)
    private var positioned = false

    init(view: ReadView, lower: UnsafeRawBufferPointer?, upper: UnsafeRawBufferPointer?, reverse: Bool, now: Int64,
         bloomPrefix: [UInt8]? = nil, fillCache: Bool = true) {
        self.view = view
        self.now = now
        self.lower = lower.map { Array($0) }
        self.upper = upper.map { Array($0) }
        tombstones = RangeTombstoneSet(view.rangeTombstones, visibleAt: view.sequence)
        merged = MergingIterator(sources: view.sources(prefix: bloomPrefix, fillCache: fillCache), reverse: reverse)
    }

    var reverse: Bool { merged.reverse }

    /// Forward: continue at the first key >= target; reverse: at the last
    /// key <= target. Bounds still apply.
    func seek(_ target: UnsafeRawBufferPointer) {
        pendingSeek = Array(target)
        started = false
        exhausted = false
        hasPrevious = false
        positioned = false
    }

    private func position() throws {
        started = true
        if reverse {
            // "Last key <= target" starts before target + 0x00.
            var bound: [UInt8]? = upper
            if var target = pendingSeek {
                target.append(0)
                if bound == nil || target.lexicographicallyPrecedes(bound!) { bound = target }
            }
            if let bound { try bound.withUnsafeBytes { try merged.seek($0) } } else { try merged.seekToFirst() }
        } else {
            var start: [UInt8]? = lower
            if let target = pendingSeek, start == nil || start!.lexicographicallyPrecedes(target) { start = target }
            if let start { try start.withUnsafeBytes { try merged.seek($0) } } else { try merged.seekToFirst() }
        }
        pendingSeek = nil
    }

    /// Moves to the next visible pair; false at the end.
    func next() throws -> Bool {
        if exhausted { return false }
        if !started {
            try position()
        } else if positioned && !reverse {
            try merged.advance()
        }
        positioned = false
        let found = reverse ? try previousVisible() : try nextVisible()
        if !found { exhausted = true }
        return found
    }

    private func nextVisible() throws -> Bool {
        let snapshot = view.sequence
        while merged.isValid {
            // Safe: the merging iterator owns its sources while we run.
            unowned(unsafe) let top = merged.top
            let userKey = top.userKey
            if let upper, upper.withUnsafeBytes({ compareBytes(userKey, $0) >= 0 }) { return false }
            let sequence = top.sequence
            if sequence > snapshot {
                try merged.advance()
                continue
            }
            if hasPrevious && compareBytes(previousKey.bytes, userKey) == 0 {
                try merged.advance()
                continue
            }
            previousKey.set(userKey)
            hasPrevious = true
            let kind = top.kind
            if kind == InternalKey.kindTombstone
                || (kind == InternalKey.kindValueWithExpiry && top.expiresAt <= now)
                || tombstones.deletes(userKey, sequence: sequence) {
                try merged.advance()
                continue
            }
            key = userKey
            value = top.value
            positioned = true
            return true
        }
        return false
    }

    private func previousVisible() throws -> Bool {
        let snapshot = view.sequence
        while merged.isValid {
            let userKey = merged.top.userKey
            if let lower, lower.withUnsafeBytes({ compareBytes(userKey, $0) < 0 }) { return false }
            reverseKey.set(userKey)
            // Versions of this key arrive oldest first; keep the newest visible.
            var bestSequence: UInt64 = 0
            var bestKind: UInt8 = 0
            var bestExpiry: Int64 = 0
            var found = false
            while merged.isValid {
                unowned(unsafe) let top = merged.top
                if compareBytes(top.userKey, reverseKey.bytes) != 0 { break }
                let sequence = top.sequence
                if sequence <= snapshot && (!found || sequence >= bestSequence) {
                    found = true
                    bestSequence = sequence
                    bestKind = top.kind
                    bestExpiry = top.expiresAt
                    reverseValue.set(top.value)
                }
                try merged.advance()
            }
            guard found else { continue }
            let deleted = tombstones.deletes(reverseKey.bytes, sequence: bestSequence)
            if bestKind == InternalKey.kindTombstone || (bestKind == InternalKey.kindValueWithExpiry && bestExpiry <= now) || deleted {
                continue
            }
            key = reverseKey.bytes
            value = reverseValue.bytes
            return true
        }
        return false
    }
}
