import Foundation
import Synchronization
import XCTest
@testable import Cairn

/// Many threads on one database: readers never see a torn state and an
/// iterator sees one point in time while writers go on.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentWritersAndReaders() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        options.memtableSizeMB = 1
        let db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        let threads = 8, perThread = 2000
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread {
                let key = [UInt8]("t\(t)-\(i)")
                do {
                    try db.put(key, key + key)
                    if i % 3 == 0, try db.get(key) != key + key { failures.add(1, ordering: .relaxed) }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
        for t in 0..<threads {
            for i in stride(from: 0, to: perThread, by: 97) {
                let key = [UInt8]("t\(t)-\(i)")
                XCTAssertEqual(try db.get(key), key + key)
            }
        }
    }

    func testIteratorSeesASnapshotWhileWritesContinue() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        let db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        for i in 0..<1000 { try db.put([UInt8](String(format: "key%05d", i)), [UInt8]("old")) }
        let iterator = try db.makeIterator(start: nil, end: nil)
        let writer = Thread {
            for i in 0..<2000 { try? db.put([UInt8](String(format: "key%05d", i)), [UInt8]("new")) }
            let start = [UInt8]("key00000"), end = [UInt8]("key00500")
            start.withUnsafeBytes { s in end.withUnsafeBytes { e in try? db.deleteRange(start: s, end: e) } }
            try? db.flush()
            try? db.compactRange()
        }
        writer.start()
        var count = 0
        while try iterator.next() {
            XCTAssertEqual(Array(iterator.value), [UInt8]("old"))
            count += 1
        }
        XCTAssertEqual(count, 1000)
        while !writer.isFinished { usleep(1000) }
    }

    func testCallsAfterCloseFromOtherThreadsFailCleanly() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        let iterator = try db.makeIterator(start: nil, end: nil)
        try db.close()
        XCTAssertEqual(status { _ = try iterator.next() }, .closed)
        XCTAssertEqual(status { try db.put([UInt8]("k"), [UInt8]("v")) }, .closed)
        XCTAssertEqual(status { _ = try db.get([UInt8]("k")) }, .closed)
        XCTAssertEqual(status { try db.close() }, .ok)
    }
}
