/// Copying files for checkpoints, backups and restores: in 1 MiB pieces
/// (never a whole table in memory), synced before the copy is named
/// anywhere a reader looks, with the CRC-32C of what was copied so the
/// caller can record or compare it.
extension Env {
    static var copyChunk: Int { 1 << 20 }

    /// Copies the first `length` bytes of `source` into a new file at
    /// `destination`, synced; returns the CRC-32C of the bytes copied. A
    /// failed copy removes its partial file.
    @discardableResult
    func copy(_ source: FileHandle, length: Int, to destination: String) throws -> UInt32 {
        let out = try create(destination)
        do {
            let crc = try Self.forEachChunk(of: source, length: length) { try out.append($0) }
            try out.sync()
            out.close()
            return crc
        } catch {
            out.close()
            try? remove(destination)
            throw error
        }
    }

    /// Copies the whole file at `source` (see `copy(_:length:to:)`).
    @discardableResult
    func copyFile(_ source: String, to destination: String) throws -> UInt32 {
        let file = try openForReading(source)
        defer { file.close() }
        return try copy(file, length: try file.size, to: destination)
    }

    /// The CRC-32C and size of the whole file at `path`.
    func checksum(of path: String) throws -> (crc: UInt32, size: Int) {
        let file = try openForReading(path)
        defer { file.close() }
        let size = try file.size
        return (try Self.forEachChunk(of: file, length: size) { _ in }, size)
    }

    /// Reads the first `length` bytes of `file` in pieces, handing each to
    /// `body`; returns their CRC-32C. A file shorter than `length` is
    /// CORRUPTION (FileHandle.read).
    static func forEachChunk(of file: FileHandle, length: Int,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> UInt32 {
        let chunk = min(max(length, 1), copyChunk)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var crc: UInt32 = 0
        var offset = 0
        while offset < length {
            let count = min(chunk, length - offset)
            try file.read(at: offset, count: count, into: buffer.baseAddress!)
            let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            crc = CRC32C.extend(crc, piece)
            try body(piece)
            offset += count
        }
        return crc
    }

    /// Removes `directory` and the files in it (one level: the layouts this
    /// code writes have no deeper temporary directories).
    func removeTree(_ directory: String) throws {
        guard kind(of: directory) == .directory else { return }
        for name in try listDirectory(directory) {
            let path = directory + "/" + name
            if kind(of: path) == .directory { try removeTree(path) } else { try remove(path) }
        }
        try removeDirectory(directory)
    }
}
