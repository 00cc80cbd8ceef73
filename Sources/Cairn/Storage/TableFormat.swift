/// The sorted string table (SSTable) file format; docs/format/sstable.md
/// has the full picture. Part of the on-disk format; never change.
///
///     data block 0 | trailer
///     ...
///     data block n | trailer
///     filter block | trailer       bloom filter over every user key
///     index block  | trailer       last internal key of each data block -> block handle
///     footer (64 bytes)
///
/// Trailer: compression kind (u8) | masked CRC-32C of (stored block + kind byte) (u32 LE).
/// A stored block is the raw block, or `varint raw size | compressed bytes`.
/// Block handle: varint offset | varint stored size (without the trailer).
///
/// Footer: index offset, index size, filter offset, filter size, entry
/// count, smallest sequence (all u64 LE), format version (u32 LE),
/// reserved (u32), magic (u64 LE).
enum TableFormat {
    static let magic: UInt64 = 0x5453_5345_4E52_4941  // "AIRNESST" little-endian
    static let version: UInt32 = 1
    static let footerSize = 64
    static let trailerSize = 5

    static func fileName(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".sst"
    }

    static func number(fromFileName name: String) -> UInt64? {
        guard name.hasSuffix(".sst") else { return nil }
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

    struct Footer {
        var index: BlockHandle
        var filter: BlockHandle
        var entryCount: UInt64
        var smallestSequence: UInt64

        func encode(into out: inout [UInt8]) {
            out.appendUInt64LE(index.offset)
            out.appendUInt64LE(index.size)
            out.appendUInt64LE(filter.offset)
            out.appendUInt64LE(filter.size)
            out.appendUInt64LE(entryCount)
            out.appendUInt64LE(smallestSequence)
            out.appendUInt32LE(TableFormat.version)
            out.appendUInt32LE(0)
            out.appendUInt64LE(TableFormat.magic)
        }

        static func decode(_ bytes: UnsafeRawBufferPointer, what: String) throws -> Footer {
            guard bytes.count == TableFormat.footerSize else { throw CairnError.corruption("\(what): short footer") }
            func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            guard u64(56) == TableFormat.magic else { throw CairnError.corruption("\(what): not a Cairn table (bad magic)") }
            let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
            guard version == TableFormat.version else { throw CairnError.corruption("\(what): unknown table format version \(version)") }
            return Footer(index: BlockHandle(offset: u64(0), size: u64(8)), filter: BlockHandle(offset: u64(16), size: u64(24)),
                          entryCount: u64(32), smallestSequence: u64(40))
        }
    }
}
