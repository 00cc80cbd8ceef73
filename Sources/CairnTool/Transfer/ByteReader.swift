#if canImport(Glibc)
import Glibc
#endif

/// Reads a file (or stdin) through one 1 MiB buffer: import streams, never
/// holding the whole file. Counts the bytes consumed and the lines passed,
/// for the progress bar and for error messages.
final class ByteReader {
    private let fd: Int32
    private let ownsFD: Bool
    private var buffer: [UInt8]
    private var start = 0, end = 0
    private var atEnd = false
    /// Bytes handed out so far.
    private(set) var consumed: Int64 = 0
    /// The file's size when it is a regular file (for the ETA).
    let size: Int64?

    init(path: String?) throws {
        if let path, path != "-" {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw ToolFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
            ownsFD = true
        } else {
            fd = 0
            ownsFD = false
        }
        var info = stat()
        size = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : nil
        buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit { if ownsFD { Glibc.close(fd) } }

    /// Refills; false at the end of the file.
    private func fill() throws -> Bool {
        if atEnd { return false }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                if end > start { memmove(raw.baseAddress!, raw.baseAddress! + start, end - start) }
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + end, raw.count - end) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ToolFailure("read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { atEnd = true; return false }
            end += n
            return true
        }
    }

    /// The next line without its line break ("\n" or "\r\n"); nil at the end.
    func nextLine() throws -> [UInt8]? {
        var scanFrom = start
        while true {
            if let newline = buffer[scanFrom..<end].firstIndex(of: 0x0A) {
                var line = Array(buffer[start..<newline])
                if line.last == 0x0D { line.removeLast() }
                consumed += Int64(newline + 1 - start)
                start = newline + 1
                return line
            }
            let scanned = end - start
            guard try fill() else {
                guard end > start else { return nil }
                var line = Array(buffer[start..<end])
                if line.last == 0x0D { line.removeLast() }
                consumed += Int64(end - start)
                start = end
                return line
            }
            scanFrom = start + scanned
        }
    }

    /// The next byte, or nil at the end.
    @inline(__always)
    func nextByte() throws -> UInt8? {
        if start == end { guard try fill() else { return nil } }
        let byte = buffer[start]
        start += 1
        consumed += 1
        return byte
    }

    /// The first byte that is not white space, without consuming anything.
    func firstNonSpaceByte() throws -> UInt8? {
        var index = start
        while true {
            while index < end {
                let b = buffer[index]
                if b != 0x20 && b != 0x0A && b != 0x0D && b != 0x09 { return b }
                index += 1
            }
            let offset = index - start
            guard try fill() else { return nil }
            index = start + offset
        }
    }

    /// The next byte without consuming it.
    func peekByte() throws -> UInt8? {
        if start == end { guard try fill() else { return nil } }
        return buffer[start]
    }
}
