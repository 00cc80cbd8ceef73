/// A transaction: reads at one snapshot of the whole database, sees its own
/// writes, and commits them as one write batch (one log record), so a crash
/// keeps all or none of them.
///
/// Isolation is snapshot isolation. At commit, under the write queue's
/// leadership, every key the transaction writes (and every catalog entry it
/// read, so that a collection redefined meanwhile is noticed) is checked
/// for a version newer than the snapshot; one is a CONFLICT and nothing is
/// written.
///
/// The document layer runs every single operation as a short transaction of
/// its own (Scope.withTransaction), so documents and their index entries are
/// always written together.
///
/// Used by one caller at a time; `lock` turns accidental concurrent use
/// into waiting instead of corruption.
public final class Transaction: @unchecked Sendable {
    public let database: Database
    let view: ReadView
    private let pin: SnapshotPin
    public let isReadOnly: Bool
    /// False for the document layer's single operations, which retry on
    /// conflict and run under the document lock.
    let isExplicit: Bool
    /// Writes not yet committed, by engine key (nil value: a deletion).
    private(set) var writes = PendingWrites()
    /// Catalog entries read: a change to one of them since the snapshot is
    /// a conflict, because the writes were computed from it. Distinct (one
    /// per collection read); a list, as nearly every transaction reads one
    /// (a set cost an allocation and a hash), searched in order up to 16
    /// and through `catalogReadSet` past that, so many stay linear.
    private var catalogReads: [[UInt8]] = []
    private var catalogReadSet: Set<[UInt8]>?
    /// What the documents layer keeps for this transaction.
    var documents: DocumentTransactionState
    /// The change feed's events of the writes so far, in order, written
    /// with them at commit (empty while the feed is off).
    var changes: [ChangeEvent] = []
    /// Run once the writes are committed, so a layer's caches learn what
    /// changed (Vector/VectorLayer.swift); dropped on rollback.
    var afterCommit: [() -> Void] = []
    /// While a run of document changes holds the text indexes' counters in
    /// memory (FullText/Transaction+FullText.swift, withTextCounterBatch),
    /// the counters; nil otherwise.
    var textCounters: TextIndexCounters?
    /// While a run of document changes remembers the vector graphs it walks
    /// (Vector/Transaction+Vector.swift, withVectorMemo), the memo; nil
    /// otherwise.
    var vectorMemo: VectorGraphMemo?
    /// The adjacency lists this transaction's writes change
    /// (Graph/Transaction+Graph.swift); held by its afterCommit hook, so
    /// that dropping the hooks ends its change.
    weak var adjacencyWrites: AdjacencyWrites?
    private(set) var isFinished = false
    /// Lock order 1 (docs/architecture.md, "Locks"): one caller at a time; every other
    /// lock may be taken inside it, it is never taken inside another.
    let lock = Lock()

    struct PendingWrite {
        var value: [UInt8]?
        var ttlMillis: Int64
    }

    init(database: Database, readOnly: Bool, explicit: Bool) throws {
        self.database = database
        // The documents layer notes the catalog's generation around the
        // snapshot (see CatalogCache).
        (view, documents) = try DocumentTransactionState.taking(database.documents) { try database.engine.readView() }
        pin = database.engine.pin(view)
        isReadOnly = readOnly
        isExplicit = explicit
    }

    var engine: StorageEngine { database.engine }

    func checkUsable() throws {
        guard !isFinished else { throw CairnError(.closed, "the transaction has ended") }
        guard !database.isClosed else { throw CairnError.closed }
    }

    private func checkWritable() throws {
        try checkUsable()
        guard !isReadOnly else { throw CairnError.invalidArgument("the transaction is read-only") }
    }

    // MARK: Engine keys

    /// A reader of this transaction's snapshot and of its writes as they
    /// are now (later writes do not show through it).
    var reader: TransactionReader {
        TransactionReader(engine: engine, view: view, pin: pin, writes: writes, memoryLimit: database.documents.queryMemoryLimit,
                          fullText: database.fullText)
    }

    /// Calls `body` with the value of engine key `key` as this transaction
    /// sees it; false when absent, deleted or expired.
    @discardableResult
    func read(_ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void = { _ in }) throws -> Bool {
        try checkUsable()
        return try TransactionReader.read(key, writes: writes, engine: engine, view: view, body)
    }

