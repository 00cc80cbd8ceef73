import CCairnSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The engine's only door to the operating system, as LevelDB's Env: every
/// file and directory call, the clocks and thread creation go through it.
/// `PosixEnv` is the real one; tests substitute their own to make the disk
/// full or failing, to cut the power (dropping what was not synced), or to
/// move the clock without sleeping.
protocol Env: Sendable {
    func kind(of path: String) -> FileKind
    /// The size of the file at `path`, or nil when it cannot be read.
    func size(of path: String) -> UInt64?
    func createDirectory(_ path: String) throws
    func listDirectory(_ path: String) throws -> [String]
    func openForReading(_ path: String) throws -> FileHandle
    /// Maps the first `size` bytes of `file`, which is never written again,
    /// read-only into memory; nil when this Env reads through
    /// `FileHandle.read` only, or when the system refuses the mapping (the
    /// caller then reads through `read`, which is always correct).
    func mapForReading(_ file: FileHandle, size: Int) -> MappedFile?
    /// Creates (or truncates) a file for writing.
    func create(_ path: String) throws -> FileHandle
    func rename(_ from: String, to: String) throws
    func remove(_ path: String) throws
    /// Makes a rename or a new file in `directory` durable.
    func syncDirectory(_ directory: String) throws
    /// Takes an exclusive, non-blocking OS lock that the kernel releases when
    /// the process dies. Throws BUSY when another holder has it.
    func lockFile(_ path: String) throws -> FileHandle
    /// Makes `to` a second name of the file `from`; false when the file
    /// system cannot (another device, or no hard links), so the caller
    /// copies instead.
    func hardLink(_ from: String, to: String) throws -> Bool
    /// Removes an empty directory (a missing one is no error).
    func removeDirectory(_ path: String) throws

    /// Milliseconds since the Unix epoch: the clock of TTLs.
    func nowMillis() -> Int64
    /// Monotonic nanoseconds, for latencies.
    func monotonicNanoseconds() -> UInt64
    /// Runs `body` on a new thread; a thread the system refuses is an
    /// error, never a crash.
    func startThread(_ body: @escaping @Sendable () -> Void) throws
}

enum FileKind { case missing, regularFile, directory, other }

extension Env {
    /// `lockFile`, retried every 10 ms for up to `timeoutMillis` while the
    /// lock is BUSY (the `lock_timeout_ms` open option); 0 tries once.
    func lockFile(_ path: String, timeoutMillis: Int) throws -> FileHandle {
        let deadline = monotonicNanoseconds() &+ UInt64(max(0, timeoutMillis)) &* 1_000_000
        while true {
            do {
                return try lockFile(path)
            } catch let error as CairnError where error.code == .busy {
                guard timeoutMillis > 0, monotonicNanoseconds() < deadline else {
                    guard timeoutMillis > 0 else { throw error }
                    throw CairnError(.busy, "\(error.message) (waited \(timeoutMillis) ms)")
                }
                usleep(10_000)
            }
        }
    }
}

/// The I/O error for `errno`, naming the operation and the file. A full disk
/// is NO_SPACE so callers can tell it apart and retry after freeing space.
func ioError(_ operation: String, _ path: String, errno code: Int32 = errno) -> CairnError {
    let reason = String(cString: strerror(code))
    let status: StatusCode = (code == ENOSPC || code == EDQUOT) ? .noSpace : .ioError
    return CairnError(status, "\(operation) \(path): \(reason)")
}

/// An open file descriptor. Not thread-safe by itself: its owner serializes
/// writes; positional reads may run concurrently. Not final: a test Env
/// hands out subclasses that watch writes and syncs.
class FileHandle: @unchecked Sendable {
    let path: String
    private(set) var descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    var size: Int {
        get throws {
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw ioError("stat", path) }
            return Int(info.st_size)
        }
    }

    /// Appends all of `bytes` at the end of the file, retrying short writes.
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("write", path)
            }
            done += n
        }
    }

    /// Writes all of `bytes` at `offset`, retrying short writes. On a file
    /// opened to append whose space was never allocated ahead
    /// (`preallocate`), the kernel appends whatever `offset` says, so
    /// callers pass the end of what they wrote.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("write", path)
            }
            done += n
        }
    }

    /// Makes the file `length` bytes long, the new bytes zeros whose disk
    /// blocks are allocated now (fallocate), and from then on writes land
    /// where `write(_:at:)` says (the file no longer appends). Returns false,
    /// the file's bytes unchanged, when the file system cannot (or the disk
    /// has no room ahead): allocating ahead is only ever an optimisation,
    /// never a new way to fail.
    ///
    /// Why: appending to a file changes its size, so every fdatasync also
    /// writes the inode; writing into space already allocated does not. On
    /// this project's ext4 test machine an append of 400 bytes and its
    /// fdatasync took 115-130 us, the same into allocated space 82-85 us
    /// (PostgreSQL preallocates its WAL segments for the same reason).
    func preallocate(to length: Int) -> Bool {
        cairn_support_preallocate(descriptor, Int64(length)) == 0
    }

    /// Reads exactly `count` bytes at `offset` into `buffer`; a short read
    /// (the file ends early) is CORRUPTION, since callers only read ranges
    /// the file's own index promised.
    func read(at offset: Int, count: Int, into buffer: UnsafeMutableRawPointer) throws {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path)
            }
            if n == 0 { throw CairnError.corruption("\(path): read of \(count) bytes at \(offset) runs past the end of the file") }
            done += n
        }
    }

    /// Reads the whole file into memory.
    func readAll() throws -> [UInt8] {
        let count = try size
        try Allocation.reserve(count, for: "reading \(path)")
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let n = pread(descriptor, raw.baseAddress! + done, count - done, off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("read", path)
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < count { buffer.removeLast(count - done) }
        return buffer
    }

    /// Flushes the file's data to stable storage.
    func sync() throws {
        guard fdatasync(descriptor) == 0 else { throw ioError("fsync", path) }
    }

    /// Releases a lock taken by `lockFile`, for every descriptor of the open
    /// file (a child of fork() shares it, and closing ours alone would leave
    /// the lock held until the child exits).
    func unlock() {
        if descriptor >= 0 { _ = flock(descriptor, LOCK_UN) }
    }

    func truncate(to length: Int) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw ioError("truncate", path) }
        guard lseek(descriptor, off_t(length), SEEK_SET) >= 0 else { throw ioError("seek", path) }
    }
}

