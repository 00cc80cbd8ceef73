import CCairnSupport

/// Group commit. Writers queue up; the writer at the head becomes the
/// leader, takes the batches queued behind it, commits them as one
/// write-ahead log record with (under sync "always") one fsync, and wakes
/// the others with the outcome. Under load from many threads, one fsync
/// thus serves many writes (LevelDB's and RocksDB's design).
///
/// Two refinements over LevelDB's queue, both for durable writes from many
/// threads:
/// - **A leader's group shares one wake-up.** Waiting writers sleep on one
///   word (a futex, `cairn_support_wakeword_*`), and a leader that finishes
///   changes it and wakes them all with one system call. Waking each member
///   on a condition of its own (LevelDB's `Writer::cv`) took a system call
///   per member, and on two cores the first woken member preempted the
///   leader before it had woken the rest (a sched_switch trace showed it),
///   so the members whose core was the other one started late. The wake-up
///   comes after the queue's lock is released, so a woken thread does not
///   go straight back to sleep on it. A woken writer that is neither done
///   nor the new leader sleeps again: with gathering (below) a group holds
///   nearly every waiting writer, so that is rare. A gathering leader is
///   woken alone, when the last writer it expects arrives.
/// - **A leader whose group will be synced gathers first.** With one fsync
///   in flight at a time, writers split into two cohorts: the members of the
///   group being synced come back while the next group syncs, so each group
///   holds about half of the writers. A new leader therefore waits, for at
///   most one fsync's duration (and 10 ms), until as many writers are
///   queued as were in the queue when the last group finished
///   (`expectedWriters`): with eight threads writing, one fsync then serves
///   eight writes instead of four. A lone writer never waits (it expects
///   one), and a thread that stops writing costs one bounded wait, after
///   which the expectation follows the queue down. This is PostgreSQL's
///   `commit_delay`, bounded and sized by what the queue has seen rather
///   than by a setting.
///
/// Thread safety: any number of threads may call `submit`. Exactly one
/// leader runs `commit` at a time, so the commit closure owns the log and
/// the memtable inserts without further locking.
final class WriteQueue: @unchecked Sendable {
    /// One writer's request. Pendings are pooled (`pool`): a single put
    /// would otherwise allocate one, its waiter and the waiter's condition
    /// variable, and free all three, on every write.
    final class Pending {
        /// The batch to commit, borrowed from its writer (nil for an
        /// exclusive request): the writer waits in `run` until the batch is
        /// committed, so the batch outlives every use of this pointer, and
        /// `recycle` clears it before the writer returns. Borrowed rather
        /// than copied in and out, since each copy of a batch retains and
        /// releases its buffers.
        private(set) var batch: UnsafePointer<WriteBatch>?
        private(set) var exclusive: (() throws -> Void)?
        /// The batch's figures, taken once: the leader's loops over a group
        /// read these instead of going through each batch.
        private(set) var count = 0
        private(set) var encodedSize = 0
        private(set) var payloadBytes = 0
        /// Whether the batch carries a conflict check.
        private(set) var isChecked = false
        /// Whether committing the batch needs the time (TTL expiries, stamps).
        private(set) var needsClock = false
        var done = false
        var error: Error?
        /// Signalled when this writer, gathering as leader, has the
        /// writers it waits for (`gather`).
        let wakeup = Condition.Waiter()

        fileprivate func reset(batch: UnsafePointer<WriteBatch>?, exclusive: (() throws -> Void)?) {
            self.batch = batch
            self.exclusive = exclusive
            if let batch {
                count = batch.pointee.count
                encodedSize = batch.pointee.encodedSize
                payloadBytes = batch.pointee.payloadBytes
                isChecked = batch.pointee.isChecked
                needsClock = batch.pointee.needsClock
            } else {
                count = 0
                encodedSize = 0
                payloadBytes = 0
                isChecked = false
                needsClock = false
            }
            done = false
            error = nil
        }
    }

    /// Pendings whose writers have returned, for the next writers to
    /// reuse. REQUIRES: `condition` held. A Pending goes back only once its
    /// writer has read its outcome; a leader may still signal its waiter
    /// after that, which the next user of the Pending sees as a spurious
    /// wake-up (every wait here rechecks its condition in a loop).
    private var pool: [Pending] = []
    private static let maxPooled = 64
    /// The leader's group, empty between groups. REQUIRES: `condition` held.
    private var groupBuffer: [Pending] = []

