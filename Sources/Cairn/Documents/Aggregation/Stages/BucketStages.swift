/// $bucket (documents grouped into ranges given by sorted boundaries) and
/// $bucketAuto (a given number of buckets of about equal size, by the
/// sorted order of the groupBy values). Both gather under a MemoryBudget.
struct Bucket {
    var groupBy: Expression
    var boundaries: [MutableValue]
    var defaultID: MutableValue?
    var output: [(name: String, accumulator: Accumulator)]

    /// {groupBy, boundaries, default, output}: at least two boundaries, all
    /// of one type (ints and doubles count as one) and strictly ascending.
    init(_ spec: MutableValue, at here: String, scope: Expression.Scope) throws {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        var groupBy: Expression?
        var boundaries: [MutableValue]?
        output = [("count", try Accumulator(.object([("$sum", .int(1))]), at: here))]
        for (key, value) in members {
            switch key {
            case "groupBy": groupBy = try Expression.parse(value, at: "\(here).groupBy", scope: scope)
            case "boundaries":
                guard case .array(let list) = value else { throw CairnError.invalidArgument("\(here).boundaries must be an array") }
                boundaries = list
            case "default": defaultID = value
            case "output":
                guard case .object(let fields) = value, !fields.isEmpty else { throw CairnError.invalidArgument("\(here).output must be a non-empty object") }
                output = try Pipeline.accumulators(fields, at: "\(here).output", scope: scope)
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown field (known: groupBy, boundaries, default, output)")
            }
        }
        guard let groupBy else { throw CairnError.invalidArgument("\(here) needs groupBy") }
        guard let boundaries, boundaries.count >= 2 else { throw CairnError.invalidArgument("\(here).boundaries needs at least two values") }
        func kind(_ value: MutableValue) -> String {
            switch value {
            case .int, .double: return "number"
            default: return value.typeName
            }
        }
        for index in 1..<boundaries.count {
            guard kind(boundaries[index]) == kind(boundaries[0]) else {
                throw CairnError.invalidArgument("\(here).boundaries must all be of the same type")
            }
            guard try boundaries[index - 1].compare(boundaries[index]) < 0 else {
                throw CairnError.invalidArgument("\(here).boundaries must be sorted in ascending order, without repeats")
            }
        }
        self.groupBy = groupBy
        self.boundaries = boundaries
    }
}

struct BucketAuto {
    var groupBy: Expression
    var buckets: Int
    var output: [(name: String, accumulator: Accumulator)]

    init(_ spec: MutableValue, at here: String, scope: Expression.Scope) throws {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        var groupBy: Expression?
        var buckets: Int?
        output = [("count", try Accumulator(.object([("$sum", .int(1))]), at: here))]
        for (key, value) in members {
            switch key {
            case "groupBy": groupBy = try Expression.parse(value, at: "\(here).groupBy", scope: scope)
            case "buckets":
                let n = try Pipeline.nonNegative(value, at: "\(here).buckets")
                guard n >= 1, n <= Int(Int32.max) else { throw CairnError.invalidArgument("\(here).buckets must be a positive 32-bit integer") }
                buckets = n
            case "output":
                guard case .object(let fields) = value, !fields.isEmpty else { throw CairnError.invalidArgument("\(here).output must be a non-empty object") }
                output = try Pipeline.accumulators(fields, at: "\(here).output", scope: scope)
            case "granularity":
                throw CairnError.invalidArgument("\(here).granularity is not supported")
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown field (known: groupBy, buckets, output)")
            }
        }
        guard let groupBy, let buckets else { throw CairnError.invalidArgument("\(here) needs groupBy and buckets") }
        self.groupBy = groupBy
        self.buckets = buckets
    }
}

