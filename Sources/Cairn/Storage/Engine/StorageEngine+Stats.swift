import Synchronization

/// Statistics: counters, sizes per level, write amplification, latency
/// percentiles, and the same as Prometheus exposition text.
extension StorageEngine {
    struct LevelSummary {
        var tables: Int
        var bytes: UInt64
        var entries: UInt64
    }

    func levelSummaries() -> [LevelSummary] {
        let current = stateLock.withLock { version }
        return current.levels.map { files in
            LevelSummary(tables: files.count, bytes: files.reduce(0) { $0 + $1.size }, entries: files.reduce(0) { $0 + $1.entryCount })
        }
    }

    /// Every figure, as (name, value, help, kind) rows; JSON and Prometheus
    /// are two renderings of the same rows.
    func metricRows() -> [(name: String, value: Double, help: String, counter: Bool)] {
        let s = stats
        func c(_ atomic: borrowing Atomic<UInt64>) -> Double { Double(atomic.load(ordering: .relaxed)) }
        let (memtableBytes, frozen, frozenBytes, sequence, tombstones, reason) = stateLock.withLock {
            (memtable.memoryBytes, immutables.count, immutables.reduce(0) { $0 + $1.table.memoryBytes }, visibleSequence,
             version.rangeTombstones.count, stallReason)
        }
        _ = reason
        let levels = levelSummaries()
        let userBytes = c(s.bytesWritten)
        let diskBytes = c(s.flushBytes) + c(s.compactionBytesWritten)
        var rows: [(String, Double, String, Bool)] = [
            ("puts", c(s.puts), "key-value puts", true),
            ("gets", c(s.gets), "point reads", true),
            ("get_hits", c(s.getHits), "point reads that found a value", true),
            ("get_misses", c(s.getMisses), "point reads that found nothing", true),
            ("deletes", c(s.deletes), "point deletes", true),
            ("delete_ranges", c(s.deleteRanges), "range deletes", true),
            ("writes", c(s.writes), "committed write batches", true),
            ("write_groups", c(s.writeGroups), "group commits (one log record each)", true),
            ("bytes_written", userBytes, "bytes of keys and values written", true),
            ("wal_bytes_written", c(s.walBytesWritten), "bytes appended to the write-ahead log", true),
            ("wal_syncs", c(s.walSyncs), "fsyncs of the write-ahead log", true),
            ("iterators", c(s.iterators), "iterators opened", true),
            ("transaction_commits", c(s.transactionCommits), "explicit transactions committed", true),
            ("transaction_rollbacks", c(s.transactionRollbacks), "explicit transactions rolled back", true),
            ("transaction_conflicts", c(s.transactionConflicts), "commits refused with CONFLICT", true),
            ("flushes", c(s.flushes), "memtables flushed to level 0", true),
            ("flush_bytes", c(s.flushBytes), "bytes of tables written by flushes", true),
            ("compactions", c(s.compactions), "compactions run", true),
            ("trivial_moves", c(s.trivialMoves), "tables moved down a level without a rewrite", true),
            ("compaction_bytes_read", c(s.compactionBytesRead), "bytes read by compactions", true),
            ("compaction_bytes_written", c(s.compactionBytesWritten), "bytes written by compactions", true),
            ("compaction_entries_dropped", c(s.compactionEntriesDropped), "obsolete entries dropped by compactions", true),
            ("block_cache_hits", c(s.blockCacheHits), "data blocks served by the block cache", true),
            ("block_cache_misses", c(s.blockCacheMisses), "data blocks read from files", true),
            ("bloom_useful", c(s.bloomUseful), "table reads skipped by a bloom filter", true),
            ("bloom_false_positives", c(s.bloomFalsePositives), "bloom filter passes that found no key", true),
            ("slowdowns", c(s.slowdowns), "writes delayed because level 0 is large", true),
            ("stalls", c(s.stalls), "times writes waited for flushes or compactions", true),
            ("stall_micros", c(s.stallMicros), "microseconds writes spent stalled", true),
            ("background_errors", c(s.backgroundErrors), "failed flushes or compactions", true),
            ("background_recoveries", c(s.backgroundRecoveries), "times background work resumed after a full disk", true),
            ("recovered_records", c(s.recoveredRecords), "log records replayed at open", true),
            ("torn_tails_recovered", c(s.tornTails), "torn log tails cut off at open", true),
            ("damaged_tails_recovered", c(s.damagedTails), "last log records cut off at open because their checksum failed", true),
            ("sequence", Double(sequence), "last sequence number", false),
            ("memtable_bytes", Double(memtableBytes), "memory of the active memtable", false),
            ("immutable_memtables", Double(frozen), "memtables waiting for their flush", false),
            ("immutable_memtable_bytes", Double(frozenBytes), "memory of memtables waiting for their flush", false),
            ("block_cache_bytes", Double(context.cache?.usage ?? 0), "memory held by the block cache", false),
            ("block_cache_capacity_bytes", Double(context.cache?.capacity ?? 0), "capacity of the block cache", false),
            ("open_tables", Double(context.tables.openTables), "tables whose files are open", false),
            ("table_cache_evictions", c(s.tableCacheEvictions), "tables closed to stay within max_open_tables", true),
            ("range_tombstones", Double(tombstones), "range tombstones kept in the manifest", false),
            ("wal_bytes", Double(walLock.withLock { wal?.size ?? 0 }), "bytes in the current log segment", false),
            ("write_amplification", userBytes > 0 ? diskBytes / userBytes : 0, "table bytes written per user byte", false),
        ]
        var tables = 0, tableBytes: UInt64 = 0, entries: UInt64 = 0
        for (level, summary) in levels.enumerated() {
            rows.append(("level\(level)_tables", Double(summary.tables), "tables in level \(level)", false))
            rows.append(("level\(level)_bytes", Double(summary.bytes), "bytes in level \(level)", false))
            tables += summary.tables
            tableBytes += summary.bytes
            entries += summary.entries
        }
        rows.append(("tables", Double(tables), "tables in all levels", false))
        rows.append(("table_bytes", Double(tableBytes), "bytes of all tables", false))
        rows.append(("estimated_entries", Double(entries) + Double(stateLock.withLock { memtable.entryCount }), "entries in tables and the memtable (all versions)", false))
        for (name, histogram) in [("write", s.writeLatency), ("get", s.getLatency), ("flush", s.flushLatency), ("compaction", s.compactionLatency)] {
            rows.append(("\(name)_count", Double(histogram.count), "\(name) operations timed", true))
            for (label, fraction) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
                rows.append(("\(name)_\(label)_micros", histogram.percentileMicros(fraction), "\(name) latency, \(label), microseconds", false))
            }
        }
        return rows.map { (name: $0.0, value: $0.1, help: $0.2, counter: $0.3) }
    }

    var currentStallReason: String { stateLock.withLock { stallReason } }
}
