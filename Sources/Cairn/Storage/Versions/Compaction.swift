/// Leveled compaction. Level 0 is compacted into level 1 once it holds
/// `level0CompactionTrigger` tables; level n (n >= 1) into level n + 1 once
/// it holds more than level1Bytes * ratio^(n-1) bytes. A compaction merges
/// its input tables and drops what no reader can see any more:
///
///  - versions of a key hidden by a newer version that every snapshot sees;
///  - tombstones, once no snapshot needs them and no deeper level can hold
///    an older version of the key;
///  - expired values (turned into tombstones where a deeper level may hold
///    an older version, so that version does not come back);
///  - entries covered by a range tombstone that every snapshot sees.
///
/// Outputs are cut only between user keys, so every version of a key stays
/// in one table and tables of a sorted level never overlap.
struct Compaction {
    let level: Int
    let inputs: [TableFile]
    let nextLevelInputs: [TableFile]

    var outputLevel: Int { level + 1 }
    var allInputs: [TableFile] { inputs + nextLevelInputs }
}

extension StorageEngine {
    func maxBytes(forLevel level: Int) -> UInt64 {
        var bytes = options.level1Bytes
        if level > 1 { for _ in 1..<level { bytes *= UInt64(options.levelSizeRatio) } }
        return bytes
    }

    /// The most urgent compaction of `version`, if any is due.
    func pickCompaction(_ version: Version) -> Compaction? {
        var bestLevel = -1
        var bestScore = 1.0
        let level0Score = Double(version.levels[0].count) / Double(options.level0CompactionTrigger)
        if level0Score >= bestScore {
            bestLevel = 0
            bestScore = level0Score
        }
        for level in 1..<(Version.levelCount - 1) {
            let score = Double(version.bytes(at: level)) / Double(maxBytes(forLevel: level))
            if score > bestScore {
                bestLevel = level
                bestScore = score
            }
        }
        guard bestLevel >= 0 else { return nil }
        return compaction(of: bestLevel, in: version)
    }

    /// The compaction of `level`: all of level 0, or the next table after
    /// the level's compaction pointer (round robin over its key space).
    func compaction(of level: Int, in version: Version) -> Compaction? {
        var inputs: [TableFile]
        if level == 0 {
            inputs = version.levels[0]
        } else {
            let files = version.levels[level]
            guard !files.isEmpty else { return nil }
            let pointer = compactPointers[level]
            let next = files.first { $0.largestUserKey.lexicographicallyPrecedes(pointer) == false && $0.largestUserKey != pointer } ?? files[0]
            inputs = [next]
        }
        guard !inputs.isEmpty else { return nil }
        let (smallest, largest) = Compaction.range(of: inputs)
        let nextLevel = smallest.withUnsafeBytes { s in
            largest.withUnsafeBytes { l in version.overlapping(level: level + 1, smallest: s, largest: l) }
        }
        return Compaction(level: level, inputs: inputs, nextLevelInputs: nextLevel)
    }

    /// Runs one due compaction. Returns whether it did anything.
    func compactOnce() throws -> Bool {
        try compactionLock.withLock {
            let picked = try versionEditLock.withLock { () -> Compaction? in
                guard !isClosed else { throw CairnError.closed }
                return pickCompaction(stateLock.withLock { version })
            }
            guard let compaction = picked else { return false }
            try run(compaction)
            return true
        }
    }

