import Foundation
import XCTest
@testable import Cairn

/// Checkpoints (StorageEngine+Checkpoint.swift) and verification
/// (StorageEngine+Verify.swift).
final class CheckpointTests: XCTestCase {
    private func key(_ i: Int) -> [UInt8] { Self.key(i) }
    private func value(_ i: Int) -> [UInt8] { Self.value(i) }
    private static func key(_ i: Int) -> [UInt8] { Array("key\(String(format: "%08d", i))".utf8) }
    private static func value(_ i: Int) -> [UInt8] { Array("value-\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: 100) }

    func testCheckpointOpensWithTheWritesBeforeItAndNoneAfter() throws {
        let dir = TemporaryDirectory("cairn-checkpoint")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        for i in 0..<20_000 { try db.put(key(i), value(i)) }  // several flushes: tables and log
        let report = try db.checkpoint(to: dir.path + "/copy")
        for i in 20_000..<21_000 { try db.put(key(i), value(i)) }
        XCTAssertGreaterThan(report.linkedTables, 0, "tables are hard-linked on one file system")
        XCTAssertGreaterThan(report.logBytes, 0)
        XCTAssertEqual(report.sequence, 20_000)
        let copy = try Database.open(path: dir.path + "/copy")
        for i in stride(from: 0, to: 20_000, by: 97) { XCTAssertEqual(try copy.get(key(i)), value(i)) }
        XCTAssertEqual(try copy.get(key(19_999)), value(19_999))
        XCTAssertNil(try copy.get(key(20_000)))
        try copy.close()
        try db.close()
        let verified = try Database.verify(path: dir.path + "/copy")
        XCTAssertTrue(verified.ok, verified.json)
        // The source is intact and still holds everything.
        let reopened = try Database.open(path: dir.path + "/db")
        XCTAssertEqual(try reopened.get(key(20_999)), value(20_999))
        try reopened.close()
    }

    /// Across file systems a hard link fails (EXDEV): the tables are copied.
    func testCheckpointOnAnotherFileSystemCopiesTables() throws {
        var source = stat(), other = stat()
        let dir = TemporaryDirectory("cairn-checkpoint")
        defer { dir.remove() }
        guard stat(dir.path, &source) == 0, stat("/dev/shm", &other) == 0, source.st_dev != other.st_dev else {
            throw XCTSkip("/dev/shm is not another file system here")
        }
        let target = "/dev/shm/cairn-checkpoint-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: target) }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        defer { try? db.close() }
        for i in 0..<20_000 { try db.put(key(i), value(i)) }
        let report = try db.checkpoint(to: target)
        XCTAssertEqual(report.linkedTables, 0)
        XCTAssertGreaterThan(report.copiedTables, 0)
        let copy = try Database.open(path: target)
        XCTAssertEqual(try copy.get(key(19_999)), value(19_999))
        try copy.close()
        XCTAssertTrue(try Database.verify(path: target).ok)
    }

    func testCheckpointTargetMustBeAbsentOrEmpty() throws {
        let dir = TemporaryDirectory("cairn-checkpoint")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db")
        defer { try? db.close() }
        try db.put(key(1), value(1))
        try FileManager.default.createDirectory(atPath: dir.path + "/full", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir.path + "/full/x", contents: Data([1]))
        XCTAssertEqual(status { try db.checkpoint(to: dir.path + "/full") }, .invalidArgument)
        XCTAssertEqual(status { try db.checkpoint(to: dir.path + "/no/such/parent") }, .notFound)
        try FileManager.default.createDirectory(atPath: dir.path + "/empty", withIntermediateDirectories: true)
        try db.checkpoint(to: dir.path + "/empty/")
        let copy = try Database.open(path: dir.path + "/empty")
        XCTAssertEqual(try copy.get(key(1)), value(1))
        try copy.close()
        // Nothing left beside the targets.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["db", "empty", "full"])
    }

    /// A writer never stops: each checkpoint holds a prefix of its writes,
    /// exactly those up to the checkpoint's sequence.
    func testCheckpointsUnderARunningWriterHoldExactlyAPrefix() throws {
        let dir = TemporaryDirectory("cairn-checkpoint")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        let written = SharedValue(0), stop = SharedValue(false)
        let writer = Thread {
            var i = 0
            while !stop.value {
                try! db.put(CheckpointTests.key(i), CheckpointTests.value(i))
                i += 1
                written.value = i
            }
        }
        writer.start()
        defer {
            stop.value = true
            while !writer.isFinished { usleep(1000) }
            try? db.close()
        }
        for round in 0..<10 {
            while written.value < (round + 1) * 1500 { usleep(500) }
            let before = written.value
            let report = try db.checkpoint(to: dir.path + "/cp\(round)")
            let copy = try Database.open(path: dir.path + "/cp\(round)")
            let holds = Int(report.sequence)
            XCTAssertGreaterThanOrEqual(holds, before, "every write acknowledged before the checkpoint is in it")
            XCTAssertEqual(try copy.get(key(holds - 1)), value(holds - 1))
            XCTAssertNil(try copy.get(key(holds)))
            for i in stride(from: 0, to: holds, by: 131) { XCTAssertEqual(try copy.get(key(i)), value(i)) }
            try copy.close()
        }
    }

    func testVerifyReportsADamagedTableByName() throws {
        let dir = TemporaryDirectory("cairn-verify")
        defer { dir.remove() }
        var options = DatabaseOptions.smallTables
        options.compression = .none
        options.upperLevelCompression = CompressionKind.none
        let db = try Database.open(path: dir.path, options: options)
        for i in 0..<5000 { try db.put(key(i), value(i)) }
        try db.flush()
        let live = try db.verify()
        XCTAssertTrue(live.ok, live.json)
        XCTAssertGreaterThan(live.files.filter { $0.kind == "table" }.count, 0)
        try db.close()
        let clean = try Database.verify(path: dir.path)
        XCTAssertTrue(clean.ok, clean.json)
        let table = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sst") }.sorted().first!
        let handle = FileHandle(forUpdatingAtPath: dir.path + "/" + table)!
        handle.seek(toFileOffset: 100)
        handle.write(Data([0xFF, 0x00, 0xFF]))
        handle.closeFile()
        let damaged = try Database.verify(path: dir.path)
        XCTAssertFalse(damaged.ok)
        XCTAssertEqual(damaged.damaged.map(\.file), [table])
        XCTAssertTrue(damaged.json.contains("\"ok\":false"), damaged.json)
    }

    func testVerifyOfAMissingDatabaseIsNotFound() {
        XCTAssertEqual(status { _ = try Database.verify(path: "/nonexistent/cairn/db") }, .notFound)
    }
}

/// A value shared with a thread, behind a lock.
final class SharedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
