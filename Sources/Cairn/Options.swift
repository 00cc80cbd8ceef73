/// The options of `Database.open`, parsed from the JSON object that every
/// language passes. Unknown keys and wrong types are INVALID_ARGUMENT naming
/// the option, so a typo never silently falls back to a default. The
/// defaults are documented in include/cairn.h and the README.
public struct DatabaseOptions: Sendable {
    /// Create the directory and database when absent.
    public var createIfMissing = true
    /// Fail when a database already exists.
    public var errorIfExists = false
    /// When an acknowledged write reaches stable storage.
    public var sync: SyncMode = .always
    /// With sync "interval": the most milliseconds a write stays unsynced.
    public var syncIntervalMillis = 100
    /// The memtable is frozen and flushed at this many MiB.
    public var memtableSizeMB = 16
    /// Uncompressed bytes per table data block.
    public var blockSize = 4096
    /// The compression of levels 2 and below, where most data settles. lz4,
    /// as the peers' Snappy: a read that misses the block cache decompresses
    /// a block, and zstd's decompression costs about ten times lz4's (a
    /// fully compacted database read at a third of the speed with zstd).
    public var compression: CompressionKind = .lz4
    /// The compression of levels 0 and 1; nil: lz4 under zstd, else the same
    /// as `compression`.
    public var upperLevelCompression: CompressionKind?
    /// Bloom filter bits per key (0: no filters).
    public var bloomBitsPerKey = 10
    /// The cache of uncompressed blocks, in MiB (0: none).
    public var blockCacheMB = 8
    /// The graph layer's cache of adjacency lists, in MiB (0: none); see
    /// Graph/AdjacencyCache.swift. Filled only by graph queries.
    public var graphCacheMB = 64
    /// Each level holds this many times the bytes of the one above.
    public var levelSizeRatio = 10
    /// The most tables with open files at once.
    public var maxOpenTables = 1000
    /// Refuse to open when the last log record fails its checksum, instead
    /// of cutting it off and reporting it in stats' `recovery_notes`.
    public var paranoidRecovery = false
    /// Read tables through memory maps (as LevelDB and LMDB do) rather than
    /// pread; see MappedFile for the price.
    public var mmapReads = true
    /// The change feed: nil (the default) records no history and allows no
    /// watch; see ChangeFeed/ChangeFeedOptions.swift.
    public var changeFeed: ChangeFeedOptions?
    /// How often the background purge deletes expired documents (TTL
    /// indexes; MongoDB's TTL monitor runs every 60 s); 0 turns it off.
    /// Reads never return an expired document either way.
    public var ttlPurgeIntervalMillis: Int64 = 60_000
    /// Open without the lock, as of now, refusing writes (READ_ONLY);
    /// see StorageEngine+Follower.swift.
    public var readOnly = false
    /// Open as a secondary that follows the writer with `catchUp()`.
    public var secondary = false
    /// Wait this long for the directory lock before failing with BUSY.
    public var lockTimeoutMillis = 0

    public init() {}

    public static let names = ["create_if_missing", "error_if_exists", "sync", "sync_interval_ms", "memtable_size_mb",
                               "block_size", "compression", "upper_level_compression", "bloom_bits_per_key", "block_cache_mb", "graph_cache_mb", "level_size_ratio", "max_open_tables", "paranoid_recovery", "mmap_reads", "change_feed", "ttl_purge_interval_ms", "read_only", "secondary", "lock_timeout_ms"]