    /// Reads a catalog entry and remembers it for the commit's check.
    func readCatalog(_ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        noteCatalogRead(key)
        return try read(key, body)
    }

    /// A change to this catalog entry by another writer since the snapshot
    /// will make the commit fail with CONFLICT.
    func noteCatalogRead(_ key: [UInt8]) {
        guard !isReadOnly && !key.withUnsafeBytes({ writes.contains($0) }) else { return }
        if catalogReadSet == nil {
            if catalogReads.contains(key) { return }
            if catalogReads.count < 16 {
                catalogReads.append(key)
                return
            }
            catalogReadSet = Set(catalogReads)
        }
        if catalogReadSet!.insert(key).inserted { catalogReads.append(key) }
    }

    /// Past this many bytes of pending writes a commit cannot succeed: a
    /// record takes at most 11 times its batch bytes in a WriteTable (a
    /// 32-byte header against an operation's 3 bytes of framing), and
    /// superseded records at most as much again, so the batch would pass
    /// WriteBatch.maxEncodedSize. A write past it fails at once instead of
    /// growing memory toward a sure failure.
    static let maxPendingBytes = 24 * WriteBatch.maxEncodedSize

    private func checkRoom() throws {
        guard writes.byteCountBound <= Self.maxPendingBytes else {
            throw CairnError.invalidArgument("the transaction's writes are past the \(WriteBatch.maxEncodedSize) bytes one commit may hold (CAIRN_MAX_BATCH_SIZE); nothing more is added: roll back and split it into smaller ones")
        }
    }

    func put(_ key: [UInt8], _ value: [UInt8], ttlMillis: Int64 = 0) throws {
        try checkWritable()
        try checkRoom()
        let logging = undoLog != nil
        let previous = key.withUnsafeBytes { k in
            value.withUnsafeBytes { writes.set(k, value: $0, ttlMillis: ttlMillis, previous: logging) }
        }
        if logging { undoLog!.append((EngineKey(key), previous)) }
    }

    /// Makes room for `count` more writes at once (a large insert).
    func reserveWrites(_ count: Int) {
        writes.reserveCapacity(count)
    }

    func delete(_ key: [UInt8]) throws {
        try checkWritable()
        try checkRoom()
        let logging = undoLog != nil
        let previous = key.withUnsafeBytes { writes.set($0, value: nil, ttlMillis: 0, previous: logging) }
        if logging { undoLog!.append((EngineKey(key), previous)) }
    }

    /// While set, every pending write records what it replaced, so a
    /// part of an operation can be undone without copying all the writes.
    private var undoLog: [(key: EngineKey, previous: PendingWrite?)]?

    /// Runs `body`; when it throws, undoes the writes it made (and the
    /// collection definitions it cached) and rethrows. For the documents of
    /// an insert_many that are skipped while the others go in.
    func savepoint<T>(_ body: () throws -> T) throws -> T {
        // One log for nested savepoints: each remembers where its part
        // starts, and the outermost drops the log when it ends.
        let outermost = undoLog == nil
        if outermost { undoLog = [] }
        let mark = undoLog?.count ?? 0
        let changeMark = changes.count
        let savedCache = documents.collections
        // The text indexes' counters a run holds in memory are not in
        // `writes` yet: they keep a log of their own.
        let counters = textCounters
        let counterMark = counters?.beginSavepoint()
        defer {
            if outermost { undoLog = nil }
            if counterMark?.outermost == true { counters?.endSavepoints() }
        }
        do {
            return try body()
        } catch {
            if let log = undoLog {
                for entry in log[mark...].reversed() { writes.restore(entry.key, to: entry.previous) }
                undoLog?.removeSubrange(mark...)
            }
            if let counterMark { counters?.rollBack(to: counterMark.mark) }
            vectorMemo?.forget()
            if changes.count > changeMark { changes.removeSubrange(changeMark...) }
            documents.collections = savedCache
            throw error
        }
    }

    /// A scan of engine keys in [lower, upper) merging the snapshot with
    /// this transaction's writes.
    func scan(lower: [UInt8], upper: [UInt8], reverse: Bool = false) throws -> TransactionScan {
        try checkUsable()
        return try reader.scan(lower: lower, upper: upper, reverse: reverse)
    }

