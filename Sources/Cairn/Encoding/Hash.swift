/// A fast 64-bit hash of a byte string for bloom filters: 8 bytes at a
/// time, multiply and fold. Part of the table format (filters store bits
/// it chose); never change.
enum Hash64 {
    private static let m1: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let m2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0x5EED_CA1B) -> UInt64 {
        var h = seed ^ (UInt64(bytes.count) &* m1)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            h = mix(h ^ word, m1)
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail, m2)
        }
        return mix(h, m1 ^ m2)
    }
}
