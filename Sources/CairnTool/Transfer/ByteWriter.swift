#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to a file (created or truncated) or stdout, for export.
final class ByteWriter {
    private let fd: Int32
    private let ownsFD: Bool
    private var buffer: [UInt8] = []
    private(set) var written: Int64 = 0

    init(path: String?) throws {
        if let path, path != "-" {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw ToolFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
            ownsFD = true
        } else {
            fd = 1
            ownsFD = false
        }
        buffer.reserveCapacity(1 << 20)
    }

    func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func write(_ text: String) throws { try write(text.utf8) }

    func flush() throws {
        try buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ToolFailure("write failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
        written += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if ownsFD {
            guard fsync(fd) == 0 || errno == EINVAL else { throw ToolFailure("fsync failed: \(String(cString: strerror(errno)))") }
            Glibc.close(fd)
        }
    }
}
