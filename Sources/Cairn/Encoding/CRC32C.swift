import CCairnSupport

/// CRC-32C (Castagnoli), the checksum of every framed record and block on
/// disk. `checksum` runs on the CPU's crc32 instruction through a C helper;
/// `portableChecksum` (slicing-by-8 over a table) is the reference the
/// tests compare it with. Stored checksums are masked (rotated and offset, as
/// LevelDB does) so that a record that embeds checksums of its own does
/// not produce a run of checksums that verify by accident.
enum CRC32C {
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var crc = UInt32(i)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][i] = crc
        }
        for i in 0..<256 {
            for t in 1..<8 {
                let previous = tables[t - 1][i]
                tables[t][i] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    @inline(__always)
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return 0 }
        return cairn_support_crc32c(0, base, bytes.count)
    }

    /// Extends `crc` (a checksum returned by `checksum` or `extend`, 0 to
    /// start) over `bytes`, for data read in pieces.
    @inline(__always)
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return cairn_support_crc32c(crc, base, bytes.count)
    }

    static func portableChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ UInt64(crc)
                crc = t7[Int(word & 0xFF)] ^ t6[Int((word >> 8) & 0xFF)]
                    ^ t5[Int((word >> 16) & 0xFF)] ^ t4[Int((word >> 24) & 0xFF)]
                    ^ t3[Int((word >> 32) & 0xFF)] ^ t2[Int((word >> 40) & 0xFF)]
                    ^ t1[Int((word >> 48) & 0xFF)] ^ t0[Int(word >> 56)]
                i += 8
            }
            while i < n {
                crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)]
                i += 1
            }
        }
        return ~crc
    }

    private static let maskDelta: UInt32 = 0xA282_EAD8

    static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ maskDelta }
}
