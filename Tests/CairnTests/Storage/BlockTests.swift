import Foundation
import XCTest
@testable import Cairn

/// Block builder and reader: restart points, prefix compression, seeks to
/// every key and between keys, both directions, and damaged blocks, which
/// must be CORRUPTION and never an out-of-bounds read or a trap.
final class BlockTests: XCTestCase {
    private let compare: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Int = { compareBytes($0, $1) }

    /// `count` distinct keys with long shared prefixes, sorted, and a value for each.
    private func sortedKeys(_ count: Int, seed: UInt64) -> [(key: [UInt8], value: [UInt8])] {
        var random = SeededRandom(seed: seed)
        var keys = Set<[UInt8]>()
        while keys.count < count {
            keys.insert([UInt8]("user/\(random.next() % 50)/item/\(random.next() % 100_000)"))
        }
        return keys.sorted { $0.lexicographicallyPrecedes($1) }.map { key in
            (key, [UInt8](repeating: UInt8(truncatingIfNeeded: key.count), count: Int(random.next() % 40)))
        }
    }

    private func build(_ entries: [(key: [UInt8], value: [UInt8])], restartInterval: Int) -> [UInt8] {
        let builder = BlockBuilder(restartInterval: restartInterval)
        for (key, value) in entries {
            key.withUnsafeBytes { k in value.withUnsafeBytes { builder.add(key: k, value: $0) } }
        }
        let estimate = builder.estimatedSize
        let bytes = builder.finish()
        XCTAssertEqual(bytes.count, estimate, "estimatedSize is the finished size")
        return bytes
    }

    private func makeBlock(_ bytes: [UInt8], what: String = "test block") throws -> Block {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        return try Block(storage: UnsafeMutableRawBufferPointer(rebasing: storage[0..<bytes.count]), what: what)
    }

    /// The restart offsets stored at the end of a finished block.
    private func restarts(_ bytes: [UInt8]) -> [Int] {
        bytes.withUnsafeBytes { raw in
            let count = Int(raw.loadUnaligned(fromByteOffset: raw.count - 4, as: UInt32.self))
            return (0..<count).map { Int(raw.loadUnaligned(fromByteOffset: raw.count - 4 - (count - $0) * 4, as: UInt32.self)) }
        }
    }

    private func walkForward(_ block: Block) throws -> [[UInt8]] {
        var iterator = BlockIterator(block: block)
        var keys: [[UInt8]] = []
        try iterator.seekToFirst()
        while iterator.isValid {
            keys.append(Array(iterator.keyBytes))
            try iterator.advance()
        }
        return keys
    }

    private func assertRestartInvariants(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        #if CAIRN_INVARIANTS
        XCTAssertEqual(bytes.withUnsafeBytes { Block.restartArrayViolations($0) }, [], file: file, line: line)
        #endif
    }

    func testARestartPointEveryIntervalStoresItsKeyWhole() throws {
        let entries = sortedKeys(10, seed: 1)
        let bytes = build(entries, restartInterval: 4)
        let offsets = restarts(bytes)
        XCTAssertEqual(offsets.count, 3, "restarts at entries 0, 4 and 8")
        XCTAssertEqual(offsets[0], 0)
        let block = try makeBlock(bytes)
        XCTAssertEqual(block.restartCount, 3)
        XCTAssertEqual(block.restartsOffset, bytes.count - 4 - 3 * 4)
        // Walk the entries by hand: shared length is 0 exactly at restarts.
        var offset = 0, index = 0
        var sharedAt: [Int: Int] = [:]
        while offset < block.restartsOffset {
            let start = offset
            let shared = try block.varint(&offset), unshared = try block.varint(&offset), valueLength = try block.varint(&offset)
            sharedAt[start] = shared
            XCTAssertEqual(shared + unshared, entries[index].key.count)
            offset += unshared + valueLength
            index += 1
        }
        XCTAssertEqual(index, 10)
        for restart in offsets { XCTAssertEqual(sharedAt[restart], 0, "the entry at restart \(restart) shares nothing") }
        XCTAssertEqual(sharedAt.filter { $0.value > 0 }.count, 10 - 3, "every other entry shares a prefix with the one before")
        assertRestartInvariants(bytes)
    }

    func testPrefixCompressionStoresOnlyWhatDiffersFromThePreviousKey() throws {
        let prefix = String(repeating: "p", count: 100)
        let entries = (0..<64).map { (key: [UInt8](prefix + String(format: "%04d", $0)), value: [UInt8]()) }
        let compressed = build(entries, restartInterval: 16)
        let whole = build(entries, restartInterval: 1)
        XCTAssertLessThan(compressed.count, whole.count / 5, "shared prefixes are stored once per restart interval")
        XCTAssertGreaterThan(whole.count, 64 * 104, "with a restart at every entry each key is whole")
        XCTAssertEqual(try walkForward(try makeBlock(compressed)), entries.map(\.key))
        XCTAssertEqual(try walkForward(try makeBlock(whole)), entries.map(\.key))
    }

