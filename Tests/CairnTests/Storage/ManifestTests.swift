import Foundation
import XCTest
@testable import Cairn

/// The manifest: every field round-trips, a written manifest is read back
/// from its file (replacing the previous one atomically), and a damaged,
/// truncated, padded or otherwise impossible manifest is CORRUPTION naming
/// the file.
final class ManifestTests: XCTestCase {
    private var dir: TemporaryDirectory!
    private var path: String { dir.path + "/" + Manifest.fileName }

    override func setUp() { dir = TemporaryDirectory("manifest") }
    override func tearDown() { dir.remove() }

    private let databaseID = DatabaseID.random()

    private func sample() -> Manifest {
        var manifest = Manifest()
        manifest.databaseID = databaseID
        manifest.generation = 17
        manifest.nextFileNumber = 40
        manifest.lastSequence = 123_456
        manifest.logNumber = 38
        manifest.flushedSequence = 120_000
        manifest.durableSequence = 123_000
        manifest.identityFromFile = 3
        manifest.levels[0] = [Manifest.Table(number: 39, size: 4096, smallestUserKey: Array("a".utf8), largestUserKey: Array("z".utf8),
                                             smallestSequence: 120_001, largestSequence: 123_000, entryCount: 2999)]
        manifest.levels[2] = [
            Manifest.Table(number: 12, size: 1 << 20, smallestUserKey: [], largestUserKey: Array("m".utf8),
                           smallestSequence: 1, largestSequence: 50_000, entryCount: 40_000),
            Manifest.Table(number: 13, size: 2 << 20, smallestUserKey: Array("n".utf8), largestUserKey: [0xFF, 0x00, 0xFF],
                           smallestSequence: 2, largestSequence: 60_000, entryCount: 50_000),
        ]
        manifest.rangeTombstones = [RangeTombstone(start: Array("b".utf8), end: Array("c".utf8), sequence: 99)]
        return manifest
    }

    /// The fields as one comparable string (Manifest is not Equatable).
    private func describe(_ m: Manifest) -> String {
        let tables = m.levels.map { level in
            level.map { "\($0.number)/\($0.size)/\($0.smallestUserKey)/\($0.largestUserKey)/\($0.smallestSequence)/\($0.largestSequence)/\($0.entryCount)" }
        }
        let tombstones = m.rangeTombstones.map { "\($0.start)-\($0.end)@\($0.sequence)" }
        return "\(String(describing: m.databaseID)) g\(m.generation) n\(m.nextFileNumber) s\(m.lastSequence) l\(m.logNumber) "
            + "f\(String(describing: m.flushedSequence)) d\(String(describing: m.durableSequence)) i\(m.identityFromFile) \(tables) \(tombstones)"
    }

    private func decode(_ payload: [UInt8]) throws -> Manifest {
        try payload.withUnsafeBytes { try Manifest.decode($0, path: "test/MANIFEST") }
    }

    private func write(_ manifest: Manifest) throws {
        do {
            try manifest.write(directory: dir.path, env: PosixEnv())
        } catch {
            throw error.error
        }
    }

    private func read() throws -> Manifest? { try Manifest.read(directory: dir.path, env: PosixEnv()) }

    func testEveryFieldRoundTrips() throws {
        let manifest = sample()
        XCTAssertEqual(describe(try decode(manifest.encode())), describe(manifest))
        XCTAssertEqual(Array(manifest.encode().prefix(8)), Array("CAIRNMF2".utf8))
        var unknown = sample()
        unknown.flushedSequence = nil
        unknown.durableSequence = nil
        XCTAssertEqual(describe(try decode(unknown.encode())), describe(unknown), "unknown sequences (after a repair) stay unknown")
    }

    func testAWrittenManifestIsRecoveredFromItsFile() throws {
        XCTAssertNil(try read(), "no manifest yet")
        try write(sample())
        XCTAssertEqual(try read().map(describe), describe(sample()))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"), "the temporary file was renamed into place")
        var next = sample()
        next.generation += 1
        next.levels[0] = []
        try write(next)
        XCTAssertEqual(try read().map(describe), describe(next), "a new manifest replaces the old whole")
    }

