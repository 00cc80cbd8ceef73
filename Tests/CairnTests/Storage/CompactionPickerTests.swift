import Foundation
import XCTest
@testable import Cairn

/// Compaction picking: level 0 by its table count, sorted levels by their
/// size against a limit that grows by the size ratio, the most urgent level
/// first, one table at a time round robin in sorted levels, and every
/// overlapping table of the next level taken along.
final class CompactionPickerTests: XCTestCase {
    private var dir: TemporaryDirectory!
    private var engine: StorageEngine!

    override func setUpWithError() throws {
        dir = TemporaryDirectory("picker")
        var options = StorageEngine.Options()
        options.sync = .never
        options.level0CompactionTrigger = 4
        options.level1Bytes = 1000
        options.levelSizeRatio = 10
        // The engine's own worker only ever sees its empty version: the
        // versions below are handed to pickCompaction directly.
        engine = try StorageEngine(directory: dir.path, options: options, createIfMissing: true, errorIfExists: false)
    }

    override func tearDownWithError() throws {
        try engine.close()
        engine = nil
        dir.remove()
    }

    /// Metadata of a table that is never opened.
    private func table(_ number: UInt64, _ smallest: String, _ largest: String, size: UInt64 = 100, sequence: UInt64 = 1) -> TableFile {
        TableFile(number: number, size: size, smallestUserKey: Array(smallest.utf8), largestUserKey: Array(largest.utf8),
                  smallestSequence: sequence, largestSequence: sequence, entryCount: 1, databaseID: engine.databaseID,
                  requiresIdentity: true, context: engine.context)
    }

    private func version(_ assignments: [Int: [TableFile]]) -> Version {
        var levels = Array(repeating: [TableFile](), count: Version.levelCount)
        for (level, files) in assignments { levels[level] = files }
        return Version(levels: levels, rangeTombstones: [])
    }

    /// Level-0 tables, newest first, all over [a, z].
    private func level0(_ count: Int, from number: UInt64 = 100) -> [TableFile] {
        (0..<count).map { table(number + UInt64($0), "a", "z", sequence: UInt64(count - $0)) }
    }

    private func numbers(_ files: [TableFile]) -> [UInt64] { files.map(\.number) }

    func testNothingIsPickedWhileEveryLevelIsUnderItsTrigger() {
        XCTAssertNil(engine.pickCompaction(Version.empty))
        XCTAssertNil(engine.pickCompaction(version([0: level0(3), 1: [table(1, "a", "b", size: 900)],
                                                   2: [table(2, "a", "b", size: 9_999)]])))
    }

    func testLevel0CompactsAllItsTablesOnceItHoldsTheTriggerCount() throws {
        let inputs = [table(100, "c", "e", sequence: 4), table(101, "a", "b", sequence: 3),
                      table(102, "d", "f", sequence: 2), table(103, "b", "c", sequence: 1)]
        let below = [table(1, "0", "0"), table(2, "a", "a"), table(3, "e", "g"), table(4, "h", "k")]
        let compaction = try XCTUnwrap(engine.pickCompaction(version([0: inputs, 1: below])))
        XCTAssertEqual(compaction.level, 0)
        XCTAssertEqual(compaction.outputLevel, 1)
        XCTAssertEqual(numbers(compaction.inputs), [100, 101, 102, 103], "all of level 0, newest first")
        XCTAssertEqual(numbers(compaction.nextLevelInputs), [2, 3], "the level-1 tables overlapping [a, f], touching ends included")
        XCTAssertEqual(numbers(compaction.allInputs), [100, 101, 102, 103, 2, 3])
    }

    func testSizeLimitsGrowByTheRatioFromLevel1() {
        XCTAssertEqual(engine.maxBytes(forLevel: 1), 1000)
        XCTAssertEqual(engine.maxBytes(forLevel: 2), 10_000)
        XCTAssertEqual(engine.maxBytes(forLevel: 3), 100_000)
        XCTAssertEqual(engine.maxBytes(forLevel: 6), 100_000_000)
    }

