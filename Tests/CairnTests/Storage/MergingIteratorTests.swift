import Foundation
import XCTest
@testable import Cairn

/// The merging iterator over memtables and tables (every version, in
/// internal-key order or its reverse, newest source first on a tie), and
/// the database iterator on top of it, where point tombstones and range
/// tombstones in one source hide older versions in the others.
final class MergingIteratorTests: XCTestCase {
    private var dir: TemporaryDirectory!
    /// Each table gets its own file: rewriting one would pull it from under an open reader.
    private var nextTableNumber: UInt64 = 1

    override func setUp() { dir = TemporaryDirectory("merge") }
    override func tearDown() { dir.remove() }

    private func collect(_ merged: MergingIterator, limit: Int = .max) throws -> [TestEntry] {
        var out: [TestEntry] = []
        while merged.isValid && out.count < limit {
            out.append(merged.top.entry)
            try merged.advance()
        }
        return out
    }

    /// Random versions spread over `sourceCount` groups; sequences are unique.
    private func randomSources(_ sourceCount: Int, seed: UInt64) -> [[TestEntry]] {
        var random = SeededRandom(seed: seed)
        var groups = Array(repeating: [TestEntry](), count: sourceCount)
        for sequence in 1...3000 as ClosedRange<UInt64> {
            let delete = random.next() % 6 == 0
            let entry = TestEntry(key: String(format: "k%04d", random.next() % 800), sequence: sequence,
                                  kind: delete ? InternalKey.kindTombstone : InternalKey.kindValue,
                                  value: delete ? "" : "v\(sequence)")
            groups[Int(random.next() % UInt64(sourceCount))].append(entry)
        }
        return groups
    }

    /// Memtables for all groups but the last, which becomes a table.
    private func iterators(_ groups: [[TestEntry]]) throws -> [EntryIterator] {
        var sources: [EntryIterator] = groups.dropLast().map { MemTableIterator(table: makeMemTable($0)) }
        var options = TableBuilder.Options()
        options.blockSize = 256
        nextTableNumber += 1
        let table = try buildTable(groups.last!, in: dir.path, number: nextTableNumber, options: options)
        sources.append(TableIterator(reader: try table.open()))
        return sources
    }

    func testForwardMergeYieldsEveryVersionOfEverySourceInInternalKeyOrder() throws {
        let groups = randomSources(4, seed: 1)
        let merged = MergingIterator(sources: try iterators(groups), reverse: false)
        try merged.seekToFirst()
        XCTAssertEqual(try collect(merged), groups.joined().sorted(by: TestEntry.ordered))
        XCTAssertFalse(merged.isValid)
        try merged.advance()  // past the end: stays invalid
        XCTAssertFalse(merged.isValid)
    }

    func testReverseMergeYieldsTheSameVersionsBackwards() throws {
        let groups = randomSources(3, seed: 2)
        let merged = MergingIterator(sources: try iterators(groups), reverse: true)
        try merged.seekToFirst()
        XCTAssertEqual(try collect(merged), groups.joined().sorted(by: TestEntry.ordered).reversed())
    }

    func testSeekLandsOnTheFirstKeyNotBeforeItOrTheLastKeyBeforeIt() throws {
        let groups = randomSources(3, seed: 3)
        let expected = groups.joined().sorted(by: TestEntry.ordered)
        let forward = MergingIterator(sources: try iterators(groups), reverse: false)
        let backward = MergingIterator(sources: try iterators(groups), reverse: true)
        for k in stride(from: 0, through: 810, by: 13) {
            let target = String(format: "k%04d", k)
            try withBytes(target) { try forward.seek($0) }
            let after = expected.filter { !$0.key.utf8.lexicographicallyPrecedes(target.utf8) }
            XCTAssertEqual(try collect(forward, limit: 5), Array(after.prefix(5)), "forward from \(target)")
            try withBytes(target) { try backward.seek($0) }
            let before = expected.filter { $0.key.utf8.lexicographicallyPrecedes(target.utf8) }.reversed()
            XCTAssertEqual(try collect(backward, limit: 5), Array(before.prefix(5)), "backward from \(target)")
        }
    }

    func testTheSameVersionInTwoSourcesComesFromTheNewerSourceFirst() throws {
        let newer = MemTableIterator(table: makeMemTable([TestEntry(key: "k", sequence: 5, value: "newer")]))
        let older = MemTableIterator(table: makeMemTable([TestEntry(key: "k", sequence: 5, value: "older"),
                                                          TestEntry(key: "k", sequence: 6, value: "six")]))
        let forward = MergingIterator(sources: [newer, older], reverse: false)
        try forward.seekToFirst()
        XCTAssertEqual(try collect(forward).map(\.value), ["six", "newer", "older"])
        let backward = MergingIterator(sources: [newer, older], reverse: true)
        try backward.seekToFirst()
        XCTAssertEqual(try collect(backward).map(\.value), ["older", "newer", "six"], "exactly the forward order, reversed")
    }

