import Foundation
import XCTest
@testable import Cairn

/// Table builder and reader: entries round-trip in both directions with
/// every compression, the index points at each data block's last key, the
/// bloom filter answers for every key, the footer carries the identity the
/// manifest checks, and a truncated, damaged, foreign or swapped file is
/// CORRUPTION naming the file.
final class TableTests: XCTestCase {
    private var dir: TemporaryDirectory!

    override func setUp() { dir = TemporaryDirectory("table") }
    override func tearDown() { dir.remove() }

    /// Versions of 600 keys (some with several versions, some deleted),
    /// with values long enough for many small blocks.
    private func sampleEntries(seed: UInt64 = 1) -> [TestEntry] {
        var random = SeededRandom(seed: seed)
        var entries: [TestEntry] = []
        var sequence: UInt64 = 0
        for k in 0..<600 {
            for _ in 0..<(1 + random.next() % 3) {
                sequence += 1
                let delete = random.next() % 7 == 0
                entries.append(TestEntry(key: String(format: "key%05d", k * 3), sequence: sequence,
                                         kind: delete ? InternalKey.kindTombstone : InternalKey.kindValue,
                                         value: delete ? "" : "value-\(sequence)-" + String(repeating: "x", count: Int(random.next() % 60))))
            }
        }
        return entries
    }

    private func smallBlocks(_ compression: CompressionKind = .none) -> TableBuilder.Options {
        var options = TableBuilder.Options()
        options.blockSize = 512
        options.compression = compression
        return options
    }

    private func all(_ iterator: TableIterator, reverse: Bool = false) throws -> [TestEntry] {
        var out: [TestEntry] = []
        if reverse {
            try iterator.seekToLast()
            while iterator.isValid { out.append(iterator.entry); try iterator.retreat() }
        } else {
            try iterator.seekToFirst()
            while iterator.isValid { out.append(iterator.entry); try iterator.advance() }
        }
        return out
    }

    func testEntriesRoundTripInBothDirectionsWithEveryCompression() throws {
        let entries = sampleEntries()
        let expected = entries.sorted(by: TestEntry.ordered)
        for (number, compression) in [(1, CompressionKind.none), (2, .zstd), (3, .lz4)] as [(UInt64, CompressionKind)] {
            let table = try buildTable(entries, in: dir.path, number: number, options: smallBlocks(compression))
            let reader = try table.open()
            XCTAssertEqual(reader.entryCount, UInt64(entries.count))
            XCTAssertEqual(try all(TableIterator(reader: reader)), expected, "\(compression)")
            XCTAssertEqual(try all(TableIterator(reader: reader), reverse: true), expected.reversed(), "\(compression)")
        }
        let plain = try XCTUnwrap(PosixEnv().size(of: dir.path + "/" + TableFormat.fileName(1)))
        let zstd = try XCTUnwrap(PosixEnv().size(of: dir.path + "/" + TableFormat.fileName(2)))
        XCTAssertLessThan(zstd, plain, "compression shrinks these repetitive blocks")
    }

    func testIndexHasOneEntryPerDataBlockKeyedByItsLastKey() throws {
        let entries = sampleEntries()
        let table = try buildTable(entries, in: dir.path, number: 1, options: smallBlocks())
        let reader = try table.open()
        var index = reader.makeIndexIterator()
        try index.seekToFirst()
        var blocks = 0
        var nextOffset: UInt64 = 0
        var seen: [TestEntry] = []
        while index.isValid {
            let handle = try TableFormat.BlockHandle.decode(index.value, what: "index")
            XCTAssertEqual(handle.offset, nextOffset, "data blocks are back to back, each with its 5-byte trailer")
            nextOffset = handle.offset + handle.size + UInt64(TableFormat.trailerSize)
            let block = try reader.dataBlock(handle)
            var data = BlockIterator(block: block)
            try data.seekToLast()
            XCTAssertEqual(Array(data.keyBytes), Array(index.keyBytes), "block \(blocks) is indexed by its last key")
            try data.seekToFirst()
            while data.isValid {
                let key = data.keyBytes
                seen.append(TestEntry(key: String(decoding: InternalKey.userKey(key), as: UTF8.self),
                                      sequence: InternalKey.trailer(key) >> 8, kind: UInt8(truncatingIfNeeded: InternalKey.trailer(key)),
                                      value: String(decoding: data.value, as: UTF8.self)))
                try data.advance()
            }
            blocks += 1
            try index.advance()
        }
        XCTAssertGreaterThan(blocks, 20, "512-byte blocks")
        XCTAssertEqual(seen, entries.sorted(by: TestEntry.ordered), "the index reaches every entry once")
    }

