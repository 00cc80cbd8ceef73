/// Group commit. Writers queue up; the writer at the head becomes the
/// leader, takes the batches queued behind it, commits them as one
/// write-ahead log record with (under sync "always") one fsync, and wakes
/// the others with the outcome. Under load from many threads, one fsync
/// thus serves many writes (LevelDB's and RocksDB's design).
///
/// Thread safety: any number of threads may call `submit`. Exactly one
/// leader runs `commit` at a time, so the commit closure owns the log and
/// the memtable inserts without further locking.
final class WriteQueue: @unchecked Sendable {
    final class Pending {
        let batch: WriteBatch?
        let exclusive: (() throws -> Void)?
        var done = false
        var error: Error?

        init(batch: WriteBatch?, exclusive: (() throws -> Void)?) {
            self.batch = batch
            self.exclusive = exclusive
        }
    }

    /// The most bytes one group carries, so a small write behind a huge one
    /// does not wait for more than it must.
    static let maxGroupBytes = 1 << 20

    /// Lock order 4 (docs/architecture.md, "Locks"): held only to queue and to hand
    /// over leadership; the leader commits (log, memtable) without it.
    private let condition = Condition()
    private var queue: [Pending] = []

    /// Commits `batch`, alone or in a group led by another writer.
    func submit(_ batch: WriteBatch, commit: ([Pending]) throws -> Void) throws {
        try run(Pending(batch: batch, exclusive: nil), commit: commit)
    }

    /// Runs `body` as a leader with no batches: nothing else commits meanwhile.
    func exclusive(_ body: @escaping () throws -> Void) throws {
        try run(Pending(batch: nil, exclusive: body), commit: { _ in })
    }

    private func run(_ me: Pending, commit: ([Pending]) throws -> Void) throws {
        condition.lock()
        queue.append(me)
        while !me.done && queue.first !== me { condition.wait() }
        if me.done {
            condition.unlock()
            if let error = me.error { throw error }
            return
        }
        // Leader. Gather the batches queued behind, up to an exclusive request.
        // Batches with a conflict check group too: the commit checks each
        // against what was committed before it and against the writes of
        // the checked members before it in the group, and fails only the
        // ones that conflict. So a checked batch never follows an unchecked
        // one in a group: what an unchecked batch writes (a key-value put
        // a transaction may also write) must be in the engine, where the
        // check looks, before a checked batch is checked.
        var group = [me]
        if me.exclusive == nil {
            var bytes = me.batch!.encodedSize
            var unchecked = me.batch!.conflictCheck == nil
            for pending in queue.dropFirst() {
                guard let batch = pending.batch, bytes + batch.encodedSize <= WriteQueue.maxGroupBytes,
                      !(unchecked && batch.conflictCheck != nil) else { break }
                unchecked = unchecked || batch.conflictCheck == nil
                group.append(pending)
                bytes += batch.encodedSize
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
        for pending in group {
            pending.done = true
            // A member the commit refused alone (a conflict) keeps its error.
            if let failure { pending.error = failure }
        }
        queue.removeFirst(group.count)
        condition.broadcast()
        condition.unlock()
        if let error = me.error { throw error }
    }
}
