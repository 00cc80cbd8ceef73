import Foundation
import XCTest
@testable import Cairn

/// Group commit: concurrent writers are grouped behind one leader (fewer
/// commits than writes), every write is committed and acknowledged exactly
/// once, commits never overlap, a failed commit fails exactly its group
/// (and a member refused alone, exactly itself), batches with a conflict
/// check share groups, and exclusive work and the byte limit bound what a
/// group may hold. Under synced writes a new leader gathers the writers
/// it expects, so one sync serves all of them, and a lone writer never waits.
final class WriteQueueTests: XCTestCase {
    /// What the commits saw, shared by the writer threads.
    private final class Recorder: @unchecked Sendable {
        private let lock = Lock()
        private var inside = 0
        private(set) var overlapped = false
        private(set) var groups: [[String]] = []
        private(set) var acknowledged: [String] = []
        private(set) var failed: [String] = []

        func enter() { lock.withLock { inside += 1; if inside > 1 { overlapped = true } } }
        func leave() { lock.withLock { inside -= 1 } }
        var isInside: Bool { lock.withLock { inside > 0 } }
        func committed(_ keys: [String]) { lock.withLock { groups.append(keys) } }
        func acknowledge(_ key: String) { lock.withLock { acknowledged.append(key) } }
        func fail(_ key: String) { lock.withLock { failed.append(key) } }
        func markOverlap() { lock.withLock { overlapped = true } }
    }

