import Foundation
import XCTest
@testable import Cairn

/// The arena and the skiplist memtable: internal-key order (key ascending,
/// newest sequence first), lookups at a snapshot, deletions as tombstones,
/// walks in both directions, and the skiplist's invariants
/// (MemTable+Invariants.swift) after every kind of insert.
final class MemTableTests: XCTestCase {
    /// Every entry of `table` in level-0 order.
    private func entries(_ table: MemTable) -> [TestEntry] {
        var out: [TestEntry] = []
        var node = table.first
        while let current = node {
            out.append(TestEntry(key: String(decoding: current.key, as: UTF8.self), sequence: current.sequence,
                                 kind: current.kind == .tombstone ? InternalKey.kindTombstone : InternalKey.kindValue,
                                 value: String(decoding: current.value, as: UTF8.self)))
            node = current.next(0)
        }
        return out
    }

    private func assertInvariants(_ table: MemTable, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        #if CAIRN_INVARIANTS
        XCTAssertEqual(table.invariantViolations(), [], message, file: file, line: line)
        #endif
    }

    func testEntriesComeOutByKeyThenNewestSequenceFirst() {
        var random = SeededRandom(seed: 7)
        var written: [TestEntry] = []
        for sequence in 1...5000 as ClosedRange<UInt64> {
            let key = "key\(random.next() % 700)"
            let delete = random.next() % 5 == 0
            written.append(TestEntry(key: key, sequence: sequence, kind: delete ? InternalKey.kindTombstone : InternalKey.kindValue,
                                     value: delete ? "" : "v\(sequence)"))
        }
        let table = makeMemTable(written)
        XCTAssertEqual(entries(table), written.sorted(by: TestEntry.ordered))
        XCTAssertEqual(table.entryCount, 5000)
        XCTAssertEqual(table.smallestSequence, 1)
        assertInvariants(table)
    }

    /// Inserts in ascending runs start from the splice the last insert
    /// left (the finger search); a key before the last one, or a newer
    /// version of it, searches from the head. Both keep the list ordered.
    func testAscendingRunsAndJumpsBackKeepTheOrder() {
        var random = SeededRandom(seed: 19)
        var written: [TestEntry] = []
        var sequence: UInt64 = 0
        for _ in 0..<60 {
            // A sorted run of distinct keys (a commit), starting anywhere.
            let run = Set((0..<Int(1 + random.next() % 200)).map { _ in random.next() % 3000 }).sorted()
            for number in run {
                sequence += 1
                written.append(TestEntry(key: String(format: "k%05llu", number), sequence: sequence, value: "v\(sequence)"))
            }
            if let last = run.last, random.next() % 2 == 0 {
                sequence += 1  // a newer version of the last key: not after it in list order
                written.append(TestEntry(key: String(format: "k%05llu", last), sequence: sequence, value: "again"))
            }
        }
        let table = makeMemTable(written)
        XCTAssertEqual(entries(table), written.sorted(by: TestEntry.ordered))
        for entry in written.shuffled(using: &random).prefix(500) {
            let found = entry.key.utf8CString.withUnsafeBytes { raw in
                table.seek(key: UnsafeRawBufferPointer(rebasing: raw.dropLast()), sequence: entry.sequence)
            }
            XCTAssertEqual(found.map { String(decoding: $0.value, as: UTF8.self) }, entry.value)
        }
        assertInvariants(table)
    }

    func testKeysCompareBytewiseWithTheShorterFirstOnATie() {
        let keys = ["b", "", "a\u{0}", "a", "ab", "\u{7F}", "aa"]
        let table = makeMemTable(keys.enumerated().map { TestEntry(key: $1, sequence: UInt64($0 + 1), value: "x") })
        XCTAssertEqual(entries(table).map(\.key), ["", "a", "a\u{0}", "aa", "ab", "b", "\u{7F}"])
        assertInvariants(table)
    }

    func testSeekAtASnapshotFindsTheNewestVersionNotAfterIt() {
        let table = makeMemTable([
            TestEntry(key: "k", sequence: 10, value: "ten"), TestEntry(key: "k", sequence: 20, value: "twenty"),
            TestEntry(key: "k", sequence: 30, value: "thirty"), TestEntry(key: "l", sequence: 5, value: "other"),
        ])
        func read(_ key: String, at snapshot: UInt64) -> String? {
            withBytes(key) { key in
                guard let node = table.seek(key: key, sequence: snapshot), compareBytes(node.key, key) == 0 else { return nil }
                return String(decoding: node.value, as: UTF8.self)
            }
        }
        XCTAssertEqual(read("k", at: .max), "thirty")
        XCTAssertEqual(read("k", at: 30), "thirty", "a snapshot sees its own sequence")
        XCTAssertEqual(read("k", at: 29), "twenty")
        XCTAssertEqual(read("k", at: 20), "twenty")
        XCTAssertEqual(read("k", at: 15), "ten")
        XCTAssertNil(read("k", at: 9), "nothing of k is visible before its first write")
        XCTAssertEqual(read("l", at: 5), "other")
        XCTAssertNil(read("j", at: .max))
        XCTAssertNil(read("m", at: .max))
        // Seeking before every version lands on the next key, not on nothing.
        let landed = withBytes("k") { table.seek(key: $0, sequence: 9) }
        XCTAssertEqual(landed.map { String(decoding: $0.key, as: UTF8.self) }, "l")
    }

