/// A range delete: every version of every key in [start, end) with a
/// sequence below `sequence` is deleted. Kept as one entry, never expanded
/// into per-key tombstones: in the memtable until it is flushed, then in
/// the manifest, until no file or memtable can hold a key it covers.
struct RangeTombstone: Sendable {
    let start: [UInt8]
    let end: [UInt8]
    let sequence: UInt64

    func covers(_ key: UnsafeRawBufferPointer) -> Bool {
        start.withUnsafeBytes { compareBytes($0, key) <= 0 } && end.withUnsafeBytes { compareBytes(key, $0) < 0 }
    }

    func overlaps(smallest: UnsafeRawBufferPointer, largest: UnsafeRawBufferPointer) -> Bool {
        start.withUnsafeBytes { compareBytes($0, largest) <= 0 } && end.withUnsafeBytes { compareBytes(smallest, $0) < 0 }
    }
}

/// The range tombstones one reader must honour: those visible at its
/// snapshot. Checking a key is a scan; range deletes are rare next to
/// point writes, and an empty set costs one branch.
struct RangeTombstoneSet {
    private(set) var tombstones: [RangeTombstone] = []

    init(_ all: [RangeTombstone], visibleAt snapshot: UInt64) {
        tombstones = all.filter { $0.sequence <= snapshot }
    }

    var isEmpty: Bool { tombstones.isEmpty }

    /// True when a tombstone newer than `sequence` covers `key`.
    @inline(__always)
    func deletes(_ key: UnsafeRawBufferPointer, sequence: UInt64) -> Bool {
        if tombstones.isEmpty { return false }
        for tombstone in tombstones where tombstone.sequence > sequence && tombstone.covers(key) { return true }
        return false
    }

    /// The highest sequence of a tombstone covering `key`, or 0.
    func newestCovering(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var newest: UInt64 = 0
        for tombstone in tombstones where tombstone.sequence > newest && tombstone.covers(key) { newest = tombstone.sequence }
        return newest
    }
}
