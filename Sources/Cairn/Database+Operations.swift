/// Operating a database: checkpoints, verification, secondaries catching up,
/// and backups (Storage/Backup). The `cairn` tool and the C functions
/// cairn_checkpoint, cairn_verify, cairn_catch_up and cairn_backup_* call
/// these.
extension Database {
    /// Writes a consistent copy of the database into `directory` (absent, or
    /// an empty directory) while writes go on: the live tables hard-linked
    /// (copied across file systems) and the live log copied up to one
    /// sequence. The copy opens as an ordinary database holding exactly the
    /// writes acknowledged before that sequence. A crash never leaves a copy
    /// that looks complete (StorageEngine+Checkpoint.swift).
    ///
    /// - Throws: `CairnError` with INVALID_ARGUMENT (the directory is not
    ///   empty, or this handle is read-only or secondary), NOT_FOUND (its
    ///   parent does not exist), CLOSED, IO_ERROR or NO_SPACE.
    @discardableResult
    public func checkpoint(to directory: String) throws -> CheckpointReport {
        try engine.checkpoint(to: directory)
    }

    /// Verifies this open database's live files (every table block and log
    /// record checksum) at one sequence, while writes go on.
    ///
    /// - Throws: `CairnError` with CLOSED, INVALID_ARGUMENT (a read-only or
    ///   secondary handle: verify its path instead) or IO_ERROR. Damage is
    ///   not thrown: it is in the report (`ok` false, `damaged`).
    public func verify() throws -> VerifyReport { try engine.verifyLive() }

    /// Verifies the database in directory `path` that no handle has open
    /// (or that a writer elsewhere leaves alone meanwhile): the manifest,
    /// every table block and every live log record. Changes nothing.
    ///
    /// - Throws: `CairnError` with NOT_FOUND (no database there) or
    ///   IO_ERROR; damage is in the report.
    public static func verify(path: String) throws -> VerifyReport {
        guard !path.isEmpty else { throw CairnError.invalidArgument("the database path is empty") }
        return try StorageEngine.verify(directory: StorageEngine.trimmedPath(path))
    }

    /// Brings a database opened with `secondary` up to date with the writer
    /// that owns its directory (RocksDB's TryCatchUpWithPrimary); returns
    /// the last sequence now visible. Reads already running keep their
    /// snapshot.
    ///
    /// - Throws: `CairnError` with INVALID_ARGUMENT (not a secondary),
    ///   CLOSED, CORRUPTION or IO_ERROR.
    @discardableResult
    public func catchUp() throws -> UInt64 {
        let sequence = try engine.catchUp()
        // Whatever the layers cached may have changed under the writer.
        documents.catalogCache.changing {}
        fullText.forgetAll()
        vectors.forgetAll()
        try openTimeSeries()
        try openLinks()
        return sequence
    }

    /// True for a handle opened with `read_only` or `secondary`.
    public var isReadOnly: Bool { engine.mode != .primary }
}

/// A directory of incremental backups (Storage/Backup/BackupEngine.swift,
/// docs/format/backup.md): tables shared between backups are stored once;
/// each backup is listed, verified, restored and deleted by its id.
///
///     let backups = BackupDirectory(path: "/backups/app")
///     let made = try backups.create(from: db)           // made.id
///     try backups.restore(id: made.id, to: "/tmp/restored")
///     try backups.purge(keepingNewest: 7)
///
/// Calls on one directory serialize on its LOCK file (BUSY when another
/// process holds it); `list` takes no lock.
public struct BackupDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    private var engine: BackupEngine { BackupEngine(directory: path) }

    /// Backs up `database` (created with the directory when absent) at one
    /// sequence while writes go on, copying only the tables the directory
    /// does not hold yet.
    ///
    /// - Throws: `CairnError` with INVALID_ARGUMENT (a read-only or
    ///   secondary handle, or a path that is a file), BUSY, CLOSED,
    ///   IO_ERROR or NO_SPACE; nothing is listed unless it succeeded.
    @discardableResult
    public func create(from database: Database) throws -> BackupMeta {
        guard !path.isEmpty else { throw CairnError.invalidArgument("the backup directory path is empty") }
        return try engine.create(from: database.engine)
    }

    /// Every complete backup, oldest first.
    public func list() throws -> [BackupMeta] { try engine.list() }

    /// The list as a JSON array of {"id", "timestamp_ms", "sequence",
    /// "size", "files", "database_id", "copied_bytes", "reused_bytes"}.
    public func listJSON() throws -> String { JSONValue.array(try list().map(\.summaryJSON)).serialized }

    /// Reads every file of backup `id` and checks its size and CRC-32C;
    /// damage is in the report, NOT_FOUND when there is no such backup.
    public func verify(id: UInt64) throws -> VerifyReport { try engine.verify(id: id) }

    /// Restores backup `id` into `directory` (absent or empty), checking
    /// every checksum; the result opens as an ordinary database.
    @discardableResult
    public func restore(id: UInt64, to directory: String) throws -> BackupMeta {
        try engine.restore(id: id, to: directory)
    }

    /// Keeps the newest `keepingNewest` backups, deletes the others and
    /// every file only they used.
    @discardableResult
    public func purge(keepingNewest: Int) throws -> PurgeReport { try engine.purge(keepingNewest: keepingNewest) }

    /// Deletes backup `id` and every file only it used.
    @discardableResult
    public func delete(id: UInt64) throws -> PurgeReport { try engine.delete(ids: [id]) }

    /// Removes files no backup uses (left by a crash during a backup).
    @discardableResult
    public func garbageCollect() throws -> PurgeReport { try engine.garbageCollect() }
}
