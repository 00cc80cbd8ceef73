/// Opening a directory: the manifest, then the log segments it does not
/// cover, replayed into a memtable that is flushed to a level-0 table.
///
/// Recovery never deletes a file it cannot prove obsolete, and never opens
/// damage as an empty or smaller database. What it proves, and how
/// (docs/format/sstable.md, "Recovery"):
///
///  1. No `MANIFEST`: a new database only in an empty directory. Tables or
///     log segments without a manifest are CORRUPTION (cairn_repair rebuilds
///     one); other files are INVALID_ARGUMENT, never touched.
///  2. Every table the manifest lists exists with the size it recorded; its
///     identity footer is checked when it is first read (TableReader).
///  3. A table the manifest does not list is deleted only when it is
///     provably obsolete: numbered below the manifest's next file number
///     (so the manifest saw it and dropped it), or newer but never finished,
///     or finished under this manifest's generation (a flush or compaction
///     the crash cut short before it was installed). A table written under
///     a later generation shows the manifest is stale: CORRUPTION.
///  4. The log segment the manifest names must exist; every segment's
///     header must name this database, its own number and no later
///     generation; a segment's closing record must name a segment that
///     exists; batch sequences must follow each other without a gap; and
///     the log must reach the sequence the manifest recorded as durable.
///  5. A last record that fails its checksum is cut off and reported (or
///     CORRUPTION with `paranoid_recovery`); a write cut short is cut off.
///
/// Every file deleted and every tail cut is noted in `recoveryNotes`.
extension StorageEngine {
    func recover(names: [String], createIfMissing: Bool) throws {
        let manifestTemporary = Manifest.fileName + ".tmp"
        if names.contains(manifestTemporary) {
            // A manifest write the crash cut short: never renamed into place.
            try env.remove(path(manifestTemporary))
            recoveryNotes.append("deleted \(manifestTemporary), an unfinished manifest write")
        }
        var manifest: Manifest
        if let existing = try Manifest.read(directory: directory, env: env) {
            manifest = existing
        } else {
            manifest = try createManifest(names: names, createIfMissing: createIfMissing)
        }
        if let id = manifest.databaseID {
            databaseID = id
            identityFromFile = manifest.identityFromFile
        } else {
            // A version 1 database: give it an identity from now on.
            databaseID = DatabaseID.random()
            identityFromFile = manifest.nextFileNumber
            recoveryNotes.append("upgraded the manifest to version 2 (database id \(databaseID))")
        }
        manifestGeneration = manifest.generation
        // New files are numbered above every file present, so none of them
        // can take the name of a leftover this open deletes at its end.
        nextFileNumber = names.reduce(manifest.nextFileNumber) { next, name in
            let number = TableFormat.number(fromFileName: name) ?? StorageEngine.walNumber(fromFileName: name) ?? 0
            return max(next, number + 1)  // Safe: names have at most 16 digits
        }

        var levels: [[TableFile]] = Array(repeating: [], count: Version.levelCount)
        var sequence = manifest.lastSequence
        var live = Set<UInt64>()
        for (level, tables) in manifest.levels.enumerated() {
            for table in tables {
                let name = path(TableFormat.fileName(table.number))
                guard env.kind(of: name) == .regularFile else {
                    throw CairnError.corruption("\(name): table listed in the manifest is missing")
                }
                let size = env.size(of: name)
                guard size == table.size else {
                    throw CairnError.corruption("\(name): the file is \(size.map(String.init) ?? "unreadable") bytes, the manifest recorded \(table.size) (truncated or replaced table)")
                }
                levels[level].append(TableFile(
                    number: table.number, size: table.size, smallestUserKey: table.smallestUserKey,
                    largestUserKey: table.largestUserKey, smallestSequence: table.smallestSequence,
                    largestSequence: table.largestSequence, entryCount: table.entryCount,
                    databaseID: databaseID, requiresIdentity: table.number >= identityFromFile, context: context))
                sequence = max(sequence, table.largestSequence)
                live.insert(table.number)
            }
        }
        // A manifest whose checksum holds but whose levels break the rules
        // reads rely on (sorted, non-overlapping levels) is damage too.
        let violations = Version.invariantViolations(levels: levels)
        guard violations.isEmpty else {
            throw CairnError.corruption("\(path(Manifest.fileName)): impossible levels: \(violations.prefix(3).joined(separator: "; "))")
        }
        // Deleted only once every check has passed: a later check may show
        // the manifest is stale, and then nothing may have been touched.
        let obsolete = try obsoleteTables(names: names, live: live, manifest: manifest)
        version = Version(levels: levels, rangeTombstones: manifest.rangeTombstones)

        let segments = names.compactMap { StorageEngine.walNumber(fromFileName: $0) }.sorted()
        let replay = MemTable()
        let firstReplayed = try replayLog(segments: segments, manifest: manifest, into: replay, sequence: &sequence)
        visibleSequence = sequence
        nextSequence = sequence + 1
        appendedSequence = sequence
        syncedSequence = sequence
        // Every check has passed. The leftovers go first: they may be what
        // makes room for the rest.
        for (name, why) in obsolete {
            try env.remove(path(name))
            recoveryNotes.append("deleted \(name), \(why)")
        }
        memtableLogNumber = allocateFileNumber()
        memtableStartSequence = nextSequence

        // Normally the replayed writes become a level-0 table, a fresh log
        // segment starts and the replayed segments go.
        let tablesOnly = version
        var table: TableFile?
        do {
            if firstReplayed != nil {
                table = try writeLevel0Table(from: replay)
                var newLevels = version.levels
                if let table { newLevels[0].insert(table, at: 0) }
                version = Version(levels: newLevels, rangeTombstones: version.rangeTombstones + replay.rangeTombstones)
            }
            wal = try openSegment(memtableLogNumber)
            try writeManifest(manifestFor(version), newTables: table.map { [$0] } ?? [])
        } catch let error as CairnError where error.code == .noSpace {
            // No room to flush: open all the same, so that reads are served.
            // The replayed writes stay a frozen memtable, their segments
            // stay on disk and the manifest as it was, until the worker's
            // flush succeeds (it retries once space is freed). A log segment
            // the disk has no room for is made by the first write.
            table?.markObsolete()
            version = tablesOnly
            if let firstReplayed {
                let oldest = segments.first { $0 >= manifest.logNumber } ?? manifest.logNumber
                immutables = [(replay, oldest, firstReplayed)]
            }
            if wal == nil { wal = try? openSegment(memtableLogNumber) }
            recoveryNotes.append("opened without room to flush the log (\(error.message)); its writes are served from memory and flushed once space is freed")
            return
        }
        for number in segments {
            try env.remove(path(StorageEngine.walName(number)))
        }
    }

