/// Invariant walks of the memtable's skiplist, compiled only with
/// `-DCAIRN_INVARIANTS` (the test build; see the Makefile's test-swift).
/// Without the flag `checkInvariants()` is empty, so production code may
/// call it at cheap points for free.
///
/// The invariants (MemTable's doc states the order; the layout is the
/// node layout documented there):
///  1. Level 0 visits every node in skiplist order, strictly: key
///     ascending, then sequence descending. Two nodes with the same key
///     and sequence would make a snapshot read ambiguous.
///  2. Every link at every level of a node points to a node ordered after
///     it (so each level is a sorted sublist of level 0), or is null.
///  3. Every node's height is in 1...maxHeight and each kind byte is one
///     EntryKind knows.
///  4. Level 0 holds exactly `entryCount` nodes, and no sequence below
///     `smallestSequence`.
extension MemTable {
    /// Stops the process when an invariant does not hold; does nothing
    /// unless built with CAIRN_INVARIANTS. O(entries) when it runs.
    ///
    /// REQUIRES: no concurrent insert (the walk counts entries, which a
    /// concurrent writer changes under it); concurrent readers are fine.
    @inline(__always)
    func checkInvariants() {
        #if CAIRN_INVARIANTS
        let violations = invariantViolations()
        precondition(violations.isEmpty, "memtable invariants: \(violations.prefix(5).joined(separator: "; "))")
        #endif
    }

    #if CAIRN_INVARIANTS
    /// Every violated invariant, described; empty when the skiplist is sound.
    func invariantViolations() -> [String] {
        var violations: [String] = []
        var count = 0
        var previous: MemNode?
        var node = first
        let smallest = smallestSequence
        while let current = node {
            count += 1
            if let previous, previous.compare(key: current.key, sequence: current.sequence) >= 0 {
                violations.append("node \(count - 1) (sequence \(previous.sequence)) is not ordered before node \(count) (sequence \(current.sequence))")
            }
            // The height and kind bytes, at the offsets MemTable's node
            // layout documents (25 and 24): MemNode keeps them private.
            let height = Int(current.raw.load(fromByteOffset: 25, as: UInt8.self))
            let kind = current.raw.load(fromByteOffset: 24, as: UInt8.self)
            if EntryKind(rawValue: kind) == nil { violations.append("node \(count) has unknown kind \(kind)") }
            if height < 1 || height > MemTable.maxHeight {
                violations.append("node \(count) has height \(height)")
            } else {
                for level in 0..<height {
                    if let next = current.next(level), current.compare(key: next.key, sequence: next.sequence) >= 0 {
                        violations.append("node \(count) links at level \(level) to a node that is not after it")
                    }
                }
            }
            if current.sequence < smallest {
                violations.append("node \(count) has sequence \(current.sequence) below the smallest recorded, \(smallest)")
            }
            previous = current
            node = current.next(0)
        }
        if count != entryCount { violations.append("level 0 holds \(count) nodes, entryCount says \(entryCount)") }
        return violations
    }
    #endif
}