    func testEmptySourcesAreSkipped() throws {
        let empty1 = MemTableIterator(table: MemTable())
        let one = MemTableIterator(table: makeMemTable([TestEntry(key: "a", sequence: 1, value: "x")]))
        let emptyTable = TableIterator(reader: try buildTable([], in: dir.path, number: 9).open())
        for reverse in [false, true] {
            let merged = MergingIterator(sources: [empty1, one, emptyTable], reverse: reverse)
            try merged.seekToFirst()
            XCTAssertEqual(try collect(merged), [TestEntry(key: "a", sequence: 1, value: "x")])
        }
        let none = MergingIterator(sources: [], reverse: false)
        try none.seekToFirst()
        XCTAssertFalse(none.isValid)
    }

    func testTombstonesPassThroughInOrderForTheLayerAboveToApply() throws {
        let newer = MemTableIterator(table: makeMemTable([TestEntry(key: "k", sequence: 2, kind: InternalKey.kindTombstone)]))
        let older = MemTableIterator(table: makeMemTable([TestEntry(key: "k", sequence: 1, value: "v")]))
        let merged = MergingIterator(sources: [older, newer], reverse: false)
        try merged.seekToFirst()
        XCTAssertEqual(try collect(merged).map(\.kind), [InternalKey.kindTombstone, InternalKey.kindValue],
                       "the tombstone, newest, comes first whichever source holds it")
    }

    // MARK: Visibility through the database iterator

    /// A read state of a memtable, frozen memtables and level-0 tables (all
    /// newest first), and the range tombstones already flushed.
    private func readState(memtable: [TestEntry], immutables: [[TestEntry]] = [], tables: [[TestEntry]] = [],
                           memtableRangeDeletes: [RangeTombstone] = [], flushedRangeDeletes: [RangeTombstone] = []) throws -> ReadState {
        let context = makeTableContext(dir.path)
        var files: [TableFile] = []
        for (i, entries) in tables.enumerated() {
            var options = TableBuilder.Options()
            options.blockSize = 128
            files.append(try buildTable(entries, in: dir.path, number: UInt64(100 + i), options: options).file(in: context))
        }
        var levels = Array(repeating: [TableFile](), count: Version.levelCount)
        levels[0] = files
        let active = makeMemTable(memtable)
        for tombstone in memtableRangeDeletes { active.addRangeTombstone(tombstone) }
        return ReadState(memtable: active, immutables: immutables.map { makeMemTable($0) },
                         version: Version(levels: levels, rangeTombstones: flushedRangeDeletes))
    }

    /// The visible pairs at `snapshot` as "key=value".
    private func visible(_ state: ReadState, at snapshot: UInt64, reverse: Bool = false, lower: String? = nil,
                         upper: String? = nil, seek: String? = nil) throws -> [String] {
        let lowerBytes = lower.map { Array($0.utf8) }, upperBytes = upper.map { Array($0.utf8) }
        func make(_ l: UnsafeRawBufferPointer?, _ u: UnsafeRawBufferPointer?) -> DatabaseIterator {
            DatabaseIterator(view: ReadView(state: state, sequence: snapshot), lower: l, upper: u, reverse: reverse, now: 1)
        }
        let iterator: DatabaseIterator
        switch (lowerBytes, upperBytes) {
        case let (l?, u?): iterator = l.withUnsafeBytes { l in u.withUnsafeBytes { make(l, $0) } }
        case let (l?, nil): iterator = l.withUnsafeBytes { make($0, nil) }
        case let (nil, u?): iterator = u.withUnsafeBytes { make(nil, $0) }
        case (nil, nil): iterator = make(nil, nil)
        }
        if let seek { withBytes(seek) { iterator.seek($0) } }
        var out: [String] = []
        while try iterator.next() {
            out.append(String(decoding: iterator.key, as: UTF8.self) + "=" + String(decoding: iterator.value, as: UTF8.self))
        }
        return out
    }

    func testAPointTombstoneInANewerSourceHidesOlderVersionsElsewhere() throws {
        let state = try readState(
            memtable: [TestEntry(key: "b", sequence: 5, kind: InternalKey.kindTombstone)],
            immutables: [[TestEntry(key: "c", sequence: 4, kind: InternalKey.kindTombstone)]],
            tables: [[TestEntry(key: "a", sequence: 1, value: "1"), TestEntry(key: "b", sequence: 2, value: "2"),
                      TestEntry(key: "c", sequence: 3, value: "3")]])
        XCTAssertEqual(try visible(state, at: 10), ["a=1"])
        XCTAssertEqual(try visible(state, at: 10, reverse: true), ["a=1"])
        XCTAssertEqual(try visible(state, at: 4), ["a=1", "b=2"], "the snapshot before b's deletion still sees it")
        XCTAssertEqual(try visible(state, at: 3), ["a=1", "b=2", "c=3"])
        XCTAssertEqual(try visible(state, at: 3, reverse: true), ["c=3", "b=2", "a=1"])
        XCTAssertEqual(try visible(state, at: 1), ["a=1"], "nothing newer than the snapshot shows")
    }

