/// Merges runs of neighbouring keys into one key when a memtable is flushed,
/// for a layer that writes many small keys where one would do: the time-series
/// layer writes one chunk key per (series, bucket) a write call touches, and a
/// batch across 40,000 series adds two or three points to each. Without this,
/// every such key goes through every level of the LSM until packing merges
/// them; a flush that merges the five or so chunks a memtable holds per
/// series writes a fifth of the keys, and every compaction after it copies a
/// fifth. (RocksDB's merge operator does this for versions of one key; here
/// the keys differ, so the layer states which keys may become one.)
///
/// The engine knows nothing of what it merges. The layer promises that a
/// key of a group is written once and never overwritten (a time-series chunk
/// key holds its commit sequence): a merged run leaves only its last key, so
/// an older version of another key of the run, in an older table, would be
/// seen again. The layer gives:
/// - `groupLength(key)`: the length of the prefix a key shares with the keys
///   it may merge with (0: never merged). Consecutive keys with the same
///   group prefix form a run.
/// - `merge(keys, values)`: the value that replaces a run (keys ascending,
///   at least two), stored under the run's last key; nil keeps the run as it
///   is.
///
/// The engine merges a run only when it cannot change what anyone reads
/// (`StorageEngine.writeLevel0Table`):
/// - every entry is a live value without expiry, and no key of the run has a
///   second version in the memtable (that would break the promise above);
/// - every snapshot sees all of the run or none of it (none lies in
///   [oldest, newest) of the run's sequences), so no reader can see part of
///   it; views taken before the flush keep reading the memtable itself;
/// - no range tombstone of the memtable covers a key of the run.
/// A memtable holds every write of its sequence range, so a run is every key
/// of its group written in that range. What the merge means for a later
/// delete of one of the run's keys is the layer's to state (TimeSeries'
/// ChunkCoalescing: its deletes never lose points by it).
struct FlushCoalescer: Sendable {
    let groupLength: @Sendable (UnsafeRawBufferPointer) -> Int
    let merge: @Sendable (_ keys: [UnsafeRawBufferPointer], _ values: [UnsafeRawBufferPointer]) -> [UInt8]?
}

/// The run being collected during one flush: entries point into the
/// memtable's arena, which lives as long as the flush.
struct CoalescingRun {
    private(set) var keys: [UnsafeRawBufferPointer] = []
    private(set) var values: [UnsafeRawBufferPointer] = []
    private(set) var sequences: [UInt64] = []
    private(set) var groupLength = 0

    var isEmpty: Bool { keys.isEmpty }

    /// Whether `key`, with the prefix length `length`, continues the run.
    func continues(_ key: UnsafeRawBufferPointer, groupLength length: Int) -> Bool {
        guard let first = keys.first, length == groupLength, length <= key.count, length <= first.count else { return false }
        return compareBytes(UnsafeRawBufferPointer(rebasing: first[0..<length]), UnsafeRawBufferPointer(rebasing: key[0..<length])) == 0
    }

    mutating func start(groupLength length: Int) {
        removeAll()
        groupLength = length
    }

    mutating func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, sequence: UInt64) {
        keys.append(key)
        values.append(value)
        sequences.append(sequence)
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        groupLength = 0
    }

    /// Writes the run to `output`: merged into one entry when `mayMerge`,
    /// the coalescer agrees and nothing forbids it, else entry by entry.
    /// Empties the run.
    /// `snapshots`: the live snapshots' sequences, ascending.
    mutating func emit(to output: TableOutput, mayMerge: Bool, coalescer: FlushCoalescer, snapshots: [UInt64],
                       rangeTombstones: [RangeTombstone], scratch: inout [UInt8]) throws {
        defer { removeAll() }
        guard !keys.isEmpty else { return }
        let oldest = sequences.min() ?? 0
        let newest = sequences.max() ?? 0
        if mayMerge && keys.count >= 2 && !CoalescingRun.anySnapshot(in: oldest..<newest, snapshots)
            && !coveredByAny(rangeTombstones),
           let merged = coalescer.merge(keys, values) {
            try merged.withUnsafeBytes { value in
                try output.add(userKey: keys[keys.count - 1], sequence: newest, kind: InternalKey.kindValue, expiresAt: 0,
                               value: value, scratch: &scratch)
            }
            return
        }
        for i in keys.indices {
            try output.add(userKey: keys[i], sequence: sequences[i], kind: InternalKey.kindValue, expiresAt: 0,
                           value: values[i], scratch: &scratch)
        }
    }

    /// Whether a sequence of `sorted` lies in `range`.
    static func anySnapshot(in range: Range<UInt64>, _ sorted: [UInt64]) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] < range.upperBound
    }

    private func coveredByAny(_ tombstones: [RangeTombstone]) -> Bool {
        guard !tombstones.isEmpty else { return false }
        for key in keys where tombstones.contains(where: { $0.covers(key) }) { return true }
        return false
    }
}