/// An immutable file mapped read-only: reading a range is a pointer, with no
/// system call and no copy, which is how LevelDB and LMDB read. Unmapped
/// when the last reader lets go.
///
/// The price, as for LevelDB and LMDB: a page the kernel cannot read (a disk
/// error, or a file truncated behind the database's back) raises SIGBUS
/// instead of an I/O error. The `mmap_reads` open option turns mapping off.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(base: UnsafeRawPointer, count: Int) {
        bytes = UnsafeRawBufferPointer(start: base, count: count)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}

/// The real Env: POSIX calls, retried on EINTR.
struct PosixEnv: Env {

    func kind(of path: String) -> FileKind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regularFile
        default: return .other
        }
    }

    func size(of path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(exactly: info.st_size)
    }

    func createDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw ioError("create directory", path) }
    }

    func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw ioError("list directory", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func openForReading(_ path: String) throws -> FileHandle {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open", path) }
        return FileHandle(path: path, descriptor: fd)
    }

    func mapForReading(_ file: FileHandle, size: Int) -> MappedFile? {
        guard size > 0, file.descriptor >= 0 else { return nil }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, file.descriptor, 0), base != MAP_FAILED else { return nil }
        return MappedFile(base: UnsafeRawPointer(base), count: size)
    }

    func create(_ path: String) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("create", path) }
        return FileHandle(path: path, descriptor: fd)
    }

    func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw ioError("rename", from) }
    }

    func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw ioError("remove", path) }
    }

    func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open directory", directory) }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw ioError("fsync directory", directory) }
    }

    func lockFile(_ path: String) throws -> FileHandle {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("open lock file", path) }
        // flock belongs to the open file description, so a second open in
        // this same process conflicts too, and the kernel drops it on death.
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            _ = Glibc.close(fd)
            if code == EWOULDBLOCK {
                throw CairnError(.busy, "database \(path.dropLast(5)) is locked by \(PosixEnv.lockHolder(path))")
            }
            throw ioError("lock", path, errno: code)
        }
        // The holder's PID, for the BUSY message of the next opener (a
        // hint only: the lock itself is the flock, and a stale PID in the
        // file of a dead holder blocks nothing).
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        return FileHandle(path: path, descriptor: fd)
    }

    /// Who holds the lock at `path`, as the BUSY message says it: the PID
    /// its holder wrote into the file, told apart as this process (another
    /// open handle) or another one.
    static func lockHolder(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        var pid: Int32?
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 15, 0) }
            _ = Glibc.close(fd)
            if n > 0 { pid = Int32(String(decoding: buffer.prefix(n).filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)) }
        }
        guard let pid, pid > 0 else { return "another process or another open handle (holder unknown)" }
        if pid == getpid() { return "another open handle in this process (pid \(pid)); close it first" }
        return "another process (pid \(pid)); open with \"read_only\" or \"secondary\" to read it meanwhile"
    }

    func hardLink(_ from: String, to: String) throws -> Bool {
        if link(from, to) == 0 { return true }
        let code = errno
        // Another file system, or one without hard links: the caller copies.
        if code == EXDEV || code == EPERM || code == EOPNOTSUPP || code == EMLINK { return false }
        throw ioError("link", from, errno: code)
    }

    func removeDirectory(_ path: String) throws {
        guard rmdir(path) == 0 || errno == ENOENT else { throw ioError("remove directory", path) }
    }

    func nowMillis() -> Int64 { currentTimeMillis() }

    func monotonicNanoseconds() -> UInt64 { Cairn.monotonicNanoseconds() }

    func startThread(_ body: @escaping @Sendable () -> Void) throws { try Cairn.startThread(body) }
}
