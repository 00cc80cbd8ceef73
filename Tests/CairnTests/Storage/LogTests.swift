import Foundation
import XCTest
@testable import Cairn

/// The write-ahead log writer and the record reader: records of every size
/// come back whole and in order, a torn tail is reported and cut (never
/// turned into a record), damage followed by intact records is CORRUPTION
/// naming the file, and a failed append leaves the segment as it was.
///
/// Unlike LevelDB's log, a Cairn segment is not split into 32 KiB blocks:
/// each record is one frame (RecordFormat), written with one call, however
/// large. The tests that LevelDB runs across block boundaries therefore run
/// here on records far larger than 32 KiB and on frames that straddle every
/// multiple of it.
final class LogTests: XCTestCase {
    private var dir: TemporaryDirectory!
    private var path: String { dir.path + "/" + StorageEngine.walName(7) }
    private let databaseID = DatabaseID.random()

    override func setUp() { dir = TemporaryDirectory("log") }
    override func tearDown() { dir.remove() }

    private func header(_ number: UInt64 = 7) -> WALFormat.Header {
        WALFormat.Header(databaseID: databaseID, number: number, generation: 3)
    }

    /// A payload of `size` bytes that differs per record.
    private func payload(_ index: Int, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    /// Writes a segment holding the header and `payloads`; returns the offset where each record ends.
    @discardableResult
    private func writeSegment(_ payloads: [[UInt8]], env: PosixEnv = PosixEnv()) throws -> [Int] {
        let writer = try WALWriter(file: try env.create(path), number: 7, header: header())
        defer { writer.close() }
        var ends = [writer.size]
        for payload in payloads {
            try payload.withUnsafeBytes { try writer.append($0, sync: false) }
            ends.append(writer.size)
        }
        return ends
    }

    /// The records of the file at `path` (header included) and the outcome.
    private func readSegment(_ bytes: [UInt8]? = nil, salvage: Bool = false) throws -> ([[UInt8]], RecordReader.Outcome) {
        let bytes = try bytes ?? contents(path)
        var records: [[UInt8]] = []
        let outcome = try bytes.withUnsafeBytes { raw in
            try RecordReader(path: path).forEachRecord(in: raw, salvage: salvage) { records.append(Array($0)) }
        }
        return (records, outcome)
    }

    func testRecordsOfEverySizeComeBackWholeAndInOrder() throws {
        let sizes = [0, 1, 7, 8, 9, 100, 32_767, 32_768, 32_769, 100_000, 3 * 32_768 - 8, (1 << 20) + 5, 17]
        let payloads = sizes.enumerated().map { payload($0, size: $1) }
        let ends = try writeSegment(payloads)
        let (records, outcome) = try readSegment()
        XCTAssertEqual(records.count, payloads.count + 1)
        XCTAssertEqual(Array(records.dropFirst()), payloads)
        XCTAssertFalse(outcome.hadTornTail)
        XCTAssertEqual(outcome.validLength, ends.last)
        XCTAssertEqual(ends.last, try contents(path).count)
        XCTAssertTrue(zip(ends, ends.dropFirst()).contains { $0 / 32_768 != $1 / 32_768 }, "frames straddle 32 KiB boundaries")
        // The first record is the segment's header.
        let first = try records[0].withUnsafeBytes { try WALFormat.classify($0, what: path) }
        guard case .header(let decoded) = first else { return XCTFail("\(first) is not a header") }
        XCTAssertEqual(decoded, header())
    }

    /// The largest record a commit writes (the largest batch, behind the
    /// group's sequence and count) is within the reader's limit and reads
    /// back whole: the writers' limit (WriteBatch.maxEncodedSize) keeps
    /// every acknowledged batch readable.
    func testTheLargestRecordACommitWritesReadsBack() throws {
        let largest = WriteBatch.maxEncodedSize + 8 + Varint.maxLength
        XCTAssertLessThanOrEqual(largest, RecordFormat.maxPayload)
        var record = RecordFormat.emptyHeader
        record.append(contentsOf: repeatElement(0x5A, count: largest))
        record.withUnsafeMutableBytes { RecordFormat.fillHeader(of: $0) }
        var sizes: [Int] = []
        let outcome = try record.withUnsafeBytes { raw in
            try RecordReader(path: path).forEachRecord(in: raw) { sizes.append($0.count) }
        }
        XCTAssertEqual(sizes, [largest])
        XCTAssertFalse(outcome.hadTornTail)
    }

    func testEveryCutInsideTheLastRecordIsATornTailAndEarlierRecordsStay() throws {
        let payloads = (0..<5).map { payload($0, size: 40_000) }
        let ends = try writeSegment(payloads)
        let full = try contents(path)
        for cut in stride(from: ends[4] + 1, to: ends[5], by: 997) + [ends[5] - 1, ends[4] + 7, ends[4] + 8] {
            let (records, outcome) = try readSegment(Array(full.prefix(cut)))
            XCTAssertEqual(Array(records.dropFirst()), Array(payloads.prefix(4)), "cut at \(cut)")
            XCTAssertTrue(outcome.hadTornTail, "cut at \(cut)")
            XCTAssertEqual(outcome.validLength, ends[4], "the log is good up to the last whole record")
            XCTAssertFalse(outcome.tailFailedChecksum, "a cut record is short, not damaged")
        }
        // A cut exactly between records leaves no tail at all.
        let (records, outcome) = try readSegment(Array(full.prefix(ends[3])))
        XCTAssertEqual(records.count, 4)
        XCTAssertFalse(outcome.hadTornTail)
    }

    func testAWholeLastRecordFailingItsChecksumIsReportedAsSuch() throws {
        let payloads = (0..<3).map { payload($0, size: 500) }
        let ends = try writeSegment(payloads)
        var damaged = try contents(path)
        damaged[ends[2] + 100] ^= 0x01
        let (records, outcome) = try readSegment(damaged)
        XCTAssertEqual(Array(records.dropFirst()), Array(payloads.prefix(2)), "the damaged record is not invented")
        XCTAssertTrue(outcome.hadTornTail)
        XCTAssertTrue(outcome.tailFailedChecksum, "paranoid recovery refuses exactly this case")
        XCTAssertEqual(outcome.validLength, ends[2])
    }

    func testAZeroFilledTailIsNotARecord() throws {
        let payloads = (0..<3).map { payload($0, size: 64) }
        let ends = try writeSegment(payloads)
        let (records, outcome) = try readSegment(try contents(path) + Array(repeating: 0, count: 4096))
        XCTAssertEqual(Array(records.dropFirst()), payloads)
        XCTAssertTrue(outcome.hadTornTail, "preallocated space is cut off")
        XCTAssertTrue(outcome.endsInZeros)
        XCTAssertFalse(outcome.tailFailedChecksum)
        XCTAssertEqual(outcome.validLength, ends.last)
    }

    /// The writer allocates the segment's space ahead of its records
    /// (WALWriter), so while it is open, or after a crash, the file is
    /// longer than its records and ends in zeros: every record reads back,
    /// the zeros end the records with no torn write reported, writes land
    /// right after the last record (not after the zeros), and closing
    /// cuts the file back to its records.
    func testASegmentAllocatedAheadReadsBackWholeAndIsCutToItsRecordsAtClose() throws {
        let writer = try WALWriter(file: try PosixEnv().create(path), number: 7, header: header())
        var payloads: [[UInt8]] = []
        for index in 0..<40 {
            // Past the first allocation (1 MiB), so the file is extended once more.
            let record = payload(index, size: index == 20 ? (1 << 20) : 100 + index)
            try record.withUnsafeBytes { try writer.append($0, sync: index % 7 == 0) }
            payloads.append(record)
        }
        let open = try contents(path)
        XCTAssertGreaterThan(open.count, writer.size, "the space is allocated ahead")
        XCTAssertTrue(open[writer.size...].allSatisfy { $0 == 0 })
        let (records, outcome) = try readSegment(open)
        XCTAssertEqual(Array(records.dropFirst()), payloads)
        XCTAssertTrue(outcome.endsInZeros)
        XCTAssertFalse(outcome.tailFailedChecksum)
        XCTAssertEqual(outcome.validLength, writer.size)

        let size = writer.size
        writer.close()
        let closed = try contents(path)
        XCTAssertEqual(closed.count, size, "closing cuts the zeros off")
        let (again, cut) = try readSegment(closed)
        XCTAssertEqual(Array(again.dropFirst()), payloads)
        XCTAssertFalse(cut.hadTornTail)
    }

    /// A write cut short in front of the allocated zeros is a torn tail as
    /// before (not the clean end the zeros alone would be), and zeros after
    /// damage do not hide an intact record behind them from the check that
    /// makes damage in the middle CORRUPTION.
    func testATornWriteBeforeTheZerosIsStillATornTail() throws {
        let payloads = (0..<3).map { payload($0, size: 200) }
        let ends = try writeSegment(payloads)
        var bytes = try contents(path)
        bytes.removeLast(50)  // the last record cut short...
        bytes += Array(repeating: 0, count: 1 << 16)  // ...in front of space allocated ahead
        let (records, outcome) = try readSegment(bytes)
        XCTAssertEqual(Array(records.dropFirst()), Array(payloads.prefix(2)))
        XCTAssertTrue(outcome.hadTornTail)
        XCTAssertFalse(outcome.endsInZeros)
        XCTAssertEqual(outcome.validLength, ends[2])

        var damaged = try contents(path)
        damaged[ends[1] + 12] ^= 0xFF  // the second record's payload
        damaged += Array(repeating: 0, count: 1 << 16)
        XCTAssertThrowsError(try readSegment(damaged)) { error in
            XCTAssertEqual((error as? CairnError)?.code, .corruption)
        }
    }

    func testDamageFollowedByIntactRecordsIsCorruptionNamingTheFile() throws {
        let payloads = (0..<5).map { payload($0, size: 300) }
        let ends = try writeSegment(payloads)
        for at in [ends[1] + 2, ends[1] + 50, ends[2] - 1] {
            var damaged = try contents(path)
            damaged[at] ^= 0x10
            XCTAssertCorruption(try self.readSegment(damaged), naming: path, "damage at byte \(at)")
            // Repair's salvage mode keeps what came before the damage.
            let (records, outcome) = try readSegment(damaged, salvage: true)
            XCTAssertEqual(Array(records.dropFirst()), [payloads[0]])
            XCTAssertTrue(outcome.damagedInTheMiddle)
            XCTAssertEqual(outcome.validLength, ends[1])
        }
    }

    func testAFailedAppendLeavesTheSegmentAsItWas() throws {
        let faults = FaultInjection()
        let env = FaultInjectionEnv(faults: faults)
        let writer = try WALWriter(file: try env.create(path), number: 7, header: header())
        defer { writer.close() }
        try payload(0, size: 100).withUnsafeBytes { try writer.append($0, sync: true) }
        let recorded = writer.size
        let before = Array(try contents(path).prefix(recorded))
        // The records as they were, and nothing but zeros (space allocated
        // ahead, WALWriter) after them.
        func unchanged() throws -> Bool {
            let now = try contents(path)
            return Array(now.prefix(recorded)) == before && now.dropFirst(recorded).allSatisfy { $0 == 0 }
        }

        faults.setSyncFailures(true)
        XCTAssertThrowsError(try payload(1, size: 5000).withUnsafeBytes { try writer.append($0, sync: true) })
        XCTAssertTrue(try unchanged(), "the written but unsynced record is taken back")
        XCTAssertEqual(writer.size, recorded)
        faults.setSyncFailures(false)

        faults.setDiskSpace(10)
        XCTAssertEqual(status { try self.payload(2, size: 5000).withUnsafeBytes { try writer.append($0, sync: false) } }, .noSpace)
        XCTAssertTrue(try unchanged())
        faults.setDiskSpace(nil)

        try payload(3, size: 100).withUnsafeBytes { try writer.append($0, sync: true) }
        let (records, outcome) = try readSegment()
        XCTAssertEqual(Array(records.dropFirst()), [payload(0, size: 100), payload(3, size: 100)], "no half record in between")
        XCTAssertTrue(!outcome.hadTornTail || outcome.endsInZeros, "nothing cut short")
        XCTAssertEqual(outcome.validLength, writer.size)
    }

    func testSegmentHeaderAndNextSegmentRecordsAreToldFromBatches() throws {
        let writer = try WALWriter(file: try PosixEnv().create(path), number: 7, header: header())
        var batch: [UInt8] = []
        batch.appendUInt64LE(1)  // first sequence: its last byte is 0, no magic ends so
        Varint.append(0, to: &batch)
        try batch.withUnsafeBytes { try writer.append($0, sync: false) }
        try writer.appendNextSegment(9)
        writer.close()
        let kinds = try readSegment().0.map { record in try record.withUnsafeBytes { try WALFormat.classify($0, what: path) } }
        XCTAssertEqual(kinds.count, 3)
        if case .header(let decoded) = kinds[0] { XCTAssertEqual(decoded, header()) } else { XCTFail("\(kinds[0])") }
        if case .batch = kinds[1] {} else { XCTFail("\(kinds[1])") }
        if case .nextSegment(let next) = kinds[2] { XCTAssertEqual(next, 9) } else { XCTFail("\(kinds[2])") }
        // A header record with bytes after it is CORRUPTION.
        let padded = header().encode() + [0]
        XCTAssertCorruption(try padded.withUnsafeBytes { try WALFormat.classify($0, what: self.path) }, naming: path)
        let shortNext = Array(WALFormat.nextSegmentRecord(9).dropLast())
        XCTAssertCorruption(try shortNext.withUnsafeBytes { try WALFormat.classify($0, what: self.path) }, naming: path)
    }

    func testReopeningAnExistingSegmentAppendsWithoutASecondHeader() throws {
        try writeSegment([payload(0, size: 10)])
        let fd = open(path, O_WRONLY | O_APPEND)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let writer = try WALWriter(file: FileHandle(path: path, descriptor: fd), number: 7, header: header())
        try payload(1, size: 10).withUnsafeBytes { try writer.append($0, sync: false) }
        writer.close()
        let (records, _) = try readSegment()
        XCTAssertEqual(records.count, 3, "one header, two records")
        XCTAssertEqual(Array(records.dropFirst()), [payload(0, size: 10), payload(1, size: 10)])
    }
}