    func testEveryDamagedByteIsCorruptionNamingTheFile() throws {
        try write(sample())
        let good = try contents(path)
        for at in 0..<good.count {
            var damaged = good
            damaged[at] ^= 0x20
            try rewrite(path, damaged)
            XCTAssertCorruption(try self.read(), naming: path, "byte \(at)")
        }
    }

    func testEveryTruncationIsCorruptionNotAnOlderState() throws {
        try write(sample())
        let good = try contents(path)
        for length in 0..<good.count {
            try rewrite(path, Array(good.prefix(length)))
            XCTAssertCorruption(try self.read(), naming: path, "\(length) of \(good.count) bytes")
        }
    }

    func testBytesAfterTheRecordAreCorruption() throws {
        try write(sample())
        let good = try contents(path)
        try rewrite(path, good + [1, 2, 3])
        XCTAssertCorruption(try self.read(), naming: path, "garbage after the record")
        var second: [UInt8] = []
        sample().encode().withUnsafeBytes { RecordFormat.frame($0, into: &second) }
        try rewrite(path, good + second)
        XCTAssertCorruption(try self.read(), naming: path, "a second record")
    }

    func testImpossiblePayloadsAreCorruption() throws {
        let good = sample().encode()
        XCTAssertCorruption(try self.decode(Array("CAIRNMF9".utf8) + good.dropFirst(8)), naming: "test/MANIFEST", "unknown magic")
        XCTAssertCorruption(try self.decode(Array(good.prefix(5))), naming: "test/MANIFEST", "shorter than its magic")
        XCTAssertCorruption(try self.decode(good + [0]), naming: "test/MANIFEST", "stray bytes")
        XCTAssertCorruption(try self.decode(Array(good.dropLast())), naming: "test/MANIFEST", "cut short")

        var wrongLevels = sample()
        wrongLevels.levels.append([])
        XCTAssertCorruption(try self.decode(wrongLevels.encode()), naming: "test/MANIFEST", "8 levels")
        var futureTable = sample()
        futureTable.nextFileNumber = 39  // table 39 is listed
        XCTAssertCorruption(try self.decode(futureTable.encode()), naming: "test/MANIFEST", "a table numbered at or past the next file number")
        var hugeSequence = sample()
        hugeSequence.lastSequence = 1 << 56
        XCTAssertCorruption(try self.decode(hugeSequence.encode()), naming: "test/MANIFEST", "a sequence beyond 56 bits")
        var hugeTableSequence = sample()
        hugeTableSequence.levels[2][0].largestSequence = 1 << 56
        XCTAssertCorruption(try self.decode(hugeTableSequence.encode()), naming: "test/MANIFEST")
        var hugeFileNumber = sample()
        hugeFileNumber.nextFileNumber = 10_000_000_000_000_000
        XCTAssertCorruption(try self.decode(hugeFileNumber.encode()), naming: "test/MANIFEST", "a file number no name can hold")
    }

    func testAVersion1ManifestIsStillRead() throws {
        // "CAIRNMF1" | next file | last sequence | log number | levels | per level: count | ... | tombstones
        var payload = Array("CAIRNMF1".utf8)
        for field: UInt64 in [5, 77, 4, 7] { Varint.append(field, to: &payload) }
        Varint.append(1, to: &payload)  // level 0: one table
        Varint.append(3, to: &payload)
        Varint.append(2048, to: &payload)
        payload.appendLengthPrefixed(UnsafeRawBufferPointer(start: nil, count: 0))
        [UInt8]("k".utf8).withUnsafeBytes { payload.appendLengthPrefixed($0) }
        for field: UInt64 in [1, 77, 10] { Varint.append(field, to: &payload) }
        for _ in 1..<Version.levelCount { Varint.append(0, to: &payload) }
        Varint.append(0, to: &payload)  // no range tombstones
        let manifest = try decode(payload)
        XCTAssertNil(manifest.databaseID, "version 1 had no database id")
        XCTAssertNil(manifest.flushedSequence)
        XCTAssertEqual(manifest.identityFromFile, .max, "no table of a version 1 manifest has an identity footer")
        XCTAssertEqual(manifest.nextFileNumber, 5)
        XCTAssertEqual(manifest.lastSequence, 77)
        XCTAssertEqual(manifest.levels[0].map(\.number), [3])
        XCTAssertEqual(manifest.levels[0].first?.largestUserKey, Array("k".utf8))
    }
}