    func testPointReadsFindTheNewestVersionAtASnapshot() throws {
        let entries = sampleEntries()
        let reader = try buildTable(entries, in: dir.path, number: 1, options: smallBlocks()).open()
        func get(_ key: String, at snapshot: UInt64) throws -> TableEntry? {
            var lookup: [UInt8] = []
            withBytes(key) { InternalKey.append(userKey: $0, sequence: snapshot, kind: 0xFF, to: &lookup) }
            return try withBytes(key) { user in
                try lookup.withUnsafeBytes { try reader.get(userKey: user, hash: Hash64.hash(user), lookupKey: $0) }
            }
        }
        let byKey = Dictionary(grouping: entries, by: \.key)
        for (key, versions) in byKey {
            for version in versions {
                // At the version's own sequence it is the newest visible one.
                let found = try XCTUnwrap(try get(key, at: version.sequence), "\(version)")
                XCTAssertEqual(found.sequence, version.sequence)
                XCTAssertEqual(found.isTombstone, version.kind == InternalKey.kindTombstone)
                XCTAssertEqual(String(decoding: found.value, as: UTF8.self), version.value)
            }
            let newest = versions.max { $0.sequence < $1.sequence }!
            XCTAssertEqual(try get(key, at: .max >> 8)?.sequence, newest.sequence)
            let oldest = versions.min { $0.sequence < $1.sequence }!
            XCTAssertNil(try get(key, at: oldest.sequence - 1), "\(key) before its first version")
        }
        XCTAssertNil(try get("key00001", at: .max >> 8), "a key between keys is absent")
        XCTAssertNil(try get("zzz", at: .max >> 8), "a key after every key is absent")
    }

    func testSeeksLandOnTheFirstVersionOfTheNextKeyAcrossBlocks() throws {
        let entries = sampleEntries()
        let expected = entries.sorted(by: TestEntry.ordered)
        let iterator = TableIterator(reader: try buildTable(entries, in: dir.path, number: 1, options: smallBlocks()).open())
        for k in stride(from: 0, to: 1800, by: 7) {
            let target = String(format: "key%05d", k)
            try withBytes(target) { try iterator.seek($0) }
            XCTAssertEqual(iterator.isValid ? iterator.entry : nil, expected.first { !$0.key.utf8.lexicographicallyPrecedes(target.utf8) }, target)
            try withBytes(target) { try iterator.seekBefore($0) }
            XCTAssertEqual(iterator.isValid ? iterator.entry : nil, expected.last { $0.key.utf8.lexicographicallyPrecedes(target.utf8) }, target)
        }
    }

    func testTheFilterAnswersYesForEveryKeyAndNoForMostOthers() throws {
        let entries = sampleEntries()
        let reader = try buildTable(entries, in: dir.path, number: 1, options: smallBlocks()).open()
        for entry in entries { XCTAssertTrue(withBytes(entry.key) { reader.mayContain(userKeyHash: Hash64.hash($0)) }, entry.key) }
        var falsePositives = 0
        for k in 0..<10_000 where withBytes("absent\(k)", { reader.mayContain(userKeyHash: Hash64.hash($0)) }) { falsePositives += 1 }
        XCTAssertLessThan(falsePositives, 300, "about 1% at 10 bits a key")

        var noFilter = smallBlocks()
        noFilter.bloomBitsPerKey = 0
        let unfiltered = try buildTable(entries, in: dir.path, number: 2, options: noFilter).open()
        XCTAssertTrue(withBytes("absent") { unfiltered.mayContain(userKeyHash: Hash64.hash($0)) }, "no filter rules nothing out")
    }

    func testTheFooterCarriesTheIdentityAndCountsTheManifestChecks() throws {
        let entries = sampleEntries()
        let table = try buildTable(entries, in: dir.path, number: 42, options: smallBlocks())
        let footer = try XCTUnwrap(try TableReader.footer(at: table.path, env: PosixEnv()))
        XCTAssertEqual(footer.size, TableFormat.footerSize)
        XCTAssertEqual(footer.entryCount, UInt64(entries.count))
        XCTAssertEqual(footer.smallestSequence, 1)
        let identity = try XCTUnwrap(footer.identity)
        XCTAssertEqual(identity.number, 42)
        XCTAssertEqual(identity.databaseID, table.databaseID)
        XCTAssertEqual(identity.generation, 1)
        XCTAssertEqual(identity.propertiesChecksum, table.expectation.propertiesChecksum,
                       "the footer's checksum is the one the manifest's record of the table gives")
        let bytes = try contents(table.path)
        XCTAssertEqual(Array(bytes.suffix(8)), [0x41, 0x49, 0x52, 0x4E, 0x45, 0x53, 0x53, 0x54], "magic: AIRNESST")
        XCTAssertEqual(Array(bytes[(bytes.count - 16)..<(bytes.count - 12)]), [2, 0, 0, 0], "format version 2")
        XCTAssertEqual(TableFormat.number(fromFileName: TableFormat.fileName(42)), 42)
        XCTAssertNil(TableFormat.number(fromFileName: "42.sst"))
    }

    func testAnEmptyTableIsWellFormed() throws {
        let table = try buildTable([], in: dir.path, number: 1)
        let reader = try table.open()
        XCTAssertEqual(reader.entryCount, 0)
        XCTAssertEqual(try all(TableIterator(reader: reader)), [])
        XCTAssertEqual(try all(TableIterator(reader: reader), reverse: true), [])
    }

