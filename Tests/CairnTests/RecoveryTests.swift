import Foundation
import XCTest
@testable import Cairn

/// What survives a restart, and what the engine does with damaged files.
final class RecoveryTests: XCTestCase {
    private func files(in path: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    func testWritesSurviveAnAbandonedHandle() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        let db = try Database.open(path: dir.path, options: options)
        for i in 0..<1000 { try db.put([UInt8]("key\(i)"), [UInt8]("value\(i)")) }
        try db.delete([UInt8]("key7"))
        db.engine.abandonForCrashTest()
        let reopened = try Database.open(path: dir.path)
        defer { try? reopened.close() }
        XCTAssertEqual(try reopened.get([UInt8]("key999")), [UInt8]("value999"))
        XCTAssertNil(try reopened.get([UInt8]("key7")))
        XCTAssertEqual(reopened.engine.stats.recoveredRecords.load(ordering: .relaxed), 1001)
    }

    func testFlushedAndCompactedDataSurvivesReopen() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        let value = [UInt8](repeating: 0x61, count: 300)
        for i in 0..<20_000 { try db.put([UInt8](String(format: "k%06d", i % 7000)), value + [UInt8]("\(i)")) }
        try db.flush()
        XCTAssertGreaterThan(db.engine.stats.flushes.load(ordering: .relaxed), 3)
        XCTAssertFalse(files(in: dir.path, suffix: ".sst").isEmpty)
        try db.compactRange()
        let summaries = db.engine.levelSummaries()
        XCTAssertEqual(summaries[0].tables, 0, "a full compaction empties level 0")
        XCTAssertEqual(summaries.reduce(0) { $0 + $1.entries }, 7000, "only the newest version of each key is left")
        try db.close()
        let reopened = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? reopened.close() }
        for i in 13_000..<20_000 {
            XCTAssertEqual(try reopened.get([UInt8](String(format: "k%06d", i % 7000))), value + [UInt8]("\(i)"))
        }
        XCTAssertEqual(files(in: dir.path, suffix: ".log").count, 1, "covered log segments are removed")
    }

    func testTornLogTailIsCutOffAndEarlierWritesKept() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        try db.put([UInt8]("a"), [UInt8]("1"))
        try db.put([UInt8]("b"), [UInt8]("2"))
        db.engine.abandonForCrashTest()
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
        db.engine.abandonForCrashTest()
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

    func testDamagedTableIsCorruptionNamingTheFileAndNeverACrash() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions.smallTables
        options.blockCacheMB = 0
        let db = try Database.open(path: dir.path, options: options)
        for i in 0..<3000 { try db.put([UInt8](String(format: "key%05d", i)), [UInt8](repeating: UInt8(i & 0xFF), count: 100)) }
        try db.flush()
        try db.close()
        let name = try XCTUnwrap(files(in: dir.path, suffix: ".sst").first)
        let path = dir.path + "/" + name
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        for offset in stride(from: 100, to: bytes.count / 2, by: 211) { bytes[offset] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: path))
        let reopened = try Database.open(path: dir.path, options: options)
        defer { try? reopened.close() }
        let scan = status {
            let iterator = try reopened.makeIterator(start: nil, end: nil)
            while try iterator.next() {}
        }
        XCTAssertEqual(scan, .corruption)
        var sawCorruption = false
        for i in stride(from: 0, to: 3000, by: 7) {
            do {
                _ = try reopened.get([UInt8](String(format: "key%05d", i)))
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption)
                XCTAssertTrue(error.message.contains(name), error.message)
                sawCorruption = true
            }
        }
        XCTAssertTrue(sawCorruption)
    }

    func testDamagedManifestIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        try db.put([UInt8]("k"), [UInt8]("v"))
        try db.flush()
        try db.close()
        let path = dir.path + "/MANIFEST"
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Database.open(path: dir.path)) { error in
            XCTAssertEqual((error as? CairnError)?.code, .corruption)
            XCTAssertTrue((error as? CairnError)?.message.contains("MANIFEST") ?? false)
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

    func testCompactionPurgesExpiredAndDeletedEntries() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? db.close() }
        for i in 0..<100 { try db.put([UInt8]("short\(i)"), [UInt8]("x"), ttlMillis: 1) }
        for i in 0..<100 { try db.put([UInt8]("kept\(i)"), [UInt8]("y")) }
        for i in 0..<50 { try db.delete([UInt8]("kept\(i)")) }
        usleep(5000)
        try db.compactRange()
        XCTAssertEqual(db.engine.levelSummaries().reduce(0) { $0 + $1.entries }, 50)
        XCTAssertNil(try db.get([UInt8]("short5")))
        XCTAssertEqual(try db.get([UInt8]("kept99")), [UInt8]("y"))
    }

    func testRangeTombstonesSurviveFlushReopenAndCompaction() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        for i in 0..<500 { try db.put([UInt8](String(format: "r%04d", i)), [UInt8]("old")) }
        try db.flush()
        let start = [UInt8]("r0100"), end = [UInt8]("r0400")
        try start.withUnsafeBytes { s in try end.withUnsafeBytes { e in try db.deleteRange(start: s, end: e) } }
        try db.put([UInt8]("r0200"), [UInt8]("new"))
        XCTAssertNil(try db.get([UInt8]("r0150")))
        try db.flush()
        try db.close()
        db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        XCTAssertNil(try db.get([UInt8]("r0399")))
        XCTAssertEqual(try db.get([UInt8]("r0400")), [UInt8]("old"))
        XCTAssertEqual(try db.get([UInt8]("r0200")), [UInt8]("new"))
        try db.compactRange()
        XCTAssertEqual(db.engine.levelSummaries().reduce(0) { $0 + $1.entries }, 201)
        XCTAssertEqual(db.engine.stateLock.withLock { db.engine.version.rangeTombstones.count }, 0, "a tombstone nothing needs is dropped")
        XCTAssertNil(try db.get([UInt8]("r0150")))
        try db.close()
    }
}

/// The table cache keeps open files within max_open_tables.
final class TableCacheTests: XCTestCase {
    func testOpenTablesStayWithinTheBoundAndReadsStillWork() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        options.memtableSizeMB = 1
        options.maxOpenTables = 16
        let db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        // Many small disjoint tables: each flush holds one key range.
        for table in 0..<40 {
            for i in 0..<50 { try db.put([UInt8](String(format: "t%03d-%04d", table, i)), [UInt8](repeating: 0x61, count: 100)) }
            try db.flush()
        }
        XCTAssertGreaterThan(db.engine.levelSummaries().reduce(0) { $0 + $1.tables }, 16)
        for table in 0..<40 {
            XCTAssertEqual(try db.get([UInt8](String(format: "t%03d-%04d", table, 7))), [UInt8](repeating: 0x61, count: 100))
        }
        XCTAssertLessThanOrEqual(db.engine.context.tables.openTables, 16)
        XCTAssertGreaterThan(db.engine.stats.tableCacheEvictions.load(ordering: .relaxed), 0)
    }
}
