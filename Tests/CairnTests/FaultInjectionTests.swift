import Foundation
import XCTest
@testable import Cairn

/// A full disk and failing syncs, through the file-system seam: writes fail
/// with NO_SPACE or IO_ERROR, nothing acknowledged is lost, and once space
/// is back the database opens and works.
final class FaultInjectionTests: XCTestCase {
    private func options() -> DatabaseOptions {
        var options = DatabaseOptions()
        options.memtableSizeMB = 1
        options.blockSize = 1024
        return options
    }

    func testDiskFullFailsWritesWithNoSpaceAndLosesNothingAcknowledged() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let faults = FaultInjection()
        let db = try Database.open(path: dir.path, options: options(), env: FaultInjectionEnv(faults: faults))
        var acknowledged: [[UInt8]] = []
        let value = [UInt8](repeating: 0x76, count: 200)
        for i in 0..<2000 {
            let key = [UInt8](String(format: "before%05d", i))
            try db.put(key, value)
            acknowledged.append(key)
        }
        // The disk fills up: 300 KB more, then every write fails.
        faults.setDiskSpace(300_000)
        var sawNoSpace = false
        for i in 0..<20_000 {
            let key = [UInt8](String(format: "during%05d", i))
            do {
                try db.put(key, value)
                acknowledged.append(key)
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .noSpace, error.message)
                sawNoSpace = true
                break
            }
        }
        XCTAssertTrue(sawNoSpace, "writes must fail once the disk is full")
        XCTAssertEqual(status { try db.put([UInt8]("more"), value) }, .noSpace, "and go on failing while it is full")
        // Reads still work meanwhile.
        XCTAssertEqual(try db.get(acknowledged[0]), value)
        try? db.close()

        faults.setDiskSpace(nil)
        let reopened = try Database.open(path: dir.path, options: options(), env: FaultInjectionEnv(faults: faults))
        defer { try? reopened.close() }
        for key in acknowledged { XCTAssertEqual(try reopened.get(key), value, String(decoding: key, as: UTF8.self)) }
        try reopened.put([UInt8]("after"), value)
        XCTAssertEqual(try reopened.get([UInt8]("after")), value)
    }

    func testWritesResumeWithoutAReopenOnceSpaceIsFreed() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let faults = FaultInjection()
        var opts = options()
        opts.sync = .never
        let db = try Database.open(path: dir.path, options: opts, env: FaultInjectionEnv(faults: faults))
        defer { try? db.close() }
        let value = [UInt8](repeating: 0x76, count: 500)
        var acknowledged: [[UInt8]] = []
        faults.setDiskSpace(0, forFilesEndingIn: ".sst")  // the log takes writes, a flush fails
        var failure: CairnError?
        for i in 0..<50_000 where failure == nil {
            let key = [UInt8](String(format: "k%06d", i))
            do {
                try db.put(key, value)
                acknowledged.append(key)
            } catch let error as CairnError {
                failure = error
            }
        }
        XCTAssertEqual(failure?.code, .noSpace, String(describing: failure))
        XCTAssertTrue(failure?.message.contains("background work failed") ?? false, String(describing: failure))
        XCTAssertEqual(try db.get(acknowledged[0]), value, "reads go on")
        faults.setDiskSpace(nil)
        // The worker retries the failed flush at most a second later.
        var resumed = false
        for _ in 0..<100 where !resumed {
            resumed = status { try db.put([UInt8]("after"), value) } == .ok
            if !resumed { usleep(50_000) }
        }
        XCTAssertTrue(resumed, "writes resume once space is back, without a reopen")
        for key in acknowledged.suffix(100) { XCTAssertEqual(try db.get(key), value) }
        try db.flush()
        XCTAssertEqual(try db.get([UInt8]("after")), value)
        XCTAssertGreaterThan(db.engine.stats.backgroundRecoveries.load(ordering: .relaxed), 0)
    }

    func testFailingSyncFailsTheWriteAndTheDatabaseStaysUsableAfterReopen() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let faults = FaultInjection()
        let db = try Database.open(path: dir.path, options: options(), env: FaultInjectionEnv(faults: faults))
        try db.put([UInt8]("kept"), [UInt8]("1"))
        faults.setSyncFailures(true)
        XCTAssertEqual(status { try db.put([UInt8]("lost"), [UInt8]("2")) }, .ioError)
        faults.setSyncFailures(false)
        try? db.close()
        let reopened = try Database.open(path: dir.path, options: options(), env: FaultInjectionEnv(faults: faults))
        defer { try? reopened.close() }
        XCTAssertEqual(try reopened.get([UInt8]("kept")), [UInt8]("1"))
    }
}
