#if canImport(Glibc)
import Glibc
#endif

/// The identity every file of one database carries: 16 random bytes made
/// when the database is created, recorded in the manifest, in the footer of
/// every table and in the header of every log segment. A file with another
/// id belongs to another database (copied in by mistake) and is
/// CORRUPTION, never read as ours. docs/format/sstable.md, "Identity".
struct DatabaseID: Equatable, CustomStringConvertible {
    static let byteCount = 16
    let bytes: [UInt8]

    init(bytes: [UInt8]) {
        precondition(bytes.count == DatabaseID.byteCount, "a database id is 16 bytes")  // our own callers only
        self.bytes = bytes
    }

    /// Reads an id from `reader` (16 bytes).
    init(from reader: inout ByteReader) throws {
        bytes = Array(try reader.readBytes(DatabaseID.byteCount))
    }

    /// A new random id, from the kernel's generator (/dev/urandom).
    static func random() -> DatabaseID {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        var filled = 0
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            bytes.withUnsafeMutableBytes { raw in
                while filled < byteCount {
                    let n = read(fd, raw.baseAddress! + filled, byteCount - filled)
                    if n <= 0 { break }
                    filled += n
                }
            }
            _ = close(fd)
        }
        if filled < byteCount {
            // No entropy source: the clock and the process still make ids of
            // two databases differ, which is all the id is for.
            var seed = UInt64(bitPattern: Int64(currentTimeMillis())) ^ (UInt64(getpid()) << 32) ^ monotonicNanoseconds()
            for i in 0..<byteCount {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407  // Wraps: an LCG step
                bytes[i] = UInt8(truncatingIfNeeded: seed >> 56)
            }
        }
        return DatabaseID(bytes: bytes)
    }

    var description: String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }
}