extension PipelineEnvironment {
    func bucketStage(_ bucket: Bucket, after upstream: @escaping PipelinePull) -> PipelinePull {
        let memoryLimit = self.memoryLimit, bindings = self.bindings
        return PipelineEnvironment.emitting {
            let count = bucket.output.count
            // One slot per range, and the last for the default bucket.
            // Empty (no allocation) until a document falls in the bucket.
            var states: [[Accumulator.State]] = Array(repeating: [], count: bucket.boundaries.count)
            var budget = MemoryBudget(stage: "$bucket", limit: memoryLimit)
            let boundaries = bucket.boundaries
            while let row = try upstream() {
                let context = bindings.context(row)
                let value = try bucket.groupBy.evaluate(in: context) ?? .null
                var slot: Int
                if try value.compare(boundaries[0]) < 0 || value.compare(boundaries[boundaries.count - 1]) >= 0 {
                    guard bucket.defaultID != nil else {
                        throw CairnError.invalidArgument("$bucket: a groupBy value (\(value.typeName)) is outside the boundaries and there is no default")
                    }
                    slot = boundaries.count - 1
                } else {
                    // The last boundary not above the value.
                    var low = 0, high = boundaries.count - 1
                    while high - low > 1 {
                        let middle = (low + high) / 2
                        if try boundaries[middle].compare(value) <= 0 { low = middle } else { high = middle }
                    }
                    slot = low
                }
                if states[slot].isEmpty {
                    states[slot] = Array(repeating: Accumulator.State(), count: count)
                    try budget.charge(PipelineEnvironment.groupBytes(key: boundaries[Swift.min(slot, boundaries.count - 1)], keyBytes: 0, accumulators: count))
                }
                for (index, entry) in bucket.output.enumerated() {
                    try budget.charge(try entry.accumulator.add(context, to: &states[slot][index]))
                }
            }
            var rows: [(id: MutableValue, row: MutableValue)] = []
            for (slot, state) in states.enumerated() where !state.isEmpty {
                let id = slot == boundaries.count - 1 ? (bucket.defaultID ?? .null) : boundaries[slot]
                rows.append((id, .object([("_id", id)] + bucket.output.enumerated().map { ($0.element.name, $0.element.accumulator.result(state[$0.offset])) })))
            }
            // The default bucket takes its place in the order of _id.
            var failure: Error?
            rows.sort { a, b in
                do { return try a.id.compare(b.id) < 0 } catch { failure = error; return false }
            }
            if let failure { throw failure }
            return rows.map(\.row)
        }
    }

    func bucketAutoStage(_ bucket: BucketAuto, after upstream: @escaping PipelinePull) -> PipelinePull {
        let memoryLimit = self.memoryLimit, bindings = self.bindings
        return PipelineEnvironment.emitting {
            var entries: [(key: [UInt8], value: MutableValue, row: MutableValue)] = []
            var budget = MemoryBudget(stage: "$bucketAuto", limit: memoryLimit)
            while let row = try upstream() {
                let tree = try row.tree()
                let value = try bucket.groupBy.evaluate(in: bindings.context(.tree(tree))) ?? .null
                let key = try PipelineEnvironment.key(of: value)
                try budget.charge(PipelineEnvironment.rowBytes(tree) + value.memorySize + 48 + key.count + 32)
                entries.append((key, value, tree))
            }
            entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
            // MongoDB's distribution: about n / buckets documents each, a
            // bucket extended while the next value equals its last (equal
            // values share a bucket), and what is left in the last bucket.
            let size = Swift.max(1, Int((Double(entries.count) / Double(bucket.buckets)).rounded()))
            var ranges: [Range<Int>] = []
            var start = 0
            while start < entries.count {
                var end = ranges.count == bucket.buckets - 1 ? entries.count : Swift.min(entries.count, start + size)
                while end < entries.count, entries[end].key == entries[end - 1].key { end += 1 }
                ranges.append(start..<end)
                start = end
            }
            var rows: [MutableValue] = []
            for (index, range) in ranges.enumerated() {
                var states = Array(repeating: Accumulator.State(), count: bucket.output.count)
                for entry in entries[range] {
                    let context = bindings.context(.tree(entry.row))
                    for (slot, output) in bucket.output.enumerated() { try output.accumulator.add(context, to: &states[slot]) }
                }
                // A bucket's max is the next bucket's min; the last one's
                // is its own largest value.
                let minimum = entries[range.lowerBound].value
                let maximum = index + 1 < ranges.count ? entries[ranges[index + 1].lowerBound].value : entries[range.upperBound - 1].value
                rows.append(.object([("_id", .object([("min", minimum), ("max", maximum)]))]
                    + bucket.output.enumerated().map { ($0.element.name, $0.element.accumulator.result(states[$0.offset])) }))
            }
            return rows
        }
    }
}
