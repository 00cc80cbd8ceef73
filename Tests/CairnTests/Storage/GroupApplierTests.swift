import Foundation
import XCTest
@testable import Cairn

/// Synced groups of GroupApplier.minimumEntries entries or more go into the
/// memtable on the applier's thread while their fsync runs. Readers never
/// see such a group before its fsync succeeded, nor part of one; and when
/// the fsync fails, the group's entries (already in the memtable) are never
/// published: the write fails, every later write fails until a reopen, and
/// the reopened database holds exactly what was acknowledged.
final class GroupApplierTests: XCTestCase {
    private static let entriesPerBatch = GroupApplier.minimumEntries + 4

    private final class Counter: @unchecked Sendable {
        private let lock = Lock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    private static func batch(_ name: String, value: [UInt8]) throws -> KeyValueBatch {
        var batch = KeyValueBatch()
        for entry in 0..<GroupApplierTests.entriesPerBatch {
            try [UInt8]("\(name)-\(entry)").withUnsafeBytes { k in
                try value.withUnsafeBytes { v in try batch.put(key: k, value: v, ttlMillis: 0) }
            }
        }
        return batch
    }

    /// How many keys of batch `name` an iterator (one snapshot) sees.
    private func visibleEntries(of name: String, in db: Database) throws -> Int {
        let iterator = try [UInt8]("\(name)-").withUnsafeBytes { try db.makeIterator(prefix: $0) }
        var count = 0
        while try iterator.next() { count += 1 }
        return count
    }

    func testSyncedBatchesFromManyThreadsAreWholeToReadersAndAfterReopen() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1  // memtable switches and flushes between groups
        let db = try Database.open(path: dir.path, options: options)
        let writers = 4, batchesEach = 120
        let done = Counter()
        var torn = 0
        let group = DispatchGroup()
        for writer in 0..<writers {
            group.enter()
            Thread {
                defer { done.add(); group.leave() }
                for number in 0..<batchesEach {
                    let value = [UInt8](repeating: UInt8(number & 0xFF), count: 100)
                    do {
                        try db.write(Self.batch("w\(writer)b\(number)", value: value))
                    } catch {
                        XCTFail("write: \(error)")
                        return
                    }
                }
            }.start()
        }
        // A reader checks, while the groups commit, that each batch is all or nothing.
        var checks = 0
        while done.value < writers {
            let name = "w\(Int.random(in: 0..<writers))b\(Int.random(in: 0..<batchesEach))"
            let seen = try visibleEntries(of: name, in: db)
            if seen != 0 && seen != GroupApplierTests.entriesPerBatch { torn += 1 }
            checks += 1
        }
        group.wait()
        XCTAssertEqual(torn, 0, "a reader saw part of a batch (\(checks) checks)")
        XCTAssertGreaterThan(db.engine.groupApplier.jobCount, 0, "no group went through the applier")
        for writer in 0..<writers {
            for number in 0..<batchesEach {
                XCTAssertEqual(try visibleEntries(of: "w\(writer)b\(number)", in: db), GroupApplierTests.entriesPerBatch)
            }
        }
        try db.close()
        let reopened = try Database.open(path: dir.path, options: options)
        defer { try? reopened.close() }
        for writer in 0..<writers {
            for number in 0..<batchesEach {
                XCTAssertEqual(try visibleEntries(of: "w\(writer)b\(number)", in: reopened), GroupApplierTests.entriesPerBatch)
                XCTAssertEqual(try reopened.get([UInt8]("w\(writer)b\(number)-0")), [UInt8](repeating: UInt8(number & 0xFF), count: 100))
            }
        }
    }

    func testAFailedSyncAfterTheInsertsPublishesNothingAndRefusesWritesUntilReopen() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let faults = FaultInjection()
        var options = DatabaseOptions()
        options.sync = .always
        let db = try Database.open(path: dir.path, options: options, env: FaultInjectionEnv(faults: faults))
        try db.write(Self.batch("kept", value: [1]))
        try db.put([UInt8]("single"), [UInt8]("1"))

        faults.setSyncFailures(true)
        XCTAssertEqual(status { try db.write(try Self.batch("lost", value: [2])) }, .ioError)
        faults.setSyncFailures(false)

        // The failed group's entries sit in the memtable, unpublished.
        XCTAssertEqual(try visibleEntries(of: "lost", in: db), 0)
        XCTAssertNil(try db.get([UInt8]("lost-0")))
        // Every later write fails, small or large, and so does a flush
        // (which would have written the failed entries to a table).
        XCTAssertEqual(status { try db.put([UInt8]("after"), [UInt8]("3")) }, .ioError)
        XCTAssertEqual(status { try db.write(try Self.batch("after", value: [3])) }, .ioError)
        XCTAssertEqual(status { try db.flush() }, .ioError)
        XCTAssertEqual(try visibleEntries(of: "lost", in: db), 0)
        XCTAssertNil(try db.get([UInt8]("after")))
        // What was acknowledged stays readable.
        XCTAssertEqual(try visibleEntries(of: "kept", in: db), GroupApplierTests.entriesPerBatch)
        XCTAssertEqual(try db.get([UInt8]("single")), [UInt8]("1"))
        try? db.close()

        let reopened = try Database.open(path: dir.path, options: options, env: FaultInjectionEnv(faults: faults))
        defer { try? reopened.close() }
        XCTAssertEqual(try visibleEntries(of: "kept", in: reopened), GroupApplierTests.entriesPerBatch)
        XCTAssertEqual(try reopened.get([UInt8]("single")), [UInt8]("1"))
        XCTAssertEqual(try visibleEntries(of: "lost", in: reopened), 0, "a write that failed must not come back")
        XCTAssertNil(try reopened.get([UInt8]("after")))
        // Writes work again after the reopen, through the applier too.
        let jobs = reopened.engine.groupApplier.jobCount
        try reopened.write(Self.batch("again", value: [4]))
        XCTAssertEqual(reopened.engine.groupApplier.jobCount, jobs + 1)
        try reopened.flush()
        XCTAssertEqual(try visibleEntries(of: "again", in: reopened), GroupApplierTests.entriesPerBatch)
        XCTAssertEqual(try visibleEntries(of: "lost", in: reopened), 0)
    }
}
