#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Generated `_id`s: 12 bytes as 24 hex digits, MongoDB's ObjectId layout
/// (4 bytes of seconds since the epoch, big-endian; 5 random bytes per
/// process; a 3-byte counter), so ids sort by creation time.
enum ObjectID {
    private static let processBytes: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 5)
        var generator = SystemRandomNumberGenerator()
        for i in 0..<5 { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        return bytes
    }()
    // A random start, in the lower half so that ids of one second rarely wrap.
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0..<(1 << 23)))

    static func next() -> String {
        let seconds = UInt32(truncatingIfNeeded: currentTimeMillis() / 1000)
        let count = counter.add(1, ordering: .relaxed).newValue & 0xFF_FFFF
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12)
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: seconds >> UInt32(shift))) }
        bytes.append(contentsOf: processBytes)
        for shift in stride(from: 16, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
