import Foundation
import XCTest
@testable import Cairn

/// Checkpoints and backups under SIGKILL: a child writes from one thread
/// and takes checkpoints and backups from another, in a loop; the parent
/// kills it at a random moment. Every time: the source reopens intact
/// (every acknowledged write there, verify clean), every backup listed is
/// complete (verifies, restores, opens, holds its sequence), every
/// checkpoint the child finished opens, and the one cut short never looks
/// complete (no MANIFEST anywhere a reader would open it).
final class OperationsCrashTests: XCTestCase {
    private static let childDirectory = "CAIRN_OPERATIONS_CRASH_DIRECTORY"
    private static let childRound = "CAIRN_OPERATIONS_CRASH_ROUND"

    private func key(_ i: Int) -> [UInt8] { Self.key(i) }
    private func value(_ i: Int) -> [UInt8] { Self.value(i) }
    private static func key(_ i: Int) -> [UInt8] { Array("key\(String(format: "%08d", i))".utf8) }
    private static func value(_ i: Int) -> [UInt8] { Array("value-\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: 64) }

    func testCheckpointsAndBackupsSurviveSIGKILL() throws {
        let dir = TemporaryDirectory("cairn-operations-crash")
        defer { dir.remove() }
        var random = SplitMix(seed: 1717)
        var completed = 0
        let rounds = 6
        for round in 0..<rounds {
            let acks = try runKilledChild(test: "CairnTests.OperationsCrashTests/testChildWritesAndBacksUpUntilKilled",
                                          environment: [Self.childDirectory: dir.path, Self.childRound: String(round)],
                                          round: round, killAfterMicros: 50_000 + UInt32(random.next() % 400_000))
            var written = 0
            var checkpoints: [String] = []
            for ack in acks {
                let parts = ack.split(separator: " ")
                if parts.first == "put", parts.count == 2 { written = max(written, Int(parts[1]) ?? 0) }
                if parts.first == "checkpoint", parts.count == 2 { checkpoints.append(String(parts[1])) }
            }
            // The source: intact, with every acknowledged write.
            let db = try Database.open(path: dir.path + "/db")
            if written > 0 { XCTAssertEqual(try db.get(key(written - 1)), value(written - 1), "round \(round)") }
            let live = try db.verify()
            XCTAssertTrue(live.ok, "round \(round): \(live.json)")
            try db.close()
            // Every finished checkpoint opens; an unfinished one is only a
            // hidden directory, never at its name and never acknowledged.
            // (It may hold a manifest: the kill can fall between the
            // manifest's write and the rename that finishes it.)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("cp") || name.hasPrefix(".cp") {
                let path = dir.path + "/" + name
                if name.hasPrefix(".") {
                    XCTAssertFalse(checkpoints.contains(String(name.dropFirst())), "round \(round): \(name) was acknowledged but left hidden")
                    continue
                }
                let copy = try Database.open(path: path)
                try copy.close()
                if checkpoints.contains(name) { completed += 1 }
            }
            // Every listed backup is complete.
            let backups = BackupDirectory(path: dir.path + "/backups")
            for meta in (try? backups.list()) ?? [] {
                let report = try backups.verify(id: meta.id)
                XCTAssertTrue(report.ok, "round \(round): backup \(meta.id): \(report.json)")
                let target = dir.path + "/restore-\(round)-\(meta.id)"
                try backups.restore(id: meta.id, to: target)
                let copy = try Database.open(path: target)
                let holds = Int(meta.sequence)
                if holds > 0 { XCTAssertNotNil(try copy.get(key(0))) }
                try copy.close()
                try FileManager.default.removeItem(atPath: target)
            }
            if FileManager.default.fileExists(atPath: dir.path + "/backups/meta") { _ = try backups.garbageCollect() }
        }
        XCTAssertGreaterThan(completed, 0, "the child finished checkpoints before the kills")
    }

    /// The child's side. Skipped in a normal run.
    func testChildWritesAndBacksUpUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectory],
              let round = ProcessInfo.processInfo.environment[Self.childRound].flatMap(Int.init) else {
            throw XCTSkip("runs only as the child of testCheckpointsAndBackupsSurviveSIGKILL")
        }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1
        let db = try Database.open(path: path + "/db", options: options)
        @Sendable func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        // Continue after the keys of earlier rounds.
        var first = 0
        let iterator = try db.makeIterator(start: nil, end: nil, reverse: true)
        if try iterator.next() { first = (Int(String(decoding: Array(iterator.key).dropFirst(3), as: UTF8.self)) ?? -1) + 1 }
        let start = first
        let writer = Thread {
            var i = start
            while true {
                try! db.put(OperationsCrashTests.key(i), OperationsCrashTests.value(i))
                i += 1
                say("ack put \(i)")
            }
        }
        say("ready")
        writer.start()
        let backups = BackupDirectory(path: path + "/backups")
        var n = 0
        while true {
            let name = "cp\(round)-\(n)"
            try db.checkpoint(to: path + "/" + name)
            say("ack checkpoint \(name)")
            let meta = try backups.create(from: db)
            say("ack backup \(meta.id)")
            n += 1
        }
    }
}
