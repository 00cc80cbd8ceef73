import Foundation
import XCTest
@testable import Cairn

/// Incremental backups (Storage/Backup): shared tables stored once, list,
/// verify, restore, purge and garbage collection.
final class BackupTests: XCTestCase {
    private func key(_ i: Int) -> [UInt8] { Self.key(i) }
    private func value(_ i: Int) -> [UInt8] { Self.value(i) }
    private static func key(_ i: Int) -> [UInt8] { Array("key\(String(format: "%08d", i))".utf8) }
    private static func value(_ i: Int) -> [UInt8] { Array("value-\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: 64) }

    func testBackupsShareTablesAndRestore() throws {
        let dir = TemporaryDirectory("cairn-backup")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        defer { try? db.close() }
        let backups = BackupDirectory(path: dir.path + "/backups")
        var made: [BackupMeta] = []
        for round in 0..<3 {
            for i in (round * 8000)..<((round + 1) * 8000) { try db.put(key(i), value(i)) }
            if round < 2 { try db.flush() }  // tables to share; the last backup copies log too
            made.append(try backups.create(from: db))
        }
        XCTAssertEqual(made.map(\.id), [1, 2, 3])
        XCTAssertGreaterThan(made[1].reusedBytes, 0, "the second backup reuses tables the first stored")
        let listed = try backups.list()
        XCTAssertEqual(listed.map(\.id), [1, 2, 3])
        XCTAssertEqual(listed.map(\.sequence), [8000, 16000, 24000])
        XCTAssertTrue(try backups.listJSON().contains("\"sequence\":16000"))
        for meta in listed {
            let report = try backups.verify(id: meta.id)
            XCTAssertTrue(report.ok, report.json)
            XCTAssertEqual(report.files.count, meta.fileCount)
        }
        let restored = dir.path + "/restored2"
        try backups.restore(id: 2, to: restored)
        let copy = try Database.open(path: restored)
        XCTAssertEqual(try copy.get(key(15_999)), value(15_999))
        XCTAssertNil(try copy.get(key(16_000)))
        try copy.close()
        XCTAssertTrue(try Database.verify(path: restored).ok)
        XCTAssertEqual(status { try backups.restore(id: 2, to: restored) }, .invalidArgument, "the target must be empty")
        XCTAssertEqual(status { _ = try backups.verify(id: 9) }, .notFound)

        // Purge: keep the newest; files only the others used go.
        let sharedBefore = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/backups/shared").count
        let purged = try backups.purge(keepingNewest: 1)
        XCTAssertEqual(purged.deleted, [1, 2])
        XCTAssertEqual(try backups.list().map(\.id), [3])
        let sharedAfter = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/backups/shared").count
        XCTAssertLessThanOrEqual(sharedAfter, sharedBefore)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/backups/private"), ["3"])
        XCTAssertTrue(try backups.verify(id: 3).ok)
        // A new backup after the purge gets a new id.
        XCTAssertEqual(try backups.create(from: db).id, 4)
        try backups.delete(id: 3)
        XCTAssertEqual(try backups.list().map(\.id), [4])
    }

    func testDamageInABackupIsFoundAndNothingIsRestored() throws {
        let dir = TemporaryDirectory("cairn-backup")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        for i in 0..<8000 { try db.put(key(i), value(i)) }
        try db.flush()
        let backups = BackupDirectory(path: dir.path + "/backups")
        try backups.create(from: db)
        try db.close()
        let shared = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/backups/shared").sorted()
        guard !shared.isEmpty else { return XCTFail("no table was backed up") }
        let handle = FileHandle(forUpdatingAtPath: dir.path + "/backups/shared/" + shared[0])!
        handle.seek(toFileOffset: 10)
        handle.write(Data([0x5A]))
        handle.closeFile()
        let report = try backups.verify(id: 1)
        XCTAssertFalse(report.ok)
        XCTAssertEqual(report.damaged.map(\.file), ["shared/" + shared[0]])
        XCTAssertEqual(status { try backups.restore(id: 1, to: dir.path + "/restored") }, .corruption)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/restored"))
    }

    func testGarbageCollectionRemovesWhatNoBackupNames() throws {
        let dir = TemporaryDirectory("cairn-backup")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        defer { try? db.close() }
        for i in 0..<3000 { try db.put(key(i), value(i)) }
        let backups = BackupDirectory(path: dir.path + "/backups")
        try backups.create(from: db)
        // What a crash between the copies and the meta leaves.
        _ = FileManager.default.createFile(atPath: dir.path + "/backups/shared/000000000999-10-00000000.sst", contents: Data(count: 10))
        _ = FileManager.default.createFile(atPath: dir.path + "/backups/shared/x.sst.tmp", contents: Data(count: 3))
        try FileManager.default.createDirectory(atPath: dir.path + "/backups/private/2.tmp", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir.path + "/backups/private/2.tmp/MANIFEST", contents: Data(count: 3))
        _ = FileManager.default.createFile(atPath: dir.path + "/backups/meta/2.tmp", contents: Data(count: 3))
        XCTAssertEqual(try backups.list().map(\.id), [1], "an unfinished backup is never listed")
        let report = try backups.garbageCollect()
        XCTAssertEqual(report.removedFiles, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/backups/private"), ["1"])
        XCTAssertTrue(try backups.verify(id: 1).ok)
        XCTAssertEqual(try backups.create(from: db).id, 2)
    }

    /// The issue's test: 100 backups taken while a writer runs; each one
    /// restores, opens, verifies, and holds exactly the writes acknowledged
    /// before its sequence (key i is the writer's (i+1)th write, sequence
    /// i+1, so backup at sequence S holds keys 0..<S and no other).
    func testRestoreHundredBackupsTakenUnderARunningWriter() throws {
        let dir = TemporaryDirectory("cairn-backup-100")
        defer { dir.remove() }
        let db = try Database.open(path: dir.path + "/db", options: .smallTables)
        let written = SharedValue(0), stop = SharedValue(false)
        let writer = Thread {
            var i = 0
            while !stop.value {
                try! db.put(BackupTests.key(i), BackupTests.value(i))
                i += 1
                written.value = i
                // Some 40 000 writes a second: enough for flushes and
                // compactions between backups, little enough that 100
                // restores of the whole database stay within seconds.
                if i % 40 == 0 { usleep(1000) }
            }
        }
        writer.start()
        let backups = BackupDirectory(path: dir.path + "/backups")
        var taken: [(meta: BackupMeta, acknowledged: Int)] = []
        for _ in 0..<100 {
            let acknowledged = written.value
            taken.append((try backups.create(from: db), acknowledged))
            usleep(2000)
        }
        stop.value = true
        while !writer.isFinished { usleep(1000) }
        try db.close()
        XCTAssertEqual(try backups.list().count, 100)
        for (meta, acknowledged) in taken {
            let target = dir.path + "/r\(meta.id)"
            try backups.restore(id: meta.id, to: target)
            let holds = Int(meta.sequence)
            XCTAssertGreaterThanOrEqual(holds, acknowledged, "backup \(meta.id) lacks acknowledged writes")
            let copy = try Database.open(path: target)
            if holds > 0 { XCTAssertEqual(try copy.get(key(holds - 1)), value(holds - 1), "backup \(meta.id)") }
            XCTAssertNil(try copy.get(key(holds)), "backup \(meta.id) holds a write after its sequence")
            XCTAssertEqual(try copy.get(key(holds / 2)), holds > 0 ? value(holds / 2) : nil)
            // Every key, in order, by one scan.
            var count = 0
            let iterator = try copy.makeIterator(start: nil, end: nil)
            while try iterator.next() {
                XCTAssertEqual(Array(iterator.key), key(count))
                count += 1
            }
            XCTAssertEqual(count, holds, "backup \(meta.id) holds exactly the writes up to its sequence")
            let report = try copy.verify()
            XCTAssertTrue(report.ok, report.json)
            try copy.close()
            try FileManager.default.removeItem(atPath: target)
        }
    }
}