    private func batch(_ key: String, valueBytes: Int = 8, conflictCheck: Bool = false) -> WriteBatch {
        var batch = WriteBatch()
        withBytes(key) { k in
            Array(repeating: UInt8(0x76), count: valueBytes).withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) }
        }
        if conflictCheck { batch.conflictCheck = ConflictCheck(snapshot: 0, keys: KeyList(), written: 0, explicit: true) }
        return batch
    }

    /// The keys of a group, decoded from the log record the engine would write for it.
    private static func keys(of group: [WriteQueue.Pending]) throws -> [String] {
        var payload: [UInt8] = []
        WriteBatch.appendWALPayload(of: group, count: group.reduce(0) { $0 + $1.count }, firstSequence: 1, now: 0, to: &payload)
        var keys: [String] = []
        _ = try payload.withUnsafeBytes { raw in
            try WriteBatchDecoder.forEachOperation(in: raw, what: "group") { _, op in keys.append(String(decoding: op.key, as: UTF8.self)) }
        }
        return keys
    }

    /// Runs `body(thread)` on `threads` threads at once and waits for all.
    private func onThreads(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for t in 0..<threads {
            done.enter()
            Thread {
                body(t)
                done.leave()
            }.start()
        }
        done.wait()
    }

    func testConcurrentWritersAreGroupedAndEachWriteIsAcknowledgedOnce() {
        let queue = WriteQueue()
        let recorder = Recorder()
        let threads = 8, perThread = 250
        let batches = (0..<threads).map { t in (0..<perThread).map { i in batch("t\(t)-\(i)") } }
        onThreads(threads) { t in
            for (i, batch) in batches[t].enumerated() {
                do {
                    try queue.submit(batch) { group in
                        recorder.enter()
                        defer { recorder.leave() }
                        recorder.committed(try WriteQueueTests.keys(of: group))
                        usleep(200)  // an fsync's worth of time for others to queue up
                    }
                    recorder.acknowledge("t\(t)-\(i)")
                } catch {
                    recorder.fail("t\(t)-\(i)")
                }
            }
        }
        let writes = threads * perThread
        let committed = recorder.groups.joined()
        XCTAssertEqual(recorder.failed, [])
        XCTAssertEqual(recorder.acknowledged.count, writes, "every submit returned")
        XCTAssertEqual(Set(recorder.acknowledged).count, writes, "once each")
        XCTAssertEqual(committed.count, writes, "every write was committed once")
        XCTAssertEqual(Set(committed), Set(recorder.acknowledged))
        XCTAssertLessThan(recorder.groups.count, writes, "writes were grouped: \(recorder.groups.count) commits for \(writes) writes")
        XCTAssertGreaterThan(recorder.groups.map(\.count).max() ?? 0, 1)
        XCTAssertFalse(recorder.overlapped, "one leader commits at a time")
        // Each writer's batches commit in the order it submitted them.
        for t in 0..<threads {
            let mine = committed.filter { $0.hasPrefix("t\(t)-") }
            XCTAssertEqual(mine, (0..<perThread).map { "t\(t)-\($0)" })
        }
    }

    /// Writers that queue behind a group while it commits are not in it.
    /// They share one wake-up with its members: each wakes when a group
    /// ends, and one that is neither done nor the new leader sleeps again
    /// until it is one or the other. None is lost, none returns early.
    func testWritersQueuedBehindACommitSleepAgainUntilTheirOwnGroupCommits() throws {
        let queue = WriteQueue()
        let recorder = Recorder()
        let firstEntered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        let others = 6
        let first = batch("first")
        let batches = (0..<others).map { batch("w\($0)") }
        done.enter()
        Thread {
            do {
                try queue.submit(first) { group in
                    recorder.committed(try WriteQueueTests.keys(of: group))
                    firstEntered.signal()
                    release.wait()  // held until the others have queued
                }
                recorder.acknowledge("first")
            } catch {
                recorder.fail("first")
            }
            done.leave()
        }.start()
        firstEntered.wait()
        for t in 0..<others {
            done.enter()
            Thread {
                do {
                    try queue.submit(batches[t]) { group in
                        recorder.committed(try WriteQueueTests.keys(of: group))
                        usleep(2000)  // later writers queue behind this group too
                    }
                    recorder.acknowledge("w\(t)")
                } catch {
                    recorder.fail("w\(t)")
                }
                done.leave()
            }.start()
        }
        // The others are asleep in the queue; none may have returned.
        usleep(50_000)
        XCTAssertEqual(recorder.acknowledged, [], "no writer returns before its own group committed")
        release.signal()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "every queued writer was woken and returned")
        XCTAssertEqual(recorder.failed, [])
        XCTAssertEqual(recorder.groups.first, ["first"], "the first group held only the write that was queued when it formed")
        XCTAssertEqual(Set(recorder.acknowledged), Set(["first"] + (0..<others).map { "w\($0)" }))
        XCTAssertEqual(recorder.groups.joined().count, others + 1, "each write committed once")
        XCTAssertEqual(Set(recorder.groups.joined()), Set(recorder.acknowledged))
    }

    func testAFailedCommitFailsEveryWriterOfItsGroupAndNoOther() throws {
        let queue = WriteQueue()
        let recorder = Recorder()
        let leaderInside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let failure = CairnError(.ioError, "the disk said no")
        // A first writer leads and holds its commit open while six others queue behind it.
        let firstBatch = batch("first")
        let first = Thread {
            do {
                try queue.submit(firstBatch) { _ in
                    leaderInside.signal()
                    release.wait()
                }
                recorder.acknowledge("first")
            } catch {
                recorder.fail("first")
            }
        }
        first.start()
        leaderInside.wait()
        let followers = DispatchGroup()
        for t in 0..<6 {
            followers.enter()
            let batch = batch("w\(t)")
            Thread {
                do {
                    try queue.submit(batch) { group in
                        recorder.committed(try WriteQueueTests.keys(of: group))
                        throw failure
                    }
                    recorder.acknowledge("w\(t)")
                } catch let error as CairnError {
                    if error.message == failure.message { recorder.fail("w\(t)") }
                } catch {}
                followers.leave()
            }.start()
        }
        usleep(200_000)  // the six are queued by now, normally as one group
        release.signal()
        followers.wait()
        while !first.isFinished { usleep(1000) }
        XCTAssertEqual(recorder.acknowledged, ["first"], "the first group committed")
        XCTAssertLessThan(recorder.groups.count, 6, "followers were grouped: \(recorder.groups)")
        XCTAssertEqual(recorder.groups.joined().count, 6, "each write was in one failed group")
        XCTAssertEqual(Set(recorder.failed), Set(recorder.groups.joined()),
                       "every writer of a failed group sees its error, including those whose commit closure never ran")
        XCTAssertEqual(recorder.failed.count, 6)
        // The queue goes on after a failure.
        XCTAssertNoThrow(try queue.submit(batch("after")) { _ in })
    }

    func testBatchesWithAConflictCheckShareGroupsAndAMemberRefusedAloneKeepsItsError() {
        let queue = WriteQueue()
        let recorder = Recorder()
        let leaderInside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let firstBatch = batch("first")
        let first = Thread {
            try? queue.submit(firstBatch) { group in
                recorder.committed(try WriteQueueTests.keys(of: group))
                leaderInside.signal()
                release.wait()
            }
        }
        first.start()
        leaderInside.wait()
        // Queue up c1, c2 (with conflict checks), a (without), c3 (with one)
        // behind the held leader, in that order; the next leader's commit
        // refuses c2 alone, as the engine does a conflicting transaction.
        // c3 may not follow the unchecked a in a group: it starts the next.
        let writers = DispatchGroup()
        let outcomes = Recorder()
        for name in ["c1", "c2", "a", "c3"] {
            writers.enter()
            let batch = batch(name, conflictCheck: name.hasPrefix("c"))
            Thread {
                do {
                    try queue.submit(batch) { group in
                        recorder.committed(try WriteQueueTests.keys(of: group))
                        for pending in group where try WriteQueueTests.keys(of: [pending]) == ["c2"] {
                            pending.error = CairnError(.conflict, "refused")
                        }
                    }
                    outcomes.acknowledge(name)
                } catch {
                    outcomes.fail(name)
                }
                writers.leave()
            }.start()
            usleep(50_000)
        }
        release.signal()
        writers.wait()
        while !first.isFinished { usleep(1000) }
        XCTAssertEqual(recorder.groups, [["first"], ["c1", "c2", "a"], ["c3"]],
                       "checked batches share a group, never after an unchecked one")
        XCTAssertEqual(Set(outcomes.acknowledged), ["c1", "a", "c3"])
        XCTAssertEqual(outcomes.failed, ["c2"], "only the refused member sees an error")
    }

    /// Requests are pooled and reused (WriteQueue.Pending): a write must
    /// carry nothing of the one its request served before.
    func testAWritersNextWriteCarriesNothingOfItsLastOne() throws {
        let queue = WriteQueue()
        XCTAssertThrowsError(try queue.submit(batch("refused")) { group in group[0].error = CairnError(.conflict, "refused") })
        XCTAssertThrowsError(try queue.submit(batch("failed")) { _ in throw CairnError(.ioError, "the disk said no") })
        var seen: [[String]] = []
        for name in ["c", "d"] {
            try queue.submit(batch(name, valueBytes: 3)) { group in
                seen.append(try WriteQueueTests.keys(of: group))
                XCTAssertEqual(group.map(\.count), [1])
                XCTAssertEqual(group.map(\.isChecked), [false])
            }
        }
        XCTAssertEqual(seen, [["c"], ["d"]], "each write committed alone, with its own batch and no earlier outcome")
    }

    func testExclusiveWorkRunsWithNoCommitAlongside() {
        let queue = WriteQueue()
        let recorder = Recorder()
        let exclusiveRuns = Recorder()
        let batches = (0..<5).map { t in (0..<100).map { i in batch("t\(t)-\(i)") } }
        onThreads(5) { t in
            for i in 0..<100 {
                if t == 0 && i % 10 == 0 {
                    try? queue.exclusive {
                        exclusiveRuns.enter()
                        if recorder.isInside { recorder.markOverlap() }
                        usleep(500)
                        if recorder.isInside { recorder.markOverlap() }
                        exclusiveRuns.leave()
                    }
                } else {
                    try? queue.submit(batches[t][i]) { group in
                        recorder.enter()
                        if exclusiveRuns.isInside { recorder.markOverlap() }
                        recorder.committed(try WriteQueueTests.keys(of: group))
                        recorder.leave()
                    }
                }
            }
        }
        XCTAssertFalse(recorder.overlapped, "no commit ran during exclusive work")
        XCTAssertEqual(recorder.groups.joined().count, 490)
    }

    func testAGroupStaysUnderTheByteLimitUnlessOneBatchExceedsIt() {
        let queue = WriteQueue()
        let recorder = Recorder()
        let sizes = Recorder()
        // 300 KB batches, and one larger than the limit.
        let batches = (0..<4).map { t in
            (0..<12).map { i in batch("t\(t)-\(i)", valueBytes: i == 5 && t == 0 ? WriteQueue.maxGroupBytes + 10 : 300_000) }
        }
        onThreads(4) { t in
            for i in 0..<12 {
                try? queue.submit(batches[t][i]) { group in
                    let bytes = group.reduce(0) { $0 + $1.encodedSize }
                    if bytes > WriteQueue.maxGroupBytes && group.count > 1 { sizes.markOverlap() }
                    recorder.committed(try WriteQueueTests.keys(of: group))
                    usleep(2000)
                }
            }
        }
        XCTAssertFalse(sizes.overlapped, "no group of several batches is over \(WriteQueue.maxGroupBytes) bytes")
        XCTAssertEqual(recorder.groups.joined().count, 48, "the oversized batch commits too, alone")
        XCTAssertTrue(recorder.groups.contains { $0.count > 1 }, "batches of 300 KB still group, three at most")
    }

    /// Eight writers whose commits are synced (a 2 ms sleep stands for the
    /// fsync): without gathering they settle into two cohorts of about four,
    /// one syncing while the other queues; with it, a group holds nearly all
    /// eight.
    func testSyncedWritersGatherIntoGroupsOfAllOfThem() {
        let queue = WriteQueue()
        let recorder = Recorder()
        let threads = 8, perThread = 60
        let batches = (0..<threads).map { t in (0..<perThread).map { i in batch("t\(t)-\(i)") } }
        onThreads(threads) { t in
            for batch in batches[t] {
                try? queue.submit(batch) { group in
                    recorder.committed(try WriteQueueTests.keys(of: group))
                    usleep(2000)
                    queue.noteSync(nanoseconds: 2_000_000)
                }
            }
        }
        let sizes = recorder.groups.map(\.count)
        XCTAssertEqual(sizes.reduce(0, +), threads * perThread)
        // The first groups form before any sync was measured; the mean of
        // the rest shows whether the cohorts merged (about 4 when they do not).
        let steady = sizes.dropFirst(4)
        let mean = Double(steady.reduce(0, +)) / Double(max(1, steady.count))
        XCTAssertGreaterThan(mean, 6, "groups after the first: \(Array(steady))")
    }

    /// A lone writer expects nobody: its synced writes never wait to
    /// gather, however long the syncs take (a count of waits, not a time:
    /// each would have cost 10 ms).
    func testALoneSyncedWriterNeverWaits() throws {
        let queue = WriteQueue()
        queue.noteSync(nanoseconds: 10_000_000)
        for i in 0..<200 {
            try queue.submit(batch("w\(i)")) { _ in queue.noteSync(nanoseconds: 10_000_000) }
        }
        XCTAssertEqual(queue.gatherWaitCount, 0)
    }

    /// When seven of eight writers stop, the one left waits once at most
    /// for the others (bounded by the sync time), then expects only itself.
    func testAWriterLeftAloneStopsWaitingForTheOthers() throws {
        let queue = WriteQueue()
        let batches = (0..<8).map { t in (0..<20).map { i in batch("t\(t)-\(i)") } }
        onThreads(8) { t in
            for batch in batches[t] {
                try? queue.submit(batch) { _ in
                    usleep(1000)
                    queue.noteSync(nanoseconds: 50_000_000)
                }
            }
        }
        let before = queue.gatherWaitCount
        for i in 0..<40 {
            try queue.submit(batch("alone-\(i)")) { _ in queue.noteSync(nanoseconds: 50_000_000) }
        }
        XCTAssertLessThanOrEqual(queue.gatherWaitCount - before, 1, "40 writes after the others stopped")
    }
}
