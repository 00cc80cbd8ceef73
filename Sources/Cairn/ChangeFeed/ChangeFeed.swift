/// The change feed layer: every committed change, in commit order, as an
/// event kept in the history namespace (ChangeFeedFormat) for a retention,
/// so that watchers (ChangeStream) can follow it live, fall behind and
/// catch up, and resume after a restart or a crash exactly where they were.
///
/// Recording. A layer that writes records a ChangeEvent for each change
/// (a transaction collects them as it goes; the key-value batch derives
/// them from its operations; collection drops, renames and index drops add
/// theirs to their batch). `append` puts them into the change's own write
/// batch as stamped puts: the engine fills in the commit sequence and time
/// when the write queue orders the batch, so a commit and its events are
/// one log record (never one without the other after a crash), every event
/// of a commit shares its sequence, and commits' events sort in commit
/// order even when concurrent writers share a group commit. The engine
/// knows nothing of the feed: stamping is a generic batch facility.
///
/// Waking watchers. Writers pay one call per group commit: the engine's
/// commit observer stores the last visible sequence and, when it waits,
/// signals the dispatcher (ChangeFeed+Dispatch.swift), which wakes only
/// the watches the new events may concern. Watchers read the history
/// themselves, at their own pace, so a slow or filtering watcher costs
/// writers nothing and never holds them up.
///
/// With the feed off (the default, see ChangeFeedOptions) `isRecording` is
/// false, no event is built and no observer is installed.
final class ChangeFeed: @unchecked Sendable {
    let options: ChangeFeedOptions?
    var isRecording: Bool { options != nil }

    /// Guards `published`, `stopping` and the threads' flags. Lock order 6
    /// (docs/architecture.md, "Locks"): the commit leader takes it last, briefly.
    let condition = Condition()
    /// The last sequence the engine made visible.
    var published: UInt64 = 0
    private(set) var stopping = false
    var trimmerRunning = false
    var dispatcherRunning = false
    var dispatcherWaiting = false
    /// The groups of open watches by prefilter, with how many watches each
    /// has (ChangeFeed+Dispatch.swift), guarded by registryLock. Lock order 6
    /// (docs/architecture.md, "Locks"): never held together with a group's condition.
    let registryLock = Lock()
    var groups: [WatchPrefilter: (group: WatchGroup, members: Int)] = [:]

    init(options: ChangeFeedOptions?) {
        self.options = options
    }

    // MARK: Recording

    /// Adds `events` to `batch` as one commit's events, at positions 0, 1,
    /// ... in order. REQUIRES: isRecording.
    func append(_ events: [ChangeEvent], to batch: inout WriteBatch) throws {
        guard !events.isEmpty else { return }
        guard events.count < Int(UInt32.max) else { throw CairnError.invalidArgument("one commit may hold at most \(UInt32.max - 1) changes") }
        var header = [UInt8](repeating: 0, count: 8)
        header.appendUInt32BE(UInt32(events.count))
        for (position, event) in events.enumerated() {
            // The key without its namespace byte; the engine stamps the
            // sequence over the zeros (ChangeFeedFormat.sequenceOffset).
            var key: [UInt8] = [ChangeFeedFormat.eventTag]
            key.appendUInt64BE(0)
            key.appendUInt32BE(UInt32(position))
            var value = header
            value.append(contentsOf: event.encoded())
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in batch.putStamped(k, v, sequenceOffset: ChangeFeedFormat.sequenceOffset, namespace: .changeFeed) }
            }
        }
    }

    // MARK: Waking watchers

    /// The engine's commit observer: runs on the group-commit leader. Only
    /// the dispatcher waits here, and only it is signalled.
    func published(_ sequence: UInt64) {
        condition.lock()
        published = sequence
        if dispatcherWaiting { condition.broadcast() }
        condition.unlock()
    }

    // MARK: Opening and closing

    /// Brings the history's state in line with this open's option (see
    /// ChangeFeedOptions): starts recording, noting what history is lost;
    /// or notes that recording stopped. Then starts the trimmer. Runs at
    /// open before anything else writes.
    func start(engine: StorageEngine) throws {
        let view = try engine.readView()
        let stored = try ChangeFeed.state(engine: engine, view: view)
        let last = view.sequence
        published = last
        var batch = WriteBatch()
        var state = stored
        if isRecording {
            if stored == nil || (stored!.recording == false && stored!.stoppedAt != last) {
                // Everything so far went unrecorded (or some of it did):
                // history starts after the last commit; older events go.
                state = ChangeFeedFormat.State(recording: true, floor: ChangePosition(sequence: last, position: UInt32.max),
                                               floorTime: engine.env.nowMillis(), stoppedAt: 0)
                ChangeFeedFormat.eventsLower.withUnsafeBytes { l in
                    ChangeFeedFormat.eventsUpper.withUnsafeBytes { u in batch.deleteRange(l, u) }
                }
            } else if stored!.recording == false {
                // Nothing committed while it was off: the history goes on.
                state!.recording = true
                state!.stoppedAt = 0
            }
        } else if let current = stored, current.recording {
            // Safe: the state write below is one operation, so it commits
            // at last + 1 (nothing else writes during open).
            state = ChangeFeedFormat.State(recording: false, floor: current.floor, floorTime: current.floorTime, stoppedAt: last + 1)
        }
        if let state, state != stored {
            ChangeFeed.stateEngineKey.withUnsafeBytes { key in state.encoded().withUnsafeBytes { batch.put(key, $0, ttlMillis: 0) } }
            try engine.write(batch)
        }
        guard isRecording else { return }
        engine.commitObserver = { [self] sequence in published(sequence) }
        try startTrimmer(engine: engine)
        try startDispatcher(engine: engine)
    }

    /// Stops the trimmer and the dispatcher and wakes every watch (each
    /// then fails with CLOSED). Called by Database.close before the engine
    /// closes.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while trimmerRunning || dispatcherRunning { condition.wait(milliseconds: 100) }
        condition.unlock()
        for group in registeredGroups { group.wakeAll() }
    }

    var isStopping: Bool { condition.withLock { stopping } }

    static let stateEngineKey = [Namespace.changeFeed.rawValue] + ChangeFeedFormat.stateKey

    /// The history's state as `view` sees it; nil when never recorded.
    static func state(engine: StorageEngine, view: ReadView) throws -> ChangeFeedFormat.State? {
        var stored: ChangeFeedFormat.State?
        _ = try stateEngineKey.withUnsafeBytes { k in
            try engine.withValue(forKey: k, now: engine.env.nowMillis(), in: view) { stored = try ChangeFeedFormat.State.decode($0) }
        }
        return stored
    }
}

extension Transaction {
    /// Whether this transaction's writes record change events.
    var recordsChanges: Bool { database.feed.isRecording }

    /// Records the event of a change this transaction made, committed with it.
    /// (Callers whose event is costly to build check `recordsChanges` first.)
    func recordChange(_ event: ChangeEvent) {
        guard recordsChanges else { return }
        changes.append(event)
    }
}