    /// The manifest of a new database, written before any other file, so
    /// a directory holding tables or logs always has one. Refuses anything
    /// but an empty (or new) directory.
    private func createManifest(names: [String], createIfMissing: Bool) throws -> Manifest {
        let tables = names.filter { TableFormat.number(fromFileName: $0) != nil }
        let logs = names.filter { StorageEngine.walNumber(fromFileName: $0) != nil }
        if !tables.isEmpty || !logs.isEmpty {
            throw CairnError.corruption("\(path(Manifest.fileName)) is missing, but the directory holds \(tables.count) table(s) and \(logs.count) log segment(s); nothing was changed (cairn_repair rebuilds a manifest)")
        }
        guard createIfMissing else { throw CairnError(.notFound, "database \(directory) does not exist") }
        let others = names.filter { $0 != "LOCK" && $0 != Manifest.fileName + ".tmp" }
        if !others.isEmpty {
            let shown = others.prefix(3).joined(separator: ", ")
            throw CairnError.invalidArgument("\(directory) is not empty (\(shown)\(others.count > 3 ? ", ..." : "")) and holds no Cairn database; a database is created only in an empty directory")
        }
        var manifest = Manifest()
        manifest.databaseID = DatabaseID.random()
        manifest.generation = 1
        manifest.nextFileNumber = 1
        manifest.flushedSequence = 0
        manifest.durableSequence = 0
        manifest.identityFromFile = 1
        do {
            try manifest.write(directory: directory, env: env)
        } catch {
            throw error.error
        }
        return manifest
    }

