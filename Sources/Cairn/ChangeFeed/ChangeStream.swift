/// A watch: a pull cursor over the change feed, from its start point on,
/// live. Each `next` returns the next event (as JSON) that falls in the
/// watch's target and passes its filter, or nil when none arrived within
/// the timeout.
///
/// It reads the history itself, at a snapshot per batch of events, from the
/// position after the last event it looked at; so it sees a commit's
/// events all together, in their order, after every earlier commit's,
/// and a watch that falls behind just reads further back. When the
/// history it still needs was trimmed it fails with HISTORY_LOST (and on
/// every later call), never skipping.
///
/// The event document (include/cairn.h lists it for users):
///
///     {"_id": {"seq": S, "pos": P},    the resume token
///      "operationType": "...", "seq": S, "txnId": S, "txnEvents": N,
///      "wallTime": {"$date": ...}, "ns": {"coll": "..."} or {"kv": true},
///      documents: "documentKey", "updateDescription", "fullDocument",
///                 "fullDocumentBeforeChange", "to" (rename), "index",
///                 "operationDescription" (create: the collection's options)
///      key-value: "key", "value", "ttlMillis" (put), "end" (deleteRange)}
///
/// Used by one caller at a time (a lock makes others wait); `cancel` and
/// `close` may come from any thread.
public final class ChangeStream: @unchecked Sendable {
    let database: Database
    public let target: WatchTarget
    let options: WatchOptions
    /// After this point in the history comes the next event to look at.
    private(set) var position: ChangePosition
    private var ready: [String] = []
    private var readyHead = 0
    private var failure: CairnError?
    /// Held while the watch reads: above every lock of the order in
    /// docs/architecture.md, "Locks" (the feed's condition, a group's condition).
    private let lock = Lock()
    /// The watches with the same prefilter: the dispatcher's notices and
    /// skips come through it, and a waiting `next` waits on its condition.
    let group: WatchGroup
    /// The snapshot the last read was at.
    private var lastRead: UInt64 = 0
    /// Guarded by the group's condition.
    private var closed = false
    private var left = false

    /// The most history entries one read looks at, and the most matching
    /// events it keeps ready.
    static let scanLimit = 1024
    static let readyLimit = 256

    public init(database: Database, target: WatchTarget, options: WatchOptions) throws {
        guard !database.isClosed else { throw CairnError.closed }
        guard database.feed.isRecording else {
            throw CairnError.invalidArgument("the change feed is off: open the database with the option {\"change_feed\": true} to watch it")
        }
        switch target {
        case .collection(let name): try CollectionInfo.validate(name: name)
        case .keyPrefix(let prefix): guard !prefix.isEmpty else { throw CairnError.invalidArgument("the key prefix of a watch is empty (watch everything instead)") }
        default: break
        }
        self.database = database
        self.target = target
        self.options = options
        let engine = database.engine
        let view = try engine.readView()
        let state = try ChangeFeed.state(engine: engine, view: view)
        switch options.start {
        case .now:
            position = ChangePosition(sequence: view.sequence, position: UInt32.max)
        case .after(let point):
            position = point
            if let state, state.lostAfter(point) { throw ChangeStream.historyLost(point, state) }
        case .atTime(let ms):
            if let state, state.floor.sequence > 0, ms <= state.floorTime {
                throw CairnError(.historyLost, "the history starts after \(ISO8601.string(milliseconds: state.floorTime) ?? "\(state.floorTime) ms"); it holds no commit from \(ISO8601.string(milliseconds: ms) ?? "\(ms) ms")")
            }
            position = try ChangeStream.firstPosition(atOrAfter: ms, engine: engine, view: view)
        }
        group = database.feed.join(WatchPrefilter(target: target, filter: options.filter))
    }

    deinit { leaveGroup() }

    private func leaveGroup() {
        let leaving = group.condition.withLock { () -> Bool in
            defer { left = true }
            return !left
        }
        if leaving { database.feed.leave(group) }
    }

    static func historyLost(_ point: ChangePosition, _ state: ChangeFeedFormat.State) -> CairnError {
        CairnError(.historyLost, "the change feed's history no longer holds the events after \(point) (it was trimmed or not recorded up to sequence \(state.floor.sequence)); resume from a later point or start now")
    }

