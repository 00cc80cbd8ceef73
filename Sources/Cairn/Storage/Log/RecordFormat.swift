/// The framing of every record in a write-ahead log segment and the
/// manifest (see docs/format/records.md):
///
///     +----------------+----------------+-------------------+
///     | length: u32 LE | masked CRC32C  | payload           |
///     |                | of payload: u32| (length bytes)    |
///     +----------------+----------------+-------------------+
///
/// Part of the on-disk format; never change. A record is written with one
/// write call, so a crash leaves at most one torn record, at the tail.
enum RecordFormat {
    static let headerSize = 8
    /// A payload larger than this is treated as corruption when read, so a
    /// damaged length field cannot make the reader allocate gigabytes.
    static let maxPayload = 1 << 30

    /// Frames `payload` as one record.
    static func frame(_ payload: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        precondition(payload.count <= maxPayload, "a record's writer bounds its payload (WriteBatch.maxEncodedSize)")
        out.reserveCapacity(out.count + headerSize + payload.count)
        out.appendUInt32LE(UInt32(payload.count))
        out.appendUInt32LE(CRC32C.masked(CRC32C.checksum(payload)))
        out.append(contentsOf: payload)
    }

    /// The room a record built in place starts with.
    static let emptyHeader = [UInt8](repeating: 0, count: headerSize)

    /// Fills in the header of a record built in place: `record` starts with
    /// `headerSize` bytes reserved for it, then the payload. The group
    /// commit builds its payload this way, so the log write needs no copy
    /// of it into a separate frame.
    static func fillHeader(of record: UnsafeMutableRawBufferPointer) {
        precondition(record.count >= headerSize, "a record built in place reserves its header")
        let payload = UnsafeRawBufferPointer(rebasing: record[headerSize...])
        precondition(payload.count <= maxPayload, "a record's writer bounds its payload (WriteBatch.maxEncodedSize)")
        record.storeBytes(of: UInt32(payload.count).littleEndian, toByteOffset: 0, as: UInt32.self)
        record.storeBytes(of: CRC32C.masked(CRC32C.checksum(payload)).littleEndian, toByteOffset: 4, as: UInt32.self)
    }
}
