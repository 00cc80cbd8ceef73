/// A checkpoint file holds every live entry of the database at one sequence
/// number, sorted by key, so that recovery need not replay the whole
/// write-ahead log (see docs/format/records.md).
///
/// File name: `checkpoint-<sequence, 20 digits>.cpt`. The file is a series
/// of framed records (RecordFormat):
///
///     header record:  "CAIRNCP1" | u64 LE sequence
///     entry records:  entries, each: varint key length | key | varint value length | value | varint expiry
///     footer record:  "CAIRNEND" | u64 LE entry count
///
/// Part of the on-disk format; never change. A checkpoint is written under
/// a temporary name, synced, and renamed into place, so a file with the
/// final name is always complete: a missing footer is corruption.
enum CheckpointFormat {
    static let headerMagic: [UInt8] = Array("CAIRNCP1".utf8)
    static let footerMagic: [UInt8] = Array("CAIRNEND".utf8)
    static let chunkBytes = 64 << 10

    static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return "checkpoint-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".cpt"
    }

    static func sequence(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix("checkpoint-"), name.hasSuffix(".cpt") else { return nil }
        return UInt64(name.dropFirst("checkpoint-".count).dropLast(4))
    }
}

/// Writes one checkpoint file. Lifecycle: `add` entries in key order, then
/// `finish` once; the file is durable when `finish` returns.
final class CheckpointWriter {
    private let file: FileHandle
    private var chunk: [UInt8] = []
    private var framed: [UInt8] = []
    private(set) var entryCount: UInt64 = 0
    private(set) var bytesWritten = 0

    init(file: FileHandle, sequence: UInt64) throws {
        self.file = file
        var header = CheckpointFormat.headerMagic
        header.appendUInt64LE(sequence)
        try writeRecord(header)
    }

    func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAt: Int64) throws {
        chunk.appendLengthPrefixed(key)
        chunk.appendLengthPrefixed(value)
        Varint.append(UInt64(max(0, expiresAt)), to: &chunk)
        entryCount += 1
        if chunk.count >= CheckpointFormat.chunkBytes {
            try writeRecord(chunk)
            chunk.removeAll(keepingCapacity: true)
        }
    }

    func finish() throws {
        if !chunk.isEmpty { try writeRecord(chunk) }
        var footer = CheckpointFormat.footerMagic
        footer.appendUInt64LE(entryCount)
        try writeRecord(footer)
        try file.sync()
        file.close()
    }

    private func writeRecord(_ payload: [UInt8]) throws {
        framed.removeAll(keepingCapacity: true)
        payload.withUnsafeBytes { RecordFormat.frame($0, into: &framed) }
        try framed.withUnsafeBytes { try file.append($0) }
        bytesWritten += framed.count
    }
}

/// Reads a whole checkpoint file, verifying every record.
enum CheckpointReader {
    /// Calls `body` for each entry in key order; returns the sequence number.
    static func read(_ bytes: UnsafeRawBufferPointer, path: String,
                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Int64) throws -> Void) throws -> UInt64 {
        var sequence: UInt64?
        var footerCount: UInt64?
        var entries: UInt64 = 0
        let outcome = try RecordReader(path: path).forEachRecord(in: bytes) { payload in
            guard footerCount == nil else { throw CairnError.corruption("\(path): records after the footer") }
            if sequence == nil {
                guard payload.count == 16, payload.prefix(8).elementsEqual(CheckpointFormat.headerMagic) else {
                    throw CairnError.corruption("\(path): not a checkpoint (bad header)")
                }
                sequence = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                return
            }
            if payload.count == 16, payload.prefix(8).elementsEqual(CheckpointFormat.footerMagic) {
                footerCount = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                return
            }
            var reader = ByteReader(payload, what: path)
            while !reader.isAtEnd {
                let key = try reader.readLengthPrefixed()
                let value = try reader.readLengthPrefixed()
                let expiry = try reader.readVarint()
                guard expiry <= UInt64(Int64.max) else { throw CairnError.corruption("\(path): bad expiry") }
                try body(key, value, Int64(expiry))
                entries += 1
            }
        }
        guard !outcome.hadTornTail, let sequence, let footerCount else {
            throw CairnError.corruption("\(path): checkpoint is incomplete or damaged")
        }
        guard footerCount == entries else {
            throw CairnError.corruption("\(path): footer counts \(footerCount) entries, file holds \(entries)")
        }
        return sequence
    }
}
