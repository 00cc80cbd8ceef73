@testable import Cairn
#if canImport(Glibc)
import Glibc
#endif

/// Decides whether a write or sync fails: tests make the disk full, or
/// every fsync fail, without a real disaster.
final class FaultInjection: @unchecked Sendable {
    private let lock = Lock()
    private var remainingBytes: Int?
    private var failSyncs = false
    /// Only writes to files whose name ends so count (nil: every file).
    private var suffix: String?

    init() {}

    /// From now on, writes fail with ENOSPC once `bytes` more were written
    /// (nil: unlimited again), to every file or to those ending in `suffix`
    /// (".sst": a flush fails while the log still takes writes).
    func setDiskSpace(_ bytes: Int?, forFilesEndingIn suffix: String? = nil) {
        lock.withLock {
            remainingBytes = bytes
            self.suffix = suffix
        }
    }

    func setSyncFailures(_ fail: Bool) { lock.withLock { failSyncs = fail } }

    func beforeWrite(_ count: Int, path: String) throws {
        try lock.withLock {
            guard let remaining = remainingBytes, suffix.map({ path.hasSuffix($0) }) ?? true else { return }
            guard count <= remaining else { throw ioError("write", path, errno: ENOSPC) }
            remainingBytes = remaining - count
        }
    }

    func beforeSync(path: String) throws {
        try lock.withLock { if failSyncs { throw ioError("fsync", path, errno: EIO) } }
    }
}

/// A test Env over the real file system (as LevelDB's
/// FaultInjectionTestEnv): it injects faults, moves a fake clock, and cuts
/// the power.
///
/// A power cut keeps only what a real disk would keep after one: it drops
/// every byte written but not synced, in every file; it forgets the files
/// created, and undoes the renames, whose directory was not synced since;
/// and from then on every write, sync, create, rename and removal fails
/// with IO_ERROR, so the database that was running can neither make more
/// durable nor see its own losses. Reopen with another Env to check what
/// survived.
final class FaultInjectionEnv: Env, @unchecked Sendable {
    let faults: FaultInjection
    private let real = PosixEnv()
    private let lock = Lock()
    /// Per file written through this Env: bytes written and bytes synced.
    private var files: [String: (written: Int, synced: Int)] = [:]
    /// Files created, and renames done, since their directory's last sync.
    private var unsyncedCreates: Set<String> = []
    private var unsyncedRenames: [(from: String, to: String, replaced: [UInt8]?)] = []
    private var poweredOff = false
    /// The fake clock, in milliseconds; nil runs on the real one.
    private var clockMillis: Int64?

    init(faults: FaultInjection = FaultInjection()) { self.faults = faults }

    // MARK: Clock

    /// From now on the wall clock reads `millis` until moved again.
    func setClock(_ millis: Int64) { lock.withLock { clockMillis = millis } }
    func advanceClock(by millis: Int64) { lock.withLock { clockMillis = (clockMillis ?? real.nowMillis()) + millis } }

    func nowMillis() -> Int64 { lock.withLock { clockMillis } ?? real.nowMillis() }
    func monotonicNanoseconds() -> UInt64 { real.monotonicNanoseconds() }
    /// Threads started through this Env first sleep this long (set before
    /// the open): a busy machine that schedules background threads late.
    var threadStartDelayMicroseconds: UInt32 = 0

    func startThread(_ body: @escaping @Sendable () -> Void) throws {
        let delay = threadStartDelayMicroseconds
        try real.startThread {
            if delay > 0 { usleep(delay) }
            body()
        }
    }

    // MARK: Power