    /// Merges the compaction's inputs into new tables of the output level
    /// and installs the result.
    ///
    /// The merge runs without versionEditLock, so that the flush thread
    /// keeps turning memtables into level-0 tables meanwhile (a long
    /// compaction would otherwise stop writers once the frozen memtables
    /// fill, as LevelDB's one thread does). Only compactions change levels
    /// 1 and below, and compactionLock serializes them; a flush only adds
    /// level-0 tables and range tombstones. So the install applies the
    /// compaction as an edit to the version current at install time: its
    /// inputs are still there, and what flushes added stays.
    /// REQUIRES: compactionLock held, versionEditLock not held.
    func run(_ compaction: Compaction, allowTrivialMove: Bool = true) throws {
        let start = env.monotonicNanoseconds()
        let current = stateLock.withLock { version }
        // Level-0 tables that overlap neither each other nor level 1 (as
        // sequential inserts make them) move down without a rewrite.
        if allowTrivialMove && compaction.level == 0 && compaction.nextLevelInputs.isEmpty && Compaction.disjoint(compaction.inputs) {
            try installEdit { levels in
                levels[0].removeAll { file in compaction.inputs.contains { $0 === file } }
                levels[1].append(contentsOf: compaction.inputs)
                levels[1].sort { $0.smallestUserKey.lexicographicallyPrecedes($1.smallestUserKey) }
            }
            EngineStats.bump(stats.trivialMoves, by: UInt64(compaction.inputs.count))
            return
        }
        // A lone table with nothing below it moves down without a rewrite.
        if allowTrivialMove && compaction.level > 0 && compaction.inputs.count == 1 && compaction.nextLevelInputs.isEmpty {
            let moved = compaction.inputs[0]
            try installEdit { levels in
                levels[compaction.level].removeAll { $0 === moved }
                levels[compaction.outputLevel].append(moved)
                levels[compaction.outputLevel].sort { $0.smallestUserKey.lexicographicallyPrecedes($1.smallestUserKey) }
            }
            compactPointers[compaction.level] = moved.largestUserKey
            EngineStats.bump(stats.trivialMoves)
            return
        }

        var sources: [EntryIterator] = []
        if compaction.level == 0 {
            for file in compaction.inputs { sources.append(TableIterator(reader: try file.reader(), fillCache: false)) }
        } else {
            sources.append(LevelIterator(files: compaction.inputs, fillCache: false))
        }
        if !compaction.nextLevelInputs.isEmpty {
            sources.append(LevelIterator(files: compaction.nextLevelInputs, fillCache: false))
        }
        let merged = MergingIterator(sources: sources, reverse: false)
        try merged.seekToFirst()

        let oldestSnapshot = smallestSnapshot()
        let tombstones = RangeTombstoneSet(current.rangeTombstones, visibleAt: oldestSnapshot)
        let now = env.nowMillis()
        var outputs: [TableFile] = []
        var output: TableOutput?
        let previousKey = ByteBuffer()
        var hasPrevious = false
        var previousSequence = UInt64.max
        var scratch: [UInt8] = []
        let bytesRead: UInt64 = compaction.allInputs.reduce(0) { $0 + $1.size }
        var dropped: UInt64 = 0
        do {
            while merged.isValid {
                let top = merged.top
                let key = top.userKey
                let sequence = top.sequence
                var kind = top.kind
                let sameKey = hasPrevious && compareBytes(previousKey.bytes, key) == 0
                if !sameKey {
                    // A new user key: the only place an output may be cut.
                    if let current = output, current.estimatedSize >= options.targetFileBytes {
                        if let file = try current.finish() { outputs.append(file) }
                        output = nil
                    }
                    previousKey.set(key)
                    hasPrevious = true
                    previousSequence = .max
                }
                var drop = false
                if sameKey && previousSequence <= oldestSnapshot {
                    drop = true  // hidden by a newer version every snapshot sees
                } else if sequence <= oldestSnapshot && tombstones.deletes(key, sequence: sequence) {
                    drop = true
                } else if kind == InternalKey.kindTombstone && sequence <= oldestSnapshot
                            && isBaseLevel(for: key, below: compaction.outputLevel, in: current) {
                    drop = true
                } else if kind == InternalKey.kindValueWithExpiry && top.expiresAt <= now && sequence <= oldestSnapshot {
                    if isBaseLevel(for: key, below: compaction.outputLevel, in: current) { drop = true } else { kind = InternalKey.kindTombstone }
                }
                previousSequence = sequence
                if drop {
                    dropped += 1
                } else {
                    if output == nil { output = try TableOutput(engine: self, number: allocateFileNumber(), level: compaction.outputLevel) }
                    let empty = UnsafeRawBufferPointer(start: nil, count: 0)
                    try output!.add(userKey: key, sequence: sequence, kind: kind, expiresAt: top.expiresAt,
                                    value: kind == InternalKey.kindTombstone ? empty : top.value, scratch: &scratch)
                }
                try merged.advance()
            }
            if let current = output, let file = try current.finish() { outputs.append(file) }
            output = nil
        } catch {
            output?.abandon()
            for file in outputs {
                file.markObsolete()
            }
            throw error
        }

        // A failed install leaves the outputs to recovery (unlisted tables
        // of this generation), or marks them obsolete (writeManifest).
        try installEdit(removing: compaction.allInputs, adding: outputs) { levels in
            levels[compaction.level].removeAll { file in compaction.inputs.contains { $0 === file } }
            levels[compaction.outputLevel].removeAll { file in compaction.nextLevelInputs.contains { $0 === file } }
            levels[compaction.outputLevel].append(contentsOf: outputs)
            levels[compaction.outputLevel].sort { $0.smallestUserKey.lexicographicallyPrecedes($1.smallestUserKey) }
        } keeping: { tombstone, levels in
            // The outputs dropped what the tombstones known at the start
            // cover; one a flush added since has not cleaned them.
            let applied = current.rangeTombstones.contains { $0.sequence == tombstone.sequence && $0.start == tombstone.start && $0.end == tombstone.end }
            return !self.isObsolete(tombstone, levels: levels, cleaned: applied ? outputs : [], oldestSnapshot: oldestSnapshot)
        }
        if compaction.level > 0, let last = compaction.inputs.last { compactPointers[compaction.level] = last.largestUserKey }

        let written = outputs.reduce(0) { $0 + $1.size }
        EngineStats.bump(stats.compactions)
        EngineStats.bump(stats.compactionBytesRead, by: bytesRead)
        EngineStats.bump(stats.compactionBytesWritten, by: written)
        EngineStats.bump(stats.compactionEntriesDropped, by: dropped)
        stats.compactionLatency.record(since: start)
    }