    func testATruncatedTableIsCorruptionNamingTheFile() throws {
        let table = try buildTable(sampleEntries(), in: dir.path, number: 1, options: smallBlocks())
        let bytes = try contents(table.path)
        try rewrite(table.path, Array(bytes.dropLast(1)))
        XCTAssertCorruption(try table.open(), naming: table.path, "one byte short of what the manifest recorded")
        XCTAssertCorruption(try TableReader(path: table.path, number: 1, env: PosixEnv(), cache: nil, stats: nil, expected: nil),
                            naming: table.path, "without the manifest's size: the footer's magic is gone")
        try rewrite(table.path, Array(bytes.prefix(40)))
        XCTAssertCorruption(try TableReader(path: table.path, number: 1, env: PosixEnv(), cache: nil, stats: nil, expected: nil),
                            naming: table.path, "too short to be a table")
        XCTAssertNil(try TableReader.footer(at: table.path, env: PosixEnv()), "an unfinished table has no footer")
    }

    func testADamagedDataBlockFailsItsChecksumNamingTheFile() throws {
        let table = try buildTable(sampleEntries(), in: dir.path, number: 1, options: smallBlocks())
        var bytes = try contents(table.path)
        bytes[10] ^= 0x01  // inside the first data block
        try rewrite(table.path, bytes)
        // Through pread and through the memory map alike.
        for mapped in [false, true] {
            let reader = try table.open(mapped: mapped)  // the footer, index and filter are intact
            XCTAssertCorruption(try TableIterator(reader: reader).seekToFirst(), naming: table.path)
            XCTAssertThrowsError(try TableIterator(reader: reader).seekToFirst()) { error in
                XCTAssertTrue((error as? CairnError)?.message.contains("checksum") ?? false, "\(error)")
            }
            XCTAssertNoThrow(try TableIterator(reader: reader).seekToLast(), "other blocks still read")
        }
    }

    func testADamagedFooterIndexOrFilterIsCorruptionNamingTheFile() throws {
        let table = try buildTable(sampleEntries(), in: dir.path, number: 1, options: smallBlocks())
        let bytes = try contents(table.path)
        let footerStart = bytes.count - TableFormat.footerSize
        func opening(_ edit: (inout [UInt8]) -> Void, _ why: String) throws {
            var damaged = bytes
            edit(&damaged)
            try rewrite(table.path, damaged)
            XCTAssertCorruption(try table.open(), naming: table.path, why)
        }
        try opening({ $0[$0.count - 1] ^= 0xFF }, "bad magic")
        try opening({ $0[$0.count - 16] = 9 }, "unknown format version")
        try opening({ $0[footerStart + 8] = 0xFF; $0[footerStart + 9] = 0xFF; $0[footerStart + 10] = 0xFF }, "index handle outside the file")
        try opening({ $0[footerStart - 10] ^= 0x40 }, "index block fails its checksum")
        try opening({ $0[footerStart + 17] ^= 0x01 }, "filter handle moved: its checksum fails")
    }

    func testAForeignSwappedOrStaleTableIsRefused() throws {
        let table = try buildTable(sampleEntries(), in: dir.path, number: 7, options: smallBlocks())
        var foreign = table.expectation
        foreign = TableReader.Expectation(size: foreign.size, databaseID: DatabaseID.random(),
                                          propertiesChecksum: foreign.propertiesChecksum, requiresIdentity: true)
        XCTAssertCorruption(try table.open(expected: foreign), naming: table.path, "another database's table")
        XCTAssertCorruption(try TableReader(path: table.path, number: 8, env: PosixEnv(), cache: nil, stats: nil,
                                            expected: table.expectation), naming: table.path, "table 7 under the name of 8")
        var stale = table.expectation
        stale.propertiesChecksum ^= 1
        XCTAssertCorruption(try table.open(expected: stale), naming: table.path, "properties differ from the manifest's")
        XCTAssertNoThrow(try table.open(), "the table the manifest describes opens")
    }

    func testEverySingleByteDamageIsCorruptionOrHarmlessNeverWrongData() throws {
        let entries = sampleEntries(seed: 9).prefix(200)
        let table = try buildTable(Array(entries), in: dir.path, number: 1, options: smallBlocks(.lz4))
        let expected = entries.sorted(by: TestEntry.ordered)
        let good = try contents(table.path)
        var random = SeededRandom(seed: 10)
        var noticed = 0
        for round in 0..<400 {
            var damaged = good
            let at = Int(random.next() % UInt64(good.count))
            damaged[at] ^= UInt8(1 + random.next() % 255)
            try rewrite(table.path, damaged)
            do {
                // Odd rounds read through the memory map, even ones with pread.
                let read = try all(TableIterator(reader: try table.open(mapped: round % 2 == 1)))
                // Fields the reader does not rely on (the generation, the
                // footer's entry count) may change without harm.
                XCTAssertEqual(read, expected, "round \(round): byte \(at) of \(good.count) changed the data")
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption, "round \(round), byte \(at): \(error)")
                XCTAssertTrue(error.message.contains(table.path), "round \(round): \(error.message)")
                noticed += 1
            }
        }
        XCTAssertGreaterThan(noticed, 350, "nearly every byte is covered by a checksum")
    }
}
