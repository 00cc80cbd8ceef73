/// An open Cairn database: one directory on disk, owned by this process.
///
/// The facade hands out the feature layers (key-value today) over one
/// storage engine. Safe to use from any number of threads.
///
///     let db = try Database.open(path: "/tmp/app.cairn")
///     try db.put(Array("greeting".utf8), Array("hello".utf8))
///     let value = try db.get(Array("greeting".utf8))   // "hello" as bytes
///     try db.close()
public final class Database: @unchecked Sendable {
    let engine: StorageEngine
    public let path: String

    private init(path: String, engine: StorageEngine) {
        self.path = path
        self.engine = engine
    }

    /// Opens (by default creating) the database in directory `path`.
    ///
    /// - Throws: `CairnError` with BUSY when another process has it open,
    ///   NOT_FOUND, INVALID_ARGUMENT, CORRUPTION, IO_ERROR or NO_SPACE.
    public static func open(path: String, options: DatabaseOptions = DatabaseOptions()) throws -> Database {
        guard !path.isEmpty else { throw CairnError.invalidArgument("the database path is empty") }
        var engineOptions = StorageEngine.Options()
        engineOptions.sync = options.sync
        engineOptions.checkpointBytes = options.checkpointMB << 20
        let engine = try StorageEngine(directory: path, options: engineOptions,
                                       createIfMissing: options.createIfMissing, errorIfExists: options.errorIfExists)
        return Database(path: path, engine: engine)
    }

    /// Opens with options given as a JSON object (the form every binding uses).
    public static func open(path: String, optionsJSON: UnsafeRawBufferPointer) throws -> Database {
        try open(path: path, options: DatabaseOptions.parse(json: optionsJSON))
    }

    /// Checkpoints and releases the directory. Idempotent; afterwards every
    /// call throws CLOSED.
    public func close() throws { try engine.close() }

    public var isClosed: Bool { engine.isClosed }

    /// Writes every live entry to a new checkpoint now and shortens the log.
    public func checkpoint() throws { try engine.checkpoint() }

    /// Counters and sizes as one JSON object.
    public func statsJSON() throws -> String {
        guard !isClosed else { throw CairnError.closed }
        let snapshot = try engine.snapshot()
        let cursor = MemTableCursor(table: snapshot.table, sequence: snapshot.sequence, now: currentTimeMillis(),
                                    lower: nil, upper: nil, reverse: false)
        var liveKeys = 0
        while cursor.next() != nil { liveKeys += 1 }
        let sizes = engine.sizes()
        let s = engine.stats
        func n(_ value: UInt64) -> JSONValue { .int(Int64(clamping: value)) }
        func n(_ value: Int) -> JSONValue { .int(Int64(value)) }
        let object: JSONValue = .object([
            ("puts", n(s.puts.load(ordering: .relaxed))),
            ("gets", n(s.gets.load(ordering: .relaxed))),
            ("get_hits", n(s.getHits.load(ordering: .relaxed))),
            ("get_misses", n(s.getMisses.load(ordering: .relaxed))),
            ("deletes", n(s.deletes.load(ordering: .relaxed))),
            ("delete_ranges", n(s.deleteRanges.load(ordering: .relaxed))),
            ("writes", n(s.writes.load(ordering: .relaxed))),
            ("bytes_written", n(s.bytesWritten.load(ordering: .relaxed))),
            ("wal_bytes_written", n(s.walBytesWritten.load(ordering: .relaxed))),
            ("wal_syncs", n(s.walSyncs.load(ordering: .relaxed))),
            ("iterators", n(s.iterators.load(ordering: .relaxed))),
            ("checkpoints", n(s.checkpoints.load(ordering: .relaxed))),
            ("checkpoint_failures", n(s.checkpointFailures.load(ordering: .relaxed))),
            ("recovered_records", n(s.recoveredRecords.load(ordering: .relaxed))),
            ("torn_tails_recovered", n(s.tornTails.load(ordering: .relaxed))),
            ("live_keys", n(liveKeys)),
            ("memtable_entries", n(sizes.memtableEntries)),
            ("memtable_bytes", n(sizes.memtableBytes)),
            ("wal_bytes", n(sizes.walBytes)),
            ("checkpoint_bytes", n(sizes.checkpointBytes)),
            ("sequence", n(sizes.sequence)),
            ("sync", .string(engine.options.sync.rawValue)),
        ])
        return object.serialized
    }
}
