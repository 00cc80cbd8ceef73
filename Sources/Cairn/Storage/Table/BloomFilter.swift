/// A bloom filter over the user keys of one table, so that a point read of
/// an absent key usually skips the table without touching its blocks.
///
/// Layout (part of the table format; never change):
///
///     bit array (ceil(bits / 8) bytes) | probes: u8
///
/// Each key's 64-bit hash gives two 32-bit halves h1, h2; probe i sets bit
/// (h1 + i * h2) mod bits (double hashing, as in LevelDB). With 10 bits a
/// key and 7 probes the false-positive rate is about 1%.
enum BloomFilter {
    /// Builds a filter for the given key hashes.
    static func build(hashes: [UInt64], bitsPerKey: Int, into out: inout [UInt8]) {
        let probes = max(1, min(30, Int(Double(bitsPerKey) * 0.69)))
        let bits = max(64, hashes.count * bitsPerKey)
        let bytes = (bits + 7) / 8
        let totalBits = UInt32(bytes * 8)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bytes))
        out.append(UInt8(probes))
        for hash in hashes {
            var h1 = UInt32(truncatingIfNeeded: hash)
            let h2 = UInt32(truncatingIfNeeded: hash >> 32) | 1
            for _ in 0..<probes {
                let bit = h1 % totalBits
                out[start + Int(bit / 8)] |= 1 << (bit % 8)
                h1 &+= h2
            }
        }
    }

    /// True when the key may be in the table; false means certainly not.
    /// A malformed filter answers true (it can only cost a read).
    @inline(__always)
    static func mayContain(_ filter: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        guard filter.count >= 2 else { return true }
        let probes = Int(filter[filter.count - 1])
        guard probes >= 1, probes <= 30 else { return true }
        let totalBits = UInt32((filter.count - 1) * 8)
        var h1 = UInt32(truncatingIfNeeded: hash)
        let h2 = UInt32(truncatingIfNeeded: hash >> 32) | 1
        for _ in 0..<probes {
            let bit = h1 % totalBits
            if filter[Int(bit / 8)] & (1 << (bit % 8)) == 0 { return false }
            h1 &+= h2
        }
        return true
    }
}
