import Foundation
import XCTest
@testable import Cairn

/// Damage done to a closed database by hand, as an adversarial user (or a
/// careless backup script) would: every case opens with CORRUPTION naming
/// the file, or with the right data, and never deletes what it cannot
/// prove obsolete.
final class IntegrityTests: XCTestCase {
    private func names(_ dir: TemporaryDirectory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    private func key(_ i: Int) -> [UInt8] { [UInt8](String(format: "key%06d", i)) }
    private func value(_ i: Int) -> [UInt8] { [UInt8](repeating: UInt8(i & 0x7F), count: 90) + [UInt8]("\(i)") }

    /// Writes keys [from, to) and closes.
    private func write(_ dir: TemporaryDirectory, _ range: Range<Int>, flush: Bool) throws {
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        for i in range { try db.put(key(i), value(i)) }
        if flush { try db.flush() }
        try db.close()
    }

    private func assertCorruption(_ dir: TemporaryDirectory, naming name: String, file: StaticString = #filePath, line: UInt = #line) {
        let before = names(dir)
        XCTAssertThrowsError(try Database.open(path: dir.path, options: DatabaseOptions.smallTables), file: file, line: line) { error in
            let cairn = error as? CairnError
            XCTAssertEqual(cairn?.code, .corruption, "\(error)", file: file, line: line)
            XCTAssertTrue(cairn?.message.contains(name) ?? false, "the message names \(name): \(error)", file: file, line: line)
        }
        XCTAssertEqual(names(dir), before, "a refused open changes no file", file: file, line: line)
    }

    private func read(_ path: String) throws -> Data { try XCTUnwrap(FileManager.default.contents(atPath: path)) }

    func testMissingManifestIsCorruptionAndDeletesNothing() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<50_000, flush: true)
        XCTAssertGreaterThan(names(dir).filter { $0.hasSuffix(".sst") }.count, 1)
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        assertCorruption(dir, naming: "MANIFEST")
    }

    func testOlderManifestCopiedBackIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<20_000, flush: true)
        let old = try read(dir.path + "/MANIFEST")
        try write(dir, 20_000..<40_000, flush: true)
        try old.write(to: URL(fileURLWithPath: dir.path + "/MANIFEST"))
        assertCorruption(dir, naming: "MANIFEST")
    }

    func testMissingLogSegmentIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<1000, flush: true)
        // Two segments not yet in tables: the worker is stopped, so the
        // frozen memtable stays unflushed, as a crash can leave it.
        var opts = DatabaseOptions.smallTables
        opts.memtableSizeMB = 64
        let db = try Database.open(path: dir.path, options: opts)
        db.engine.stopWorker()
        for i in 1000..<11_000 { try db.put(key(i), value(i)) }
        try db.engine.writeQueue.exclusive { try db.engine.switchMemtable() }
        for i in 11_000..<21_000 { try db.put(key(i), value(i)) }
        db.engine.abandonForCrashTest()
        let logs = names(dir).filter { $0.hasSuffix(".log") }
        XCTAssertEqual(logs.count, 2)
        for victim in logs {
            let saved = try read(dir.path + "/" + victim)
            try FileManager.default.removeItem(atPath: dir.path + "/" + victim)
            assertCorruption(dir, naming: victim)
            try saved.write(to: URL(fileURLWithPath: dir.path + "/" + victim))
        }
        let reopened = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? reopened.close() }
        for i in stride(from: 0, to: 21_000, by: 97) { XCTAssertEqual(try reopened.get(key(i)), value(i)) }
    }

    func testEmptiedLogSegmentIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var opts = DatabaseOptions.smallTables
        opts.sync = .always
        let db = try Database.open(path: dir.path, options: opts)
        for i in 0..<200 { try db.put(key(i), value(i)) }
        try db.close()
        let log = try XCTUnwrap(names(dir).first { $0.hasSuffix(".log") })
        // Cut the segment back to its header: acknowledged writes gone.
        // A clean close recorded them as durable in the manifest.
        let bytes = try read(dir.path + "/" + log)
        try bytes.prefix(8 + 40).write(to: URL(fileURLWithPath: dir.path + "/" + log))
        assertCorruption(dir, naming: log)
    }

    func testCreatingInANonEmptyDirectoryTouchesNothing() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dir.path + "/000001.sst"))
        XCTAssertThrowsError(try Database.open(path: dir.path))
        XCTAssertEqual(try read(dir.path + "/000001.sst"), Data("mine".utf8))
        let other = TemporaryDirectory(); defer { other.remove() }
        try Data("notes".utf8).write(to: URL(fileURLWithPath: other.path + "/notes.txt"))
        XCTAssertEqual(status { _ = try Database.open(path: other.path) }, .invalidArgument)
        XCTAssertEqual(try read(other.path + "/notes.txt"), Data("notes".utf8))
    }

    func testExchangedTablesAreCorruptionNotWrongAnswers() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<10_000, flush: true)
        try write(dir, 10_000..<20_000, flush: true)
        let tables = names(dir).filter { $0.hasSuffix(".sst") }
        XCTAssertGreaterThanOrEqual(tables.count, 2)
        let a = dir.path + "/" + tables[0], b = dir.path + "/" + tables[1]
        let (bytesA, bytesB) = (try read(a), try read(b))
        try bytesB.write(to: URL(fileURLWithPath: a))
        try bytesA.write(to: URL(fileURLWithPath: b))
        // Same size or not, no read may return a wrong value.
        var opts = DatabaseOptions.smallTables
        opts.blockCacheMB = 0
        guard let db = try? Database.open(path: dir.path, options: opts) else { return }  // refused at open: fine
        defer { try? db.close() }
        var corruption = 0
        for i in stride(from: 0, to: 20_000, by: 13) {
            do {
                let got = try db.get(key(i))
                XCTAssertEqual(got, value(i), "a read returned wrong data")
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption)
                corruption += 1
            }
        }
        XCTAssertGreaterThan(corruption, 0)
    }

    func testTableFromAnotherDatabaseIsCorruption() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let other = TemporaryDirectory(); defer { other.remove() }
        try write(dir, 0..<5000, flush: true)
        try write(other, 0..<5000, flush: true)
        let mine = try XCTUnwrap(names(dir).first { $0.hasSuffix(".sst") })
        let theirs = try XCTUnwrap(names(other).first { $0.hasSuffix(".sst") })
        try read(other.path + "/" + theirs).write(to: URL(fileURLWithPath: dir.path + "/" + mine))
        var opts = DatabaseOptions.smallTables
        opts.blockCacheMB = 0
        do {
            let db = try Database.open(path: dir.path, options: opts)
            defer { try? db.close() }
            XCTAssertEqual(status { _ = try db.get(self.key(1)) }, .corruption)
        } catch let error as CairnError {
            XCTAssertEqual(error.code, .corruption)
        }
    }

    func testDamagedLastRecordIsCutAndReportedOrRefusedWhenParanoid() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        for i in 0..<10 { try db.put(key(i), value(i)) }
        db.engine.abandonForCrashTest()
        let log = dir.path + "/" + (try XCTUnwrap(names(dir).last { $0.hasSuffix(".log") }))
        var bytes = try read(log)
        bytes[bytes.count - 3] ^= 0x40  // inside the last record's payload
        try bytes.write(to: URL(fileURLWithPath: log))
        var paranoid = DatabaseOptions.smallTables
        paranoid.paranoidRecovery = true
        XCTAssertEqual(status { _ = try Database.open(path: dir.path, options: paranoid) }, .corruption)
        let reopened = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? reopened.close() }
        XCTAssertEqual(try reopened.get(key(8)), value(8))
        XCTAssertNil(try reopened.get(key(9)), "the damaged last write is cut off")
        XCTAssertEqual(reopened.engine.stats.damagedTails.load(ordering: .relaxed), 1)
        let stats = try reopened.statsJSON()
        XCTAssertTrue(stats.contains("damaged last record"), stats)
    }

    func testLeftoverTablesAreDeletedOnlyWhenProvablyObsolete() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<5000, flush: true)
        // An unfinished table from a flush the crash cut short.
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: dir.path + "/999999999999.sst"))
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        XCTAssertFalse(names(dir).contains("999999999999.sst"))
        XCTAssertTrue(try db.statsJSON().contains("unfinished table"))
        XCTAssertEqual(try db.get(key(4999)), value(4999))
        try db.close()
    }

    func testDatabasesOfVersionOneStillOpen() throws {
        // A version 1 manifest (no identity) over version 1-less data: the
        // empty database a version 1 engine made.
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var payload = Array("CAIRNMF1".utf8)
        for field: UInt64 in [3, 0, 2, 7] { Varint.append(field, to: &payload) }  // next file, sequence, log, levels
        for _ in 0..<7 { Varint.append(0, to: &payload) }
        Varint.append(0, to: &payload)  // range tombstones
        var framed: [UInt8] = []
        payload.withUnsafeBytes { RecordFormat.frame($0, into: &framed) }
        try Data(framed).write(to: URL(fileURLWithPath: dir.path + "/MANIFEST"))
        // Its log segment 2, version 1: batches only.
        var batch: [UInt8] = []
        batch.appendUInt64LE(1)
        Varint.append(1, to: &batch)
        batch.append(1)
        Varint.append(2, to: &batch)
        batch.append(contentsOf: [Namespace.keyValue.rawValue, 0x61])
        Varint.append(1, to: &batch)
        batch.append(0x31)
        var log: [UInt8] = []
        batch.withUnsafeBytes { RecordFormat.frame($0, into: &log) }
        try Data(log).write(to: URL(fileURLWithPath: dir.path + "/" + StorageEngine.walName(2)))
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        XCTAssertEqual(try db.get([UInt8]("a")), [UInt8]("1"))
        try db.close()
        let again = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? again.close() }
        XCTAssertEqual(try again.get([UInt8]("a")), [UInt8]("1"))
    }

    func testRepairRebuildsALostManifestAndKeepsDeletions() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<30_000, flush: true)
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        for i in stride(from: 0, to: 30_000, by: 10) { try db.delete(key(i)) }
        try db.flush()
        for i in 30_000..<31_000 { try db.put(key(i), value(i)) }  // in the log only
        try db.close()
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        XCTAssertEqual(status { _ = try Database.open(path: dir.path, options: DatabaseOptions.smallTables) }, .corruption)
        let report = try [UInt8]().withUnsafeBytes { try Database.repair(path: dir.path, optionsJSON: $0) }
        let parsed = try JSONValue.parse(report)
        guard case .object(let members) = parsed else { return XCTFail(report) }
        XCTAssertEqual(members.first { $0.key == "old_manifest" }?.value, .string("missing"), report)
        XCTAssertEqual(members.first { $0.key == "range_deletions_lost" }?.value, .bool(true), report)
        let repaired = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? repaired.close() }
        for i in stride(from: 0, to: 31_000, by: 7) {
            XCTAssertEqual(try repaired.get(key(i)), i % 10 == 0 && i < 30_000 ? nil : value(i), "key \(i)")
        }
    }

    func testRepairSetsAsideWhatItCannotReadAndDeletesNothing() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let other = TemporaryDirectory(); defer { other.remove() }
        try write(dir, 0..<10_000, flush: true)
        try write(other, 0..<100, flush: true)
        let theirs = try XCTUnwrap(names(other).first { $0.hasSuffix(".sst") })
        try read(other.path + "/" + theirs).write(to: URL(fileURLWithPath: dir.path + "/888888888888.sst"))
        try Data(repeating: 1, count: 300).write(to: URL(fileURLWithPath: dir.path + "/777777777777.sst"))
        XCTAssertEqual(status { _ = try Database.open(path: dir.path, options: DatabaseOptions.smallTables) }, .corruption)
        let report = try [UInt8]().withUnsafeBytes { try Database.repair(path: dir.path, optionsJSON: $0) }
        XCTAssertTrue(report.contains("another database"), report)
        let lost = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/lost")) ?? []).sorted()
        XCTAssertEqual(lost, ["777777777777.sst", "888888888888.sst"])
        let repaired = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? repaired.close() }
        for i in stride(from: 0, to: 10_000, by: 11) { XCTAssertEqual(try repaired.get(key(i)), value(i)) }
        XCTAssertEqual(status { _ = try [UInt8]().withUnsafeBytes { try Database.repair(path: dir.path, optionsJSON: $0) } }, .busy)
    }

    /// The states a kill leaves during a manifest rewrite (a partial
    /// MANIFEST.tmp) and during a compaction's install (finished outputs
    /// the manifest never listed): open cleans both up and loses nothing.
    func testKillsDuringAManifestRewriteOrACompactionInstallLoseNothing() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        try write(dir, 0..<20_000, flush: true)
        let table = try XCTUnwrap(names(dir).first { $0.hasSuffix(".sst") })
        let manifest = try read(dir.path + "/MANIFEST")
        try manifest.prefix(manifest.count / 2).write(to: URL(fileURLWithPath: dir.path + "/MANIFEST.tmp"))
        // An output the crash kept from being installed: a finished table of
        // this database, numbered after everything the manifest knows.
        try read(dir.path + "/" + table).write(to: URL(fileURLWithPath: dir.path + "/" + TableFormat.fileName(900_000)))
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? db.close() }
        XCTAssertFalse(names(dir).contains("MANIFEST.tmp"))
        XCTAssertFalse(names(dir).contains(TableFormat.fileName(900_000)))
        let notes = try db.statsJSON()
        XCTAssertTrue(notes.contains("unfinished manifest write") && notes.contains("never installed"), notes)
        for i in stride(from: 0, to: 20_000, by: 17) { XCTAssertEqual(try db.get(key(i)), value(i)) }
    }

    func testALogTruncatedAfterACleanCloseIsCorruptionWhateverTheSyncMode() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)  // sync "never"
        for i in 0..<200 { try db.put(key(i), value(i)) }
        try db.close()
        let log = try XCTUnwrap(names(dir).first { $0.hasSuffix(".log") })
        let bytes = try read(dir.path + "/" + log)
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir.path + "/" + log))
        assertCorruption(dir, naming: log)
    }

    func testALogRecordWithImpossibleSequencesIsCorruptionNotATrap() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        try db.put(key(1), value(1))
        db.engine.abandonForCrashTest()
        let log = try XCTUnwrap(names(dir).last { $0.hasSuffix(".log") })
        for (first, count) in [(UInt64.max - 1, UInt64(5)), (UInt64(0), UInt64(0))] {
            var batch: [UInt8] = []
            batch.appendUInt64LE(first)
            Varint.append(count, to: &batch)
            for _ in 0..<count { batch.append(contentsOf: [2, 2, Namespace.keyValue.rawValue, 0x61]) }  // deletes
            var record: [UInt8] = []
            batch.withUnsafeBytes { RecordFormat.frame($0, into: &record) }
            let original = try read(dir.path + "/" + log)
            try (original + Data(record)).write(to: URL(fileURLWithPath: dir.path + "/" + log))
            assertCorruption(dir, naming: log)
            try original.write(to: URL(fileURLWithPath: dir.path + "/" + log))
        }
    }

    func testRepairSetsAsideLogSegmentsTheManifestHadCoveredSoDeletionsStay() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        try db.put([UInt8]("gone"), [UInt8]("old value"))
        let segment = try XCTUnwrap(names(dir).last { $0.hasSuffix(".log") })
        let saved = try read(dir.path + "/" + segment)
        try db.delete([UInt8]("gone"))
        try db.compactRange()  // the tombstone is dropped at the bottom level
        try db.close()
        try saved.write(to: URL(fileURLWithPath: dir.path + "/" + segment))  // a leftover, as a kill leaves it
        let report = try [UInt8]().withUnsafeBytes { try Database.repair(path: dir.path, optionsJSON: $0) }
        XCTAssertTrue(report.contains("covered by tables"), report)
        let repaired = try Database.open(path: dir.path, options: DatabaseOptions.smallTables)
        defer { try? repaired.close() }
        XCTAssertNil(try repaired.get([UInt8]("gone")), "a deleted key stays deleted")
    }
}
