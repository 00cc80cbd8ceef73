import Synchronization

/// When an acknowledged write reaches stable storage.
public enum SyncMode: String, Sendable {
    /// fsync the write-ahead log before a write returns.
    case always
    /// Leave flushing to the OS: survives a process crash, not a power loss.
    case never
}

/// The storage engine of this version: every live entry is held in an
/// in-memory multi-version skiplist (MemTable), made durable by a
/// write-ahead log, and periodically written whole to a checkpoint file so
/// the log stays short. One ordered, versioned key space for every layer.
///
/// The directory holds:
///   LOCK                        the OS lock that makes one process the owner
///   wal-<number>.log            write-ahead log segments, replayed in order
///   checkpoint-<sequence>.cpt   the newest complete checkpoint
///
/// Thread safety: any number of threads may call any method. Writers are
/// serialized by `writeLock`; readers take a short lock only to pin the
/// current memtable and sequence, then read without locks.
final class StorageEngine: @unchecked Sendable {
    struct Options {
        var sync: SyncMode = .always
        var checkpointBytes: Int = 64 << 20
    }

    let directory: String
    let options: Options
    let stats = EngineStats()
    private let fileSystem: FileSystem
    private let lockFile: FileHandle

    /// Guards `wal`, `walNumber`, `nextSequence`, `walBytesSinceCheckpoint` and
    /// inserts into the memtable.
    private let writeLock = Lock()
    private var wal: WALWriter?
    private var walNumber: UInt64 = 0
    private var nextSequence: UInt64 = 1
    private var payloadBuffer: [UInt8] = []
    private var lastCheckpointBytes = 0
    private var checkpointSequence: UInt64 = 0
    private lazy var nextCheckpointAt = options.checkpointBytes

    /// Guards the pair readers pin together: the memtable and the last
    /// sequence number visible in it.
    private let readLock = Lock()
    private var memtable = MemTable()
    private var visibleSequence: UInt64 = 0

    private let closed = Atomic<Bool>(false)

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    // MARK: Opening