    // MARK: Ending

    /// Commits the writes atomically. Ends the transaction whatever happens.
    public func commit() throws {
        try lock.withLock {
            try checkUsable()
            precondition(textCounters == nil, "a commit inside a run of text index changes would lose its counters")
            isFinished = true
            // Nothing to commit (or every write undone, below): the hooks go
            // now, so a cache's change they hold ends (Graph/AdjacencyCache).
            guard !writes.isEmpty else { afterCommit = []; return }
            // In key order: the memtable inserts a batch's entries one
            // after another from where the last one went (MemTable's
            // splice), which is several times faster than entries in
            // random order, each a search from the top. The keys are
            // distinct, so their order in the batch changes nothing else.
            // The pending writes already lie back to back (WriteTable), so
            // they are sorted where they are.
            // Room at once, bounded: superseded writes count in the bounds,
            // and a batch past the largest one the engine takes is refused
            // by engine.write, not here.
            var batch = WriteBatch(reservingCapacity: min(writes.byteCountBound, WriteBatch.maxEncodedSize))
            var keys = KeyList(reservingBytes: min(writes.keyByteCountBound, WriteBatch.maxEncodedSize),
                               count: writes.countBound + catalogReads.count)
            var touchesCatalog = false
            writes.forEachInKeyOrder { key, write in
                switch write {
                case .put(let value, let ttl): batch.put(key, value, ttlMillis: ttl)
                case .deletion: batch.delete(key)
                }
                keys.append(key)
                if key.first == Namespace.catalog.rawValue { touchesCatalog = true }
            }
            // Every write was undone (savepoints): nothing to commit.
            guard keys.count > 0 else { afterCommit = []; return }
            // The events go into the same batch as the writes: one log
            // record, so a crash keeps both or neither.
            if !changes.isEmpty { try database.feed.append(changes, to: &batch) }
            let written = keys.count
            for key in catalogReads { key.withUnsafeBytes { keys.append($0) } }
            batch.conflictCheck = ConflictCheck(snapshot: view.sequence, keys: keys, written: written, explicit: isExplicit)
            let stats = engine.stats
            let write = { [engine, database] in
                if touchesCatalog { try database.documents.catalogCache.changing { try engine.write(batch) } } else { try engine.write(batch) }
            }
            do {
                if isExplicit {
                    // Under the document lock (shared), so an index build (which
                    // holds it exclusively) never interleaves with a commit.
                    try database.documents.lock.withSharedLock { try write() }
                    EngineStats.bump(stats.transactionCommits)
                } else {
                    try write()
                }
            } catch {
                // Nothing was committed: the hooks go now, not when the
                // transaction is freed (a cache's change they hold ends).
                afterCommit = []
                throw error
            }
            writes = PendingWrites()
            changes = []
            let hooks = afterCommit
            afterCommit = []
            for hook in hooks { hook() }
        }
    }

    /// Discards the writes. Idempotent.
    public func rollback() {
        lock.withLock {
            if !isFinished && isExplicit { EngineStats.bump(engine.stats.transactionRollbacks) }
            isFinished = true
            writes = PendingWrites()
            changes = []
            afterCommit = []
        }
    }

    /// Runs one operation of an explicit transaction: locked against
    /// concurrent use, and all or nothing (a failing insert_many leaves no
    /// document of it behind in the transaction).
    ///
    /// The undo log of `savepoint` restores what a failed operation wrote,
    /// so an operation costs what it writes, not a copy of every write the
    /// transaction holds (which made a long transaction quadratic).
    func runOperation<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            try checkUsable()
            let savedReads = catalogReads.count  // distinct keys, appended in order
            do {
                return try savepoint(body)
            } catch {
                if catalogReads.count > savedReads {
                    if catalogReadSet != nil { for key in catalogReads[savedReads...] { catalogReadSet!.remove(key) } }
                    catalogReads.removeSubrange(savedReads...)
                }
                throw error
            }
        }
    }
}

/// Reads at a transaction's snapshot, overlaid with its pending writes as
/// they were when the reader was made (PendingWrites shares them; a write
/// after that goes to a new layer). Cursors keep one, so they go on reading
/// what their transaction saw when they were opened.
struct TransactionReader {
    let engine: StorageEngine
    let view: ReadView
    let pin: SnapshotPin
    let writes: PendingWrites
    /// The memory a blocking stage of a query may hold.
    let memoryLimit: Int
    /// The full-text layer's analyzers and term dictionaries, for searches.
    let fullText: FullTextLayer

