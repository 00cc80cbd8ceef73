/// cairn_stats() and cairn_metrics(): the engine's figures
/// (StorageEngine+Stats.swift) and the layers', as JSON or as Prometheus text.
extension Database {
    /// Counters, sizes and latencies as one JSON object.
    public func statsJSON() throws -> String {
        guard !isClosed else { throw CairnError.closed }
        var members: [(key: String, value: JSONValue)] = metricRows().map { row in
            let value: JSONValue = row.value.rounded() == row.value && abs(row.value) < 9e15 ? .int(Int64(row.value)) : .double(row.value)
            return (row.name, value)
        }
        // Exact, so it scans: its cost grows with the number of keys. The
        // scan leaves the block cache (and the resident pages) as they were.
        let iterator = try makeIterator(start: nil, end: nil, fillCache: false)
        var liveKeys: Int64 = 0
        while try iterator.next() { liveKeys += 1 }
        members.insert(("live_keys", .int(liveKeys)), at: 0)
        members.append(("sync", .string(engine.options.sync.rawValue)))
        members.append(("compression", .string(engine.options.table.compression.name)))
        members.append(("upper_level_compression", .string(engine.options.upperLevelCompression.name)))
        members.append(("stall_reason", .string(engine.currentStallReason)))
        // What the last open found and did: files deleted as provably
        // obsolete, log tails cut off. Empty after a clean open.
        members.append(("recovery_notes", .array(engine.recoveryNotes.map { .string($0) })))
        return JSONValue.object(members).serialized
    }

    /// The engine's figures, then the layers' (the graph layer's
    /// adjacency cache; Graph/AdjacencyCache.swift).
    private func metricRows() -> [(name: String, value: Double, help: String, counter: Bool)] {
        let adjacency = graphs.adjacency.counters
        return engine.metricRows() + [
            ("graph_cache_hits", Double(adjacency.hits), "Graph adjacency lists read from the graph cache", true),
            ("graph_cache_misses", Double(adjacency.misses), "Graph adjacency lists the graph cache did not hold", true),
            ("graph_cache_bytes", Double(adjacency.bytes), "Bytes of adjacency lists the graph cache holds", false),
        ]
    }

    /// The same figures in the Prometheus text exposition format, each
    /// named `cairn_<name>` (counters end in `_total`).
    public func prometheusMetrics() throws -> String {
        guard !isClosed else { throw CairnError.closed }
        var text = ""
        for row in metricRows() {
            let name = "cairn_" + row.name + (row.counter ? "_total" : "")
            text += "# HELP \(name) \(row.help)\n# TYPE \(name) \(row.counter ? "counter" : "gauge")\n"
            let value = row.value.rounded() == row.value && abs(row.value) < 9e15 ? String(Int64(row.value)) : String(row.value)
            text += "\(name) \(value)\n"
        }
        return text
    }
}