    /// The point just before the first commit at `ms` or later (or after
    /// the last commit when there is none).
    private static func firstPosition(atOrAfter ms: Int64, engine: StorageEngine, view: ReadView) throws -> ChangePosition {
        let iterator = try ChangeFeedFormat.eventsLower.withUnsafeBytes { l in
            try ChangeFeedFormat.eventsUpper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
        while try iterator.iterator.next() {
            let value = iterator.iterator.value
            guard value.count >= ChangeFeedFormat.valueHeaderSize else { throw CairnError.corruption("change feed: an event value of \(value.count) bytes") }
            if Int64(bitPattern: ChangeFeedFormat.readUInt64BE(value, 0)) >= ms {
                let found = try ChangeFeedFormat.position(ofEventKey: iterator.iterator.key)
                // Safe: a commit's sequence is at least 1.
                return ChangePosition(sequence: found.sequence - 1, position: UInt32.max)
            }
        }
        return ChangePosition(sequence: view.sequence, position: UInt32.max)
    }

    /// The next event as JSON, waiting up to `timeoutMillis` (0: only what
    /// is there now) for one; nil when none came.
    ///
    /// - Throws: CLOSED (the watch or the database), HISTORY_LOST, NOT_FOUND
    ///   (a required image is missing), CORRUPTION, IO_ERROR.
    public func next(timeoutMillis: Int) throws -> String? {
        try lock.withLock {
            let feed = database.feed
            let deadline = monotonicNanoseconds() + UInt64(max(timeoutMillis, 0)) * 1_000_000
            while true {
                if let failure { throw failure }
                if group.condition.withLock({ closed }) { throw CairnError(.closed, "the watch is closed") }
                guard !database.isClosed, !feed.isStopping else { throw CairnError.closed }
                if readyHead < ready.count {
                    let event = ready[readyHead]
                    readyHead += 1
                    if readyHead == ready.count {
                        ready.removeAll(keepingCapacity: true)
                        readyHead = 0
                    }
                    return event
                }
                let more: Bool
                do {
                    more = try read()
                } catch let error as CairnError {
                    if error.code != .closed { failure = error }
                    throw error
                }
                if readyHead < ready.count || more { continue }
                // Wait for the dispatcher to find something for us after
                // what the read saw, a close, or the deadline.
                let seen = lastRead
                let timedOut = group.condition.withLock { () -> Bool in
                    group.waiters += 1
                    defer { group.waiters -= 1 }
                    while group.notified <= seen && !closed {
                        let now = monotonicNanoseconds()
                        guard now < deadline else { return true }
                        group.condition.wait(milliseconds: max(1, Int((deadline - now) / 1_000_000)))
                    }
                    return false
                }
                if timedOut { return nil }
            }
        }
    }

    /// Stops a `next` waiting in another thread: it returns nil at once.
    /// Closes for good: every later call fails with CLOSED. Idempotent.
    public func close() {
        group.condition.withLock {
            closed = true
            group.condition.broadcast()
        }
        leaveGroup()
    }

    public var isClosed: Bool { group.condition.withLock { closed } }

    /// Reads history after `position` at a fresh snapshot into `ready`;
    /// true when it stopped at a limit with more to read.
    private func read() throws -> Bool {
        let engine = database.engine
        let view = try engine.readView()
        lastRead = view.sequence
        // Events the dispatcher found we deliver none of are not read.
        group.condition.withLock {
            if let skip = group.skip, position >= skip.from, position < skip.to { position = skip.to }
        }
        if let state = try ChangeFeed.state(engine: engine, view: view), state.lostAfter(position) {
            throw ChangeStream.historyLost(position, state)
        }
        let lower = position.lowerBoundKey
        let iterator = try lower.withUnsafeBytes { l in
            try ChangeFeedFormat.eventsUpper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
        var scanned = 0
        while try iterator.iterator.next() {
            let at = try ChangeFeedFormat.position(ofEventKey: iterator.iterator.key)
            let value = iterator.iterator.value
            guard value.count >= ChangeFeedFormat.valueHeaderSize else { throw CairnError.corruption("change feed: an event value of \(value.count) bytes") }
            do {
                if let event = try deliverable(at: at, value: value) { ready.append(event) }
            } catch where readyHead < ready.count {
                // The events before this one go out first; this one fails
                // the next read, from where it stands.
                return true
            }
            position = at
            scanned += 1
            if scanned >= ChangeStream.scanLimit || ready.count >= ChangeStream.readyLimit { return true }
        }
        return false
    }

    // MARK: Building events

    private func field(_ members: [(key: String, value: MutableValue)], _ name: String) -> MutableValue? {
        members.first { $0.key == name }?.value
    }

    /// The event's JSON when it is in the target and passes the filter.
    private func deliverable(at: ChangePosition, value: UnsafeRawBufferPointer) throws -> String? {
        let body = DocumentValue(UnsafeRawBufferPointer(rebasing: value[ChangeFeedFormat.valueHeaderSize...]))
        guard case .object(let stored) = try MutableValue(body), case .string(let opBytes)? = field(stored, "op") else {
            throw CairnError.corruption("change feed: a damaged event at \(at)")
        }
        let operation = String(decoding: opBytes, as: UTF8.self)
        let collection: String? = { if case .string(let utf8)? = field(stored, "c") { return String(decoding: utf8, as: UTF8.self) }; return nil }()
        guard inTarget(collection: collection, stored: stored) else { return nil }

        let time = Int64(bitPattern: ChangeFeedFormat.readUInt64BE(value, 0))
        let count = ChangeFeedFormat.readUInt32BE(value, 8)
        var event: [(key: String, value: MutableValue)] = [
            ("_id", .object([("seq", .int(Int64(bitPattern: at.sequence))), ("pos", .int(Int64(at.position)))])),
            ("operationType", .string(Array(operation.utf8))),
            ("seq", .int(Int64(bitPattern: at.sequence))),
            ("txnId", .int(Int64(bitPattern: at.sequence))),
            ("txnEvents", .int(Int64(count))),
            ("wallTime", .date(time)),
        ]
        if let collection {
            event.append(("ns", .object([("coll", .string(Array(collection.utf8)))])))
            try documentFields(operation, collection, stored, into: &event)
        } else {
            event.append(("ns", .object([("kv", .bool(true))])))
            if let key = field(stored, "k") { event.append((operation == "deleteRange" ? "start" : "key", key)) }
            if let end = field(stored, "e") { event.append(("end", end)) }
            if let value = field(stored, "v") { event.append(("value", value)) }
            if let ttl = field(stored, "t") { event.append(("ttlMillis", ttl)) }
        }
        let encoded = MutableValue.object(event).encoded()
        return try encoded.withUnsafeBytes { raw -> String? in
            let document = DocumentValue(raw)
            if let filter = options.filter, try !filter.matches(document) { return nil }
            return try document.json()
        }
    }

    private func documentFields(_ operation: String, _ collection: String, _ stored: [(key: String, value: MutableValue)],
                                into event: inout [(key: String, value: MutableValue)]) throws {
        if let key = field(stored, "k") { event.append(("documentKey", key)) }
        if let update = field(stored, "u") { event.append(("updateDescription", update)) }
        if let to = field(stored, "to") { event.append(("to", .object([("coll", to)]))) }
        if let index = field(stored, "i") { event.append(("index", index)) }
        if let options = field(stored, "o") { event.append(("operationDescription", options)) }
        switch operation {
        case "insert", "replace":
            if let document = field(stored, "d") { event.append(("fullDocument", document)) }
        case "update":
            switch options.fullDocument {
            case .off: break
            case .whenAvailable: event.append(("fullDocument", field(stored, "d") ?? .null))
            case .required:
                guard let document = field(stored, "d") else { throw imageMissing("post-image", collection) }
                event.append(("fullDocument", document))
            case .updateLookup:
                event.append(("fullDocument", try lookUp(collection, key: field(stored, "k")) ?? .null))
            }
        default: break
        }
        if operation == "update" || operation == "replace" || operation == "delete" {
            switch options.fullDocumentBeforeChange {
            case .off, .updateLookup: break
            case .whenAvailable: event.append(("fullDocumentBeforeChange", field(stored, "b") ?? .null))
            case .required:
                guard let before = field(stored, "b") else { throw imageMissing("pre-image", collection) }
                event.append(("fullDocumentBeforeChange", before))
            }
        }
    }

    private func imageMissing(_ what: String, _ collection: String) -> CairnError {
        CairnError(.notFound, "the watch requires the \(what) of each change, and collection '\(collection)' does not record images (create it with {\"changeStreamPreAndPostImages\": {\"enabled\": true}})")
    }

    /// The document as it is now (fullDocument "updateLookup").
    private func lookUp(_ collection: String, key: MutableValue?) throws -> MutableValue? {
        guard case .object(let members)? = key, let id = members.first?.value else { return nil }
        let idJSON = try id.encoded().withUnsafeBytes { try DocumentValue($0).json() }
        let reader = try Transaction(database: database, readOnly: true, explicit: false)
        guard let stored = try reader.storedDocument(in: collection, idJSON: Array(idJSON.utf8)) else { return nil }
        return try stored.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
    }

    private func inTarget(collection: String?, stored: [(key: String, value: MutableValue)]) -> Bool {
        switch target {
        case .everything: return true
        case .collections: return collection != nil
        case .collection(let name):
            if collection == name { return true }
            if case .string(let to)? = field(stored, "to") { return String(decoding: to, as: UTF8.self) == name }
            return false
        case .keyPrefix(let prefix):
            guard collection == nil, case .binary(let key, _)? = field(stored, "k") else { return false }
            if case .binary(let end, _)? = field(stored, "e") {
                // [key, end) meets [prefix, successor of prefix)?
                let successor = prefix.withUnsafeBytes { KeyRange.prefixSuccessor($0) }
                let startsBefore = successor.isEmpty || key.lexicographicallyPrecedes(successor)
                return startsBefore && prefix.lexicographicallyPrecedes(end)
            }
            return key.starts(with: prefix)
        }
    }
}
