/// What a database iterator reuses from one life to the next through its
/// read state's pool (ReadState.makeIteratorParts): the merging iterator
/// over every source and the buffers keys are copied into. A profile of
/// seekrandom (open an iterator, seek, read 11 pairs, close) put a quarter
/// of each seek in making and freeing these.
final class IteratorParts {
    let merged: MergingIterator
    let seekTarget = ByteBuffer()
    let previousKey = ByteBuffer()
    let reverseKey = ByteBuffer()
    let reverseValue = ByteBuffer()

    init(merged: MergingIterator) { self.merged = merged }

    /// Buffers that grew past this give their memory back when parked.
    static let keptBufferBytes = 64 << 10

    /// Lets go of every block and memtable node the sources hold, and of
    /// large buffers, before the parts wait in the pool.
    func park() {
        merged.park()
        seekTarget.shrink(to: IteratorParts.keptBufferBytes)
        previousKey.shrink(to: IteratorParts.keptBufferBytes)
        reverseKey.shrink(to: IteratorParts.keptBufferBytes)
        reverseValue.shrink(to: IteratorParts.keptBufferBytes)
    }
}

/// Turns the merged stream of every version of every key into what a
/// reader sees at its snapshot: for each user key, the newest version with
/// a sequence <= the snapshot, skipped when it is a tombstone, has expired,
/// or is covered by a newer range tombstone. Bounds are [lower, upper).
///
/// Going forward, the yielded key and value are views into the sources,
/// valid until the next call. In reverse the newest version of a key comes
/// last, so the yielded pair is copied into buffers the iterator owns.
///
/// The merging iterator, its sources and the buffers (IteratorParts) come
/// from the read state's pool and go back to it when this iterator dies
/// (ReadState.recycle), unless a call failed: an iterator whose sources
/// threw is dropped, never reused.
final class DatabaseIterator {
    private let parts: IteratorParts
    private var merged: MergingIterator { parts.merged }
    private let view: ReadView
    private let tombstones: RangeTombstoneSet
    private let now: Int64
    private let lower: [UInt8]?
    private let upper: [UInt8]?
    private var started = false
    /// The target of the last `seek`, while `hasPendingSeek`.
    private var seekTarget: ByteBuffer { parts.seekTarget }
    private var hasPendingSeek = false
    /// Whether `parts` go back to the pool when this iterator dies.
    private var recyclable: Bool
    private var exhausted = false
    /// The user key last yielded or skipped going forward, so that its
    /// older versions are skipped.
    private var previousKey: ByteBuffer { parts.previousKey }
    private var hasPrevious = false
    private var reverseKey: ByteBuffer { parts.reverseKey }
    private var reverseValue: ByteBuffer { parts.reverseValue }
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
        parts = view.state.makeIteratorParts(reverse: reverse, fillCache: fillCache)
        if let bloomPrefix {
            parts.merged.prefix = (bloomPrefix, prefixUpperBound(bloomPrefix), bloomPrefix.withUnsafeBytes { Hash64.hash($0) })
        }
        recyclable = true
    }

    deinit {
        if recyclable { view.state.recycle(parts) }
    }

    var reverse: Bool { merged.reverse }

    /// Forward: continue at the first key >= target; reverse: at the last
    /// key <= target. Bounds still apply.
    func seek(_ target: UnsafeRawBufferPointer) {
        seekTarget.set(target)
        hasPendingSeek = true
        started = false
        exhausted = false
        hasPrevious = false
        positioned = false
    }

    private func position() throws {
        started = true
        let seeking = hasPendingSeek
        hasPendingSeek = false
        if reverse {
            // "Last key <= target" starts before target + 0x00: the smaller
            // of that and the upper bound.
            if seeking {
                seekTarget.append(byte: 0)
                let target = seekTarget.bytes
                if let upper, upper.withUnsafeBytes({ compareBytes($0, target) <= 0 }) {
                    try upper.withUnsafeBytes { try merged.seek($0) }
                } else {
                    try merged.seek(target)
                }
            } else if let upper {
                try upper.withUnsafeBytes { try merged.seek($0) }
            } else {
                try merged.seekToFirst()
            }
        } else {
            // The larger of the target and the lower bound.
            if seeking {
                let target = seekTarget.bytes
                if let lower, lower.withUnsafeBytes({ compareBytes(target, $0) <= 0 }) {
                    try lower.withUnsafeBytes { try merged.seek($0) }
                } else {
                    try merged.seek(target)
                }
            } else if let lower {
                try lower.withUnsafeBytes { try merged.seek($0) }
            } else {
                try merged.seekToFirst()
            }
        }
    }

    /// Moves to the next visible pair; false at the end.
    func next() throws -> Bool {
        do {
            return try step()
        } catch {
            // The sources may be half moved: never hand them to another reader.
            recyclable = false
            throw error
        }
    }

    private func step() throws -> Bool {
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
