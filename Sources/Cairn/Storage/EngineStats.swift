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
    let writeLatency = Histogram()
    let getLatency = Histogram()
    let flushLatency = Histogram()
    let compactionLatency = Histogram()
    let blockCacheHits = Atomic<UInt64>(0)
    let blockCacheMisses = Atomic<UInt64>(0)
    let bloomUseful = Atomic<UInt64>(0)
    let bloomFalsePositives = Atomic<UInt64>(0)

    @inline(__always)
    static func bump(_ counter: borrowing Atomic<UInt64>, by amount: UInt64 = 1) {
        counter.add(amount, ordering: .relaxed)
    }
}