    func read(_ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void = { _ in }) throws -> Bool {
        try TransactionReader.read(key, writes: writes, engine: engine, view: view, body)
    }

    /// A point read at `view` overlaid with `writes`; shared with
    /// Transaction.read, which need not build a reader for each key.
    static func read(_ key: [UInt8], writes: PendingWrites, engine: StorageEngine, view: ReadView,
                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard !engine.isClosed else { throw CairnError.closed }
        return try key.withUnsafeBytes { key in
            let pending = try writes.withWrite(key) { write -> Bool? in
                switch write {
                case .put(let value, _)?:
                    try body(value)
                    return true
                case .deletion?: return false
                case nil: return nil
                }
            }
            if let pending { return pending }
            return try engine.withValue(forKey: key, now: engine.env.nowMillis(), in: view, body)
        }
    }

    /// A forward (or reverse) scan of engine keys in [lower, upper); see
    /// StorageEngine.makeIterator for `bloomPrefix`.
    func scan(lower: [UInt8], upper: [UInt8], reverse: Bool = false, bloomPrefix: [UInt8]? = nil) throws -> TransactionScan {
        let iterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: reverse, view: view, bloomPrefix: bloomPrefix) }
        }
        var pending: [(key: [UInt8], value: [UInt8]?)] = []
        if !writes.isEmpty {
            lower.withUnsafeBytes { lower in
                upper.withUnsafeBytes { upper in
                    writes.forEach { key, write in
                        guard compareBytes(key, lower) >= 0 && compareBytes(key, upper) < 0 else { return }
                        switch write {
                        case .put(let value, _): pending.append((Array(key), Array(value)))
                        case .deletion: pending.append((Array(key), nil))
                        }
                    }
                }
            }
            pending.sort { reverse ? $1.key.lexicographicallyPrecedes($0.key) : $0.key.lexicographicallyPrecedes($1.key) }
        }
        return TransactionScan(iterator: iterator, pending: pending, reverse: reverse)
    }
}

/// A scan that merges a snapshot iterator with a transaction's pending
/// writes (sorted in scan order); a pending write hides the snapshot's
/// entry for the same key, and a pending deletion hides it entirely.
final class TransactionScan {
    private let iterator: EngineIterator
    private let pending: [(key: [UInt8], value: [UInt8]?)]
    private let reverse: Bool
    private var pendingIndex = 0
    private var engineValid = false
    private var engineAdvanced = false
    private let keyBuffer = ByteBuffer()
    private let valueBuffer = ByteBuffer()
    private(set) var key = UnsafeRawBufferPointer(start: nil, count: 0)
    private(set) var value = UnsafeRawBufferPointer(start: nil, count: 0)

    init(iterator: EngineIterator, pending: [(key: [UInt8], value: [UInt8]?)], reverse: Bool) {
        self.iterator = iterator
        self.pending = pending
        self.reverse = reverse
    }

    /// Moves to the next entry; false at the end.
    func next() throws -> Bool {
        while true {
            if !engineAdvanced {
                engineValid = try iterator.iterator.next()
                engineAdvanced = true
            }
            let hasPending = pendingIndex < pending.count
            if !engineValid && !hasPending { return false }
            if hasPending {
                let candidate = pending[pendingIndex]
                var pendingFirst = true, sameKey = false
                if engineValid {
                    let order = candidate.key.withUnsafeBytes { compareBytes($0, iterator.iterator.key) }
                    sameKey = order == 0
                    pendingFirst = reverse ? order >= 0 : order <= 0
                }
                if pendingFirst {
                    pendingIndex += 1
                    if sameKey { engineAdvanced = false }  // the pending write hides this entry
                    guard let value = candidate.value else { continue }
                    candidate.key.withUnsafeBytes { keyBuffer.set($0) }
                    value.withUnsafeBytes { valueBuffer.set($0) }
                    key = keyBuffer.bytes
                    self.value = valueBuffer.bytes
                    return true
                }
            }
            key = iterator.iterator.key
            value = iterator.iterator.value
            engineAdvanced = false
            return true
        }
    }
}
