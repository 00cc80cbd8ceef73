#if canImport(Glibc)
import Glibc
#endif

/// Checkpoints: a consistent copy of the open database while writes go on,
/// as RocksDB's Checkpoint makes one (docs/format/backup.md).
///
/// The copy is the live table set plus the live part of the log, cut at one
/// sequence S, with a manifest of its own that says so:
///
///  1. `captureLiveFiles` pins the current version (its TableFile objects
///     keep their files from being deleted), notes the log segment being
///     written and its length, and opens every live segment. The log lock is
///     held only to read three numbers (the segment, its length and the last
///     sequence appended to it); every record up to that length is whole
///     (the group-commit leader appends a record with one write under that
///     lock), so S is the last sequence in those bytes. Writers wait for at
///     most that moment: no flush, no fsync and no copy happen under a lock
///     a writer needs. The version lock (flushes and compactions) is held
///     while the segments are opened, so none is deleted in between.
///  2. Tables are hard-linked (copied when the link fails: another file
///     system); segments are copied up to their length from the descriptors
///     opened in step 1, so a flush deleting one meanwhile changes nothing.
///  3. The manifest is written last: it lists the pinned tables, names the
///     oldest live segment and records S as durable, so opening the copy
///     replays exactly the writes up to S.
///
/// Flushing first (RocksDB's other option) would make the copy smaller, but
/// a flush writes a whole memtable and waits for it: tens of milliseconds
/// for a 16 MiB memtable, during which writers that fill the next one stall.
/// Copying the log costs the checkpoint a little more and writers nothing.
///
/// Crash safety: the copy is built in a hidden sibling directory and renamed
/// onto the target (an absent or empty directory) once its manifest is
/// synced; a crash leaves at most the hidden sibling (with a manifest when
/// it fell between the manifest's write and the rename), never a copy at
/// the target's name, so never one that looks complete.
extension StorageEngine {
    /// A pinned, consistent set of the files that make up the database at
    /// one sequence, and the manifest describing them.
    final class LiveFiles {
        let version: Version
        /// Log segments, oldest first: each copied up to `length` bytes.
        let segments: [(number: UInt64, file: FileHandle, length: Int)]
        let manifest: Manifest
        /// Every write up to this sequence is in the tables or the segments.
        let sequence: UInt64

        init(version: Version, segments: [(number: UInt64, file: FileHandle, length: Int)], manifest: Manifest, sequence: UInt64) {
            self.version = version
            self.segments = segments
            self.manifest = manifest
            self.sequence = sequence
        }

        var tables: [TableFile] { Array(version.levels.joined()) }

        deinit { for segment in segments { segment.file.close() } }
    }

    /// Step 1 above. REQUIRES: the engine is a primary (the writer).
    func captureLiveFiles() throws -> LiveFiles {
        guard !isClosed else { throw CairnError.closed }
        guard mode == .primary else {
            throw CairnError.invalidArgument("a checkpoint or backup is taken from the database's writer, not from a read-only or secondary open")
        }
        return try versionEditLock.withLock {
            guard !isClosed else { throw CairnError.closed }
            let (current, length, sequence) = walLock.withLock { (wal?.number, wal?.size, appendedSequence) }
            guard let current, let length else {
                throw CairnError(.ioError, "no log segment is open (the database opened on a full disk); retry once writes resume")
            }
            var manifest = Manifest()
            let version = stateLock.withLock { () -> Version in
                let oldest = immutables.last
                manifest.logNumber = oldest?.logNumber ?? memtableLogNumber
                manifest.flushedSequence = (oldest?.startSequence ?? memtableStartSequence) - 1
                manifest.generation = manifestGeneration
                manifest.nextFileNumber = nextFileNumber
                return self.version
            }
            manifest.databaseID = databaseID
            manifest.identityFromFile = identityFromFile
            manifest.lastSequence = sequence
            manifest.durableSequence = max(sequence, manifest.flushedSequence ?? 0)
            manifest.rangeTombstones = version.rangeTombstones
            for (level, files) in version.levels.enumerated() {
                manifest.levels[level] = files.map {
                    Manifest.Table(number: $0.number, size: $0.size, smallestUserKey: $0.smallestUserKey, largestUserKey: $0.largestUserKey,
                                   smallestSequence: $0.smallestSequence, largestSequence: $0.largestSequence, entryCount: $0.entryCount)
                }
            }
            // Every segment from the oldest live one to the one being
            // written (in a memtable switch, the old one may already be
            // closed with its next record while the state still names it).
            let numbers = try env.listDirectory(directory).compactMap { StorageEngine.walNumber(fromFileName: $0) }
                .filter { $0 >= manifest.logNumber && $0 <= current }.sorted()
            var segments: [(number: UInt64, file: FileHandle, length: Int)] = []
            do {
                for number in numbers {
                    let file = try env.openForReading(path(StorageEngine.walName(number)))
                    segments.append((number, file, number == current ? length : try file.size))
                }
            } catch {
                for segment in segments { segment.file.close() }
                throw error
            }
            guard segments.first?.number == manifest.logNumber else {
                for segment in segments { segment.file.close() }
                throw CairnError(.internal, "the live log segment \(StorageEngine.walName(manifest.logNumber)) is not in \(directory)")
            }
            return LiveFiles(version: version, segments: segments, manifest: manifest, sequence: sequence)
        }
    }