    func testARangeTombstoneHidesOlderVersionsInEverySourceButNotNewerOnes() throws {
        var table: [TestEntry] = []
        for i in 1...9 { table.append(TestEntry(key: "k\(i)", sequence: UInt64(i), value: "old\(i)")) }
        let state = try readState(
            memtable: [TestEntry(key: "k4", sequence: 25, value: "new4")],
            immutables: [[TestEntry(key: "k5", sequence: 15, value: "mid5")]],
            tables: [table],
            memtableRangeDeletes: [RangeTombstone(start: Array("k3".utf8), end: Array("k6".utf8), sequence: 20)],
            flushedRangeDeletes: [RangeTombstone(start: Array("k8".utf8), end: Array("k9".utf8), sequence: 12)])
        let all = ["k1=old1", "k2=old2", "k4=new4", "k6=old6", "k7=old7", "k9=old9"]
        XCTAssertEqual(try visible(state, at: 30), all, "[k3, k6) at 20 and [k8, k9) at 12 hide what is older; k4 at 25 is newer")
        XCTAssertEqual(try visible(state, at: 30, reverse: true), all.reversed())
        XCTAssertEqual(try visible(state, at: 19), ["k1=old1", "k2=old2", "k3=old3", "k4=old4", "k5=mid5", "k6=old6", "k7=old7", "k9=old9"],
                       "before the range delete: only [k8, k9) applies")
        XCTAssertEqual(try visible(state, at: 11), (1...9).map { "k\($0)=old\($0)" }, "before both range deletes")
        // Bounds and seeks apply on top.
        XCTAssertEqual(try visible(state, at: 30, lower: "k2", upper: "k7"), ["k2=old2", "k4=new4", "k6=old6"])
        XCTAssertEqual(try visible(state, at: 30, reverse: true, lower: "k2", upper: "k7"), ["k6=old6", "k4=new4", "k2=old2"])
        XCTAssertEqual(try visible(state, at: 30, seek: "k3"), ["k4=new4", "k6=old6", "k7=old7", "k9=old9"])
        XCTAssertEqual(try visible(state, at: 30, reverse: true, seek: "k5"), ["k4=new4", "k2=old2", "k1=old1"])
    }

    func testOnlyTheNewestVisibleVersionOfEachKeyIsYielded() throws {
        let groups = randomSources(3, seed: 4)
        let state = try readState(memtable: groups[0], immutables: [groups[1]], tables: [groups[2]])
        for snapshot: UInt64 in [0, 1, 500, 1777, 3000] {
            // The model: per key, the newest version <= snapshot, unless a tombstone.
            var newest: [String: TestEntry] = [:]
            for entry in groups.joined() where entry.sequence <= snapshot {
                if newest[entry.key].map({ $0.sequence < entry.sequence }) ?? true { newest[entry.key] = entry }
            }
            let expected = newest.values.filter { $0.kind == InternalKey.kindValue }
                .sorted(by: TestEntry.ordered).map { "\($0.key)=\($0.value)" }
            XCTAssertEqual(try visible(state, at: snapshot), expected, "snapshot \(snapshot)")
            XCTAssertEqual(try visible(state, at: snapshot, reverse: true), expected.reversed(), "snapshot \(snapshot), reverse")
        }
    }

    func testRangeTombstonesCoverTheirStartButNotTheirEnd() {
        let tombstone = RangeTombstone(start: Array("b".utf8), end: Array("d".utf8), sequence: 10)
        XCTAssertFalse(withBytes("a") { tombstone.covers($0) })
        XCTAssertTrue(withBytes("b") { tombstone.covers($0) })
        XCTAssertTrue(withBytes("c\u{FF}") { tombstone.covers($0) })
        XCTAssertFalse(withBytes("d") { tombstone.covers($0) })
        XCTAssertTrue(withBytes("a") { s in withBytes("b") { tombstone.overlaps(smallest: s, largest: $0) } })
        XCTAssertFalse(withBytes("d") { s in withBytes("e") { tombstone.overlaps(smallest: s, largest: $0) } })
        let set = RangeTombstoneSet([tombstone, RangeTombstone(start: Array("c".utf8), end: Array("z".utf8), sequence: 30)], visibleAt: 20)
        XCTAssertEqual(set.tombstones.count, 1, "a range delete newer than the snapshot is not seen")
        XCTAssertTrue(withBytes("c") { set.deletes($0, sequence: 9) })
        XCTAssertFalse(withBytes("c") { set.deletes($0, sequence: 10) }, "a version as new as the delete survives it")
        XCTAssertEqual(withBytes("c") { set.newestCovering($0) }, 10)
        XCTAssertEqual(withBytes("x") { set.newestCovering($0) }, 0)
    }
}
