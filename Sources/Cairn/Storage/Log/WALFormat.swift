/// The records of a write-ahead log segment besides write batches
/// (docs/format/records.md). Part of the on-disk format; never change.
///
/// A segment (`wal-<n>.log`) holds framed records (RecordFormat):
///
///     header record      "CAIRNWAL" | database id (16) | u64 LE segment number | u64 LE manifest generation
///     batch records ...  u64 LE first sequence | varint count | operations (WriteBatch)
///     next record        "CAIRNNXT" | u64 LE number of the segment that follows   (all but the newest segment)
///
/// A batch's first eight bytes are a sequence number below 2^56 (the
/// internal key keeps 56 bits for it), so its last byte is zero; both magic
/// strings end in a letter, so the kinds never meet. Segments written
/// before version 2 have neither header nor next record and are still read.
///
/// What recovery proves with them: the header's database id and number say
/// the file is this database's segment of that name; its generation, which
/// never exceeds the manifest's, tells a stale manifest; a next record
/// naming a segment that is missing tells a segment deleted after it.
enum WALFormat {
    static let headerMagic: [UInt8] = Array("CAIRNWAL".utf8)
    static let nextMagic: [UInt8] = Array("CAIRNNXT".utf8)

    struct Header: Equatable {
        var databaseID: DatabaseID
        var number: UInt64
        var generation: UInt64

        func encode() -> [UInt8] {
            var out = WALFormat.headerMagic
            out.append(contentsOf: databaseID.bytes)
            out.appendUInt64LE(number)
            out.appendUInt64LE(generation)
            return out
        }
    }

    static func nextSegmentRecord(_ number: UInt64) -> [UInt8] {
        var out = nextMagic
        out.appendUInt64LE(number)
        return out
    }

    /// What one record of a segment is.
    enum Record {
        case header(Header)
        case nextSegment(UInt64)
        case batch
    }

    static func classify(_ payload: UnsafeRawBufferPointer, what: String) throws -> Record {
        guard payload.count >= 8 else { return .batch }
        let head = UnsafeRawBufferPointer(rebasing: payload[0..<8])
        if head.elementsEqual(headerMagic) {
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: payload[8...]), what: what)
            let header = Header(databaseID: try DatabaseID(from: &reader), number: try reader.readUInt64LE(),
                                generation: try reader.readUInt64LE())
            guard reader.isAtEnd else { throw CairnError.corruption("\(what): stray bytes after the segment header") }
            return .header(header)
        }
        if head.elementsEqual(nextMagic) {
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: payload[8...]), what: what)
            let number = try reader.readUInt64LE()
            guard reader.isAtEnd else { throw CairnError.corruption("\(what): stray bytes after the next-segment record") }
            return .nextSegment(number)
        }
        return .batch
    }
}
