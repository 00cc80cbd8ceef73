/// Merges sources into one stream in internal-key order (or its reverse),
/// with a binary heap of source indices: each step costs O(log sources).
///
/// The direction is fixed when the iterator is made; every position call
/// (`seekToFirst`, `seek`, ...) re-heaps all sources, so an iterator that
/// ReadState pools is as good as new after its first position call.
final class MergingIterator {
    let reverse: Bool
    /// How the sources read tables (ReadState.sources); the pool hands an
    /// iterator only to a reader that asks for the same.
    let fillCache: Bool
    private let sources: [EntryIterator]
    private var heap: [Int] = []
    /// While set, a scan of keys that all start with `bytes` (and lie
    /// before `end`): each position call leaves out the sources whose
    /// bloom filters rule the prefix out (EntryIterator.rulesOut). Set per
    /// scan, so one pooled iterator serves scans with and without a prefix.
    var prefix: (bytes: [UInt8], end: [UInt8], hash: UInt64)?

    init(sources: [EntryIterator], reverse: Bool, fillCache: Bool = true) {
        self.sources = sources
        self.reverse = reverse
        self.fillCache = fillCache
        heap.reserveCapacity(sources.count)
    }

    /// Unpositions every source and lets go of the blocks they hold, before
    /// the iterator waits in ReadState's pool.
    func park() {
        heap.removeAll(keepingCapacity: true)
        prefix = nil
        for source in sources { source.park() }
    }

    /// Whether a position call leaves `source` out (see `prefix`); such a
    /// source is parked, so it is invalid and stays out of the heap.
    @inline(__always)
    private func leavesOut(_ source: EntryIterator) -> Bool {
        guard let prefix, source.rulesOut(prefix: prefix.bytes, end: prefix.end, hash: prefix.hash) else { return false }
        source.park()
        return true
    }

    var isValid: Bool { !heap.isEmpty }
    var top: EntryIterator { sources[heap[0]] }

    /// Whether source a comes before source b in this iterator's direction.
    @inline(__always)
    private func before(_ a: Int, _ b: Int) -> Bool {
        // Safe: `sources` owns every iterator for this object's lifetime.
        unowned(unsafe) let x = sources[a]
        unowned(unsafe) let y = sources[b]
        var c = compareBytes(x.userKey, y.userKey)
        if c == 0 {
            let sx = x.sequence, sy = y.sequence
            c = sx > sy ? -1 : (sx < sy ? 1 : 0)
            if c == 0 { c = a < b ? -1 : 1 }  // newer sources come first on a tie
        }
        return reverse ? c > 0 : c < 0
    }

    private func rebuild() {
        heap.removeAll(keepingCapacity: true)
        for index in sources.indices where sources[index].isValid { heap.append(index) }
        if heap.count > 1 {
            for position in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(position) }
        }
    }

    private func siftDown(_ start: Int) {
        var position = start
        let count = heap.count
        while true {
            let left = 2 * position + 1
            guard left < count else { return }
            var best = left
            let right = left + 1
            if right < count && before(heap[right], heap[left]) { best = right }
            guard before(heap[best], heap[position]) else { return }
            heap.swapAt(best, position)
            position = best
        }
    }

    func seekToFirst() throws {
        for source in sources where !leavesOut(source) { try reverse ? source.seekToLast() : source.seekToFirst() }
        rebuild()
    }

    /// Forward: the first entry with user key >= key. Reverse: the last
    /// entry with user key < key.
    func seek(_ key: UnsafeRawBufferPointer) throws {
        for source in sources where !leavesOut(source) { try reverse ? source.seekBefore(key) : source.seek(key) }
        rebuild()
    }

    /// Moves to the next entry in this iterator's direction.
    func advance() throws {
        guard !heap.isEmpty else { return }
        unowned(unsafe) let source = sources[heap[0]]
        try reverse ? source.retreat() : source.advance()
        if source.isValid {
            siftDown(0)
        } else {
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
            if !heap.isEmpty { siftDown(0) }
        }
    }
}
