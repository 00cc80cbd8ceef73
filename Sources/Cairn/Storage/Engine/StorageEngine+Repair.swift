/// Repair: rebuilds a manifest from the tables and log segments a damaged
/// directory still holds, as LevelDB's RepairDB does. It never runs by
/// itself: open refuses damage with CORRUPTION, and the user decides.
///
/// 1. Under the directory's lock, every table is read whole. A table that
///    fails to read, belongs to another database, or that a readable
///    manifest proves obsolete, is moved to `lost/` (never deleted).
///    Log segments of another database go there too.
/// 2. A new manifest lists every good table in level 0, newest first, with
///    the log number 0 so that every segment is replayed; it keeps the old
///    manifest's range deletions when the old manifest is readable.
/// 3. The database opens in salvage mode (records up to any damage are
///    replayed, missing segments are skipped), and a full compaction merges
///    the recovered tables into sorted levels (level 0 may hold tables
///    whose key ranges and sequences interleave, which only a merge sorts
///    out).
///
/// What cannot come back: writes in a missing or damaged part of the log,
/// the contents of set-aside tables, and, when the manifest is lost, range
/// deletions (they live only there). The report says which of these apply.
extension StorageEngine {
    static let lostDirectory = "lost"

    /// Repairs the database in `directory` and returns the report as JSON.
    static func repair(directory: String, options: Options, env: Env = PosixEnv()) throws -> String {
        guard env.kind(of: directory) == .directory else {
            throw CairnError(.notFound, "database \(directory) does not exist")
        }
        var report = RepairReport()
        let lock = try env.lockFile(directory + "/LOCK")
        do {
            try rebuildManifest(directory: directory, env: env, report: &report)
            lock.close()
        } catch {
            lock.close()
            throw error
        }
        var opening = options
        opening.salvageLog = true
        let engine = try StorageEngine(directory: directory, options: opening, createIfMissing: false,
                                       errorIfExists: false, env: env)
        do {
            report.logRecords = engine.stats.recoveredRecords.load(ordering: .relaxed)
            report.notes.append(contentsOf: engine.recoveryNotes)
            try engine.compactRange(start: nil, end: nil)
            try engine.close()
        } catch {
            try? engine.close()
            throw error
        }
        return report.json
    }

    struct RepairReport {
        var tables = 0
        var entries: UInt64 = 0
        var logSegments = 0
        var logRecords: UInt64 = 0
        var setAside: [(file: String, reason: String)] = []
        var manifest = "rebuilt"
        var rangeDeletionsLost = false
        var notes: [String] = []

        var json: String {
            JSONValue.object([
                ("tables", .int(Int64(tables))), ("entries", .int(Int64(clamping: entries))),
                ("log_segments", .int(Int64(logSegments))), ("log_records", .int(Int64(clamping: logRecords))),
                ("set_aside", .array(setAside.map { .object([("file", .string($0.file)), ("reason", .string($0.reason))]) })),
                ("old_manifest", .string(manifest)), ("range_deletions_lost", .bool(rangeDeletionsLost)),
                ("notes", .array(notes.map { .string($0) })),
            ]).serialized
        }
    }

