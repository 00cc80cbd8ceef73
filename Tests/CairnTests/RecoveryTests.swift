import Foundation
import XCTest
@testable import Cairn

/// What survives a restart, and what the engine does with damaged files.
final class RecoveryTests: XCTestCase {
    private func files(in path: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    func testWritesSurviveReopenWithoutCheckpoint() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        let db = try Database.open(path: dir.path, options: options)
        for i in 0..<1000 { try db.put([UInt8]("key\(i)"), [UInt8]("value\(i)")) }
        try db.delete([UInt8]("key7"))
        // Simulate a crash: drop the handle without close (no checkpoint), but
        // the lock must be released for the reopen, so close the engine's
        // files the way process death would.
        try simulateCrash(db)
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        XCTAssertEqual(try reopened.get([UInt8]("key999")), [UInt8]("value999"))
        XCTAssertNil(try reopened.get([UInt8]("key7")))
    }

    /// Releases the lock and the log without writing a checkpoint, as a
    /// killed process would.
    private func simulateCrash(_ db: Database) throws {
        db.engine.abandonForCrashTest()
    }

    func testCheckpointsKeepTheLogShortAndPreserveData() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        options.checkpointMB = 1
        let db = try Database.open(path: dir.path, options: options)
        let value = [UInt8](repeating: 0x61, count: 1000)
        for i in 0..<5000 { try db.put([UInt8]("k\(i % 1500)"), value + [UInt8]("\(i)")) }
        XCTAssertGreaterThan(db.engine.stats.checkpoints.load(ordering: .relaxed), 1)
        XCTAssertEqual(files(in: dir.path, suffix: ".cpt").count, 1, "old checkpoints are removed")
        XCTAssertLessThanOrEqual(files(in: dir.path, suffix: ".log").count, 1, "covered log segments are removed")
        try db.close()
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        for i in 3500..<5000 {
            XCTAssertEqual(try reopened.get([UInt8]("k\(i % 1500)")), value + [UInt8]("\(i)"))
        }
    }

    func testTornLogTailIsCutOffAndEarlierWritesKept() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        try db.put([UInt8]("a"), [UInt8]("1"))
        try db.put([UInt8]("b"), [UInt8]("2"))
        try simulateCrash(db)
        let log = dir.path + "/" + files(in: dir.path, suffix: ".log").last!
        // Append half a record, as a crash mid-write leaves it.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        handle.seekToEndOfFile()
        handle.write(Data([40, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 1, 2, 3]))
        handle.closeFile()
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        XCTAssertEqual(try reopened.get([UInt8]("a")), [UInt8]("1"))
        XCTAssertEqual(try reopened.get([UInt8]("b")), [UInt8]("2"))
        XCTAssertEqual(reopened.engine.stats.tornTails.load(ordering: .relaxed), 1)
    }

    func testDamageInTheMiddleOfTheLogIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        for i in 0..<20 { try db.put([UInt8]("key\(i)"), [UInt8]("value\(i)")) }
        try simulateCrash(db)
        let name = files(in: dir.path, suffix: ".log").last!
        let path = dir.path + "/" + name
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Database.open(path: dir.path)) { error in
            let cairn = error as? CairnError
            XCTAssertEqual(cairn?.code, .corruption)
            XCTAssertTrue(cairn?.message.contains(name) ?? false, "the message names the file: \(String(describing: cairn))")
        }
    }

    func testDamagedCheckpointIsCorruptionNamingTheFile() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        for i in 0..<500 { try db.put([UInt8]("key\(i)"), [UInt8]("value\(i)")) }
        try db.close()
        let name = try XCTUnwrap(files(in: dir.path, suffix: ".cpt").last)
        let path = dir.path + "/" + name
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        for offset in stride(from: 40, to: bytes.count - 40, by: 97) { bytes[offset] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Database.open(path: dir.path)) { error in
            let cairn = error as? CairnError
            XCTAssertEqual(cairn?.code, .corruption)
            XCTAssertTrue(cairn?.message.contains(name) ?? false)
        }
        // Truncated checkpoints are corruption too, never a silent data loss.
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Database.open(path: dir.path)) { error in
            XCTAssertEqual((error as? CairnError)?.code, .corruption)
        }
    }

    func testSecondOpenInTheSameProcessIsBusyAndReopenAfterCloseWorks() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        XCTAssertEqual(status { _ = try Database.open(path: dir.path) }, .busy)
        try db.close()
        let again = try Database.open(path: dir.path)
        try again.close()
    }

    func testExpiredEntriesArePurgedByCheckpoints() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        try db.put([UInt8]("short"), [UInt8]("x"), ttlMillis: 1)
        try db.put([UInt8]("kept"), [UInt8]("y"))
        usleep(5000)
        try db.checkpoint()
        XCTAssertEqual(db.engine.sizes().memtableEntries, 1, "the expired entry is gone from memory")
        try db.close()
    }
}
