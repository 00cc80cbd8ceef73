/// The sorted string table (SSTable) file format; docs/format/sstable.md
/// has the full picture. Part of the on-disk format; never change.
///
///     data block 0 | trailer
///     ...
///     data block n | trailer
///     filter block | trailer       bloom filter over every user key
///     index block  | trailer       last internal key of each data block -> block handle
///     footer (96 bytes; 64 in version 1)
///
/// Trailer: compression kind (u8) | masked CRC-32C of (stored block + kind byte) (u32 LE).
/// A stored block is the raw block, or `varint raw size | compressed bytes`.
/// Block handle: varint offset | varint stored size (without the trailer).
///
/// Footer, version 2: index offset, index size, filter offset, filter size,
/// entry count, smallest sequence (all u64 LE), then the table's identity:
/// file number (u64 LE), database id (16 bytes), manifest generation when
/// written (u64 LE); then format version (u32 LE), properties checksum
/// (u32 LE), magic (u64 LE). Version 1 had no identity and a reserved u32
/// where the checksum is; the version always sits 16 bytes before the end,
/// so a reader tells the two apart before it knows the footer's size.
///
/// The properties checksum (`propertiesChecksum`) covers what the manifest
/// also records about the table: number, database id, entry count, smallest
/// and largest sequence, smallest and largest user key. A reader compares
/// the footer with the manifest, so a swapped, stale or foreign table is
/// CORRUPTION naming the file instead of silently wrong answers.
enum TableFormat {
    static let magic: UInt64 = 0x5453_5345_4E52_4941  // "AIRNESST" little-endian
    static let version: UInt32 = 2
    static let legacyVersion: UInt32 = 1
    static let footerSize = 96
    static let legacyFooterSize = 64
    static let trailerSize = 5

    static func fileName(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".sst"
    }

    /// The number of a table file name: exactly the 12 digits `fileName`
    /// writes (so a user's "1.sst" is not taken for a table, and no number
    /// is near the top of UInt64).
    static func number(fromFileName name: String) -> UInt64? {
        guard name.utf8.count == 16, name.hasSuffix(".sst"), name.utf8.prefix(12).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(name.dropLast(4))
    }

    struct BlockHandle {
        var offset: UInt64
        var size: UInt64

        func encode(into out: inout [UInt8]) {
            Varint.append(offset, to: &out)
            Varint.append(size, to: &out)
        }

        static func decode(_ bytes: UnsafeRawBufferPointer, what: String) throws -> BlockHandle {
            var reader = ByteReader(bytes, what: what)
            return BlockHandle(offset: try reader.readVarint(), size: try reader.readVarint())
        }
    }

    /// Who a table is: written into its footer, compared with the manifest.
    struct Identity: Equatable {
        var number: UInt64
        var databaseID: DatabaseID
        /// The manifest generation current when the table was written.
        var generation: UInt64
        var propertiesChecksum: UInt32
    }

    struct Footer {
        var index: BlockHandle
        var filter: BlockHandle
        var entryCount: UInt64
        var smallestSequence: UInt64
        /// nil in a version 1 table.
        var identity: Identity?
        /// The footer's size in the file (96, or 64 in version 1).
        var size: Int { identity == nil ? TableFormat.legacyFooterSize : TableFormat.footerSize }

        /// Encodes a version 2 footer (tables are only ever written with
        /// their identity; `identity` here is the one that was decoded).
        static func encode(index: BlockHandle, filter: BlockHandle, entryCount: UInt64, smallestSequence: UInt64,
                           identity: Identity, into out: inout [UInt8]) {
            out.appendUInt64LE(index.offset)
            out.appendUInt64LE(index.size)
            out.appendUInt64LE(filter.offset)
            out.appendUInt64LE(filter.size)
            out.appendUInt64LE(entryCount)
            out.appendUInt64LE(smallestSequence)
            out.appendUInt64LE(identity.number)
            out.append(contentsOf: identity.databaseID.bytes)
            out.appendUInt64LE(identity.generation)
            out.appendUInt32LE(TableFormat.version)
            out.appendUInt32LE(identity.propertiesChecksum)
            out.appendUInt64LE(TableFormat.magic)
        }

        /// Decodes the footer at the end of `tail` (the file's last 96
        /// bytes, or all of it when shorter).
        static func decode(tail bytes: UnsafeRawBufferPointer, what: String) throws -> Footer {
            guard bytes.count >= TableFormat.legacyFooterSize else { throw CairnError.corruption("\(what): too short to be a table") }
            let end = bytes.count
            func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
            guard u64(end - 8) == TableFormat.magic else { throw CairnError.corruption("\(what): not a Cairn table (bad magic)") }
            let version = u32(end - 16)
            let size: Int
            switch version {
            case TableFormat.version: size = TableFormat.footerSize
            case TableFormat.legacyVersion: size = TableFormat.legacyFooterSize
            default: throw CairnError.corruption("\(what): unknown table format version \(version)")
            }
            guard end >= size else { throw CairnError.corruption("\(what): too short to be a table") }
            let at = end - size
            var footer = Footer(index: BlockHandle(offset: u64(at), size: u64(at + 8)),
                                filter: BlockHandle(offset: u64(at + 16), size: u64(at + 24)),
                                entryCount: u64(at + 32), smallestSequence: u64(at + 40), identity: nil)
            if version == TableFormat.version {
                footer.identity = Identity(
                    number: u64(at + 48),
                    databaseID: DatabaseID(bytes: Array(UnsafeRawBufferPointer(rebasing: bytes[(at + 56)..<(at + 72)]))),
                    generation: u64(at + 72), propertiesChecksum: u32(end - 12))
            }
            return footer
        }
    }

    /// The checksum of what both the footer and the manifest say about a
    /// table (CRC-32C, masked).
    static func propertiesChecksum(number: UInt64, databaseID: DatabaseID, entryCount: UInt64, smallestSequence: UInt64,
                                   largestSequence: UInt64, smallestUserKey: UnsafeRawBufferPointer,
                                   largestUserKey: UnsafeRawBufferPointer) -> UInt32 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + smallestUserKey.count + largestUserKey.count)
        bytes.appendUInt64LE(number)
        bytes.append(contentsOf: databaseID.bytes)
        bytes.appendUInt64LE(entryCount)
        bytes.appendUInt64LE(smallestSequence)
        bytes.appendUInt64LE(largestSequence)
        bytes.appendLengthPrefixed(smallestUserKey)
        bytes.appendLengthPrefixed(largestUserKey)
        return bytes.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
    }
}
