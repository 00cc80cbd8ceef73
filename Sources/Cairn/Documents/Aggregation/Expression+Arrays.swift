/// Arrays: $size $arrayElemAt $in $isArray $reverseArray $concatArrays
/// $slice $indexOfArray $range. Indexes from the user are int64; each is
/// clamped to the array before it becomes an Int, and a negation checks
/// for Int64.min, so no input can trap.
extension Expression {
    /// The most elements $range makes: about 60 MB as a tree. MongoDB
    /// stops $range at 64 MB too; beyond it, INVALID_ARGUMENT instead of an
    /// allocation without limit.
    static let maxRangeElements = 1_000_000

    static func arrays(_ op: Operator, _ values: [MutableValue?], _ meter: Meter) throws -> MutableValue? {
        switch op {
        case .size:
            guard case .array(let elements)? = values[0] else {
                throw CairnError.invalidArgument("$size needs an array, not \(values[0]?.typeName ?? "missing")")
            }
            return .int(Int64(elements.count))
        case .isArray:
            if case .array? = values[0] { return .bool(true) }
            return .bool(false)
        case .reverseArray:
            guard let elements = try array(values[0], op) else { return .null }
            try meter.charge(elements.count * 16, op.rawValue)
            return .array(elements.reversed())
        case .first, .last:
            // The array forms of $first and $last (not the accumulators).
            // Null or missing gives null; an empty array gives missing.
            guard let elements = try array(values[0], op) else { return .null }
            return op == .first ? elements.first : elements.last
        case .arrayElemAt:
            guard let elements = try array(values[0], op) else { return values[0] == nil ? nil : .null }
            guard let index = try integer(values[1], op, "the index") else { return .null }
            // Safe: elements.count is far below Int64.max, so count + index
            // (index negative) cannot overflow.
            let position = index < 0 ? Int64(elements.count) + index : index
            guard position >= 0, position < Int64(elements.count) else { return nil }
            return elements[Int(position)]
        case .isIn:
            guard case .array(let elements)? = values[1] else { throw CairnError.invalidArgument("$in needs an array as its second argument") }
            let needle = values[0] ?? .null
            return .bool(try elements.contains { try $0.compare(needle) == 0 })
        case .concatArrays:
            var out: [MutableValue] = []
            for value in values {
                guard let elements = try array(value, op) else { return .null }
                try meter.charge(elements.count * 16, op.rawValue)
                out.append(contentsOf: elements)
            }
            return .array(out)
        case .slice:
            guard let elements = try array(values[0], op) else { return .null }
            let count = Int64(elements.count)
            if values.count == 2 {
                guard let n = try integer(values[1], op, "the count") else { return .null }
                if n >= 0 { return .array(Array(elements.prefix(Int(min(n, count))))) }
                // -n overflows for Int64.min; any n below -count takes it all.
                let take = n < -count ? count : -n
                return .array(Array(elements.suffix(Int(take))))
            }
            guard let position = try integer(values[1], op, "the position"), let n = try integer(values[2], op, "the count") else { return .null }
            guard n > 0 else { throw CairnError.invalidArgument("$slice: the count must be positive when a position is given") }
            let start = position < 0 ? Swift.max(0, count + position) : Swift.min(position, count)
            let end = start + Swift.min(n, count - start)  // Safe: both terms are within 0...count
            return .array(Array(elements[Int(start)..<Int(end)]))
        case .indexOfArray:
            guard let elements = try array(values[0], op) else { return .null }
            let needle = values[1] ?? .null
            let (from, to) = try bounds(values, count: elements.count, op)
            guard from < to else { return .int(-1) }
            for index in from..<to where try elements[index].compare(needle) == 0 { return .int(Int64(index)) }
            return .int(-1)
        case .range:
            guard let start = try integer(values[0], op, "the start"), let end = try integer(values[1], op, "the end") else {
                throw CairnError.invalidArgument("$range needs integer start and end")
            }
            var step: Int64 = 1
            if values.count == 3 {
                guard let given = try integer(values[2], op, "the step") else { throw CairnError.invalidArgument("$range needs an integer step") }
                step = given
            }
            guard step != 0 else { throw CairnError.invalidArgument("$range: the step must not be zero") }
            // The count, estimated in doubles (no overflow possible), is
            // checked before anything is allocated.
            let estimate = (Double(end) - Double(start)) / Double(step)
            guard estimate <= Double(maxRangeElements) else {
                throw CairnError.invalidArgument("$range would make more than \(maxRangeElements) elements")
            }
            // Safe: the estimate is at most maxRangeElements here; a negative
            // one (an empty range, possibly far below Int.min) charges nothing.
            try meter.charge(estimate > 0 ? Int(estimate.rounded(.up)) * elementCost : 0, op.rawValue)
            var out: [MutableValue] = []
            var current = start
            while step > 0 ? current < end : current > end {
                out.append(.int(current))
                guard out.count <= maxRangeElements else {
                    throw CairnError.invalidArgument("$range would make more than \(maxRangeElements) elements")
                }
                let (next, overflow) = current.addingReportingOverflow(step)
                if overflow { break }  // the next value would be past the end anyway
                current = next
            }
            return .array(out)
        default:
            throw CairnError(.internal, "\(op.rawValue) is not an array operator")
        }
    }

    /// A value that must be an array; nil for null or missing.
    static func array(_ value: MutableValue?, _ op: Operator) throws -> [MutableValue]? {
        switch value {
        case nil, .null?: return nil
        case .array(let elements)?: return elements
        case let other?: throw CairnError.invalidArgument("\(op.rawValue) needs an array, not \(other.typeName)")
        }
    }
}
