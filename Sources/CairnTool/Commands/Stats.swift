import ArgumentParser
import Cairn

/// `cairn stats DB [COLL...]`: the engine's figures (Database.statsJSON)
/// grouped for people (levels, sizes, amplification, caches, latencies),
/// then each collection's documents, bytes and index entries
/// (Database.collectionStats). `--json` prints both as one object.
struct StatsCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "stats",
        abstract: "Print levels, sizes, amplification, caches and per-collection counts and index sizes.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "Only these collections (default: all).") var collections: [String] = []

    func run(in context: CommandContext) throws {
        let engine = try JSONValue.parse(try context.db.statsJSON(), what: "stats")
        let names = collections.isEmpty ? try context.db.collectionNames() : collections
        let perCollection = try names.map { try JSONValue.parse(try context.db.collectionStats($0), what: "collection stats") }
        if context.output.json {
            context.output.report(.object([("engine", engine), ("collections", .array(perCollection))]))
            return
        }
        guard case .object(let members) = engine else { return context.output.report(engine) }
        var figures: [String: JSONValue] = [:]
        for (key, value) in members { figures[key] = value }
        func number(_ name: String) -> Double {
            switch figures[name] { case .int(let i)?: return Double(i); case .double(let d)?: return d; default: return 0 }
        }
        func show(_ label: String, _ text: String) { context.output.line("  " + label.padding(24) + text) }
        context.output.line("levels")
        var level = 0
        while figures["level\(level)_tables"] != nil {
            let tables = Int(number("level\(level)_tables")), bytes = number("level\(level)_bytes")
            if tables > 0 || level == 0 { show("level \(level)", "\(tables) table\(tables == 1 ? "" : "s"), \(bytes.byteCount)") }
            level += 1
        }
        context.output.line("sizes")
        show("live keys", String(Int(number("live_keys"))))
        show("entries (all versions)", String(Int(number("estimated_entries"))))
        show("tables", "\(Int(number("tables"))), \(number("table_bytes").byteCount)")
        show("write-ahead log", number("wal_bytes").byteCount)
        show("memtable", "\(number("memtable_bytes").byteCount) (+\(Int(number("immutable_memtables"))) frozen, \(number("immutable_memtable_bytes").byteCount))")
        context.output.line("amplification")
        show("write", String(format2(number("write_amplification"))) + "x (table bytes written per user byte)")
        let live = number("bytes_written")
        show("user bytes written", live.byteCount)
        show("compaction", "\(Int(number("compactions"))) run, \(number("compaction_bytes_read").byteCount) read, \(number("compaction_bytes_written").byteCount) written")
        context.output.line("caches")
        let hits = number("block_cache_hits"), misses = number("block_cache_misses")
        let ratio = hits + misses > 0 ? format2(100 * hits / (hits + misses)) + "% hits" : "no reads yet"
        show("block cache", "\(number("block_cache_bytes").byteCount) of \(number("block_cache_capacity_bytes").byteCount), \(ratio)")
        show("table cache", "\(Int(number("open_tables"))) open, \(Int(number("table_cache_evictions"))) evictions")
        show("bloom filters", "\(Int(number("bloom_useful"))) reads skipped, \(Int(number("bloom_false_positives"))) false positives")
        context.output.line("latency (p50 / p99 µs)")
        for name in ["write", "get", "flush", "compaction"] where number("\(name)_count") > 0 {
            show(name, "\(format2(number("\(name)_p50_micros"))) / \(format2(number("\(name)_p99_micros"))) over \(Int(number("\(name)_count")))")
        }
        if let stall = figures["stall_reason"], case .string(let reason) = stall, !reason.isEmpty { show("stall", reason) }
        guard !perCollection.isEmpty else { return }
        context.output.line("collections")
        for stats in perCollection {
            guard case .object(let fields) = stats else { continue }
            let field = { (name: String) in fields.first(where: { $0.key == name })?.value }
            var name = "?"
            if case .string(let n)? = field("name") { name = n }
            var documents = 0.0, bytes = 0.0
            if case .int(let d)? = field("documents") { documents = Double(d) }
            if case .int(let b)? = field("bytes") { bytes = Double(b) }
            show(name, "\(Int(documents)) document\(documents == 1 ? "" : "s"), \(bytes.byteCount)")
            if case .array(let indexes)? = field("indexes") {
                for index in indexes {
                    guard case .object(let info) = index else { continue }
                    var indexName = "?", entries: Int64 = 0
                    if case .string(let n)? = info.first(where: { $0.key == "name" })?.value { indexName = n }
                    if case .int(let e)? = info.first(where: { $0.key == "entries" })?.value { entries = e }
                    show("  index " + indexName, "\(entries) entries")
                }
            }
        }
    }
}

func format2(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    let scaled = (value * 100).rounded() / 100
    return scaled == scaled.rounded() ? String(Int64(scaled)) : String(scaled)
}

extension String {
    func padding(_ width: Int) -> String {
        self + String(repeating: " ", count: max(1, width - unicodeScalars.count))
    }
}

extension Double {
    /// 1536 → "1.5 KiB".
    var byteCount: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = self, unit = 0
        while value >= 1024 && unit + 1 < units.count { value /= 1024; unit += 1 }
        return unit == 0 ? "\(Int(value)) B" : "\(format2(value)) \(units[unit])"
    }
}
