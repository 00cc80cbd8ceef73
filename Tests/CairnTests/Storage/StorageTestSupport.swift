import Foundation
import XCTest
@testable import Cairn

// Helpers shared by the storage unit tests (Tests/CairnTests/Storage):
// keys as strings, memtables and tables built from lists of entries, and
// the one assertion every damaged-file test makes.

/// One version of a key, as the tests write them: kind 1 value, 2 tombstone.
struct TestEntry: Equatable, CustomStringConvertible {
    var key: String
    var sequence: UInt64
    var kind: UInt8 = InternalKey.kindValue
    var value: String = ""

    var description: String { "\(key)@\(sequence)\(kind == InternalKey.kindTombstone ? " (deleted)" : "=\(value)")" }

    /// The internal key: user key, then (sequence << 8 | kind) as u64 LE.
    var internalKey: [UInt8] {
        var out: [UInt8] = []
        Array(key.utf8).withUnsafeBytes { InternalKey.append(userKey: $0, sequence: sequence, kind: kind, to: &out) }
        return out
    }

    /// Internal-key order: key ascending, then sequence descending.
    static func ordered(_ a: TestEntry, _ b: TestEntry) -> Bool {
        a.key.utf8.elementsEqual(b.key.utf8) ? a.sequence > b.sequence : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
    }
}

extension EntryIterator {
    /// The current entry, copied out of the iterator's views.
    var entry: TestEntry {
        TestEntry(key: String(decoding: userKey, as: UTF8.self), sequence: sequence, kind: kind,
                  value: String(decoding: value, as: UTF8.self))
    }
}

/// Calls `body` with the bytes of `text` (for APIs taking raw buffers).
func withBytes<T>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
    try Array(text.utf8).withUnsafeBytes(body)
}

/// A memtable holding `entries` (inserted in increasing sequence order, as
/// the engine's single writer does).
func makeMemTable(_ entries: [TestEntry]) -> MemTable {
    let table = MemTable()
    for entry in entries.sorted(by: { $0.sequence < $1.sequence }) {
        withBytes(entry.key) { key in
            withBytes(entry.value) { value in
                table.insert(sequence: entry.sequence, kind: entry.kind == InternalKey.kindTombstone ? .tombstone : .value,
                             key: key, value: value, expiresAt: 0)
            }
        }
    }
    return table
}

/// A table written with TableBuilder, and what the manifest would record.
struct BuiltTable {
    let path: String
    let number: UInt64
    let databaseID: DatabaseID
    let size: UInt64
    let entryCount: UInt64
    let smallestUserKey: [UInt8]
    let largestUserKey: [UInt8]
    let smallestSequence: UInt64
    let largestSequence: UInt64

    /// What TableFile would tell the reader to expect of this file.
    var expectation: TableReader.Expectation {
        let checksum = smallestUserKey.withUnsafeBytes { smallest in
            largestUserKey.withUnsafeBytes { largest in
                TableFormat.propertiesChecksum(number: number, databaseID: databaseID, entryCount: entryCount,
                                               smallestSequence: smallestSequence, largestSequence: largestSequence,
                                               smallestUserKey: smallest, largestUserKey: largest)
            }
        }
        return TableReader.Expectation(size: size, databaseID: databaseID, propertiesChecksum: checksum, requiresIdentity: true)
    }

    /// A reader; `mapped` reads through a memory map instead of pread.
    func open(expected: TableReader.Expectation? = nil, cache: BlockCache? = nil, mapped: Bool = false) throws -> TableReader {
        try TableReader(path: path, number: number, env: PosixEnv(), cache: cache, stats: nil,
                        expected: expected ?? expectation, mapReads: mapped)
    }

    /// The same table as a TableFile of a version, sharing `context`.
    func file(in context: TableContext) -> TableFile {
        TableFile(number: number, size: size, smallestUserKey: smallestUserKey, largestUserKey: largestUserKey,
                  smallestSequence: smallestSequence, largestSequence: largestSequence, entryCount: entryCount,
                  databaseID: databaseID, requiresIdentity: true, context: context)
    }
}

/// Writes `entries` (any order; they are sorted into internal-key order)
/// as table `number` in `directory`.
func buildTable(_ entries: [TestEntry], in directory: String, number: UInt64, databaseID: DatabaseID = DatabaseID.random(),
                options: TableBuilder.Options = TableBuilder.Options()) throws -> BuiltTable {
    let path = directory + "/" + TableFormat.fileName(number)
    let builder = TableBuilder(file: try PosixEnv().create(path), options: options,
                               owner: TableBuilder.Owner(number: number, databaseID: databaseID, generation: 1))
    let sorted = entries.sorted(by: TestEntry.ordered)
    for entry in sorted {
        try entry.internalKey.withUnsafeBytes { key in try withBytes(entry.value) { try builder.add(internalKey: key, value: $0) } }
    }
    try builder.finish()
    let size = try XCTUnwrap(PosixEnv().size(of: path))
    XCTAssertEqual(size, builder.offset, "finish reports the bytes it wrote")
    return BuiltTable(path: path, number: number, databaseID: databaseID, size: size, entryCount: builder.entryCount,
                      smallestUserKey: sorted.first.map { Array($0.key.utf8) } ?? [],
                      largestUserKey: sorted.last.map { Array($0.key.utf8) } ?? [],
                      smallestSequence: sorted.map(\.sequence).min() ?? 0, largestSequence: sorted.map(\.sequence).max() ?? 0)
}

/// A table context over `directory`, as an engine makes for its tables.
func makeTableContext(_ directory: String) -> TableContext {
    TableContext(directory: directory, env: PosixEnv(), cache: BlockCache(capacityBytes: 1 << 20),
                 maxOpenTables: 100, stats: EngineStats())
}

/// Asserts that `body` fails with CORRUPTION whose message contains
/// `naming` (the damaged file's path, so a user knows what to restore).
func XCTAssertCorruption<T>(_ body: @autoclosure () throws -> T, naming: String? = nil, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), message, file: file, line: line) { error in
        guard let cairn = error as? CairnError else {
            XCTFail("\(message): \(error) is not a CairnError", file: file, line: line)
            return
        }
        XCTAssertEqual(cairn.code, .corruption, "\(message): \(cairn)", file: file, line: line)
        if let naming {
            XCTAssertTrue(cairn.message.contains(naming), "\(message): '\(cairn.message)' should name \(naming)", file: file, line: line)
        }
    }
}

/// Overwrites the file at `path` with `bytes`.
func rewrite(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The bytes of the file at `path`.
func contents(_ path: String) throws -> [UInt8] {
    [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
}