    func testADeletionIsATombstoneThatHidesOlderValuesOnlyFromLaterSnapshots() {
        let table = makeMemTable([
            TestEntry(key: "k", sequence: 1, value: "old"),
            TestEntry(key: "k", sequence: 2, kind: InternalKey.kindTombstone),
            TestEntry(key: "k", sequence: 3, value: "new"),
        ])
        func newest(at snapshot: UInt64) -> MemNode? { withBytes("k") { table.seek(key: $0, sequence: snapshot) } }
        XCTAssertEqual(newest(at: 1)?.kind, .value)
        XCTAssertEqual(newest(at: 2)?.kind, .tombstone)
        XCTAssertEqual(newest(at: 2)?.value.count, 0, "a tombstone carries no value")
        XCTAssertEqual(newest(at: 3).map { String(decoding: $0.value, as: UTF8.self) }, "new")
        XCTAssertEqual(table.entryCount, 3, "a deletion adds a version; nothing is removed")
        assertInvariants(table)
    }

    func testPredecessorLookupsStopBeforeTheKeyOrVersion() {
        let table = makeMemTable([
            TestEntry(key: "a", sequence: 1), TestEntry(key: "b", sequence: 2), TestEntry(key: "b", sequence: 3),
            TestEntry(key: "c", sequence: 4),
        ])
        func name(_ node: MemNode?) -> String? { node.map { "\(String(decoding: $0.key, as: UTF8.self))@\($0.sequence)" } }
        XCTAssertEqual(name(table.first), "a@1")
        XCTAssertEqual(name(table.last), "c@4")
        XCTAssertNil(withBytes("a") { table.lastNode(before: $0) })
        XCTAssertEqual(name(withBytes("b") { table.lastNode(before: $0) }), "a@1")
        XCTAssertEqual(name(withBytes("c") { table.lastNode(before: $0) }), "b@2", "the oldest version of b is last before c")
        XCTAssertEqual(name(withBytes("zz") { table.lastNode(before: $0) }), "c@4")
        XCTAssertEqual(name(withBytes("b") { table.lastNode(before: $0, sequence: 2) }), "b@3", "b@3 sorts before b@2")
        XCTAssertEqual(name(withBytes("b") { table.lastNode(before: $0, sequence: 3) }), "a@1")

        let empty = MemTable()
        XCTAssertNil(empty.first)
        XCTAssertNil(empty.last)
        XCTAssertNil(withBytes("x") { empty.lastNode(before: $0) })
        XCTAssertNil(withBytes("x") { empty.seek(key: $0, sequence: .max) })
        assertInvariants(empty)
    }

    func testIteratorWalksEveryVersionInBothDirections() {
        var random = SeededRandom(seed: 11)
        var written: [TestEntry] = []
        for sequence in 1...800 as ClosedRange<UInt64> {
            written.append(TestEntry(key: "k\(random.next() % 90)", sequence: sequence, value: "\(sequence)"))
        }
        let iterator = MemTableIterator(table: makeMemTable(written))
        let expected = written.sorted(by: TestEntry.ordered)
        var forward: [TestEntry] = []
        iterator.seekToFirst()
        while iterator.isValid { forward.append(iterator.entry); iterator.advance() }
        XCTAssertEqual(forward, expected)
        var backward: [TestEntry] = []
        iterator.seekToLast()
        while iterator.isValid { backward.append(iterator.entry); iterator.retreat() }
        XCTAssertEqual(backward, expected.reversed())
        // seek: the first version of the first key >= target; seekBefore: the
        // last version of the last key < target.
        withBytes("k5") { iterator.seek($0) }
        XCTAssertEqual(iterator.entry, expected.first { !$0.key.utf8.lexicographicallyPrecedes("k5".utf8) })
        withBytes("k5") { iterator.seekBefore($0) }
        XCTAssertEqual(iterator.entry, expected.last { $0.key.utf8.lexicographicallyPrecedes("k5".utf8) })
    }

    func testLargeKeysAndValuesAreStoredWhole() {
        let key = String(repeating: "K", count: 70_000), value = String(repeating: "v", count: 400_000)
        let table = makeMemTable([TestEntry(key: key, sequence: 1, value: value), TestEntry(key: "small", sequence: 2, value: "s")])
        let node = withBytes(key) { table.seek(key: $0, sequence: .max) }
        XCTAssertEqual(node.map { String(decoding: $0.value, as: UTF8.self) }, value)
        XCTAssertEqual(node?.key.count, 70_000)
        assertInvariants(table)
    }

