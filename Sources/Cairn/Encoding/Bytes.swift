#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Byte strings in the engine's order: every key, bound and index entry is
// compared this way (memcmp, shorter first on a tie).

/// Lexicographic comparison of byte strings, shorter first on a tie.
/// Only the sign of the result means anything.
@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    guard n > 0 else { return a.count - b.count }
    // Short keys (most of ours: a namespace byte and a few fields) compare
    // 8 bytes at a time inline, as big-endian words: a call to memcmp
    // costs more than the comparison itself, and the skiplist and block
    // searches make several per lookup. Longer ones go to memcmp's
    // vector loop.
    if n <= 32 {
        let x = a.baseAddress!, y = b.baseAddress!
        var i = 0
        while i + 8 <= n {
            let p = x.loadUnaligned(fromByteOffset: i, as: UInt64.self).bigEndian
            let q = y.loadUnaligned(fromByteOffset: i, as: UInt64.self).bigEndian
            if p != q { return p < q ? -1 : 1 }
            i += 8
        }
        while i < n {
            let p = x.load(fromByteOffset: i, as: UInt8.self), q = y.load(fromByteOffset: i, as: UInt8.self)
            if p != q { return p < q ? -1 : 1 }
            i += 1
        }
        return a.count - b.count
    }
    let c = memcmp(a.baseAddress!, b.baseAddress!, n)
    if c != 0 { return Int(c) }
    return a.count - b.count
}

/// The first byte string after every string that starts with `prefix`.
func prefixUpperBound(_ prefix: [UInt8]) -> [UInt8] {
    var bound = prefix
    while let last = bound.last {
        if last < 0xFF {
            bound[bound.count - 1] = last + 1
            return bound
        }
        bound.removeLast()
    }
    return [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]  // unreachable for namespaced keys
}

extension Optional where Wrapped == [UInt8] {
    /// Calls `body` with the bytes, or with nil when there are none.
    func withUnsafeBufferPointerIfPresent<T>(_ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
        guard let self else { return try body(nil) }
        return try self.withUnsafeBytes { try body($0) }
    }
}
