#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Byte strings in the engine's order: every key, bound and index entry is
// compared this way (memcmp, shorter first on a tie).

/// Lexicographic comparison of byte strings, shorter first on a tie.
@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return Int(c) }
    }
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
