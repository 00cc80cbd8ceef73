#if canImport(Glibc)
import Glibc
#endif

/// Read-only and secondary handles: readers of a directory that a writer
/// (in another process, or none) owns, as RocksDB's OpenForReadOnly and
/// secondary instances read one.
///
/// A follower takes no lock and never creates, changes or deletes a file,
/// so it opens a database on read-only files or a read-only file system,
/// and beside a writer that holds LOCK. It loads the state the directory
/// holds: the manifest's tables, and the log segments from the manifest's
/// log number replayed into a memtable of its own (a torn last record,
/// which a writer appending right now leaves, is simply not read). It
/// never flushes: the replayed writes live in its memory.
///
/// The writer deletes tables after compactions and log segments after
/// flushes. A follower keeps every table it uses open (descriptor and
/// memory map; the table cache never closes one), so a deleted table stays
/// readable to it. A file that vanishes between reading the manifest and
/// opening the file means the writer moved on meanwhile: the load starts
/// again from the new manifest (up to 20 times, then the error stands).
///
/// A secondary catches up (`catchUp`) by loading again: tables it already
/// holds are reused, the log is replayed anew. The cost of a catch-up is
/// the unflushed part of the log (at most a few memtables), not the
/// database.
extension StorageEngine {
    func loadFollowerState() throws {
        var attempt = 0
        while true {
            do {
                try loadFollowerStateOnce()
                return
            } catch let error as CairnError where [.corruption, .notFound, .ioError].contains(error.code) && attempt < 20 {
                // The writer replaced the manifest or deleted a file since
                // it was read: read again. Damage that stays fails after
                // the last attempt.
                attempt += 1
                usleep(UInt32(2000 * attempt))
            }
        }
    }

    /// Brings a secondary up to the writer's last write (as far as the
    /// writer's log holds it on disk). Readers that started before keep
    /// their snapshot. Returns the sequence now visible.
    func catchUp() throws -> UInt64 {
        guard !isClosed else { throw CairnError.closed }
        guard mode == .secondary else {
            throw CairnError.invalidArgument("catch up is for a database opened with \"secondary\"; this handle is \(mode == .primary ? "the writer" : "read-only")")
        }
        try versionEditLock.withLock { try loadFollowerState() }
        return stateLock.withLock { visibleSequence }
    }

    private func loadFollowerStateOnce() throws {
        guard let manifest = try Manifest.read(directory: directory, env: env) else {
            throw CairnError(.notFound, "database \(directory) does not exist (no \(Manifest.fileName))")
        }
        let known = stateLock.withLock { Dictionary(version.levels.joined().map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a }) }
        let id = manifest.databaseID ?? DatabaseID(bytes: Array(repeating: 0, count: DatabaseID.byteCount))
        let identityFrom = manifest.databaseID == nil ? UInt64.max : manifest.identityFromFile
        var levels: [[TableFile]] = Array(repeating: [], count: Version.levelCount)
        var sequence = manifest.lastSequence
        for (level, tables) in manifest.levels.enumerated() {
            for table in tables {
                let file: TableFile
                if let held = known[table.number], held.size == table.size, held.largestSequence == table.largestSequence {
                    file = held
                } else {
                    file = TableFile(number: table.number, size: table.size, smallestUserKey: table.smallestUserKey,
                                     largestUserKey: table.largestUserKey, smallestSequence: table.smallestSequence,
                                     largestSequence: table.largestSequence, entryCount: table.entryCount,
                                     databaseID: id, requiresIdentity: table.number >= identityFrom, context: context)
                    // Opened now, and kept open: see above.
                    _ = try file.reader()
                }
                levels[level].append(file)
                sequence = max(sequence, table.largestSequence)
            }
        }
        let violations = Version.invariantViolations(levels: levels)
        guard violations.isEmpty else {
            throw CairnError.corruption("\(path(Manifest.fileName)): impossible levels: \(violations.prefix(3).joined(separator: "; "))")
        }
        let segments = try env.listDirectory(directory).compactMap { StorageEngine.walNumber(fromFileName: $0) }.sorted()
        let replay = MemTable()
        recoveryNotes.removeAll()  // what this load found (a torn tail the writer is appending)
        _ = try replayLog(segments: segments, manifest: manifest, into: replay, sequence: &sequence)
        let loaded = Version(levels: levels, rangeTombstones: manifest.rangeTombstones)
        stateLock.withLock {
            databaseID = id
            identityFromFile = identityFrom
            manifestGeneration = manifest.generation
            nextFileNumber = manifest.nextFileNumber
            version = loaded
            memtable = replay
            immutables = []
            memtableLogNumber = manifest.logNumber
            visibleSequence = max(visibleSequence, sequence)
            cachedReadState = nil
        }
        nextSequence = sequence + 1
        appendedSequence = sequence
        syncedSequence = sequence
    }
}