    /// Writes a consistent copy of the database into `target`, which must
    /// not exist or be an empty directory; returns what was copied.
    func checkpoint(to target: String) throws -> CheckpointReport {
        let target = StorageEngine.trimmedPath(target)
        let temporary = try StorageEngine.prepareTarget(target, env: env, purpose: "checkpoint")
        let start = env.monotonicNanoseconds()
        var report = CheckpointReport(directory: target)
        do {
            let files = try captureLiveFiles()
            report.sequence = files.sequence
            for table in files.tables {
                let name = TableFormat.fileName(table.number)
                if try env.hardLink(table.path, to: temporary + "/" + name) {
                    report.linkedTables += 1
                } else {
                    try env.copyFile(table.path, to: temporary + "/" + name)
                    report.copiedTables += 1
                }
                report.tableBytes += table.size
            }
            for segment in files.segments {
                try env.copy(segment.file, length: segment.length, to: temporary + "/" + StorageEngine.walName(segment.number))
                report.logBytes += UInt64(segment.length)
            }
            report.logSegments = files.segments.count
            try StorageEngine.install(files.manifest, in: temporary, as: target, env: env)
        } catch {
            try? env.removeTree(temporary)
            throw error
        }
        report.micros = (env.monotonicNanoseconds() &- start) / 1000
        return report
    }

    /// `path` without trailing slashes (so its parent and name are right).
    static func trimmedPath(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Checks that `target` is absent or an empty directory and makes the
    /// hidden sibling the copy is built in (a leftover of a crashed attempt
    /// at the same target is cleared first).
    static func prepareTarget(_ target: String, env: Env, purpose: String) throws -> String {
        guard !target.isEmpty else { throw CairnError.invalidArgument("the \(purpose) directory is empty") }
        switch env.kind(of: target) {
        case .missing: break
        case .directory:
            let names = try env.listDirectory(target)
            guard names.isEmpty else {
                throw CairnError.invalidArgument("\(target) is not empty (\(names.prefix(3).joined(separator: ", "))); a \(purpose) goes into a new or empty directory")
            }
        case .regularFile, .other:
            throw CairnError.invalidArgument("\(target) exists and is not a directory")
        }
        let parent = parent(of: target)
        guard env.kind(of: parent) == .directory else { throw CairnError(.notFound, "the directory \(parent) does not exist") }
        let name = target.split(separator: "/").last.map(String.init) ?? target
        let temporary = parent + "/." + name + ".cairn-" + purpose + "-tmp"
        if env.kind(of: temporary) == .directory {
            let names = try env.listDirectory(temporary)
            guard !names.contains(Manifest.fileName) else {
                throw CairnError.invalidArgument("\(temporary) holds a manifest: not a leftover of an unfinished \(purpose); move it away")
            }
            try env.removeTree(temporary)
        }
        try env.createDirectory(temporary)
        return temporary
    }

    /// Writes `manifest` into `temporary` (synced, with the directory, which
    /// makes every file linked or copied there durable too), then renames
    /// the directory onto `target` and syncs their parent.
    static func install(_ manifest: Manifest, in temporary: String, as target: String, env: Env) throws {
        do {
            try manifest.write(directory: temporary, env: env)
        } catch {
            throw error.error
        }
        try env.rename(temporary, to: target)
        try env.syncDirectory(parent(of: target))
    }
}

/// What a checkpoint copied, as `cairn_checkpoint` reports it.
public struct CheckpointReport: Sendable {
    public var directory: String
    /// The copy holds every write up to this sequence and none after it.
    public var sequence: UInt64 = 0
    public var linkedTables = 0
    public var copiedTables = 0
    public var tableBytes: UInt64 = 0
    public var logSegments = 0
    public var logBytes: UInt64 = 0
    public var micros: UInt64 = 0

    public var json: String {
        JSONValue.object([
            ("directory", .string(directory)), ("sequence", .int(Int64(clamping: sequence))),
            ("linked_tables", .int(Int64(linkedTables))), ("copied_tables", .int(Int64(copiedTables))),
            ("table_bytes", .int(Int64(clamping: tableBytes))), ("log_segments", .int(Int64(logSegments))),
            ("log_bytes", .int(Int64(clamping: logBytes))), ("micros", .int(Int64(clamping: micros))),
        ]).serialized
    }
}
