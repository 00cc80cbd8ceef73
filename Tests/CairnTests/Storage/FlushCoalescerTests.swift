import Foundation
import XCTest
@testable import Cairn

/// Runs of keys merged at flush (FlushCoalescer.swift): what a flush writes
/// for a memtable, with a coalescer that groups keys by their first two
/// bytes when they start with "g" and joins the values with "+".
final class FlushCoalescerTests: XCTestCase {
    private var dir: TemporaryDirectory!
    private var engine: StorageEngine!

    override func setUp() {
        dir = TemporaryDirectory("coalesce")
        var options = StorageEngine.Options()
        options.sync = .never
        options.coalescer = FlushCoalescer(
            groupLength: { key in key.count >= 2 && key[0] == UInt8(ascii: "g") ? 2 : 0 },
            merge: { _, values in
                let joined = values.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "+")
                return joined.contains("refuse") ? nil : Array(joined.utf8)
            })
        engine = try! StorageEngine(directory: dir.path, options: options, createIfMissing: true, errorIfExists: false)
        // Sequences up to 100 are then visible: a run merges only when every
        // snapshot (here: the newest sequence) sees all of it.
        for i in 0..<100 {
            var batch = WriteBatch()
            withBytes("k\(i)") { k in withBytes("v") { batch.put(k, $0, ttlMillis: 0) } }
            try! engine.write(batch)
        }
    }

    override func tearDown() {
        try? engine.close()
        engine = nil
        dir.remove()
    }

    /// The entries of the level-0 table a flush of `entries` writes.
    private func flushed(_ entries: [TestEntry], tombstones: [RangeTombstone] = []) throws -> [TestEntry] {
        let table = makeMemTable(entries)
        for tombstone in tombstones { table.addRangeTombstone(tombstone) }
        let file = try XCTUnwrap(try engine.writeLevel0Table(from: table))
        let reader = try TableReader(path: engine.path(TableFormat.fileName(file.number)), number: file.number, env: PosixEnv(),
                                     cache: nil, stats: nil, expected: nil)
        let iterator = TableIterator(reader: reader)
        var out: [TestEntry] = []
        try iterator.seekToFirst()
        while iterator.isValid { out.append(iterator.entry); try iterator.advance() }
        return out
    }

    func testARunOfAGroupBecomesItsLastKeyWithTheNewestSequence() throws {
        let out = try flushed([
            TestEntry(key: "a", sequence: 1, value: "alone"),
            TestEntry(key: "g1-1", sequence: 2, value: "x"),
            TestEntry(key: "g1-2", sequence: 5, value: "y"),
            TestEntry(key: "g1-3", sequence: 3, value: "z"),
            TestEntry(key: "g2-1", sequence: 4, value: "single"),
            TestEntry(key: "h", sequence: 6, value: "other"),
        ])
        XCTAssertEqual(out, [
            TestEntry(key: "a", sequence: 1, value: "alone"),
            TestEntry(key: "g1-3", sequence: 5, value: "x+y+z"),
            TestEntry(key: "g2-1", sequence: 4, value: "single"),
            TestEntry(key: "h", sequence: 6, value: "other"),
        ])
    }

    func testAKeyOutsideTheGroupOrATombstoneEndsARun() throws {
        let out = try flushed([
            TestEntry(key: "g1-1", sequence: 1, value: "a"),
            TestEntry(key: "g1-2", sequence: 2, kind: InternalKey.kindTombstone),
            TestEntry(key: "g1-3", sequence: 3, value: "b"),
            TestEntry(key: "g1-4", sequence: 4, value: "c"),
        ])
        XCTAssertEqual(out, [
            TestEntry(key: "g1-1", sequence: 1, value: "a"),
            TestEntry(key: "g1-2", sequence: 2, kind: InternalKey.kindTombstone),
            TestEntry(key: "g1-4", sequence: 4, value: "b+c"),
        ])
    }

    func testASnapshotInsideTheRunKeepsItApart() throws {
        let view = try engine.readView()
        let pin = engine.pin(view)
        let at = view.sequence
        let out = try flushed([
            TestEntry(key: "g1-1", sequence: at - 1, value: "a"),
            TestEntry(key: "g1-2", sequence: at + 1, value: "b"),
        ])
        XCTAssertEqual(out.map(\.value), ["a", "b"], "a reader at the snapshot sees a without b")
        _ = pin
        let below = try flushed([
            TestEntry(key: "g2-1", sequence: at - 2, value: "a"),
            TestEntry(key: "g2-2", sequence: at, value: "b"),
        ])
        XCTAssertEqual(below.map(\.value), ["a+b"], "the snapshot sees all of this run")
        let above = try flushed([
            TestEntry(key: "g3-1", sequence: at + 1, value: "a"),
            TestEntry(key: "g3-2", sequence: at + 2, value: "b"),
        ])
        XCTAssertEqual(above.map(\.value), ["a+b"], "the snapshot sees none of this run")
    }

    func testASecondVersionOfAKeyKeepsTheRunApart() throws {
        let out = try flushed([
            TestEntry(key: "g1-1", sequence: 1, value: "a"),
            TestEntry(key: "g1-2", sequence: 2, value: "old"),
            TestEntry(key: "g1-2", sequence: 3, value: "new"),
            TestEntry(key: "g1-3", sequence: 4, value: "b"),
            TestEntry(key: "g1-4", sequence: 5, value: "c"),
        ])
        XCTAssertEqual(out.map(\.description), ["g1-1@1=a", "g1-2@3=new", "g1-4@5=b+c"],
                       "the run up to the second version is kept; the hidden version goes as without a coalescer")
    }

    func testARangeTombstoneOverARunOrARefusalKeepsItApart() throws {
        let tombstone = RangeTombstone(start: Array("g1-2".utf8), end: Array("g1-3".utf8), sequence: 10)
        let out = try flushed([
            TestEntry(key: "g1-1", sequence: 1, value: "a"),
            TestEntry(key: "g1-2", sequence: 2, value: "b"),
            TestEntry(key: "g2-1", sequence: 3, value: "refuse"),
            TestEntry(key: "g2-2", sequence: 4, value: "c"),
        ], tombstones: [tombstone])
        XCTAssertEqual(out.map(\.value), ["a", "b", "refuse", "c"])
    }
}
