/// Inserts a synced group's entries into the memtable on a thread of its
/// own while the group-commit leader waits for the log's fsync.
///
/// Why: with many durable writers a group's cycle was serial: write the
/// log record, fsync (about 150 µs on this project's VM), then insert every
/// member's entries into the memtable (about 2 µs each, cache misses over
/// the skiplist; 70 µs for eight documents with three indexes), then wake
/// the members. During the fsync both cores sat idle. Now the leader hands
/// the inserts to this thread right after the log write and fsyncs in the
/// meantime, so a group of eight costs the longer of the two instead of
/// their sum (RocksDB overlaps the same two steps with its pipelined and
/// concurrent memtable writes).
///
/// Safety: entries inserted before their fsync completed carry sequences
/// above the engine's visible sequence, so no reader sees them until the
/// leader publishes the group after a successful fsync, as with an inline
/// insert. If the fsync fails, the entries are already in the memtable and
/// a skiplist cannot take them out: the engine then refuses every later
/// write and memtable switch until it is reopened (`logFailure`), so they
/// are never published, flushed or written to a table, and the log (cut
/// back to before the record) no longer holds them.
///
/// Thread safety: used by the group-commit leader only (one at a time); the
/// thread it runs on is started on first use and stopped by `stop`.
final class GroupApplier: @unchecked Sendable {
    /// Groups with fewer entries are inserted by the leader itself: a
    /// hand-off costs a wake-up on the other core, more than a few inserts.
    static let minimumEntries = 16

    /// Lock order: a leaf, taken by the leader (inside walLock) and by the
    /// applier's thread, with no other lock taken inside it.
    private let condition = Condition()
    private let workerWakeup = Condition.Waiter()
    private let leaderWakeup = Condition.Waiter()
    private var job: (() throws -> (first: UInt64, last: UInt64))?
    private var finished = true
    private var result: Result<(first: UInt64, last: UInt64), Error>?
    private var started = false
    private var stopping = false
    /// Jobs run so far (for tests: whether a group went through here).
    private var jobs = 0

    var jobCount: Int { condition.withLock { jobs } }

    /// Starts `body` on the applier's thread and returns at once; the
    /// caller then waits with `finish`. Returns false (and runs nothing)
    /// when the thread cannot be started or the applier was stopped: the
    /// caller inserts inline.
    func begin(using env: Env, _ body: @escaping () throws -> (first: UInt64, last: UInt64)) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, finished else { return false }
        if !started {
            do {
                try env.startThread { [self] in run() }
            } catch {
                return false
            }
            started = true
        }
        job = body
        jobs += 1
        finished = false
        result = nil
        condition.signal(workerWakeup)
        return true
    }

    /// Waits until the job `begin` started has run, and returns what it
    /// returned (the sequences it inserted) or rethrows its error.
    func finish() throws -> (first: UInt64, last: UInt64) {
        condition.lock()
        while !finished { condition.wait(leaderWakeup) }
        let result = self.result
        self.result = nil
        condition.unlock()
        // `finished` and `result` are set together under the lock; a
        // missing result would be our bug, reported rather than trapped.
        guard let result else { throw CairnError(.internal, "the group applier finished a job without its result") }
        return try result.get()
    }

    /// Ends the thread once it is idle. REQUIRES: no job in flight (the
    /// engine calls it as an exclusive writer, or at close).
    func stop() {
        condition.withLock {
            stopping = true
            condition.signal(workerWakeup)
        }
    }

    private func run() {
        condition.lock()
        while true {
            while job == nil && !stopping { condition.wait(workerWakeup) }
            guard job != nil else { break }
            let outcome = runJob()
            result = outcome
            finished = true
            condition.signal(leaderWakeup)
        }
        condition.unlock()
    }

    /// REQUIRES: locked, with a job. Runs it unlocked, and drops it (and
    /// the record it reads) before the leader learns it finished, so the
    /// leader's next group finds its record buffer its own again.
    private func runJob() -> Result<(first: UInt64, last: UInt64), Error> {
        guard let body = job else { return .failure(CairnError(.internal, "the group applier ran without a job")) }
        job = nil
        condition.unlock()
        defer { condition.lock() }
        return Result { try body() }
    }
}