    func testTheLevelFurthestOverItsLimitIsPicked() throws {
        // Level 1 at 1.5 times its limit, level 2 at 3 times: level 2.
        var picked = try XCTUnwrap(engine.pickCompaction(version([1: [table(1, "a", "b", size: 1500)],
                                                                  2: [table(2, "c", "d", size: 30_000)]])))
        XCTAssertEqual(picked.level, 2)
        // Level 1 at 4 times: level 1.
        picked = try XCTUnwrap(engine.pickCompaction(version([1: [table(1, "a", "b", size: 4000)],
                                                              2: [table(2, "c", "d", size: 30_000)]])))
        XCTAssertEqual(picked.level, 1)
        // Level 0 at its trigger (score 1) loses to a level over its limit...
        picked = try XCTUnwrap(engine.pickCompaction(version([0: level0(4), 1: [table(1, "a", "b", size: 1001)]])))
        XCTAssertEqual(picked.level, 1)
        // ...and wins a tie with a level exactly at its limit, which is not over it.
        picked = try XCTUnwrap(engine.pickCompaction(version([0: level0(4), 1: [table(1, "a", "b", size: 1000)]])))
        XCTAssertEqual(picked.level, 0)
        XCTAssertNil(engine.pickCompaction(version([1: [table(1, "a", "b", size: 1000)]])), "at the limit is not over it")
        // Six times the trigger beats twice the limit.
        picked = try XCTUnwrap(engine.pickCompaction(version([0: level0(24), 1: [table(1, "a", "b", size: 2000)]])))
        XCTAssertEqual(picked.level, 0)
    }

    func testTheLastLevelIsNeverPicked() {
        XCTAssertNil(engine.pickCompaction(version([6: [table(1, "a", "b", size: 1 << 40)]])), "nothing is below it")
    }

    func testSortedLevelsCompactOneTableAtATimeRoundRobin() throws {
        let level1 = [table(1, "a", "c", size: 600), table(2, "d", "f", size: 600), table(3, "g", "i", size: 600)]
        let level2 = [table(10, "b", "b"), table(11, "c", "e"), table(12, "f", "f"), table(13, "z", "z")]
        let current = version([1: level1, 2: level2])
        engine.compactPointers[1] = []
        var picked = try XCTUnwrap(engine.pickCompaction(current))
        XCTAssertEqual(numbers(picked.inputs), [1], "no pointer yet: the first table")
        XCTAssertEqual(numbers(picked.nextLevelInputs), [10, 11], "level-2 tables overlapping [a, c]")
        engine.compactPointers[1] = Array("c".utf8)
        picked = try XCTUnwrap(engine.pickCompaction(current))
        XCTAssertEqual(numbers(picked.inputs), [2], "the table after the last one compacted")
        XCTAssertEqual(numbers(picked.nextLevelInputs), [11, 12])
        engine.compactPointers[1] = Array("i".utf8)
        picked = try XCTUnwrap(engine.pickCompaction(current))
        XCTAssertEqual(numbers(picked.inputs), [1], "past the last table: back to the first")
        engine.compactPointers[1] = []
    }

    func testRangeAndDisjointnessOfInputs() {
        let (smallest, largest) = Compaction.range(of: [table(1, "d", "f"), table(2, "a", "b"), table(3, "c", "x")])
        XCTAssertEqual(smallest, Array("a".utf8))
        XCTAssertEqual(largest, Array("x".utf8))
        XCTAssertTrue(Compaction.disjoint([table(1, "e", "f"), table(2, "a", "b"), table(3, "c", "d")]),
                      "sequential inserts make disjoint level-0 tables, which move down without a rewrite")
        XCTAssertFalse(Compaction.disjoint([table(1, "a", "c"), table(2, "c", "d")]), "sharing a key is overlapping")
        XCTAssertFalse(Compaction.disjoint([table(1, "a", "z"), table(2, "m", "n")]))
        XCTAssertTrue(Compaction.disjoint([]))
    }
}
