import Foundation
import Synchronization
import XCTest
@testable import Cairn

/// The flush and compaction workers (StorageEngine+Background.swift).
final class BackgroundWorkerTests: XCTestCase {
    /// An open database with nothing to do costs no CPU: its two workers
    /// sleep until asked. (They once woke each other after every pass that
    /// found nothing to do, without end: a core's worth of futex calls,
    /// which slowed every writer sharing the machine.)
    func testIdleWorkersSleep() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        for i in 0..<100 { try db.put([UInt8]("k\(i)"), [UInt8]("v")) }
        try db.flush()
        usleep(100_000)  // the passes that follow the flush
        let engine = db.engine
        let before = engine.background.withLock { engine.backgroundPasses }
        usleep(500_000)
        let after = engine.background.withLock { engine.backgroundPasses }
        // Each worker wakes at most once a second when idle.
        XCTAssertLessThanOrEqual(after - before, 2, "the workers made \(after - before) passes in 0.5 s with nothing to do")
    }

    /// The engine's threads leave the process's signals to the host: a
    /// SIGINT sent to the process must reach a thread of the host (the
    /// shell's Ctrl-C once ran its handler on a compaction thread, too late
    /// to stop the read it was meant to interrupt). Faults stay deliverable.
    func testEngineThreadsBlockTheHostsSignals() throws {
        let masks = Mutex<[Int32: Bool]>([:])
        let done = DispatchSemaphore(value: 0)
        try PosixEnv().startThread {
            var current = sigset_t()
            pthread_sigmask(SIG_SETMASK, nil, &current)
            masks.withLock { seen in
                for signal in [SIGINT, SIGTERM, SIGCHLD, SIGUSR1, SIGSEGV, SIGBUS] { seen[signal] = sigismember(&current, signal) == 1 }
            }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let seen = masks.withLock { $0 }
        XCTAssertEqual(seen[SIGINT], true)
        XCTAssertEqual(seen[SIGTERM], true)
        XCTAssertEqual(seen[SIGCHLD], true)
        XCTAssertEqual(seen[SIGUSR1], true)
        XCTAssertEqual(seen[SIGSEGV], false)
        XCTAssertEqual(seen[SIGBUS], false)
        // The caller's own mask is unchanged.
        var mine = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mine)
        XCTAssertEqual(sigismember(&mine, SIGINT), 0)
    }
}
