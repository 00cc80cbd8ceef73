/// The background purge of expired documents (Expiry.swift), MongoDB's TTL
/// monitor: every `ttl_purge_interval_ms` (60 s by default) it deletes, in
/// each collection with a TTL index, the documents that have expired, a
/// batch per transaction. Each delete goes through the ordinary delete
/// path, so index entries, search structures and links go in the same
/// atomic write, and the change feed records it as a delete.
///
/// The thread starts at open when some collection has a TTL index, or when
/// one is created, and close stops it after its current batch. Reads do
/// not wait for it: they skip expired documents themselves.
final class ExpiryPurge: @unchecked Sendable {
    /// A leaf lock (docs/architecture.md, "Locks"): the purge takes the
    /// document lock only outside it, through Scope.withTransaction.
    private let state = Condition()
    private var started = false
    private var running = false
    private var stopping = false
    private let intervalMillis: Int64
    /// Documents purged since open (the "documents_expired" statistic).
    private var purged = 0

    /// Documents deleted per transaction: small enough that a purge never
    /// holds a writer back for long, large enough to amortize the commit.
    static let batchSize = 1000

    init(intervalMillis: Int64) {
        self.intervalMillis = intervalMillis
    }

    var purgedCount: Int { state.withLock { purged } }
    var isStopping: Bool { state.withLock { stopping } }

    /// Starts the thread unless it runs already, is turned off, or the
    /// database is closing. A database with a TTL index and no thread (the
    /// system refused one) still never returns an expired document.
    func start(_ database: Database) {
        state.withLock {
            guard !started && !stopping && intervalMillis > 0 else { return }
            started = true
            running = true
            do {
                try database.engine.env.startThread { [self] in run(database) }
            } catch {
                running = false
            }
        }
    }

    private func run(_ database: Database) {
        while true {
            let stop: Bool = state.withLock {
                let deadline = database.engine.env.monotonicNanoseconds() &+ UInt64(intervalMillis) * 1_000_000
                while !stopping && database.engine.env.monotonicNanoseconds() < deadline { state.wait(milliseconds: 200) }
                return stopping
            }
            if stop { break }
            // A failure (a full disk, a closed database) is retried at the
            // next interval; nothing half-done commits.
            if let count = try? database.purgeExpiredDocuments() { state.withLock { purged += count } }
        }
        state.withLock {
            running = false
            state.broadcast()
        }
    }

    /// Stops the thread and waits for its current batch to end.
    func stop() {
        state.withLock {
            stopping = true
            state.broadcast()
            while running { state.wait(milliseconds: 100) }
        }
    }
}

extension Database {
    /// Deletes every document that has expired now, in batches of
    /// ExpiryPurge.batchSize, each its own transaction; returns how many.
    /// The background purge calls it; so can a caller that wants the space
    /// back at once.
    @discardableResult
    public func purgeExpiredDocuments() throws -> Int {
        guard !isClosed else { throw CairnError.closed }
        let reader = try Transaction(database: self, readOnly: true, explicit: false)
        var total = 0
        for name in try reader.collectionNames() {
            guard let info = try reader.collection(name) else { continue }
            for rule in ExpiryRule.rules(of: info) {
                guard let cutoff = rule.cutoff(now: engine.env.nowMillis()) else { continue }
                // {field: {$lte: cutoff}}: an array matches by its earliest
                // date, as the rule reads it; the TTL index serves it.
                let spec = MutableValue.object([(rule.components.joined(separator: "."), .object([("$lte", .date(cutoff))]))]).encoded()
                let filter = try spec.withUnsafeBytes { try Filter.parse(document: DocumentValue($0), path: "filter") }
                while !expiryPurge.isStopping {
                    let deleted = try withTransaction(writing: true) { transaction in
                        try transaction.deleteDocuments(in: name, filter: filter, many: true, purging: ExpiryPurge.batchSize).count
                    }
                    total += deleted
                    if deleted < ExpiryPurge.batchSize { break }
                }
            }
        }
        return total
    }

    /// At open: starts the purge when some collection has a TTL index.
    func startExpiryPurgeIfNeeded() throws {
        let reader = try Transaction(database: self, readOnly: true, explicit: false)
        for name in try reader.collectionNames() {
            if let info = try reader.collection(name), !ExpiryRule.rules(of: info).isEmpty {
                expiryPurge.start(self)
                return
            }
        }
    }
}