    func testSeekFindsEveryKeyAndLandsOnTheNextKeyBetweenKeys() throws {
        let entries = sortedKeys(500, seed: 2)
        for interval in [1, 2, 3, 16, 1000] {
            let block = try makeBlock(build(entries, restartInterval: interval))
            var iterator = BlockIterator(block: block)
            for (index, entry) in entries.enumerated() {
                try entry.key.withUnsafeBytes { try iterator.seek($0, compare: compare) }
                XCTAssertTrue(iterator.isValid)
                XCTAssertEqual(Array(iterator.keyBytes), entry.key, "interval \(interval)")
                XCTAssertEqual(Array(iterator.value), entry.value)
                // Just after the key (key + 0x00): the next key, or nothing after the last.
                try (entry.key + [0]).withUnsafeBytes { try iterator.seek($0, compare: compare) }
                if index + 1 < entries.count {
                    XCTAssertEqual(Array(iterator.keyBytes), entries[index + 1].key, "interval \(interval), between keys")
                } else {
                    XCTAssertFalse(iterator.isValid, "nothing is after the last key")
                }
                // The point-read path agrees.
                let found = try entry.key.withUnsafeBytes { target in
                    try block.find(target, compare: compare) { key, value in (Array(key), Array(value)) }
                }
                XCTAssertEqual(found?.0, entry.key)
                XCTAssertEqual(found?.1, entry.value)
            }
            try [UInt8]("a").withUnsafeBytes { try iterator.seek($0, compare: compare) }
            XCTAssertEqual(Array(iterator.keyBytes), entries[0].key, "a target before every key finds the first")
            try [UInt8]("zzz").withUnsafeBytes { try iterator.seek($0, compare: compare) }
            XCTAssertFalse(iterator.isValid)
            XCTAssertNil(try [UInt8]("zzz").withUnsafeBytes { try block.find($0, compare: compare) { _, _ in true } })
        }
    }

    func testReverseIterationVisitsEveryEntryFromTheLast() throws {
        let entries = sortedKeys(300, seed: 3)
        for interval in [1, 5, 16] {
            let block = try makeBlock(build(entries, restartInterval: interval))
            var iterator = BlockIterator(block: block)
            var keys: [[UInt8]] = []
            try iterator.seekToLast()
            while iterator.isValid {
                keys.append(Array(iterator.keyBytes))
                XCTAssertEqual(Array(iterator.value), entries[entries.count - keys.count].value)
                try iterator.retreat()
            }
            XCTAssertEqual(keys, entries.map(\.key).reversed(), "interval \(interval)")
            // Back and forth from the middle.
            try entries[150].key.withUnsafeBytes { try iterator.seek($0, compare: compare) }
            try iterator.retreat()
            XCTAssertEqual(Array(iterator.keyBytes), entries[149].key)
            try iterator.advance()
            XCTAssertEqual(Array(iterator.keyBytes), entries[150].key)
            try iterator.seekToFirst()
            try iterator.retreat()
            XCTAssertFalse(iterator.isValid, "nothing is before the first entry")
        }
    }

    func testAnEmptyBlockHasOneRestartAndNoEntries() throws {
        let bytes = BlockBuilder().finish()
        XCTAssertEqual(bytes, [0, 0, 0, 0, 1, 0, 0, 0], "one restart at 0, then the count")
        let block = try makeBlock(bytes)
        var iterator = BlockIterator(block: block)
        try iterator.seekToFirst()
        XCTAssertFalse(iterator.isValid)
        try iterator.seekToLast()
        XCTAssertFalse(iterator.isValid)
        try [UInt8]("k").withUnsafeBytes { try iterator.seek($0, compare: compare) }
        XCTAssertFalse(iterator.isValid)
        assertRestartInvariants(bytes)
    }

    func testResetStartsAFreshBlock() throws {
        let builder = BlockBuilder(restartInterval: 2)
        for key in ["a", "b", "c"] { [UInt8](key).withUnsafeBytes { builder.add(key: $0, value: $0) } }
        _ = builder.finish()
        builder.reset()
        XCTAssertTrue(builder.isEmpty)
        // A key smaller than the last block's may start the next one.
        for key in ["a", "ab"] { [UInt8](key).withUnsafeBytes { builder.add(key: $0, value: $0) } }
        XCTAssertEqual(builder.lastKeyAdded, [UInt8]("ab"))
        let bytes = builder.finish()
        XCTAssertEqual(try walkForward(try makeBlock(bytes)), [[UInt8]("a"), [UInt8]("ab")])
        XCTAssertEqual(restarts(bytes), [0])
    }

