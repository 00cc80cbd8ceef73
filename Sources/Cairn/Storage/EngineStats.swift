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
    let checkpoints = Atomic<UInt64>(0)
    let checkpointBytes = Atomic<UInt64>(0)
    let checkpointFailures = Atomic<UInt64>(0)
    let recoveredRecords = Atomic<UInt64>(0)
    let tornTails = Atomic<UInt64>(0)
    let blockCacheHits = Atomic<UInt64>(0)
    let blockCacheMisses = Atomic<UInt64>(0)
    let bloomUseful = Atomic<UInt64>(0)
    let bloomFalsePositives = Atomic<UInt64>(0)

    @inline(__always)
    static func bump(_ counter: borrowing Atomic<UInt64>, by amount: UInt64 = 1) {
        counter.add(amount, ordering: .relaxed)
    }
}