    /// The most bytes one group carries, so a small write behind a huge one
    /// does not wait for more than it must.
    static let maxGroupBytes = 1 << 20

    /// The most writers a gathering leader waits for.
    static let maxGatheredWriters = 64

    /// The longest a leader gathers, whatever the syncs take: a disk whose
    /// flushes take a second must not add a second to every write.
    static let maxGatherNanoseconds: UInt64 = 10_000_000

    /// Lock order 4 (docs/architecture.md, "Locks"): held only to queue and to hand
    /// over leadership; the leader commits (log, memtable) without it.
    private let condition = Condition()
    private var queue = Line()

    /// The queued writers, oldest first: an array read from a moving head,
    /// so that taking a group off the front shifts nothing (Array's
    /// removeFirst(_:) went through a generic replaceSubrange on every
    /// write).
    private struct Line {
        private var slots: [Pending?] = []
        private var head = 0

        var count: Int { slots.count - head }
        var first: Pending? { head < slots.count ? slots[head] : nil }

        mutating func append(_ pending: Pending) { slots.append(pending) }

        /// The writer `offset` places behind the first. REQUIRES: offset < count.
        func behindFirst(_ offset: Int) -> Pending {
            guard let pending = slots[head + offset] else { preconditionFailure("a taken slot inside the write queue") }
            return pending
        }

