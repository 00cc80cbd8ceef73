import Synchronization

/// Counters of the storage engine, updated without locks.
final class EngineStats: Sendable {
    let puts = Atomic<UInt64>(0)
    let deletes = Atomic<UInt64>(0)
    let deleteRanges = Atomic<UInt64>(0)
    let writes = Atomic<UInt64>(0)
    let bytesWritten = Atomic<UInt64>(0)
    let walBytesWritten = Atomic<UInt64>(0)
    let walSyncs = Atomic<UInt64>(0)
    let gets = Atomic<UInt64>(0)
    let getHits = Atomic<UInt64>(0)
    let getMisses = Atomic<UInt64>(0)
    let iterators = Atomic<UInt64>(0)
    let recoveredRecords = Atomic<UInt64>(0)
    let tornTails = Atomic<UInt64>(0)
    let damagedTails = Atomic<UInt64>(0)
    let writeGroups = Atomic<UInt64>(0)
    let flushes = Atomic<UInt64>(0)
    let flushBytes = Atomic<UInt64>(0)
    let compactions = Atomic<UInt64>(0)
    let manualCompactions = Atomic<UInt64>(0)
    let trivialMoves = Atomic<UInt64>(0)
    let compactionBytesRead = Atomic<UInt64>(0)
    let compactionBytesWritten = Atomic<UInt64>(0)
    let compactionEntriesDropped = Atomic<UInt64>(0)
    let slowdowns = Atomic<UInt64>(0)
    let stalls = Atomic<UInt64>(0)
    let stallMicros = Atomic<UInt64>(0)
    let backgroundErrors = Atomic<UInt64>(0)
    let backgroundRecoveries = Atomic<UInt64>(0)
    let transactionCommits = Atomic<UInt64>(0)
    let transactionRollbacks = Atomic<UInt64>(0)
    let transactionConflicts = Atomic<UInt64>(0)
    let writeLatency = Histogram()
    let getLatency = Histogram()
    let flushLatency = Histogram()
    let compactionLatency = Histogram()
    let tableCacheEvictions = Atomic<UInt64>(0)
    let blockCacheHits = Atomic<UInt64>(0)
    let blockCacheMisses = Atomic<UInt64>(0)
    let bloomUseful = Atomic<UInt64>(0)
    let bloomFalsePositives = Atomic<UInt64>(0)

    @inline(__always)
    static func bump(_ counter: borrowing Atomic<UInt64>, by amount: UInt64 = 1) {
        counter.add(amount, ordering: .relaxed)
    }

    /// Adds to a counter that one thread at a time updates, each after the
    /// one before it (the group-commit leader's counters: leadership passes
    /// under the write queue's lock, which orders the leaders). A load and
    /// a store instead of an atomic add: the commit path pays for one
    /// locked instruction per counter otherwise. Readers still see whole
    /// values.
    @inline(__always)
    static func bumpAsOwner(_ counter: borrowing Atomic<UInt64>, by amount: UInt64 = 1) {
        counter.store(counter.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }
}