    /// Parses an options object; empty input means all defaults.
    public static func parse(json bytes: UnsafeRawBufferPointer) throws -> DatabaseOptions {
        var options = DatabaseOptions()
        guard bytes.count > 0 else { return options }
        let value = try JSONValue.parse(bytes, what: "options JSON")
        guard case .object(let members) = value else {
            throw CairnError.invalidArgument("options must be a JSON object, not \(value.typeName)")
        }
        for (key, value) in members {
            switch key {
            case "create_if_missing": options.createIfMissing = try boolean(value, key)
            case "error_if_exists": options.errorIfExists = try boolean(value, key)
            case "paranoid_recovery": options.paranoidRecovery = try boolean(value, key)
            case "mmap_reads": options.mmapReads = try boolean(value, key)
            case "sync":
                guard case .string(let text) = value, let mode = SyncMode(rawValue: text) else {
                    throw CairnError.invalidArgument("option 'sync' must be \"always\", \"interval\" or \"never\"")
                }
                options.sync = mode
            case "compression":
                guard case .string(let text) = value, let kind = CompressionKind(name: text) else {
                    throw CairnError.invalidArgument("option 'compression' must be \"zstd\", \"lz4\" or \"none\"")
                }
                options.compression = kind
            case "upper_level_compression":
                guard case .string(let text) = value, let kind = CompressionKind(name: text) else {
                    throw CairnError.invalidArgument("option 'upper_level_compression' must be \"zstd\", \"lz4\" or \"none\"")
                }
                options.upperLevelCompression = kind
            case "sync_interval_ms": options.syncIntervalMillis = try integer(value, key, 1...3_600_000)
            case "memtable_size_mb": options.memtableSizeMB = try integer(value, key, 1...4096)
            case "block_size": options.blockSize = try integer(value, key, 256...(1 << 20))
            case "bloom_bits_per_key": options.bloomBitsPerKey = try integer(value, key, 0...64)
            case "block_cache_mb": options.blockCacheMB = try integer(value, key, 0...(1 << 20))
            case "graph_cache_mb": options.graphCacheMB = try integer(value, key, 0...(1 << 20))
            case "level_size_ratio": options.levelSizeRatio = try integer(value, key, 2...100)
            case "max_open_tables": options.maxOpenTables = try integer(value, key, 16...1_000_000)
            case "change_feed": options.changeFeed = try ChangeFeedOptions.parse(value)
            case "ttl_purge_interval_ms": options.ttlPurgeIntervalMillis = Int64(try integer(value, key, 0...86_400_000))
            case "read_only": options.readOnly = try boolean(value, key)
            case "secondary": options.secondary = try boolean(value, key)
            case "lock_timeout_ms": options.lockTimeoutMillis = try integer(value, key, 0...86_400_000)
            default:
                throw CairnError.invalidArgument("unknown option '\(key)' (known: \(names.joined(separator: ", ")))")
            }
        }
        return options
    }

    /// How the engine holds the directory.
    var mode: StorageEngine.Mode { readOnly ? .readOnly : secondary ? .secondary : .primary }

    private static func boolean(_ value: JSONValue, _ key: String) throws -> Bool {
        guard case .bool(let flag) = value else {
            throw CairnError.invalidArgument("option '\(key)' must be true or false, not \(value.typeName)")
        }
        return flag
    }

    private static func integer(_ value: JSONValue, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
        guard case .int(let number) = value, number >= range.lowerBound, number <= range.upperBound else {
            throw CairnError.invalidArgument("option '\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    var engineOptions: StorageEngine.Options {
        var engine = StorageEngine.Options()
        engine.sync = sync
        engine.syncIntervalMillis = syncIntervalMillis
        engine.memtableBytes = memtableSizeMB << 20
        engine.table.blockSize = blockSize
        engine.table.compression = compression
        engine.upperLevelCompression = upperLevelCompression ?? (compression == .zstd ? .lz4 : compression)
        engine.table.bloomBitsPerKey = bloomBitsPerKey
        // The document layer scans non-unique index entries by prefix.
        engine.table.prefixLength = { Namespace.bloomPrefixLength(of: $0) }
        // The time-series layer's written chunks of a series merge at flush.
        engine.coalescer = ChunkCoalescing.coalescer()
        engine.blockCacheBytes = blockCacheMB << 20
        engine.levelSizeRatio = levelSizeRatio
        engine.maxOpenTables = maxOpenTables
        engine.paranoidRecovery = paranoidRecovery
        engine.mmapReads = mmapReads
        engine.lockTimeoutMillis = lockTimeoutMillis
        return engine
    }
}
