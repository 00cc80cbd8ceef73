/// Set operators: $setUnion $setIntersection $setDifference $setEquals
/// $setIsSubset $anyElementTrue $allElementsTrue. Arrays are read as sets:
/// elements are equal when their order-preserving keys are (so 1 and 1.0
/// are one element); results keep the order in which elements first
/// appear, without repeats.
extension Expression {
    static func sets(_ op: Operator, _ values: [MutableValue?], _ meter: Meter) throws -> MutableValue? {
        switch op {
        case .anyElementTrue, .allElementsTrue:
            guard case .array(let elements)? = values[0] else {
                throw CairnError.invalidArgument("\(op.rawValue) needs an array, not \(values[0]?.typeName ?? "missing")")
            }
            return .bool(op == .anyElementTrue ? elements.contains { isTrue($0) } : elements.allSatisfy { isTrue($0) })
        case .setEquals, .setIsSubset:
            // These refuse null and missing, as MongoDB does.
            let sets = try values.map { value -> [[UInt8]: MutableValue] in
                guard case .array(let elements)? = value else {
                    throw CairnError.invalidArgument("\(op.rawValue) needs arrays, not \(value?.typeName ?? "missing")")
                }
                return try keyed(elements, meter, op)
            }
            if op == .setIsSubset { return .bool(sets[0].keys.allSatisfy { sets[1][$0] != nil }) }
            return .bool(sets.dropFirst().allSatisfy { Set($0.keys) == Set(sets[0].keys) })
        default:
            var arrays: [[MutableValue]] = []
            for value in values {
                guard let elements = try array(value, op) else { return .null }
                arrays.append(elements)
            }
            guard let first = arrays.first else { return .array([]) }
            var seen = Set<[UInt8]>()
            var out: [MutableValue] = []
            switch op {
            case .setUnion:
                for element in arrays.joined() where seen.insert(try PipelineEnvironment.key(of: element)).inserted { out.append(element) }
            case .setIntersection:
                let others = try arrays.dropFirst().map { try keyed($0, meter, op) }
                for element in first {
                    let key = try PipelineEnvironment.key(of: element)
                    if others.allSatisfy({ $0[key] != nil }), seen.insert(key).inserted { out.append(element) }
                }
            default:  // $setDifference: in the first, not in the second
                let excluded = try keyed(arrays[1], meter, op)
                for element in first {
                    let key = try PipelineEnvironment.key(of: element)
                    if excluded[key] == nil, seen.insert(key).inserted { out.append(element) }
                }
            }
            try meter.charge(out.count * elementCost, op.rawValue)
            return .array(out)
        }
    }

    /// The distinct elements of an array by their keys.
    private static func keyed(_ elements: [MutableValue], _ meter: Meter, _ op: Operator) throws -> [[UInt8]: MutableValue] {
        try meter.charge(elements.count * elementCost, op.rawValue)
        var out: [[UInt8]: MutableValue] = [:]
        for element in elements { out[try PipelineEnvironment.key(of: element)] = element }
        return out
    }
}
