/// The packed list of include/cairn.h: many byte strings in one buffer, each
/// a 4-byte little-endian length then that many bytes; in results, the
/// length 0xFFFFFFFF marks an absent item. One buffer crosses the C ABI
/// instead of an array of pointers, which cgo's pointer rules forbid.
public enum PackedList {
    public static let absent: UInt32 = 0xFFFF_FFFF

    /// Splits a packed list into borrowed views. Throws INVALID_ARGUMENT on a
    /// truncated item or an absent marker (input lists have no absent items).
    public static func items(of bytes: UnsafeRawBufferPointer, what: String = "key list") throws -> [UnsafeRawBufferPointer] {
        var items: [UnsafeRawBufferPointer] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else {
                throw CairnError.invalidArgument("\(what): truncated length at byte \(offset)")
            }
            let length = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length != absent else { throw CairnError.invalidArgument("\(what): absent marker at byte \(offset)") }
            offset += 4
            guard Int(length) <= bytes.count - offset else {
                throw CairnError.invalidArgument("\(what): item at byte \(offset - 4) runs past the end")
            }
            items.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))]))
            offset += Int(length)
        }
        return items
    }

    public static func append(_ item: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.appendUInt32LE(UInt32(item.count))
        out.append(contentsOf: item)
    }

    public static func appendAbsent(to out: inout [UInt8]) {
        out.appendUInt32LE(absent)
    }
}