    /// Cuts the power now (see the type's comment).
    func cutPower() {
        lock.withLock {
            poweredOff = true
            for (path, state) in files where state.synced < state.written {
                _ = Glibc.truncate(path, off_t(state.synced))
            }
            for path in unsyncedCreates { _ = unlink(path) }
            for rename in unsyncedRenames.reversed() {
                // A file created since the last sync was just unlinked, under
                // its new name; bring back what the rename replaced.
                _ = Glibc.rename(rename.to, rename.from)
                if let replaced = rename.replaced {
                    let fd = open(rename.to, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 {
                        _ = replaced.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                        _ = Glibc.close(fd)
                    }
                }
            }
            files = [:]
            unsyncedCreates = []
            unsyncedRenames = []
        }
    }

    private func checkPower(_ operation: String, _ path: String) throws {
        if poweredOff { throw ioError(operation, path, errno: EIO) }
    }

    /// Runs a write under the lock, so that a power cut falls before or
    /// after it, never in the middle.
    fileprivate func writing(_ count: Int, to path: String, _ body: () throws -> Void) throws {
        try lock.withLock {
            try checkPower("write", path)
            try faults.beforeWrite(count, path: path)
            try body()
            files[path, default: (0, 0)].written += count
        }
    }

    fileprivate func synced(_ path: String, body: () throws -> Void) throws {
        try lock.withLock {
            try checkPower("fsync", path)
            try faults.beforeSync(path: path)
            try body()
            if let state = files[path] { files[path] = (state.written, state.written) }
        }
    }

    fileprivate func truncating(_ path: String, to length: Int, _ body: () throws -> Void) throws {
        try lock.withLock {
            try checkPower("truncate", path)
            try body()
            if let state = files[path] { files[path] = (min(state.written, length), min(state.synced, length)) }
        }
    }

    // MARK: Files

    func kind(of path: String) -> FileKind { real.kind(of: path) }
    func size(of path: String) -> UInt64? { real.size(of: path) }
    func createDirectory(_ path: String) throws { try real.createDirectory(path) }
    func listDirectory(_ path: String) throws -> [String] { try real.listDirectory(path) }
    func openForReading(_ path: String) throws -> FileHandle { try real.openForReading(path) }
    func mapForReading(_ file: FileHandle, size: Int) -> MappedFile? { real.mapForReading(file, size: size) }
    func lockFile(_ path: String) throws -> FileHandle { try real.lockFile(path) }

    func hardLink(_ from: String, to: String) throws -> Bool {
        try lock.withLock {
            try checkPower("link", from)
            return try real.hardLink(from, to: to)
        }
    }

    func removeDirectory(_ path: String) throws { try real.removeDirectory(path) }

    func create(_ path: String) throws -> FileHandle {
        try lock.withLock {
            try checkPower("create", path)
            let plain = try real.create(path)
            let file = WatchedFile(path: path, descriptor: dup(plain.descriptor), env: self)
            files[path] = (0, 0)
            unsyncedCreates.insert(path)
            return file
        }
    }

    func rename(_ from: String, to: String) throws {
        try lock.withLock {
            try checkPower("rename", from)
            var replaced: [UInt8]?
            if real.kind(of: to) == .regularFile { replaced = try real.openForReading(to).readAll() }
            try real.rename(from, to: to)
            if unsyncedCreates.remove(from) != nil { unsyncedCreates.insert(to) }
            if let state = files.removeValue(forKey: from) { files[to] = state }
            unsyncedRenames.append((from, to, replaced))
        }
    }

    func remove(_ path: String) throws {
        try lock.withLock {
            try checkPower("remove", path)
            try real.remove(path)
            files[path] = nil
            unsyncedCreates.remove(path)
        }
    }

    func syncDirectory(_ directory: String) throws {
        try lock.withLock {
            try checkPower("fsync directory", directory)
            try faults.beforeSync(path: directory)
            try real.syncDirectory(directory)
            let prefix = directory.hasSuffix("/") ? directory : directory + "/"
            unsyncedCreates = unsyncedCreates.filter { !$0.hasPrefix(prefix) }
            unsyncedRenames.removeAll { $0.to.hasPrefix(prefix) }
        }
    }
}

/// A file written through FaultInjectionEnv: every write and sync is
/// reported to it first. Writes are sequential (appends, and the log's
/// writes at its end), so a count of bytes is a length.
private final class WatchedFile: FileHandle, @unchecked Sendable {
    private let env: FaultInjectionEnv

    init(path: String, descriptor: Int32, env: FaultInjectionEnv) {
        self.env = env
        super.init(path: path, descriptor: descriptor)
    }

    override func append(_ bytes: UnsafeRawBufferPointer) throws {
        try env.writing(bytes.count, to: path) { try super.append(bytes) }
    }

    override func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        try env.writing(bytes.count, to: path) { try super.write(bytes, at: offset) }
    }

    /// Allocating ahead writes no data: after a power cut the file keeps
    /// what was synced (the allocation may or may not survive, and the
    /// cut drops it with the unsynced bytes, which readers must take too).
    override func preallocate(to length: Int) -> Bool {
        var done = false
        try? env.writing(0, to: path) { done = super.preallocate(to: length) }
        return done
    }

    override func sync() throws {
        try env.synced(path) { try super.sync() }
    }

    override func truncate(to length: Int) throws {
        try env.truncating(path, to: length) { try super.truncate(to: length) }
    }
}