    /// True when no level below `level` can hold a version of `key`.
    private func isBaseLevel(for key: UnsafeRawBufferPointer, below level: Int, in version: Version) -> Bool {
        guard level + 1 < Version.levelCount else { return true }
        for deeper in (level + 1)..<Version.levelCount where version.file(at: deeper, containing: key) != nil { return false }
        return true
    }

    /// A range tombstone is obsolete once every snapshot sees it and no
    /// table or memtable can hold an older key it covers. The tables this
    /// compaction just wrote (`cleaned`) hold none: it dropped every entry
    /// the tombstone covered.
    private func isObsolete(_ tombstone: RangeTombstone, levels: [[TableFile]], cleaned: [TableFile],
                            oldestSnapshot: UInt64) -> Bool {
        guard tombstone.sequence <= oldestSnapshot else { return false }
        for files in levels {
            for file in files where file.smallestSequence < tombstone.sequence && !cleaned.contains(where: { $0 === file }) {
                let overlaps = file.smallestUserKey.withUnsafeBytes { s in
                    file.largestUserKey.withUnsafeBytes { l in tombstone.overlaps(smallest: s, largest: l) }
                }
                if overlaps { return false }
            }
        }
        return stateLock.withLock {
            memtable.smallestSequence > tombstone.sequence && immutables.allSatisfy { $0.table.smallestSequence > tombstone.sequence }
        }
    }

