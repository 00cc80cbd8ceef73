/// Objects: $mergeObjects $objectToArray $arrayToObject. A key given twice
/// keeps the place where it first appeared and takes the last value, as
/// MongoDB's documents do.
extension Expression {
    static func objects(_ op: Operator, _ values: [MutableValue?], _ meter: Meter) throws -> MutableValue? {
        switch op {
        case .mergeObjects:
            var out: [(key: String, value: MutableValue)] = []
            for value in values {
                switch value {
                case nil, .null?: continue
                case .object(let members)?:
                    try meter.charge(members.count * elementCost, op.rawValue)
                    for member in members { set(member.key, member.value, in: &out) }
                case let other?:
                    throw CairnError.invalidArgument("$mergeObjects needs objects, not \(other.typeName)")
                }
            }
            return .object(out)
        case .objectToArray:
            switch values[0] {
            case nil, .null?: return .null
            case .object(let members)?:
                try meter.charge(members.count * 4 * elementCost, op.rawValue)
                return .array(members.map { .object([("k", string($0.key)), ("v", $0.value)]) })
            case let other?:
                throw CairnError.invalidArgument("$objectToArray needs an object, not \(other.typeName)")
            }
        case .arrayToObject:
            guard let elements = try array(values[0], op) else { return .null }
            try meter.charge(elements.count * elementCost, op.rawValue)
            var out: [(key: String, value: MutableValue)] = []
            for (index, element) in elements.enumerated() {
                let key: MutableValue, value: MutableValue
                switch element {
                case .array(let pair) where pair.count == 2:
                    key = pair[0]
                    value = pair[1]
                case .object(let members) where members.count == 2:
                    guard let k = members.first(where: { $0.key == "k" })?.value, let v = members.first(where: { $0.key == "v" })?.value else {
                        throw CairnError.invalidArgument("$arrayToObject: element \(index) must be {k, v}")
                    }
                    key = k
                    value = v
                default:
                    throw CairnError.invalidArgument("$arrayToObject: element \(index) must be a [key, value] pair or {k, v}")
                }
                guard case .string(let utf8) = key, !utf8.contains(0) else {
                    throw CairnError.invalidArgument("$arrayToObject: the key of element \(index) must be a string without NUL")
                }
                set(text(utf8), value, in: &out)
            }
            return .object(out)
        default:
            throw CairnError(.internal, "\(op.rawValue) is not an object operator")
        }
    }

    private static func set(_ key: String, _ value: MutableValue, in members: inout [(key: String, value: MutableValue)]) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key, value))
        }
    }
}
