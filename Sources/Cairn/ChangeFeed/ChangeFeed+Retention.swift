/// Retention: a background thread keeps the history within its time and
/// byte limits (ChangeFeedOptions), so the feed never makes the database
/// grow without bound.
///
/// About once a second it reads the events committed since its last pass
/// (from its own position, like a watcher; writers do nothing for it) and
/// keeps one summary per commit: sequence, time, bytes, event count. When
/// the oldest commits are past the limits it removes them whole with one
/// range deletion, and in the same batch moves the state's floor to the
/// last commit removed, so that a watcher that still needed them fails
/// with HISTORY_LOST instead of skipping them.
extension ChangeFeed {
    struct CommitSummary {
        var sequence: UInt64
        var time: Int64
        var bytes: Int64
        var events: UInt32
    }

    func startTrimmer(engine: StorageEngine) throws {
        condition.withLock { trimmerRunning = true }
        do {
            try engine.env.startThread { [self] in
                var trimmer = Trimmer(feed: self, engine: engine)
                while true {
                    let stop = condition.withLock { () -> Bool in
                        if !stopping { condition.wait(milliseconds: 1000) }
                        return stopping
                    }
                    if stop { break }
                    // A failing pass (a full disk) is tried again next time.
                    try? trimmer.pass()
                }
                condition.withLock {
                    trimmerRunning = false
                    condition.broadcast()
                }
            }
        } catch {
            condition.withLock { trimmerRunning = false }
            throw error
        }
    }

    /// The trimmer's own state, touched by its thread only.
    struct Trimmer {
        let feed: ChangeFeed
        let engine: StorageEngine
        /// Commits read and kept, oldest first, from `head` on.
        var commits: [CommitSummary] = []
        var head = 0
        var totalBytes: Int64 = 0
        var after = ChangePosition(sequence: 0, position: 0)
        var started = false

        init(feed: ChangeFeed, engine: StorageEngine) {
            self.feed = feed
            self.engine = engine
        }

        mutating func pass() throws {
            guard let options = feed.options, !engine.isClosed else { return }
            try readNewCommits()
            let now = engine.env.nowMillis()
            let (cutoff, overflow) = now.subtractingReportingOverflow(options.retentionSeconds.multipliedReportingOverflow(by: 1000).partialValue)
            var last: CommitSummary?
            while head < commits.count {
                let oldest = commits[head]
                let tooOld = options.retentionSeconds > 0 && !overflow && oldest.time < cutoff
                let tooBig = options.retentionBytes > 0 && totalBytes > options.retentionBytes
                guard tooOld || tooBig else { break }
                totalBytes -= oldest.bytes
                last = oldest
                head += 1
            }
            if head > 4096 && head * 2 > commits.count {
                commits.removeFirst(head)
                head = 0
            }
            guard let last else { return }
            var batch = WriteBatch()
            // Safe: sequences are far below 2^64.
            let end = ChangeFeedFormat.eventKey(sequence: last.sequence + 1, position: 0)
            let lower = [Namespace.changeFeed.rawValue] + ChangeFeedFormat.eventsLower.dropFirst()
            lower.withUnsafeBytes { l in end.withUnsafeBytes { u in batch.deleteRange(l, u) } }
            let view = try engine.readView()
            var state = try ChangeFeed.state(engine: engine, view: view)
                ?? ChangeFeedFormat.State(recording: true, floor: ChangePosition(sequence: 0, position: UInt32.max), floorTime: 0, stoppedAt: 0)
            state.floor = ChangePosition(sequence: last.sequence, position: last.events)
            state.floorTime = last.time
            ChangeFeed.stateEngineKey.withUnsafeBytes { key in state.encoded().withUnsafeBytes { batch.put(key, $0, ttlMillis: 0) } }
            try engine.write(batch)
        }

        /// Reads the events after `after` and adds their commits.
        private mutating func readNewCommits() throws {
            let lower = started ? after.lowerBoundKey : ChangeFeedFormat.eventsLower
            let iterator = try lower.withUnsafeBytes { l in
                try ChangeFeedFormat.eventsUpper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false) }
            }
            started = true
            while try iterator.iterator.next() {
                let position = try ChangeFeedFormat.position(ofEventKey: iterator.iterator.key)
                let value = iterator.iterator.value
                guard value.count >= ChangeFeedFormat.valueHeaderSize else { throw CairnError.corruption("change feed: an event value of \(value.count) bytes") }
                let bytes = Int64(iterator.iterator.key.count + value.count)
                if let lastIndex = commits.indices.last, lastIndex >= head, commits[lastIndex].sequence == position.sequence {
                    commits[lastIndex].bytes += bytes
                } else {
                    let time = Int64(bitPattern: ChangeFeedFormat.readUInt64BE(value, 0))
                    let events = ChangeFeedFormat.readUInt32BE(value, 8)
                    commits.append(CommitSummary(sequence: position.sequence, time: time, bytes: bytes, events: events))
                }
                totalBytes += bytes
                after = position
            }
        }
    }
}