    func testStructurallyDamagedBlocksAreCorruptionNamingTheirSource() throws {
        let good = build(sortedKeys(40, seed: 4), restartInterval: 4)
        XCTAssertCorruption(try self.makeBlock([1, 0]), naming: "test block", "shorter than its restart count")
        XCTAssertCorruption(try self.makeBlock([0, 0, 0, 0]), naming: "test block", "no restarts")
        XCTAssertCorruption(try self.makeBlock([0, 0, 0, 0, 9, 0, 0, 0]), naming: "test block", "more restarts than fit")

        // A restart pointing past the entries.
        var outside = good
        let count = restarts(good).count
        let last = good.count - 8
        outside[last] = 0xFF; outside[last + 1] = 0xFF
        let outsideBlock = try makeBlock(outside, what: "outside.sst")
        var iterator = BlockIterator(block: outsideBlock)
        XCTAssertCorruption(try [UInt8]("zzzz").withUnsafeBytes { try iterator.seek($0, compare: self.compare) }, naming: "outside.sst")
        XCTAssertCorruption(try [UInt8]("zzzz").withUnsafeBytes { try outsideBlock.find($0, compare: self.compare) { _, _ in () } },
                            naming: "outside.sst")
        XCTAssertGreaterThan(count, 2)

        // An entry whose lengths run past the entries.
        var overlong = good
        // The first entry's unshared length (after its one-byte shared
        // length 0) becomes a three-byte varint of about two million.
        overlong[1] = 0xFF; overlong[2] = 0xFF; overlong[3] = 0x7F
        var overlongIterator = BlockIterator(block: try makeBlock(overlong, what: "overlong.sst"))
        XCTAssertCorruption(try overlongIterator.seekToFirst(), naming: "overlong.sst")

        // A restart entry claiming a shared prefix, which binary search cannot use.
        var shared = good
        let secondRestart = restarts(good)[1]
        shared[secondRestart] = 1
        var sharedIterator = BlockIterator(block: try makeBlock(shared, what: "shared.sst"))
        // A target before every key makes the binary search read restart 1.
        XCTAssertCorruption(try [UInt8]("a").withUnsafeBytes { try sharedIterator.seek($0, compare: self.compare) }, naming: "shared.sst")

        // A varint that never ends.
        var endless = good
        for i in 0..<min(12, endless.count - 8) { endless[i] = 0xFF }
        var endlessIterator = BlockIterator(block: try makeBlock(endless, what: "endless.sst"))
        XCTAssertCorruption(try endlessIterator.seekToFirst(), naming: "endless.sst")
    }

    func testRandomDamageIsCorruptionAndNeverACrash() throws {
        let entries = sortedKeys(60, seed: 5)
        let good = build(entries, restartInterval: 4)
        var random = SeededRandom(seed: 6)
        var failures = 0
        for round in 0..<3000 {
            var damaged = good
            for _ in 0..<(1 + random.next() % 4) {
                damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 5 == 0 { damaged.removeFirst(Int(random.next() % UInt64(damaged.count))) }
            do {
                let block = try makeBlock(damaged)
                var iterator = BlockIterator(block: block)
                try iterator.seekToFirst()
                var steps = 0
                while iterator.isValid && steps < 1000 { try iterator.advance(); steps += 1 }
                try iterator.seekToLast()
                steps = 0
                while iterator.isValid && steps < 1000 { try iterator.retreat(); steps += 1 }
                for probe in [entries[0].key, entries[30].key, [UInt8]("zzz")] {
                    try probe.withUnsafeBytes { target in
                        try iterator.seek(target, compare: compare)
                        _ = try block.find(target, compare: compare) { key, value in key.count + value.count }
                    }
                }
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption, "round \(round): \(error)")
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, 100, "most damage is noticed")
    }

    func testRestartInvariantWalkReportsBadRestartArrays() throws {
        #if CAIRN_INVARIANTS
        let good = build(sortedKeys(40, seed: 7), restartInterval: 4)
        XCTAssertEqual(good.withUnsafeBytes { Block.restartArrayViolations($0) }, [])
        XCTAssertEqual(try makeBlock(good).restartArrayViolations(), [])
        func violations(_ edit: (inout [UInt8]) -> Void) -> [String] {
            var bytes = good
            edit(&bytes)
            return bytes.withUnsafeBytes { Block.restartArrayViolations($0) }
        }
        let count = restarts(good).count
        let array = good.count - 4 - count * 4
        // Swap the second and third restarts: no longer increasing.
        let swapped = violations { bytes in
            for i in 0..<4 { bytes.swapAt(array + 4 + i, array + 8 + i) }
        }
        XCTAssertTrue(swapped.contains { $0.contains("does not follow") }, "\(swapped)")
        let outside = violations { bytes in bytes[array + 4] = 0xFF; bytes[array + 5] = 0xFF }
        XCTAssertTrue(outside.contains { $0.contains("outside the entries") }, "\(outside)")
        let notZero = violations { bytes in bytes[array] = 1 }
        XCTAssertTrue(notZero.contains { $0.contains("not 0") }, "\(notZero)")
        let tooMany = violations { bytes in bytes[bytes.count - 1] = 0x7F }  // the count's high byte
        XCTAssertTrue(tooMany.contains { $0.contains("does not fit") }, "\(tooMany)")
        #else
        throw XCTSkip("built without -DCAIRN_INVARIANTS (the Makefile's test-swift passes it)")
        #endif
    }
}