    /// Steps 1 and 2: reads every file and writes the new manifest.
    private static func rebuildManifest(directory: String, env: Env, report: inout RepairReport) throws {
        let names = try env.listDirectory(directory)
        func path(_ name: String) -> String { directory + "/" + name }
        func setAside(_ name: String, _ reason: String) throws {
            let lost = path(lostDirectory)
            try env.createDirectory(lost)
            try env.rename(path(name), to: lost + "/" + name)
            report.setAside.append((name, reason))
        }
        var old: Manifest?
        do {
            old = try Manifest.read(directory: directory, env: env)
            report.manifest = old == nil ? "missing" : "readable"
        } catch let error as CairnError {
            report.manifest = "unreadable: \(error.message)"
        }
        report.rangeDeletionsLost = old == nil
        let oldLive = Set(old?.levels.joined().map(\.number) ?? [])
        var databaseID = old?.databaseID ?? majorityID(names: names, directory: directory, env: env)
        var generation = old?.generation ?? 0
        var largestNumber = max(old?.nextFileNumber ?? 1, 1) - 1  // Safe: at least 1
        var lastSequence = old?.lastSequence ?? 0
        var firstIdentified: UInt64 = 1
        var tables: [Manifest.Table] = []

        for name in names {
            guard let number = TableFormat.number(fromFileName: name) else { continue }
            largestNumber = max(largestNumber, number)
            if let old, number < old.nextFileNumber, !oldLive.contains(number) {
                try setAside(name, "the manifest had dropped it as obsolete (its entries may be older than newer tables' deletions)")
                continue
            }
            do {
                let reader = try TableReader(path: path(name), number: number, env: env, cache: nil,
                                             stats: nil, expected: nil)
                if let identity = reader.footer.identity {
                    if databaseID == nil { databaseID = identity.databaseID }
                    guard identity.generation < 1 << 56 else {
                        try setAside(name, "its footer holds an impossible generation")
                        continue
                    }
                    guard identity.databaseID == databaseID else {
                        try setAside(name, "it belongs to another database (id \(identity.databaseID))")
                        continue
                    }
                    guard identity.number == number else {
                        try setAside(name, "the file holds table \(identity.number), not \(number)")
                        continue
                    }
                    generation = max(generation, identity.generation)
                } else {
                    firstIdentified = max(firstIdentified, number + 1)  // Safe: a 12-digit number
                }
                let table = try describe(reader, number: number)
                tables.append(table)
                lastSequence = max(lastSequence, table.largestSequence)
            } catch let error as CairnError {
                try setAside(name, error.message)
            }
        }
        for name in names {
            guard let number = walNumber(fromFileName: name) else { continue }
            largestNumber = max(largestNumber, number)
            if let old, number < old.logNumber {
                // Covered by tables: replaying it could bring back what
                // later deletions removed once compaction dropped them.
                try setAside(name, "the manifest had it covered by tables")
                continue
            }
            let bytes = try env.openForReading(path(name)).readAll()
            var header: WALFormat.Header?
            _ = try? bytes.withUnsafeBytes { raw in
                try RecordReader(path: path(name)).forEachRecord(in: raw, salvage: true) { payload in
                    if header == nil, case .header(let found) = try WALFormat.classify(payload, what: name) { header = found }
                    throw CairnError(.done, "first record read")
                }
            }
            if let header {
                if databaseID == nil { databaseID = header.databaseID }
                if header.databaseID != databaseID || header.generation >= 1 << 56 {
                    try setAside(name, "it belongs to another database (id \(header.databaseID))")
                    continue
                }
                generation = max(generation, header.generation)
            }
            report.logSegments += 1
        }

        var manifest = Manifest()
        manifest.databaseID = databaseID ?? DatabaseID.random()
        manifest.generation = generation + 1
        manifest.nextFileNumber = largestNumber + 1  // Safe: file names and manifests hold numbers below 10^16
        manifest.lastSequence = lastSequence
        manifest.logNumber = 0
        manifest.identityFromFile = firstIdentified
        manifest.rangeTombstones = old?.rangeTombstones ?? []
        // Level 0 reads newest first; the compaction after the open merges
        // whatever order this leaves.
        manifest.levels[0] = tables.sorted { $0.largestSequence > $1.largestSequence }
        do {
            try manifest.write(directory: directory, env: env)
        } catch {
            throw error.error
        }
        report.tables = tables.count
        report.entries = tables.reduce(0) { $0 + $1.entryCount }
    }

    /// The database id most tables of the directory carry, when the manifest
    /// that names it is lost (a foreign file first in order must not decide).
    private static func majorityID(names: [String], directory: String, env: Env) -> DatabaseID? {
        var counts: [[UInt8]: Int] = [:]
        for name in names where TableFormat.number(fromFileName: name) != nil {
            if let footer = try? TableReader.footer(at: directory + "/" + name, env: env),
               let identity = footer.identity {
                counts[identity.databaseID.bytes, default: 0] += 1
            }
        }
        return counts.max { $0.value < $1.value }.map { DatabaseID(bytes: $0.key) }
    }

    /// Reads every entry of a table for what the manifest records of it.
    private static func describe(_ reader: TableReader, number: UInt64) throws -> Manifest.Table {
        let iterator = TableIterator(reader: reader, fillCache: false)
        try iterator.seekToFirst()
        var smallest: [UInt8]?
        var largest: [UInt8] = []
        var smallestSequence = UInt64.max, largestSequence: UInt64 = 0, count: UInt64 = 0
        while iterator.isValid {
            if smallest == nil { smallest = Array(iterator.userKey) }
            largest.removeAll(keepingCapacity: true)
            largest.append(contentsOf: iterator.userKey)
            smallestSequence = min(smallestSequence, iterator.sequence)
            largestSequence = max(largestSequence, iterator.sequence)
            count += 1
            try iterator.advance()
        }
        guard let smallest, count == reader.entryCount else {
            throw CairnError.corruption("\(reader.path): holds \(count) entries, its footer says \(reader.entryCount)")
        }
        return Manifest.Table(number: number, size: UInt64(reader.fileSize), smallestUserKey: smallest, largestUserKey: largest,
                              smallestSequence: smallestSequence, largestSequence: largestSequence, entryCount: count)
    }
}
