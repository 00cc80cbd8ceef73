/// What a watch could possibly deliver, in the terms of a batch summary
/// (ChangeFeed+Dispatch.swift): its target, and the operation types,
/// collections or key-value-ness its filter pins down with top-level
/// equalities ({"operationType": "insert"}, {"operationType": {"$in":
/// [...]}}, {"ns.coll": "orders"}, {"ns.kv": true}). Conservative: when it
/// says a batch cannot match, no event of the batch would pass the watch's
/// target and filter, so the dispatcher neither wakes the watch nor makes
/// it read the batch. Anything it cannot read from the filter counts as
/// "may match".
struct WatchPrefilter {
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