    func testReadersWalkInOrderWhileTheWriterInserts() {
        let table = MemTable()
        let done = DispatchSemaphore(value: 0)
        let writer = Thread {
            var random = SeededRandom(seed: 3)
            for sequence in 1...20_000 as ClosedRange<UInt64> {
                withBytes("k\(random.next() % 5000)") { key in
                    withBytes("v") { table.insert(sequence: sequence, kind: .value, key: key, value: $0, expiresAt: 0) }
                }
            }
            done.signal()
        }
        writer.start()
        var walks = 0
        var writerFinished = false
        while !writerFinished {
            writerFinished = done.wait(timeout: .now()) == .success
            var previous: MemNode?
            var node = table.first
            while let current = node {
                if let previous {
                    XCTAssertLessThan(previous.compare(key: current.key, sequence: current.sequence), 0, "walk \(walks)")
                }
                previous = current
                node = current.next(0)
            }
            walks += 1
        }
        XCTAssertEqual(table.entryCount, 20_000)
        assertInvariants(table, "after \(walks) concurrent walks")
    }

    func testArenaHandsOutAlignedMemoryAndCountsIt() {
        let arena = Arena()
        var total = 0
        var last: UnsafeMutableRawPointer?
        for size in [1, 7, 8, 9, 100, 4096] {
            let pointer = arena.allocate(size)
            XCTAssertEqual(Int(bitPattern: pointer) % 8, 0, "\(size) bytes are 8-aligned")
            pointer.initializeMemory(as: UInt8.self, repeating: 0xAB, count: size)
            if let last { XCTAssertGreaterThanOrEqual(pointer - last, 8, "allocations do not overlap") }
            last = pointer
            total += (size + 7) & ~7
        }
        XCTAssertEqual(arena.usedBytes, total)
        XCTAssertEqual(arena.reservedBytes, Arena.chunkSize, "small allocations share one chunk")
        // An allocation too big for what is left of the chunk, and bigger than
        // a quarter chunk, gets a chunk of its own; the current one stays in use.
        let big = Arena.chunkSize
        _ = arena.allocate(big)
        XCTAssertEqual(arena.reservedBytes, Arena.chunkSize + big)
        let next = arena.allocate(8)
        XCTAssertEqual(next - last!, 4096, "the chunk in use goes on after the large allocation")
        XCTAssertEqual(arena.usedBytes, total + big + 8)
    }

    /// A memtable's chunks outlive it in a bounded pool, so the next
    /// memtable writes into pages already resident instead of faulting in
    /// fresh ones; and the pool lets them go once no arena is left
    /// (ArenaChunkPool).
    func testArenaChunksOfAFreedArenaAreReusedWithinABound() {
        #if os(Linux)
        let pool = ArenaChunkPool(capacity: 4)
        var keeper: Arena? = Arena(pool: pool)  // a memtable that stays, as an open database's does
        _ = keeper?.allocate(8)
        var freed: UnsafeMutableRawPointer?
        do {
            let arena = Arena(pool: pool)
            freed = arena.allocate(8)
            freed?.storeBytes(of: 0xDEAD_BEEF, as: UInt64.self)
        }
        XCTAssertEqual(pool.count, 1, "the freed arena's chunk waits in the pool")
        var next: Arena? = Arena(pool: pool)
        XCTAssertEqual(next?.allocate(8), freed, "the next arena starts in the freed chunk")
        XCTAssertEqual(next?.reservedBytes, Arena.chunkSize)
        XCTAssertEqual(pool.count, 0)
        // A chunk of its own for a large entry is not pooled unless it is
        // exactly a chunk; and the pool keeps at most `capacity` chunks.
        do {
            let arenas = (0..<(pool.capacity + 3)).map { _ in Arena(pool: pool) }
            for arena in arenas { _ = arena.allocate(8) }
            _ = arenas[0].allocate(Arena.chunkSize + 4096)
        }
        XCTAssertEqual(pool.count, pool.capacity)
        // Once the last arena is gone, nothing is kept.
        next = nil
        XCTAssertEqual(pool.count, pool.capacity)
        keeper = nil
        XCTAssertEqual(pool.count, 0, "with no arena left the pool unmaps its chunks")
        #endif
    }

    func testInvariantWalkReportsMisorderedAndUnlinkedNodes() throws {
        #if CAIRN_INVARIANTS
        let table = makeMemTable([TestEntry(key: "k", sequence: 1), TestEntry(key: "k", sequence: 2), TestEntry(key: "k", sequence: 3)])
        XCTAssertEqual(table.invariantViolations(), [])
        // Versions of k run 3, 2, 1. Making the middle one newer than the first breaks the order.
        let middle = try XCTUnwrap(table.first?.next(0))
        middle.raw.storeBytes(of: UInt64(9), as: UInt64.self)
        XCTAssertTrue(table.invariantViolations().contains { $0.contains("not ordered before") }, "\(table.invariantViolations())")
        middle.raw.storeBytes(of: UInt64(2), as: UInt64.self)
        XCTAssertEqual(table.invariantViolations(), [])
        // Unlinking the middle node at level 0 loses an entry.
        let first = try XCTUnwrap(table.first)
        first.publishNext(0, middle.next(0))
        XCTAssertTrue(table.invariantViolations().contains { $0.contains("entryCount") }, "\(table.invariantViolations())")
        #else
        throw XCTSkip("built without -DCAIRN_INVARIANTS (the Makefile's test-swift passes it)")
        #endif
    }
}
