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
        out.reserveCapacity(out.count + headerSize + payload.count)
        out.appendUInt32LE(UInt32(payload.count))
        out.appendUInt32LE(CRC32C.masked(CRC32C.checksum(payload)))
        out.append(contentsOf: payload)
    }
}
