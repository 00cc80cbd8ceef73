import Foundation
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
}
