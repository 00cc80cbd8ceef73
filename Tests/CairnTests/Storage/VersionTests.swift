import Foundation
import XCTest
@testable import Cairn

/// Versions: tables per level, lookups by key range, how flushes and
/// compactions add and remove tables (level 0 newest first, sorted
/// non-overlapping levels below), and the invariant walk of
/// Version+Invariants.swift.
final class VersionTests: XCTestCase {
    private var dir: TemporaryDirectory!
    private var context: TableContext!

    override func setUp() {
        dir = TemporaryDirectory("version")
        context = makeTableContext(dir.path)
    }

    override func tearDown() {
        context = nil
        dir.remove()
    }

    /// Metadata of a table that is never opened.
    private func table(_ number: UInt64, _ smallest: String, _ largest: String, sequences: ClosedRange<UInt64> = 1...1,
                       size: UInt64 = 100) -> TableFile {
        TableFile(number: number, size: size, smallestUserKey: Array(smallest.utf8), largestUserKey: Array(largest.utf8),
                  smallestSequence: sequences.lowerBound, largestSequence: sequences.upperBound, entryCount: 1,
                  databaseID: DatabaseID.random(), requiresIdentity: true, context: context)
    }

    private func levels(_ assignments: [Int: [TableFile]]) -> [[TableFile]] {
        var levels = Array(repeating: [TableFile](), count: Version.levelCount)
        for (level, files) in assignments { levels[level] = files }
        return levels
    }

    private func numbers(_ files: [TableFile]) -> [UInt64] { files.map(\.number) }

    func testLevelBytesAddUpTheTablesOfTheLevel() {
        let version = Version(levels: levels([0: [table(1, "a", "z", size: 10)],
                                              1: [table(2, "a", "c", size: 300), table(3, "d", "f", size: 700)]]),
                              rangeTombstones: [])
        XCTAssertEqual(version.bytes(at: 0), 10)
        XCTAssertEqual(version.bytes(at: 1), 1000)
        XCTAssertEqual(version.bytes(at: 6), 0)
        XCTAssertEqual(Version.empty.levels.count, Version.levelCount)
        XCTAssertTrue(Version.empty.levels.allSatisfy(\.isEmpty))
    }

    func testOverlappingFindsEveryTableTouchingTheRangeBoundsIncluded() {
        let version = Version(levels: levels([1: [table(1, "a", "c"), table(2, "e", "g"), table(3, "i", "k")]]), rangeTombstones: [])
        func overlapping(_ smallest: String, _ largest: String) -> [UInt64] {
            numbers(withBytes(smallest) { s in withBytes(largest) { version.overlapping(level: 1, smallest: s, largest: $0) } })
        }
        XCTAssertEqual(overlapping("c", "e"), [1, 2], "touching either end counts")
        XCTAssertEqual(overlapping("d", "d"), [])
        XCTAssertEqual(overlapping("0", "z"), [1, 2, 3])
        XCTAssertEqual(overlapping("f", "j"), [2, 3])
        XCTAssertEqual(overlapping("l", "m"), [])
    }

    func testASortedLevelFindsTheOneTableThatMayHoldAKey() {
        let version = Version(levels: levels([2: [table(1, "a", "c"), table(2, "e", "g"), table(3, "i", "k")]]), rangeTombstones: [])
        func holder(_ key: String) -> UInt64? { withBytes(key) { version.file(at: 2, containing: $0)?.number } }
        XCTAssertEqual(holder("a"), 1)
        XCTAssertEqual(holder("b"), 1)
        XCTAssertEqual(holder("c"), 1)
        XCTAssertNil(holder("d"), "a gap between tables")
        XCTAssertEqual(holder("g"), 2)
        XCTAssertEqual(holder("j"), 3)
        XCTAssertNil(holder("0"), "before the first")
        XCTAssertNil(holder("l"), "after the last")
        XCTAssertNil(withBytes("b") { version.file(at: 3, containing: $0) }, "an empty level")
    }