        mutating func removeFirst(_ k: Int) {
            precondition(k <= count, "removing more writers than are queued")
            for index in head..<(head + k) { slots[index] = nil }
            head += k
            if head == slots.count {
                // Every writer taken: start again at the front, keeping the room.
                while !slots.isEmpty { slots.removeLast() }
                head = 0
            } else if head >= 64 && head * 2 >= slots.count {
                // Writers keep coming (the queue never empties): drop the
                // taken slots now and then, so it does not grow for good.
                slots.removeFirst(head)
                head = 0
            }
        }
    }
    /// What waiting writers sleep on (the type's first point); a leader
    /// changes it after every group. A cache line of its own.
    private let wakeWord: UnsafeMutablePointer<UInt32> = {
        let word = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64).bindMemory(to: UInt32.self, capacity: 1)
        word.initialize(to: 0)
        return word
    }()

    deinit { UnsafeMutableRawPointer(wakeWord).deallocate() }
    /// How many writers were queued when the last group finished: how many
    /// are writing now, as far as the queue can tell.
    private var expectedWriters = 1
    /// True while the head of the queue waits for more writers to gather.
    private var gathering = false
    /// How long the engine's last syncs took (nanoseconds, a moving
    /// average), set by the engine; 0 when its writes are not synced, and
    /// then no leader gathers.
    private var syncNanoseconds: UInt64 = 0
    /// How many leaders have waited to gather (for tests: whether a writer
    /// waited is a count, not a time).
    private var gatherWaits = 0

    var gatherWaitCount: Int { condition.withLock { gatherWaits } }

    /// Called by the leader after a sync that took `nanoseconds` (0: the
    /// group was not synced), so the next leaders know how long gathering
    /// may take.
    func noteSync(nanoseconds: UInt64) {
        // An average over about eight syncs: one slow fsync does not make
        // every leader wait long, and a disk that slows down is followed.
        let sample = min(nanoseconds, 60_000_000_000)  // a stalled disk must not overflow the average
        condition.withLock { syncNanoseconds = sample == 0 ? 0 : (syncNanoseconds * 7 + sample) / 8 }
    }

    /// Commits `batch`, alone or in a group led by another writer.
    func submit(_ batch: borrowing WriteBatch, commit: ([Pending]) throws -> Void) throws {
        try withUnsafePointer(to: batch) { try run(batch: $0, exclusive: nil, commit: commit) }
    }

    /// Runs `body` as a leader with no batches: nothing else commits meanwhile.
    func exclusive(_ body: @escaping () throws -> Void) throws {
        try run(batch: nil, exclusive: body, commit: { _ in })
    }

    /// REQUIRES: `condition` held. Takes back a Pending whose writer is
    /// done with it, dropping what it held.
    private func recycle(_ pending: Pending) {
        pending.reset(batch: nil, exclusive: nil)
        if pool.count < WriteQueue.maxPooled { pool.append(pending) }
    }

    private func run(batch: UnsafePointer<WriteBatch>?, exclusive: (() throws -> Void)?, commit: ([Pending]) throws -> Void) throws {
        condition.lock()
        let me = pool.popLast() ?? Pending()
        me.reset(batch: batch, exclusive: exclusive)
        queue.append(me)
        // A gathering leader is woken once, by the writer it waits for last.
        if gathering, queue.count >= expectedWriters, let head = queue.first { condition.signal(head.wakeup) }
        // The word is read under the lock, so a change made after this check
        // (a leader finishing) makes the wait return at once.
        while !me.done && queue.first !== me {
            let seen = cairn_support_wakeword_value(wakeWord)
            condition.unlock()
            cairn_support_wakeword_wait(wakeWord, seen)
            condition.lock()
        }
        if me.done {
            let error = me.error
            recycle(me)
            condition.unlock()
            if let error { throw error }
            return
        }
        if me.exclusive == nil { gather(me) }
        // Leader. Gather the batches queued behind, up to an exclusive request.
        // Batches with a conflict check group too: the commit checks each
        // against what was committed before it and against the writes of
        // the checked members before it in the group, and fails only the
        // ones that conflict. So a checked batch never follows an unchecked
        // one in a group: what an unchecked batch writes (a key-value put
        // a transaction may also write) must be in the engine, where the
        // check looks, before a checked batch is checked.
        // The group's array is the queue's, kept between leaders (one leads
        // at a time), so a write allocates none.
        var group = groupBuffer
        groupBuffer = []
        group.append(me)
        if me.exclusive == nil {
            var bytes = me.encodedSize
            var unchecked = !me.isChecked
            for offset in 1..<max(queue.count, 1) {
                let pending = queue.behindFirst(offset)
                guard pending.exclusive == nil, bytes + pending.encodedSize <= WriteQueue.maxGroupBytes,
                      !(unchecked && pending.isChecked) else { break }
                unchecked = unchecked || !pending.isChecked
                group.append(pending)
                bytes += pending.encodedSize
            }
        }
        condition.unlock()

        var failure: Error?
        do {
            if let exclusive = me.exclusive { try exclusive() } else { try commit(group) }
        } catch {
            failure = error
        }

        condition.lock()
        expectedWriters = min(queue.count, WriteQueue.maxGatheredWriters)
        for pending in group {
            pending.done = true
            // A member the commit refused alone (a conflict) keeps its error.
            if let failure { pending.error = failure }
        }
        queue.removeFirst(group.count)
        let grouped = group.count
        // Emptied from the back: removeAll(keepingCapacity:) is a generic
        // replaceSubrange, several times the cost of a group of one.
        while !group.isEmpty { group.removeLast() }
        if group.capacity <= WriteQueue.maxGatheredWriters { groupBuffer = group }
        let next = queue.first
        let outcome = me.error
        recycle(me)
        condition.unlock()
        // Woken after the unlock: a thread woken while the lock is held
        // would only sleep again on the mutex (a context switch each, on
        // two cores most of the group's). Each waiter reads the word under
        // the lock before it sleeps, so a change that comes before its wait
        // begins is not lost: the wait returns at once.
        if grouped > 1 || next != nil { cairn_support_wakeword_advance(wakeWord) }
        if let outcome { throw outcome }
    }

    /// REQUIRES: `condition` is locked and `me` heads the queue. Waits, for at
    /// most the recent sync time, until `expectedWriters` are queued (see
    /// the type's comment). Returns at once when the writes are not synced
    /// or no other writer is expected.
    private func gather(_ me: Pending) {
        guard syncNanoseconds > 0, queue.count < expectedWriters else { return }
        let deadline = Condition.deadline(afterNanoseconds: min(syncNanoseconds, WriteQueue.maxGatherNanoseconds))
        gatherWaits += 1
        gathering = true
        while queue.count < expectedWriters {
            if !condition.wait(me.wakeup, until: deadline) { break }
        }
        gathering = false
    }
}
