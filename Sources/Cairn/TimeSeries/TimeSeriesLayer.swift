/// What the time-series layer keeps for an open database
/// (`database.timeSeries`): the cache of series ids, the next series
/// number, the settings (retention, downsampling rules), and the
/// background worker that packs chunks and runs maintenance.
///
/// Memory per series: the id cache holds a 16-byte fingerprint and an
/// 8-byte id per series it has seen (TimeSeriesFormat), and the packing
/// tracker the newest bucket written per series; tags stay in the LSM.
///
/// Locks: `creationLock` serializes series creation and is held across the
/// engine write that creates one (it sits where the document lock sits in
/// docs/architecture.md, "Locks", above the write queue); `packLock`
/// serializes packing, retention and time-range deletion (each reads a
/// bucket and then rewrites it), also above the write queue; `state` is a
/// leaf, held briefly. `worker` is the worker's condition, a leaf.
final class TimeSeriesLayer: @unchecked Sendable {
    let creationLock = Lock()
    let packLock = Lock()
    let state = Lock()
    /// Guarded by `state`.
    var ids: [SeriesFingerprint: UInt64] = [:]
    /// The next series number (ids are `number << 1 | isInteger`).
    var nextNumber: UInt64 = 1
    /// Settings, loaded at open and changed by the setters; guarded by `state`.
    var retention: [String: Int64] = [:]
    var rules: [String: DownsamplingRule] = [:]
    /// The cutoff bucket retention last applied per metric.
    var retentionApplied: [String: Int64] = [:]

    // Packing: which buckets hold several written chunks.
    struct Head { var bucket: Int64; var chunks: Int32 }
    struct Target: Hashable { let id: UInt64; let bucket: Int64 }
    /// Guarded by `worker`.
    private var heads: [UInt64: Head] = [:]
    private var queue: [Target] = []
    /// The queued buckets, each with whether it is packed whole (true) or
    /// only its tail of written chunks (TimeSeriesLayer+Packing.swift).
    private var queued: [Target: Bool] = [:]
    /// A bucket's tail is packed after this many written chunks; the whole
    /// bucket when its series moves on to a newer bucket. Flushes merge the
    /// written chunks one memtable holds (ChunkCoalescing), so far fewer are
    /// stored than written; each tail pack is one more copy of its points
    /// through the LSM (at 32, the full-day bench ingested 7% slower).
    static let chunksBeforePacking: Int32 = 256

    // The worker.
    let worker = Condition()
    private var workerStarted = false
    private var workerRunning = false
    private var stopping = false
    /// Milliseconds between background maintenance runs (retention and
    /// rules, with the wall clock); 0 turns them off. Guarded by `worker`.
    var maintenanceIntervalMillis: Int64 = 60_000

    init() {}

    /// Records the chunks a write added and queues the buckets worth packing.
    func noteWritten(_ targets: [Target], database: Database) {
        guard !targets.isEmpty else { return }
        var wake = false
        worker.withLock {
            for target in targets {
                if var head = heads[target.id] {
                    if target.bucket == head.bucket {
                        head.chunks += 1
                        if head.chunks >= TimeSeriesLayer.chunksBeforePacking {
                            wake = enqueue(target, whole: false) || wake
                            head.chunks = 1
                        }
                    } else if target.bucket > head.bucket {
                        // The series moved on: its last bucket is packed whole
                        // (one chunk, however many tails were packed before).
                        wake = enqueue(Target(id: target.id, bucket: head.bucket), whole: true) || wake
                        head = Head(bucket: target.bucket, chunks: 1)
                    } else {
                        // A late write into an older bucket.
                        wake = enqueue(target, whole: true) || wake
                    }
                    heads[target.id] = head
                } else {
                    heads[target.id] = Head(bucket: target.bucket, chunks: 1)
                }
            }
            if !workerStarted && !stopping {
                workerStarted = true
                workerRunning = true
                startWorker(database)
            }
            if wake { worker.broadcast() }
        }
    }

    /// Queues a bucket; a bucket queued twice is packed whole if either
    /// asks. Returns whether it was not queued yet.
    /// REQUIRES: `worker` held.
    private func enqueue(_ target: Target, whole: Bool) -> Bool {
        if let queuedWhole = queued[target] {
            if whole && !queuedWhole { queued[target] = true }
            return false
        }
        queued[target] = whole
        queue.append(target)
        return true
    }

    /// REQUIRES: `worker` held.
    private func startWorker(_ database: Database) {
        do {
            try startThread { [self] in self.run(database) }
        } catch {
            // No thread: chunks stay unpacked until cairn_ts_compact; reads
            // merge them all the same.
            workerRunning = false
        }
    }

    private func run(_ database: Database) {
        var lastMaintenance = database.engine.env.nowMillis()
        while true {
            var batch: [(target: Target, whole: Bool)] = []
            var maintain = false
            worker.withLock {
                while !stopping && queue.isEmpty {
                    let interval = maintenanceIntervalMillis
                    if interval > 0 && database.engine.env.nowMillis() - lastMaintenance >= interval { maintain = true; break }
                    worker.wait(milliseconds: 1000)
                }
                batch = queue.prefix(256).map { ($0, queued.removeValue(forKey: $0) ?? true) }
                queue.removeFirst(batch.count)
            }
            if stoppingNow { break }
            for (target, whole) in batch {
                if stoppingNow { break }
                _ = try? database.packBucket(id: target.id, bucket: target.bucket, whole: whole)
            }
            if maintain {
                lastMaintenance = database.engine.env.nowMillis()
                _ = try? database.maintainTimeSeries(now: lastMaintenance, background: true)
            }
        }
        worker.withLock {
            workerRunning = false
            worker.broadcast()
        }
    }

    private var stoppingNow: Bool { worker.withLock { stopping } }

    /// Stops the worker and waits for it to finish its current bucket.
    func stop() {
        worker.withLock {
            stopping = true
            worker.broadcast()
            while workerRunning { worker.wait(milliseconds: 100) }
        }
    }
}

extension Database {
    /// Loads the next series number and the settings at open.
    func openTimeSeries() throws {
        let layer = timeSeries
        let lower: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.seriesByID]
        let upper: [UInt8] = [Namespace.timeSeries.rawValue, TimeSeriesFormat.seriesByID + 1]
        let iterator = try lower.withUnsafeBytes { l in try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: true) } }
        if try iterator.iterator.next() {
            let key = iterator.iterator.key
            guard key.count == 10 else { throw CairnError.corruption("time-series catalog: a series id key of \(key.count) bytes") }
            let id = TimeSeriesFormat.loadBE(key, 2)
            layer.nextNumber = SeriesID.number(id) + 1
        }
        try loadTimeSeriesSettings()
    }
}