    func testFlushesAddNewestFirstAtLevel0AndCompactionReplacesThemBelow() throws {
        var options = StorageEngine.Options()
        options.sync = .never
        options.table.blockSize = 512
        options.targetFileBytes = 8 << 10
        options.level0CompactionTrigger = 8  // the test compacts level 0 itself
        let engine = try StorageEngine(directory: dir.path, options: options, createIfMissing: true, errorIfExists: false)
        func write(_ range: Range<Int>, _ tag: String) throws {
            for i in range {
                var batch = WriteBatch()
                withBytes(String(format: "key%05d", i)) { k in withBytes("\(tag)-\(i)") { batch.put(k, $0, ttlMillis: 0) } }
                try engine.write(batch)
            }
        }
        func current() -> Version { engine.stateLock.withLock { engine.version } }

        try write(0..<2000, "one")
        try engine.flush()
        XCTAssertEqual(current().levels[0].count, 1)
        try write(1000..<3000, "two")
        try engine.flush()
        let two = current()
        XCTAssertEqual(two.levels[0].count, 2)
        XCTAssertGreaterThan(two.levels[0][0].largestSequence, two.levels[0][1].largestSequence, "the newest flush is first")
        XCTAssertEqual(two.levels[0][0].smallestUserKey, Array("key01000".utf8))
        let flushed = Set(numbers(two.levels[0]))

        try engine.compactRange(start: nil, end: nil)
        let compacted = current()
        XCTAssertTrue(compacted.levels[0].isEmpty, "compaction takes every level-0 table")
        let below = compacted.levels.dropFirst().joined()
        XCTAssertGreaterThan(below.count, 1, "8 KiB output tables")
        XCTAssertTrue(Set(below.map(\.number)).isDisjoint(with: flushed), "the inputs are replaced, not kept")
        XCTAssertEqual(below.reduce(0) { $0 + $1.entryCount }, 3000, "one version per key is left")
        #if CAIRN_INVARIANTS
        for version in [two, compacted] { XCTAssertEqual(version.invariantViolations(), []) }
        #endif
        // The manifest on disk lists exactly the current version's tables.
        let manifest = try XCTUnwrap(try Manifest.read(directory: dir.path, env: PosixEnv()))
        XCTAssertEqual(manifest.levels.map { $0.map(\.number) }, compacted.levels.map(numbers))
        try engine.close()

        // And it is what a reopened engine starts from.
        let reopened = try StorageEngine(directory: dir.path, options: options, createIfMissing: false, errorIfExists: false)
        defer { try? reopened.close() }
        let recovered = reopened.stateLock.withLock { reopened.version }
        XCTAssertEqual(recovered.levels.map(numbers), compacted.levels.map(numbers))
        for (a, b) in zip(recovered.levels.joined(), compacted.levels.joined()) {
            XCTAssertEqual(a.smallestUserKey, b.smallestUserKey)
            XCTAssertEqual(a.largestUserKey, b.largestUserKey)
            XCTAssertEqual(a.size, b.size)
        }
    }

    func testAManifestWhoseLevelsBreakTheRulesIsCorruptionAtOpen() throws {
        var options = StorageEngine.Options()
        options.sync = .never
        options.level0CompactionTrigger = 8  // keep both flushes in level 0
        let engine = try StorageEngine(directory: dir.path, options: options, createIfMissing: true, errorIfExists: false)
        for tag in ["one", "two"] {
            for i in 0..<100 {
                var batch = WriteBatch()
                withBytes(String(format: "key%05d", i)) { k in withBytes(tag) { batch.put(k, $0, ttlMillis: 0) } }
                try engine.write(batch)
            }
            try engine.flush()
        }
        try engine.close()
        // The checksum holds, the tables are there, but level 0 is no longer
        // newest first: reads would return the older value.
        var manifest = try XCTUnwrap(try Manifest.read(directory: dir.path, env: PosixEnv()))
        XCTAssertEqual(manifest.levels[0].count, 2)
        manifest.levels[0].reverse()
        try manifest.write(directory: dir.path, env: PosixEnv())
        XCTAssertCorruption(try StorageEngine(directory: dir.path, options: options, createIfMissing: false, errorIfExists: false),
                            naming: dir.path + "/" + Manifest.fileName, "level 0 out of order")
    }

    func testInvariantWalkReportsMisorderedAndOverlappingLevels() throws {
        #if CAIRN_INVARIANTS
        let good = levels([0: [table(1, "a", "z", sequences: 5...9), table(2, "b", "y", sequences: 1...4)],
                           1: [table(3, "a", "c"), table(4, "d", "f")]])
        XCTAssertEqual(Version.invariantViolations(levels: good), [])
        func violations(_ assignments: [Int: [TableFile]]) -> [String] { Version.invariantViolations(levels: levels(assignments)) }
        XCTAssertTrue(violations([1: [table(1, "a", "d"), table(2, "d", "f")]]).contains { $0.contains("overlaps") },
                      "tables of a sorted level may not share a key")
        XCTAssertTrue(violations([3: [table(1, "e", "f"), table(2, "a", "b")]]).contains { $0.contains("overlaps or follows") },
                      "nor be out of order")
        XCTAssertTrue(violations([0: [table(1, "a", "b", sequences: 1...4), table(2, "a", "b", sequences: 5...9)]])
                        .contains { $0.contains("newer table") }, "level 0 is newest first")
        XCTAssertTrue(violations([2: [table(1, "z", "a")]]).contains { $0.contains("smallest key after its largest") })
        XCTAssertTrue(violations([2: [table(1, "a", "b", sequences: 1...1)], 4: [table(1, "c", "d")]]).contains { $0.contains("twice") })
        XCTAssertTrue(Version.invariantViolations(levels: [[], []]).contains { $0.contains("levels") })
        XCTAssertEqual(violations([0: [table(1, "a", "z"), table(2, "a", "z")]]), [], "level-0 tables may overlap")
        #else
        throw XCTSkip("built without -DCAIRN_INVARIANTS (the Makefile's test-swift passes it)")
        #endif
    }
}
