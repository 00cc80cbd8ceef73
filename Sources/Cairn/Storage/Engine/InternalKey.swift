/// Inside tables, every entry's key is an internal key: the user key
/// followed by an 8-byte trailer, `(sequence << 8) | kind` as u64 LE.
/// Internal keys sort by user key ascending, then sequence descending, so
/// the newest version of a key comes first (as in the memtable).
///
/// Kinds stored in tables (part of the table format; never change):
///   1 value, 2 tombstone, 3 value with expiry (the value then starts with
///   the expiry, u64 LE ms since the epoch).
enum InternalKey {
    static let trailerSize = 8
    /// Sequences take the upper 56 bits of the trailer.
    static let maxSequence: UInt64 = (1 << 56) - 1

    static let kindValue: UInt8 = 1
    static let kindTombstone: UInt8 = 2
    static let kindValueWithExpiry: UInt8 = 3

    @inline(__always)
    static func append(userKey: UnsafeRawBufferPointer, sequence: UInt64, kind: UInt8, to out: inout [UInt8]) {
        out.append(contentsOf: userKey)
        out.appendUInt64LE(sequence << 8 | UInt64(kind))
    }

    /// The user key; a key shorter than a trailer (only in a damaged file)
    /// reads as all user key, so comparing it can never trap.
    @inline(__always)
    static func userKey(_ internalKey: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: internalKey.baseAddress, count: max(0, internalKey.count - trailerSize))
    }

    @inline(__always)
    static func trailer(_ internalKey: UnsafeRawBufferPointer) -> UInt64 {
        guard internalKey.count >= trailerSize else { return 0 }
        return UInt64(littleEndian: internalKey.loadUnaligned(fromByteOffset: internalKey.count - trailerSize, as: UInt64.self))
    }

    /// Splits a stored table value by the entry's kind: the expiry (0 for
    /// none) and the value proper. CORRUPTION for an unknown kind or a value
    /// too short to hold its expiry.
    @inline(__always)
    static func decodeValue(kind: UInt8, stored: UnsafeRawBufferPointer, what: String) throws -> (expiresAt: Int64, value: UnsafeRawBufferPointer) {
        switch kind {
        case kindValue, kindTombstone:
            return (0, stored)
        case kindValueWithExpiry:
            guard stored.count >= 8 else { throw CairnError.corruption("\(what): value too short for its expiry") }
            let expiry = Int64(bitPattern: UInt64(littleEndian: stored.loadUnaligned(as: UInt64.self)))
            return (expiry, UnsafeRawBufferPointer(rebasing: stored[8...]))
        default:
            throw CairnError.corruption("\(what): unknown entry kind \(kind)")
        }
    }

    /// Internal-key order.
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let c = compareBytes(userKey(a), userKey(b))
        if c != 0 { return c }
        let ta = trailer(a), tb = trailer(b)
        return ta > tb ? -1 : (ta < tb ? 1 : 0)
    }
}
