/// What a watch could possibly deliver, in the terms of a batch summary
/// (ChangeFeed+Dispatch.swift): its target, and the operation types,
/// collections or key-value-ness its filter pins down with top-level
/// equalities ({"operationType": "insert"}, {"operationType": {"$in":
/// [...]}}, {"ns.coll": "orders"}, {"ns.kv": true}). Conservative: when it
/// says a batch cannot match, no event of the batch would pass the watch's
/// target and filter, so the dispatcher neither wakes the watch nor makes
/// it read the batch. Anything it cannot read from the filter counts as
/// "may match".
struct WatchPrefilter: Hashable {
    /// true: key-value events only; false: document events only.
    var keyValue: Bool?
    var collections: Set<String>?
    var keyPrefix: [UInt8]?
    var operations: Set<String>?

    init(target: WatchTarget, filter: Filter?) {
        switch target {
        case .everything: break
        case .collections: keyValue = false
        case .collection(let name):
            keyValue = false
            collections = [name]
        case .keyPrefix(let prefix):
            keyValue = true
            keyPrefix = prefix
        }
        guard let filter else { return }
        let parts: [Filter]
        switch filter {
        case .all(let list): parts = list
        default: parts = [filter]
        }
        for part in parts {
            guard case .field(let path, let predicate) = part else { continue }
            switch (path, predicate) {
            case (["operationType"], _):
                if let names = WatchPrefilter.strings(predicate) { operations = operations.map { $0.intersection(names) } ?? names }
            case (["ns", "coll"], _):
                if let names = WatchPrefilter.strings(predicate) {
                    // A collection watch's own name must be among them too.
                    collections = collections.map { $0.intersection(names) } ?? names
                    if keyValue == nil { keyValue = false }
                }
            case (["ns", "kv"], .equals(let operand)):
                if let kind = try? operand.withValue({ try $0.kind() }), case .bool(true) = kind, keyValue == nil { keyValue = true }
            default: break
            }
        }
    }

    /// The strings an equality or $in of strings allows; nil for anything else.
    private static func strings(_ predicate: Filter.Predicate) -> Set<String>? {
        func string(_ operand: Filter.Operand) -> String? {
            guard let kind = try? operand.withValue({ try $0.kind() }), case .string(let utf8) = kind else { return nil }
            return String(decoding: utf8, as: UTF8.self)
        }
        switch predicate {
        case .equals(let operand): return string(operand).map { [$0] }
        case .isIn(let operands):
            var names = Set<String>()
            for operand in operands {
                guard let name = string(operand) else { return nil }
                names.insert(name)
            }
            return names
        default: return nil
        }
    }

    /// Whether an event of the batch could pass the watch.
    func mayMatch(_ batch: ChangeFeed.BatchSummary) -> Bool {
        if keyValue == true && !batch.hasKeyValue { return false }
        if keyValue == false && !batch.hasDocuments { return false }
        if let operations, operations.isDisjoint(with: batch.operations) { return false }
        if let collections, keyValue == false, collections.isDisjoint(with: batch.collections) { return false }
        if let keyPrefix {
            guard let keys = batch.keys, !batch.hasRanges else { return true }
            return keys.contains { $0.starts(with: keyPrefix) }
        }
        return true
    }
}

/// The open watches that share one prefilter (most often: every watch of
/// one kind). The dispatcher decides once per batch for the whole group,
/// and the group's waiting watches wait on one condition, so a batch costs
/// the dispatcher one look per distinct prefilter, not one per watch.
final class WatchGroup: @unchecked Sendable {
    let prefilter: WatchPrefilter
    /// Guards the fields below and each member's `closed`; members wait on it.
    /// Lock order 6 (docs/architecture.md, "Locks"): taken by the dispatcher after the
    /// registry lock is released, never together with it.
    let condition = Condition()
    /// Events up to this sequence may concern the group's watches.
    var notified: UInt64 = 0
    var waiters = 0
    /// Events the group's watches deliver none of.
    var skip: (from: ChangePosition, to: ChangePosition)?

    init(prefilter: WatchPrefilter) { self.prefilter = prefilter }

    /// The dispatcher's summary of a batch of new events.
    func offer(_ batch: ChangeFeed.BatchSummary) {
        let concerns = prefilter.mayMatch(batch)
        condition.withLock {
            if concerns {
                notified = max(notified, batch.sequence)
                if waiters > 0 { condition.broadcast() }
            } else if let current = skip, current.to == batch.from {
                skip = (current.from, batch.to)
            } else {
                skip = (batch.from, batch.to)
            }
        }
    }

    /// Wakes every waiting member (the feed stops, a read failed).
    func wakeAll() {
        condition.withLock {
            notified = UInt64.max
            condition.broadcast()
        }
    }
}
