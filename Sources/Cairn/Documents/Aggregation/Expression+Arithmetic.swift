/// Arithmetic: $add $subtract $multiply $divide $mod $abs $floor $ceil
/// $trunc. Integers stay int64 while the result is exact and become a
/// double when it would leave the range (as MongoDB does); date arithmetic
/// that leaves the range of dates is INVALID_ARGUMENT naming the operator.
extension Expression {
    static func arithmetic(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        switch op {
        case .add, .multiply:
            var total: MutableValue = .int(op == .add ? 0 : 1)
            for value in values {
                guard let number = try number(value, op) else { return .null }
                total = try combine(total, number, multiply: op == .multiply)
            }
            return total
        case .subtract:
            guard let a = try number(values[0], op), let b = try number(values[1], op) else { return .null }
            switch (a, b) {
            case (.int(let x), .int(let y)):
                let (result, overflow) = x.subtractingReportingOverflow(y)
                return overflow ? .double(Double(x) - Double(y)) : .int(result)
            case (.date(let x), .date(let y)):
                let (difference, overflow) = x.subtractingReportingOverflow(y)
                guard !overflow else { throw CairnError.invalidArgument("$subtract: the difference of the dates is out of range") }
                return .int(difference)
            case (.date(let x), .int(let y)):
                guard y != .min else { throw CairnError.invalidArgument("$subtract: the date would be out of range") }
                return try shifted(x, by: -y, .subtract)
            case (.date(let x), _): return try shifted(x, by: -double(b), .subtract)
            default: return .double(double(a) - double(b))
            }
        case .divide:
            guard let a = try number(values[0], op), let b = try number(values[1], op) else { return .null }
            guard double(b) != 0 else { throw CairnError.invalidArgument("$divide by zero") }
            return .double(double(a) / double(b))
        case .mod:
            guard let a = try number(values[0], op), let b = try number(values[1], op) else { return .null }
            if case .int(let x) = a, case .int(let y) = b {
                guard y != 0 else { throw CairnError.invalidArgument("$mod by zero") }
                // Int64.min % -1 overflows (and traps) in Swift; its remainder is 0.
                let (result, overflow) = x.remainderReportingOverflow(dividingBy: y)
                return .int(overflow ? 0 : result)
            }
            guard double(b) != 0 else { throw CairnError.invalidArgument("$mod by zero") }
            return .double(double(a).truncatingRemainder(dividingBy: double(b)))
        case .abs:
            guard let a = try number(values[0], op) else { return .null }
            if case .int(let x) = a { return x == .min ? .double(-Double(x)) : .int(Swift.abs(x)) }
            return .double(Swift.abs(double(a)))
        case .floor, .ceil, .trunc:
            guard let a = try number(values[0], op) else { return .null }
            switch a {
            case .int: return a
            case .double(let d):
                let rule: FloatingPointRoundingRule = op == .floor ? .down : op == .ceil ? .up : .towardZero
                return .double(d.rounded(rule))
            default: throw CairnError.invalidArgument("\(op.rawValue) only supports numeric types, not date")
            }
        default:
            throw CairnError(.internal, "\(op.rawValue) is not arithmetic")
        }
    }

    /// The expression forms of $sum $avg $min $max: over the elements of
    /// one array argument, or over the arguments. Non-numbers are ignored
    /// by $sum and $avg, null and missing by $min and $max, as in MongoDB.
    static func summary(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        let kind: Accumulator.Kind = op == .sum ? .sum : op == .avg ? .avg : op == .min ? .min : .max
        let accumulator = Accumulator(kind)
        var state = Accumulator.State()
        var inputs = values
        if values.count == 1, case .array(let elements)? = values[0] { inputs = elements }
        for value in inputs { try accumulator.add(value: value, to: &state) }
        return accumulator.result(state)
    }

    static func number(_ value: MutableValue?, _ op: Operator) throws -> MutableValue? {
        switch value {
        case nil, .null?: return nil
        case .int?, .double?, .date?: return value
        case let other?: throw CairnError.invalidArgument("\(op.rawValue) only supports numeric types, not \(other.typeName)")
        }
    }

    static func double(_ value: MutableValue) -> Double {
        switch value {
        case .int(let n): return Double(n)
        case .double(let d): return d
        case .date(let ms): return Double(ms)
        default: return 0
        }
    }

    /// A date moved by `milliseconds`, or INVALID_ARGUMENT naming `op` when
    /// the result leaves the range of dates (never a wrap to a wrong date,
    /// never a trap on a huge or non-finite double).
    private static func shifted(_ ms: Int64, by milliseconds: Double, _ op: Operator) throws -> MutableValue {
        guard let delta = Int64(exactly: milliseconds.rounded()) else {
            throw CairnError.invalidArgument("\(op.rawValue): the date would be out of range")
        }
        return try shifted(ms, by: delta, op)
    }

    private static func shifted(_ ms: Int64, by delta: Int64, _ op: Operator) throws -> MutableValue {
        let (result, overflow) = ms.addingReportingOverflow(delta)
        guard !overflow else { throw CairnError.invalidArgument("\(op.rawValue): the date would be out of range") }
        return .date(result)
    }

    /// a + b or a * b with int64 arithmetic while exact, else double.
    private static func combine(_ a: MutableValue, _ b: MutableValue, multiply: Bool) throws -> MutableValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (result, overflow) = multiply ? x.multipliedReportingOverflow(by: y) : x.addingReportingOverflow(y)
            return overflow ? .double(multiply ? Double(x) * Double(y) : Double(x) + Double(y)) : .int(result)
        case (.date(let ms), .int(let n)), (.int(let n), .date(let ms)):
            return multiply ? .double(Double(ms) * Double(n)) : try shifted(ms, by: n, .add)
        case (.date(let ms), .double(let d)), (.double(let d), .date(let ms)):
            return multiply ? .double(Double(ms) * d) : try shifted(ms, by: d, .add)
        default:
            return multiply ? .double(double(a) * double(b)) : .double(double(a) + double(b))
        }
    }
}
