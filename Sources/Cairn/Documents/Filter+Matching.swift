/// Matching a document against a Filter, with MongoDB's semantics:
///
///  - a path reaches into nested objects and through arrays ("items.sku"
///    looks at the sku of every element of items); a numeric component
///    also indexes an array ("tags.0");
///  - a predicate on a path that holds an array matches when the array as a
///    whole matches, or any element does;
///  - comparisons ($gt, ...) only compare values of the same type class
///    (numbers with numbers, strings with strings); there is no coercion,
///    and 1 equals 1.0;
///  - $ne and $nin match documents that lack the field.
extension Filter {
    func matches(_ document: DocumentValue) throws -> Bool {
        switch self {
        case .all(let parts):
            for part in parts where try !part.matches(document) { return false }
            return true
        case .any(let parts):
            for part in parts where try part.matches(document) { return true }
            return false
        case .none(let parts):
            for part in parts where try part.matches(document) { return false }
            return true
        case .field(let path, let predicate):
            let values = try Filter.values(at: path[...], in: document)
            return try predicate.matches(values)
        }
    }

    /// Every value a path reaches, following MongoDB's array traversal.
    /// Arrays met at the end of the path are returned whole (the predicate
    /// looks inside them).
    static func values(at path: ArraySlice<String>, in value: DocumentValue) throws -> [DocumentValue] {
        guard let component = path.first else { return [value] }
        let rest = path.dropFirst()
        switch value.tag {
        case .object:
            guard let child = try value.field(component) else { return [] }
            return try values(at: rest, in: child)
        case .array:
            var found: [DocumentValue] = []
            if let index = Int(component), index >= 0, let element = try value.value(atPath: component) {
                found += try values(at: rest, in: element)  // the element at that index
            }
            // Non-numeric components (and numeric ones, as MongoDB does) also
            // reach into the elements that are objects.
            try value.forEachChild { _, element in
                if element.tag == .object { found += try values(at: path, in: element) }
            }
            return found
        default:
            return []
        }
    }
}

extension Filter.Predicate {
    /// Whether the values a path reached satisfy the predicate.
    func matches(_ values: [DocumentValue]) throws -> Bool {
        switch self {
        case .notEquals(let operand):
            return try !Filter.Predicate.equals(operand).matches(values)
        case .notIn(let operands):
            return try !Filter.Predicate.isIn(operands).matches(values)
        case .exists(let wanted):
            return values.isEmpty != wanted
        case .not(let inner):
            return try !inner.matches(values)
        case .both(let parts):
            for part in parts where try !part.matches(values) { return false }
            return true
        case .equals(let operand):
            // {field: null} also matches documents without the field.
            if values.isEmpty { return operand.withValue { $0.tag == .null } }
            return try values.contains { try matchesOne($0) }
        default:
            return try values.contains { try matchesOne($0) }
        }
    }

    /// Whether one reached value satisfies a positive predicate: the value
    /// itself, or (for arrays) any of its elements.
    private func matchesOne(_ value: DocumentValue) throws -> Bool {
        if try matchesExactly(value) { return true }
        guard value.tag == .array else { return false }
        switch self {
        case .size, .containsAll, .elementMatches:
            return false  // these are about the array itself
        case .type(let sets) where sets.contains(where: \.matchesArray):
            return false
        default:
            var any = false
            _ = try value.forEachChildUntil { _, element in
                any = try matchesExactly(element)
                return !any
            }
            return any
        }
    }

    private func matchesExactly(_ value: DocumentValue) throws -> Bool {
        switch self {
        case .equals(let operand):
            return try operand.withValue { try ValueOrder.compare(value, $0) == 0 }
        case .compare(let comparison, let operand):
            return try operand.withValue { other in
                guard let a = value.tag, let b = other.tag, ValueOrder.typeRank(a) == ValueOrder.typeRank(b) else { return false }
                let c = try ValueOrder.compare(value, other)
                switch comparison {
                case .greater: return c > 0
                case .greaterOrEqual: return c >= 0
                case .less: return c < 0
                case .lessOrEqual: return c <= 0
                }
            }
        case .isIn(let operands):
            for operand in operands where try operand.withValue({ try ValueOrder.compare(value, $0) == 0 }) { return true }
            return false
        case .type(let sets):
            guard let tag = value.tag else { return false }
            return sets.contains { $0.tags.contains(tag.rawValue) || ($0.matchesArray && tag == .array) }
        case .size(let wanted):
            guard case .array(let count) = try value.kind() else { return false }
            return count == wanted
        case .containsAll(let operands):
            guard value.tag == .array, !operands.isEmpty else { return false }
            for operand in operands where try !Filter.Predicate.equals(operand).matches([value]) { return false }
            return true
        case .elementMatches(let match):
            guard value.tag == .array else { return false }
            var any = false
            _ = try value.forEachChildUntil { _, element in
                switch match {
                case .document(let filter): any = element.tag == .object ? try filter.matches(element) : false
                case .value(let predicate): any = try predicate.matches([element])
                }
                return !any
            }
            return any
        case .regex(let pattern):
            guard case .string(let text) = try value.kind() else { return false }
            return try pattern.matches(text)
        case .mod(let divisor, let remainder):
            let number: Int64
            switch try value.kind() {
            case .int(let n): number = n
            case .double(let d) where d.isFinite && abs(d) < 9.2e18: number = Int64(d.rounded(.towardZero))
            default: return false
            }
            // Int64.min % -1 overflows (and traps) in Swift; its remainder is 0.
            let (result, overflow) = number.remainderReportingOverflow(dividingBy: divisor)
            return (overflow ? 0 : result) == remainder
        case .notEquals, .notIn, .exists, .not, .both:
            return try matches([value])
        }
    }
}