    /// Applies `edit` to the levels of the version current now and installs
    /// the result, with the range tombstones `keeping` keeps (all by default).
    /// REQUIRES: versionEditLock not held.
    private func installEdit(removing removed: [TableFile] = [], adding added: [TableFile] = [], _ edit: (inout [[TableFile]]) -> Void,
                             keeping: ((RangeTombstone, [[TableFile]]) -> Bool)? = nil) throws {
        try versionEditLock.withLock {
            guard !isClosed else { throw CairnError.closed }
            let latest = stateLock.withLock { version }
            var levels = latest.levels
            edit(&levels)
            let tombstones = keeping.map { keep in latest.rangeTombstones.filter { keep($0, levels) } } ?? latest.rangeTombstones
            try install(Version(levels: levels, rangeTombstones: tombstones), removing: removed, adding: added)
        }
    }

    /// Writes the manifest for `edited`, makes it current, and marks the
    /// replaced tables obsolete (deleted once no reader holds them).
    /// REQUIRES: versionEditLock held.
    func install(_ edited: Version, removing removed: [TableFile], adding added: [TableFile] = []) throws {
        try writeManifest(manifestFor(edited), newTables: added)
        stateLock.withLock {
            version = edited
            cachedReadState = nil
        }
        for file in removed { file.markObsolete() }
    }

    // MARK: On demand

    /// Freezes the memtable (when it holds anything) and waits until every
    /// frozen memtable is flushed to level 0.
    func flush() throws {
        guard !isClosed else { throw CairnError.closed }
        guard mode == .primary else { throw readOnlyError }
        try writeQueue.exclusive { [self] in
            let hasData = stateLock.withLock { memtable.entryCount > 0 || !memtable.rangeTombstones.isEmpty }
            if hasData { try switchMemtable() }
        }
        while try flushOldestImmutable() {}
        if let error = stateLock.withLock({ backgroundError }) { throw error }
    }

    /// Flushes, then compacts every table overlapping [start, end] (nil:
    /// unbounded) down to the deepest level that holds data, rewriting it,
    /// so that everything obsolete in the range is dropped.
    func compactRange(start: [UInt8]?, end: [UInt8]?) throws {
        let ticket = interrupts.ticket
        try flush()
        try compactionLock.withLock {
            let initial = stateLock.withLock { version }
            let deepest = max(1, (0..<Version.levelCount).last { !initial.levels[$0].isEmpty } ?? 1)
            for level in 0..<deepest {
                guard !isClosed else { throw CairnError.closed }
                // Between compactions: each one installed is whole.
                try interrupts.check(ticket)
                let current = stateLock.withLock { version }
                let candidates = current.levels[level].filter { file in
                    (start.map { !file.largestUserKey.lexicographicallyPrecedes($0) } ?? true)
                        && (end.map { !$0.lexicographicallyPrecedes(file.smallestUserKey) } ?? true)
                }
                guard !candidates.isEmpty else { continue }
                let inputs = level == 0 ? current.levels[0] : candidates
                let (smallest, largest) = Compaction.range(of: inputs)
                let below = smallest.withUnsafeBytes { s in
                    largest.withUnsafeBytes { l in current.overlapping(level: level + 1, smallest: s, largest: l) }
                }
                try run(Compaction(level: level, inputs: inputs, nextLevelInputs: below), allowTrivialMove: false)
            }
        }
        EngineStats.bump(stats.manualCompactions)
    }
}

extension Compaction {
    /// True when no two of `files` overlap.
    static func disjoint(_ files: [TableFile]) -> Bool {
        let sorted = files.sorted { $0.smallestUserKey.lexicographicallyPrecedes($1.smallestUserKey) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where !a.largestUserKey.lexicographicallyPrecedes(b.smallestUserKey) {
            return false
        }
        return true
    }

    /// The smallest and largest user keys of `files`.
    static func range(of files: [TableFile]) -> ([UInt8], [UInt8]) {
        var smallest = files[0].smallestUserKey, largest = files[0].largestUserKey
        for file in files.dropFirst() {
            if file.smallestUserKey.lexicographicallyPrecedes(smallest) { smallest = file.smallestUserKey }
            if largest.lexicographicallyPrecedes(file.largestUserKey) { largest = file.largestUserKey }
        }
        return (smallest, largest)
    }
}
