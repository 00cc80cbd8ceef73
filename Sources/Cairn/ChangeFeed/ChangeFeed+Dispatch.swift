#if canImport(Glibc)
import Glibc
#endif

/// Waking watches without waking them all: one dispatcher thread per
/// database follows the history right behind the writers, summarizes each
/// batch of new events once (their operation types, collections and
/// key-value keys) and wakes only the watches whose target and filter could
/// match one of them (WatchPrefilter), deciding once per group of watches
/// with the same prefilter (WatchGroup). A watch the batch cannot concern
/// is told to skip it, so it does not even read it. So writers pay one
/// condition signal per group commit whatever the number of watches, and
/// idle or filtered-out watches neither run nor read; a watch that wakes
/// reads the history itself, at its own pace.
///
/// Correctness never rests on the summary: a watch reads every event after
/// its position unless a skip covers it, and a skip covers only events the
/// watch would not deliver. A watch that waits compares the dispatcher's
/// notices with the snapshot it last read at, so a notice is never lost.
extension ChangeFeed {
    /// What one pass of the dispatcher found after `from`, up to `to`.
    struct BatchSummary {
        var from: ChangePosition
        var to: ChangePosition
        /// The snapshot the batch was read at.
        var sequence: UInt64
        var operations = Set<String>()
        var collections = Set<String>()
        var hasKeyValue = false
        var hasDocuments = false
        var hasRanges = false
        /// The key-value keys, or nil when there were too many to list.
        var keys: [[UInt8]]? = []
    }

    static let summaryKeyLimit = 256
    static let dispatchBatchLimit = 8192
    /// The least time between two passes: under a stream of small commits
    /// a pass then covers many of them, so the dispatcher's work (a read
    /// and a look at every watch) does not grow with the commit rate. It
    /// is the most a notice waits for the next pass.
    static let minimumPassInterval: UInt64 = 200_000  // ns

    /// The group of watches with `prefilter`, which the caller joins.
    func join(_ prefilter: WatchPrefilter) -> WatchGroup {
        registryLock.withLock {
            if let entry = groups[prefilter] {
                groups[prefilter] = (entry.group, entry.members + 1)
                return entry.group
            }
            let group = WatchGroup(prefilter: prefilter)
            groups[prefilter] = (group, 1)
            return group
        }
    }

    func leave(_ group: WatchGroup) {
        registryLock.withLock {
            guard let entry = groups[group.prefilter] else { return }
            groups[group.prefilter] = entry.members > 1 ? (entry.group, entry.members - 1) : nil
        }
    }

    var registeredGroups: [WatchGroup] { registryLock.withLock { groups.values.map(\.group) } }

    func startDispatcher(engine: StorageEngine) throws {
        // Where the dispatcher starts is read here, before any writer can
        // commit, not when its thread first runs: on a busy machine the
        // thread may start after the open has returned and writes have
        // committed, and starting after them would skip their events for
        // good, leaving a watch waiting on them for its whole timeout.
        let start = condition.withLock { () -> UInt64 in
            dispatcherRunning = true
            return published
        }
        do {
            try engine.env.startThread { [self] in
                var position = ChangePosition(sequence: start, position: UInt32.max)
                var seen: UInt64 = start
                var lastPass: UInt64 = 0
                while true {
                    let stop = condition.withLock { () -> Bool in
                        dispatcherWaiting = true
                        while published <= seen && !stopping { condition.wait(milliseconds: 1000) }
                        dispatcherWaiting = false
                        return stopping
                    }
                    if stop { break }
                    let since = monotonicNanoseconds() &- lastPass
                    if since < ChangeFeed.minimumPassInterval {
                        usleep(UInt32((ChangeFeed.minimumPassInterval - since) / 1000))
                    }
                    lastPass = monotonicNanoseconds()
                    do {
                        seen = try dispatch(engine: engine, after: &position)
                    } catch {
                        // A failed read (the engine closing, an I/O error): the
                        // watches are woken to read (and meet the error) themselves.
                        for group in registeredGroups { group.wakeAll() }
                        seen = condition.withLock { published }
                    }
                }
                condition.withLock {
                    dispatcherRunning = false
                    condition.broadcast()
                }
            }
        } catch {
            condition.withLock { dispatcherRunning = false }
            throw error
        }
    }

    /// One pass: summarizes the events after `position` and tells each
    /// registered watch. Returns the snapshot's sequence.
    private func dispatch(engine: StorageEngine, after position: inout ChangePosition) throws -> UInt64 {
        let view = try engine.readView()
        let watching = registeredGroups
        guard !watching.isEmpty else {
            // Nobody to tell: nothing to read either.
            position = ChangePosition(sequence: view.sequence, position: UInt32.max)
            return view.sequence
        }
        let lower = position.lowerBoundKey
        let iterator = try lower.withUnsafeBytes { l in
            try ChangeFeedFormat.eventsUpper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
        var summary = BatchSummary(from: position, to: position, sequence: view.sequence)
        var count = 0
        while try iterator.iterator.next() {
            let at = try ChangeFeedFormat.position(ofEventKey: iterator.iterator.key)
            let value = iterator.iterator.value
            guard value.count >= ChangeFeedFormat.valueHeaderSize else { throw CairnError.corruption("change feed: an event value of \(value.count) bytes") }
            try summarize(DocumentValue(UnsafeRawBufferPointer(rebasing: value[ChangeFeedFormat.valueHeaderSize...])), into: &summary)
            summary.to = at
            count += 1
            // A long backlog goes out in parts, each ending with a whole commit.
            if count >= ChangeFeed.dispatchBatchLimit && at.position + 1 == ChangeFeedFormat.readUInt32BE(value, 8) { break }
        }
        if count >= ChangeFeed.dispatchBatchLimit { summary.sequence = summary.to.sequence }
        position = summary.to
        if count > 0 {
            for group in watching { group.offer(summary) }
        }
        return count >= ChangeFeed.dispatchBatchLimit ? summary.to.sequence : view.sequence
    }

    private func summarize(_ body: DocumentValue, into summary: inout BatchSummary) throws {
        if let op = try body.field("op"), case .string(let utf8) = try op.kind() {
            summary.operations.insert(String(decoding: utf8, as: UTF8.self))
        }
        if let collection = try body.field("c"), case .string(let utf8) = try collection.kind() {
            summary.hasDocuments = true
            summary.collections.insert(String(decoding: utf8, as: UTF8.self))
            if let to = try body.field("to"), case .string(let name) = try to.kind() { summary.collections.insert(String(decoding: name, as: UTF8.self)) }
            return
        }
        summary.hasKeyValue = true
        if try body.field("e") != nil { summary.hasRanges = true }
        if let key = try body.field("k"), case .binary(let bytes, _) = try key.kind(), summary.keys != nil {
            if summary.keys!.count < ChangeFeed.summaryKeyLimit { summary.keys!.append(Array(bytes)) } else { summary.keys = nil }
        }
    }
}