    /// The tables the manifest proves obsolete (rule 3 above), with why;
    /// CORRUPTION for a table that shows the manifest is stale or foreign.
    private func obsoleteTables(names: [String], live: Set<UInt64>, manifest: Manifest) throws -> [(String, String)] {
        var obsolete: [(String, String)] = []
        for name in names {
            guard let number = TableFormat.number(fromFileName: name), !live.contains(number) else { continue }
            let file = path(name)
            if number < manifest.nextFileNumber {
                obsolete.append((name, "a table the manifest no longer lists"))
                continue
            }
            guard let footer = try TableReader.footer(at: file, env: env) else {
                // Never finished, so never installed: a flush or compaction
                // the crash cut short. Its data is still in logs or tables.
                obsolete.append((name, "an unfinished table"))
                continue
            }
            guard let identity = footer.identity else {
                if manifest.databaseID == nil {
                    // Version 1 kept no generations; its recovery deleted
                    // every unlisted table, and so does this one.
                    obsolete.append((name, "a table the manifest does not list"))
                    continue
                }
                throw CairnError.corruption("\(file): a table without an identity footer, newer than the manifest; nothing was changed")
            }
            if let id = manifest.databaseID, identity.databaseID != id {
                throw CairnError.corruption("\(file): the table belongs to another database (id \(identity.databaseID), this one is \(id)); nothing was changed")
            }
            guard identity.generation <= manifest.generation else {
                throw CairnError.corruption("\(path(Manifest.fileName)): the manifest is stale: \(name) was written after it (generation \(identity.generation) > \(manifest.generation)); nothing was changed")
            }
            obsolete.append((name, "a table finished but never installed (a flush or compaction cut short)"))
        }
        return obsolete
    }

