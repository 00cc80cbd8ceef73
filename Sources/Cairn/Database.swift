#if canImport(Glibc)
import Glibc
#endif

/// An open Cairn database: one directory on disk, owned by this process.
///
/// The facade hands out the feature layers (key-value, documents,
/// transactions) over one storage engine. Safe to use from any number of
/// threads.
///
///     let db = try Database.open(path: "/tmp/app.cairn")
///     try db.put(Array("greeting".utf8), Array("hello".utf8))
///     let value = try db.get(Array("greeting".utf8))   // "hello" as bytes
///     try db.close()
public final class Database: @unchecked Sendable {
    let engine: StorageEngine
    public let path: String
    /// The state each layer keeps for this database (the key-value layer
    /// keeps none beyond the engine).
    let documents = DocumentLayer()
    /// The full-text layer's analyzers and term dictionaries.
    let fullText = FullTextLayer()
    /// The vector layer's node caches.
    let vectors = VectorLayer()
    /// The change feed's state (off unless opened with "change_feed").
    let feed: ChangeFeed
    /// The time-series layer's state (TimeSeries/TimeSeriesLayer.swift).
    let timeSeries = TimeSeriesLayer()
    /// The links layer's state (Links/LinkLayer.swift).
    let links = LinkLayer()
    /// The graph layer's adjacency cache (Graph/GraphLayer.swift).
    let graphs: GraphLayer
    /// The documents layer's TTL purge (Documents/ExpiryPurge.swift).
    let expiryPurge: ExpiryPurge

    private init(path: String, engine: StorageEngine, feed: ChangeFeed, purgeIntervalMillis: Int64, graphCacheBytes: Int) {
        self.path = path
        self.engine = engine
        self.feed = feed
        graphs = GraphLayer(cacheBytes: graphCacheBytes)
        expiryPurge = ExpiryPurge(intervalMillis: purgeIntervalMillis)
    }

    /// Opens (by default creating) the database in directory `path`.
    ///
    /// - Throws: `CairnError` with BUSY when another handle has it open,
    ///   NOT_FOUND, INVALID_ARGUMENT, CORRUPTION, IO_ERROR or NO_SPACE.
    public static func open(path: String, options: DatabaseOptions = DatabaseOptions()) throws -> Database {
        try open(path: path, options: options, env: PosixEnv())
    }

    static func open(path: String, options: DatabaseOptions, env: Env) throws -> Database {
        guard !path.isEmpty else { throw CairnError.invalidArgument("the database path is empty") }
        if options.readOnly && options.secondary {
            throw CairnError.invalidArgument("options 'read_only' and 'secondary' exclude each other")
        }
        let engine = try StorageEngine(directory: path, options: options.engineOptions, createIfMissing: options.createIfMissing,
                                       errorIfExists: options.errorIfExists, env: env, mode: options.mode)
        let database = Database(path: path, engine: engine, feed: ChangeFeed(options: options.changeFeed),
                                purgeIntervalMillis: options.ttlPurgeIntervalMillis,
                                // Only a writer sees every commit that changes a list.
                                graphCacheBytes: options.mode == .primary ? options.graphCacheMB << 20 : 0)
        if options.mode != .primary {
            // A reader of another handle's directory writes nothing: no
            // change-feed state, no index builds to resume, no TTL purge.
            do {
                try database.openTimeSeries()
                try database.openLinks()
            } catch {
                try? database.close()
                throw error
            }
            return database
        }
        do {
            // Before anything writes: the feed's state decides whether
            // what follows is recorded.
            try database.feed.start(engine: engine)
            try database.resumeIndexBuilds()
            try database.openTimeSeries()
            try database.openLinks()
            try database.startExpiryPurgeIfNeeded()
        } catch {
            try? database.close()
            throw error
        }
        return database
    }

    /// Opens with options given as a JSON object (the form every binding uses).
    public static func open(path: String, optionsJSON: UnsafeRawBufferPointer) throws -> Database {
        try open(path: path, options: DatabaseOptions.parse(json: optionsJSON))
    }

    /// Rebuilds the manifest of a damaged database from the tables and log
    /// segments its directory still holds, then compacts; returns a JSON
    /// report of what was recovered and what was set aside in `lost/`.
    /// Never deletes a file. The database must not be open.
    ///
    /// - Throws: `CairnError` with BUSY when it is open, NOT_FOUND, IO_ERROR
    ///   or NO_SPACE.
    public static func repair(path: String, optionsJSON: UnsafeRawBufferPointer) throws -> String {
        guard !path.isEmpty else { throw CairnError.invalidArgument("the database path is empty") }
        let options = try DatabaseOptions.parse(json: optionsJSON)
        return try StorageEngine.repair(directory: path, options: options.engineOptions)
    }

    /// Stops background work, syncs the log and releases the directory.
    /// Idempotent; afterwards every call throws CLOSED.
    public func close() throws {
        // Builds stop at their next chunk, leaving their indexes "building"
        // for the next open to resume; then nothing writes any more.
        if getpid() == engine.ownerProcess {
            documents.indexBuilds.stop()
            // The TTL purge finishes its batch and ends (before the feed,
            // whose events its deletes record).
            expiryPurge.stop()
            // Watchers wake and fail with CLOSED; the trimmer ends.
            feed.stop()
            // The time-series worker finishes its bucket and ends.
            timeSeries.stop()
        }
        try engine.close()
    }

    public var isClosed: Bool { engine.isClosed }

    /// Stops every operation running on this database now, from any thread
    /// (sqlite3_interrupt): queries and open cursors, aggregations,
    /// iterators, index builds that a caller waits for, manual
    /// compactions. Each fails with INTERRUPTED at its next check, having
    /// written nothing half-way; operations started afterwards are not
    /// affected.
    public func interrupt() { engine.interrupts.interrupt() }

    /// Writes the memtable to a level-0 table now and waits for it.
    public func flush() throws { try engine.flush() }

    /// Compacts every table overlapping [start, end] (nil: unbounded) to the
    /// bottom level, dropping deleted, overwritten and expired entries.
    public func compactRange(start: [UInt8]? = nil, end: [UInt8]? = nil) throws {
        guard !isClosed else { throw CairnError.closed }
        // Bounds are key-value keys; unbounded means the whole database.
        try engine.compactRange(start: start.map { key in key.withUnsafeBytes { Namespace.keyValue.prefixed($0) } },
                                end: end.map { key in key.withUnsafeBytes { Namespace.keyValue.prefixed($0) } })
    }
}
