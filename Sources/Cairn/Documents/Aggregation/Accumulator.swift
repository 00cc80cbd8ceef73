/// An accumulator of $group, $bucket, $bucketAuto and $setWindowFields, and
/// its running state. $first, $last and $push keep the order of their
/// input.
struct Accumulator {
    enum Kind: String {
        case sum = "$sum", avg = "$avg", min = "$min", max = "$max", count = "$count"
        case first = "$first", last = "$last", push = "$push", addToSet = "$addToSet"
    }

    let kind: Kind
    let argument: Expression

    init(_ spec: MutableValue, at here: String, scope: Expression.Scope = Expression.Scope()) throws {
        guard case .object(let members) = spec, members.count == 1, let kind = Kind(rawValue: members[0].key) else {
            throw CairnError.invalidArgument("\(here) must be one accumulator such as {\"$sum\": \"$qty\"}")
        }
        try self.init(kind, members[0].value, at: "\(here).\(kind.rawValue)", scope: scope)
    }

    /// An accumulator fed with values directly (add(value:to:)), for the
    /// expression forms of $sum $avg $min $max.
    init(_ kind: Kind) {
        self.kind = kind
        argument = .literal(.null)
    }

    init(_ kind: Kind, _ operand: MutableValue, at here: String, scope: Expression.Scope) throws {
        self.kind = kind
        if kind == .count {
            guard case .object(let empty) = operand, empty.isEmpty else { throw CairnError.invalidArgument("\(here) takes {}") }
            argument = .literal(.int(1))
        } else {
            argument = try Expression.parse(operand, at: here, scope: scope)
        }
    }

    /// The running value of one group.
    struct State {
        var total: MutableValue = .int(0)
        var numbers = 0
        var value: MutableValue?
        var seen = false
        var items: [MutableValue] = []
        var itemKeys = Set<[UInt8]>()
    }

    /// Adds one input to a group's state; returns the bytes the state grew
    /// by ($push and $addToSet keep values), for the stage's memory budget.
    @discardableResult
    func add(_ context: Expression.Context, to state: inout State) throws -> Int {
        try add(value: try argument.evaluate(in: context), to: &state)
    }

    @discardableResult
    func add(_ document: PipelineRow, to state: inout State) throws -> Int {
        try add(Expression.Context(root: document, now: currentTimeMillis()), to: &state)
    }

    /// Adds the already evaluated argument of one input.
    @discardableResult
    func add(value: MutableValue?, to state: inout State) throws -> Int {
        var grown = 0
        defer { state.seen = true }
        switch kind {
        case .sum, .avg, .count:
            switch value {
            case .int(let n)?:
                if case .int(let t) = state.total, case (let r, false) = t.addingReportingOverflow(n) { state.total = .int(r) } else {
                    state.total = .double(Accumulator.double(state.total) + Double(n))
                }
                state.numbers += 1
            case .double(let d)?:
                state.total = .double(Accumulator.double(state.total) + d)
                state.numbers += 1
            default:
                break  // non-numbers are ignored, as in MongoDB
            }
        case .min, .max:
            guard let value, !{ if case .null = value { return true } else { return false } }() else { return 0 }
            if let current = state.value {
                let c = try value.compare(current)
                if kind == .min ? c < 0 : c > 0 { state.value = value }
            } else {
                state.value = value
            }
        case .first:
            if !state.seen { state.value = value ?? .null }
        case .last:
            state.value = value ?? .null
        case .push:
            if let value {
                state.items.append(value)
                grown = value.memorySize
            }
        case .addToSet:
            if let value {
                var key: [UInt8] = []
                let encoded = value.encoded()
                try encoded.withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &key) }
                if state.itemKeys.insert(key).inserted {
                    state.items.append(value)
                    grown = value.memorySize + 48 + key.count + 2 * MemoryLayout<[UInt8]>.stride
                }
            }
        }
        return grown
    }

    func result(_ state: State) -> MutableValue {
        switch kind {
        case .sum, .count: return state.total
        case .avg: return state.numbers == 0 ? .null : .double(Accumulator.double(state.total) / Double(state.numbers))
        case .min, .max, .first, .last: return state.value ?? .null
        case .push, .addToSet: return .array(state.items)
        }
    }

    private static func double(_ value: MutableValue) -> Double {
        switch value {
        case .int(let n): return Double(n)
        case .double(let d): return d
        default: return 0
        }
    }
}