    init(directory: String, options: Options, createIfMissing: Bool, errorIfExists: Bool,
         fileSystem: FileSystem = POSIXFileSystem()) throws {
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
        switch fileSystem.kind(of: directory) {
        case .missing:
            guard createIfMissing else { throw CairnError(.notFound, "database \(directory) does not exist") }
            try fileSystem.createDirectory(directory)
        case .directory:
            break
        case .regularFile, .other:
            throw CairnError.invalidArgument("\(directory) exists and is not a directory")
        }
        lockFile = try fileSystem.lockFile(directory + "/LOCK")
        do {
            let names = try fileSystem.listDirectory(directory)
            let hasData = names.contains { $0.hasSuffix(".log") || $0.hasSuffix(".cpt") }
            if hasData && errorIfExists { throw CairnError.invalidArgument("database \(directory) already exists") }
            if !hasData && !createIfMissing { throw CairnError(.notFound, "database \(directory) does not exist") }
            try recover(names: names)
        } catch {
            lockFile.close()
            throw error
        }
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private static func walName(_ number: UInt64) -> String {
        let digits = String(number)
        return "wal-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    private static func walNumber(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    /// Loads the newest checkpoint, replays the log after it, and starts a
    /// fresh log segment. Never needs a repair step: a torn log tail is the
    /// expected result of a crash and is cut off.
    private func recover(names: [String]) throws {
        for name in names where name.hasSuffix(".tmp") { try fileSystem.remove(path(name)) }
        let checkpoints = names.compactMap { CheckpointFormat.sequence(fromFileName: $0) }.sorted()
        let table = MemTable()
        var sequence: UInt64 = 0
        if let newest = checkpoints.last {
            let name = CheckpointFormat.fileName(sequence: newest)
            let bytes = try fileSystem.openForReading(path(name)).readAll()
            lastCheckpointBytes = bytes.count
            sequence = try bytes.withUnsafeBytes { raw in
                var order: UInt64 = 0
                let stored = try CheckpointReader.read(raw, path: path(name)) { key, value, expiry in
                    order += 1
                    table.insert(sequence: order, kind: .value, key: key, value: value, expiresAt: expiry)
                }
                guard order <= stored else { throw CairnError.corruption("\(self.path(name)): more entries than its sequence allows") }
                return stored
            }
            checkpointSequence = sequence
        }
        let segments = names.compactMap { StorageEngine.walNumber(fromFileName: $0) }.sorted()
        for number in segments {
            let name = StorageEngine.walName(number)
            let bytes = try fileSystem.openForReading(path(name)).readAll()
            let outcome = try bytes.withUnsafeBytes { raw in
                try RecordReader(path: path(name)).forEachRecord(in: raw) { payload in
                    let first = try WriteBatchDecoder.forEachOperation(in: payload, what: path(name)) { _, _ in }.firstSequence
                    guard first > sequence else { return }  // already in the checkpoint
                    guard first == sequence + 1 else {
                        throw CairnError.corruption("\(path(name)): sequence \(first) follows \(sequence)")
                    }
                    sequence = try apply(payload: payload, to: table, what: path(name))
                    EngineStats.bump(stats.recoveredRecords)
                }
            }
            if outcome.hadTornTail { EngineStats.bump(stats.tornTails) }
        }
        memtable = table
        visibleSequence = sequence
        nextSequence = sequence + 1
        walNumber = (segments.last ?? 0) + 1
        wal = try openSegment(walNumber)
        // Older segments stay until the next checkpoint covers them.
    }

    private func openSegment(_ number: UInt64) throws -> WALWriter {
        let file = try fileSystem.create(path(StorageEngine.walName(number)))
        try fileSystem.syncDirectory(directory)
        return try WALWriter(file: file, number: number)
    }

    /// Applies one WAL payload to `table`; returns the last sequence used.
    @discardableResult
    private func apply(payload: UnsafeRawBufferPointer, to table: MemTable, what: String) throws -> UInt64 {
        var last: UInt64 = 0
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let header = try WriteBatchDecoder.forEachOperation(in: payload, what: what) { sequence, op in
            last = sequence
            switch op.kind {
            case .put, .putWithExpiry:
                table.insert(sequence: sequence, kind: .value, key: op.key, value: op.value, expiresAt: op.expiresAt)
            case .delete:
                table.insert(sequence: sequence, kind: .tombstone, key: op.key, value: empty, expiresAt: 0)
            case .deleteRange:
                // Expanded into point tombstones for the keys present now, at
                // this operation's sequence; replay reaches the same state, so
                // the expansion is deterministic.
                let keys = liveKeys(in: table, from: op.key, to: op.value, sequence: sequence - 1)
                for key in keys {
                    key.withUnsafeBytes { table.insert(sequence: sequence, kind: .tombstone, key: $0, value: empty, expiresAt: 0) }
                }
            }
        }
        return header.count == 0 ? header.firstSequence - 1 : last
    }

    /// Keys with any non-tombstone version visible at `sequence` in [start, end).
    private func liveKeys(in table: MemTable, from start: UnsafeRawBufferPointer, to end: UnsafeRawBufferPointer,
                          sequence: UInt64) -> [[UInt8]] {
        guard compareBytes(start, end) < 0 else { return [] }
        var keys: [[UInt8]] = []
        let cursor = MemTableCursor(table: table, sequence: sequence, now: 0, lower: start, upper: end, reverse: false)
        while let node = cursor.next(includeExpired: true) { keys.append(Array(node.key)) }
        return keys
    }

    // MARK: Writing

    /// Commits `batch` atomically: one WAL record, then the memtable.
    func write(_ batch: WriteBatch) throws {
        guard !batch.isEmpty else {
            if isClosed { throw CairnError.closed }
            return
        }
        try writeLock.withLock {
            guard !isClosed, let wal else { throw CairnError.closed }
            let first = nextSequence
            batch.walPayload(firstSequence: first, now: currentTimeMillis(), into: &payloadBuffer)
            try payloadBuffer.withUnsafeBytes { try wal.append($0, sync: options.sync == .always) }
            if options.sync == .always { EngineStats.bump(stats.walSyncs) }
            let table = memtable  // only the writer swaps it, and we are the writer
            let last = try payloadBuffer.withUnsafeBytes { try apply(payload: $0, to: table, what: "batch") }
            nextSequence = first + UInt64(batch.count)
            precondition(last == nextSequence - 1, "a batch must use exactly one sequence per operation")
            readLock.withLock { visibleSequence = last }
            EngineStats.bump(stats.writes)
            EngineStats.bump(stats.bytesWritten, by: UInt64(batch.payloadBytes))
            EngineStats.bump(stats.walBytesWritten, by: UInt64(payloadBuffer.count + RecordFormat.headerSize))
            if wal.size >= nextCheckpointAt {
                // The write is durable already; a failed checkpoint must not
                // fail it. Retry after the log grows by another quarter.
                do {
                    try checkpointLocked()
                    nextCheckpointAt = options.checkpointBytes
                } catch {
                    nextCheckpointAt = wal.size + max(options.checkpointBytes / 4, 1 << 20)
                    EngineStats.bump(stats.checkpointFailures)
                }
            }
        }
    }

    // MARK: Reading

    /// A consistent view: a memtable and the last sequence visible in it.
    struct Snapshot {
        let table: MemTable
        let sequence: UInt64
    }

    func snapshot() throws -> Snapshot {
        guard !isClosed else { throw CairnError.closed }
        return readLock.withLock { Snapshot(table: memtable, sequence: visibleSequence) }
    }

    /// Calls `body` with the live value of `key`, or returns false when it is
    /// absent, deleted or expired. The value is borrowed for `body` only.
    func withValue(forKey key: UnsafeRawBufferPointer, now: Int64, in snapshot: Snapshot,
                   _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Bool {
        guard let node = snapshot.table.seek(key: key, sequence: snapshot.sequence),
              node.compareKey(key) == 0, node.kind == .value, !node.isExpired(at: now) else { return false }
        try body(node.value)
        return true
    }

    // MARK: Checkpoints and closing

    /// Writes every live entry to a new checkpoint, swaps in a compact
    /// memtable and drops the log segments the checkpoint covers.
    func checkpoint() throws {
        try writeLock.withLock {
            guard !isClosed else { throw CairnError.closed }
            try checkpointLocked()
        }
    }

    private func checkpointLocked() throws {
        let sequence = nextSequence - 1
        guard let oldWAL = wal else { return }
        let name = CheckpointFormat.fileName(sequence: sequence)
        let temporary = path(name + ".tmp")
        let writer = try CheckpointWriter(file: try fileSystem.create(temporary), sequence: sequence)
        let compact = MemTable()
        let now = currentTimeMillis()
        let cursor = MemTableCursor(table: memtable, sequence: sequence, now: now, lower: nil, upper: nil, reverse: false)
        var order: UInt64 = 0
        do {
            while let node = cursor.next(includeExpired: false) {
                try writer.add(key: node.key, value: node.value, expiresAt: node.expiresAt)
                order += 1
                compact.insert(sequence: order, kind: .value, key: node.key, value: node.value, expiresAt: node.expiresAt)
            }
            try writer.finish()
            try fileSystem.rename(temporary, to: path(name))
            try fileSystem.syncDirectory(directory)
        } catch {
            try? fileSystem.remove(temporary)
            throw error
        }
        // The compact memtable numbers its entries 1...order, all <= sequence,
        // so every snapshot at `sequence` or later sees them.
        let newNumber = walNumber + 1
        let newWAL = try openSegment(newNumber)
        readLock.withLock { memtable = compact }
        wal = newWAL
        walNumber = newNumber
        oldWAL.close()
        checkpointSequence = sequence
        lastCheckpointBytes = writer.bytesWritten
        EngineStats.bump(stats.checkpoints)
        EngineStats.bump(stats.checkpointBytes, by: UInt64(writer.bytesWritten))
        // Everything older is now covered by the checkpoint.
        for file in try fileSystem.listDirectory(directory) {
            if let number = StorageEngine.walNumber(fromFileName: file), number < newNumber {
                try fileSystem.remove(path(file))
            } else if let old = CheckpointFormat.sequence(fromFileName: file), old < sequence {
                try fileSystem.remove(path(file))
            }
        }
        try fileSystem.syncDirectory(directory)
    }

    /// Checkpoints (when the log holds anything new) and releases the
    /// directory. Idempotent. The handle is closed even when the checkpoint
    /// fails; the log still holds every acknowledged write then.
    func close() throws {
        try writeLock.withLock {
            guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
            defer {
                wal?.close()
                wal = nil
                lockFile.close()
            }
            if let wal, wal.size > 0 { try checkpointLocked() }
        }
    }

    // MARK: Statistics

    struct Sizes {
        var walBytes: Int
        var checkpointBytes: Int
        var memtableBytes: Int
        var memtableEntries: Int
        var sequence: UInt64
    }

    func sizes() -> Sizes {
        writeLock.withLock {
            Sizes(walBytes: wal?.size ?? 0, checkpointBytes: lastCheckpointBytes,
                  memtableBytes: memtable.memoryBytes, memtableEntries: memtable.entryCount,
                  sequence: nextSequence - 1)
        }
    }
}

#if DEBUG
extension StorageEngine {
    /// Test support: stops using the directory the way a killed process
    /// does: no checkpoint, the lock and files simply released.
    func abandonForCrashTest() {
        writeLock.withLock {
            _ = closed.exchange(true, ordering: .acquiringAndReleasing)
            wal?.close()
            wal = nil
            lockFile.close()
        }
    }
}
#endif