    /// Replays every segment from the manifest's log number into `table`
    /// (rules 4 and 5 above). Returns the first sequence replayed, or nil
    /// when no batch was.
    func replayLog(segments: [UInt64], manifest: Manifest, into table: MemTable,
                           sequence: inout UInt64) throws -> UInt64? {
        let needed = segments.filter { $0 >= manifest.logNumber }
        let salvage = options.salvageLog
        if !salvage && manifest.logNumber != 0 && needed.first != manifest.logNumber {
            throw CairnError.corruption("\(path(StorageEngine.walName(manifest.logNumber))): the log segment the manifest needs is missing; nothing was changed")
        }
        // The next sequence the log must hold, when the manifest says.
        var expected: UInt64? = manifest.flushedSequence.map { $0 + 1 }
        var firstReplayed: UInt64?
        var namedNext: (by: UInt64, number: UInt64)?
        for number in needed {
            let name = path(StorageEngine.walName(number))
            if !salvage, let named = namedNext, named.number != number {
                // A segment between the two can only be an empty one whose
                // creation failed (its removal too); the named one must exist.
                guard named.number > number, needed.contains(named.number) else {
                    throw CairnError.corruption("\(path(StorageEngine.walName(named.number))): the log segment that \(StorageEngine.walName(named.by)) continues in is missing; nothing was changed")
                }
            } else {
                namedNext = nil
            }
            let bytes = try env.openForReading(name).readAll()
            var first = true
            let outcome = try bytes.withUnsafeBytes { raw in
                try RecordReader(path: name).forEachRecord(in: raw, salvage: salvage) { payload in
                    defer { first = false }
                    switch try WALFormat.classify(payload, what: name) {
                    case .header(let header):
                        guard header.generation < 1 << 56 else { throw CairnError.corruption("\(name): impossible generation") }
                        guard first else { throw CairnError.corruption("\(name): a segment header in the middle of the segment") }
                        if !salvage { try check(header, of: number, in: name, manifest: manifest) }
                    case .nextSegment(let next):
                        namedNext = (number, next)
                    case .batch:
                        guard namedNext == nil else { throw CairnError.corruption("\(name): records after the segment's closing record") }
                        let (firstSequence, last) = try apply(payload: payload, to: table, what: name)
                        // Sequences are 56 bits and every batch has at least
                        // one operation: anything else is damage, refused
                        // before any arithmetic on it.
                        guard firstSequence >= 1, last >= firstSequence, last < 1 << 56 else {
                            throw CairnError.corruption("\(name): a log record with impossible sequences \(firstSequence) to \(last)")
                        }
                        if !salvage, let wanted = expected, firstSequence > wanted {
                            throw CairnError.corruption("\(name): the log has no records for sequences \(wanted) to \(firstSequence - 1) (a log segment was deleted or emptied); nothing was changed")
                        }
                        expected = last &+ 1
                        sequence = max(sequence, last)
                        if firstReplayed == nil { firstReplayed = firstSequence }
                        EngineStats.bump(stats.recoveredRecords)
                    }
                }
            }
            if outcome.damagedInTheMiddle {
                recoveryNotes.append("salvaged \(StorageEngine.walName(number)) up to damage at byte \(outcome.validLength); the records after it were not replayed")
            } else if outcome.hadTornTail && !outcome.endsInZeros {
                // (A segment that ends in zeros ends where its records do:
                // the writer allocates ahead, WALWriter.)
                EngineStats.bump(stats.tornTails)
                if outcome.tailFailedChecksum {
                    if options.paranoidRecovery && !salvage {
                        throw CairnError.corruption("\(name): the last record at byte \(outcome.validLength) fails its checksum (paranoid_recovery refuses to cut it off)")
                    }
                    EngineStats.bump(stats.damagedTails)
                    recoveryNotes.append("cut off a damaged last record (checksum mismatch) at byte \(outcome.validLength) of \(StorageEngine.walName(number))")
                } else {
                    recoveryNotes.append("cut off a write cut short at byte \(outcome.validLength) of \(StorageEngine.walName(number))")
                }
            }
        }
        if !salvage, let named = namedNext {
            throw CairnError.corruption("\(path(StorageEngine.walName(named.number))): the log segment that \(StorageEngine.walName(named.by)) continues in is missing; nothing was changed")
        }
        let durable = max(manifest.durableSequence ?? 0, manifest.flushedSequence ?? 0)
        let reached = (expected ?? 1) - 1
        if !salvage && manifest.durableSequence != nil && reached < durable {
            throw CairnError.corruption("\(path(StorageEngine.walName(needed.last ?? manifest.logNumber))): the log ends at sequence \(reached), but the manifest recorded sequence \(durable) as durable (a log segment was deleted or truncated); nothing was changed")
        }
        return firstReplayed
    }

    /// A segment header must name this database, the segment's own number
    /// and no generation after the manifest's.
    private func check(_ header: WALFormat.Header, of number: UInt64, in name: String, manifest: Manifest) throws {
        if let id = manifest.databaseID, header.databaseID != id {
            throw CairnError.corruption("\(name): the log segment belongs to another database (id \(header.databaseID), this one is \(id)); nothing was changed")
        }
        guard header.number == number else {
            throw CairnError.corruption("\(name): the file holds log segment \(header.number), not \(number) (segments exchanged or renamed); nothing was changed")
        }
        guard header.generation <= manifest.generation else {
            throw CairnError.corruption("\(path(Manifest.fileName)): the manifest is stale: \(StorageEngine.walName(number)) was written after it (generation \(header.generation) > \(manifest.generation)); nothing was changed")
        }
    }
}
