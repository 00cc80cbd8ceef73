/// Matching a document against a Filter, with MongoDB's semantics:
///
///  - a path reaches into nested objects and through arrays ("items.sku"
///    looks at the sku of every element of items that is a document); a
///    numeric component also indexes an array ("tags.0");
///  - a predicate on a path that holds an array matches when the array as a
///    whole matches, or any element does, except for a value reached by
///    an array index ("a.0"), which is compared as it is;
///  - a path is *missing* when an object on the way lacks the field, or a
///    scalar stands where an object should. `{path: null}` (and `$in` with
///    null) matches a missing path, including one missing in some
///    document element of an array ("a.b" on `[{"c": 1}]`); scalar
///    elements and an index past the end of an array are not "missing";
///  - comparisons ($gt, ...) only compare values of the same type class
///    (numbers with numbers, strings with strings); there is no coercion,
///    and 1 equals 1.0;
///  - $ne and $nin are the negations of $eq and $in, so they match
///    documents that lack the field; $exists only asks whether some value
///    is there.
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
            return try predicate.matches(try Filter.reach(path[...], in: document))
        case .expression(let expression):
            return Expression.isTrue(try expression.evaluate(try MutableValue(document)))
        case .text:
            throw CairnError.invalidArgument("$text needs a text index: it may stand only at the top level of a find, count, update or delete filter, or of a first $match stage")
        case .schema(let schema):
            return try schema.accepts(document)
        }
    }

    /// What a path reaches in a document (see the rules above).
    struct Reached {
        /// The values found; `byIndex` marks one reached by an array index
        /// as the last step, which predicates do not look inside.
        var values: [(value: DocumentValue, byIndex: Bool)] = []
        /// Whether some branch of the path found nothing.
        var missing = false

        init(values: [(value: DocumentValue, byIndex: Bool)] = [], missing: Bool = false) {
            self.values = values
            self.missing = missing
        }

        /// A value on its own (an $elemMatch element, an update's $pull).
        init(_ value: DocumentValue) { values = [(value, false)] }
    }

    static func reach(_ path: ArraySlice<String>, in value: DocumentValue) throws -> Reached {
        var reached = Reached()
        try reach(path, in: value, byIndex: false, into: &reached)
        return reached
    }

    private static func reach(_ path: ArraySlice<String>, in value: DocumentValue, byIndex: Bool, into reached: inout Reached) throws {
        guard let component = path.first else {
            reached.values.append((value, byIndex))
            return
        }
        let rest = path.dropFirst()
        switch value.tag {
        case .object:
            guard let child = try value.field(component) else {
                reached.missing = true
                return
            }
            try reach(rest, in: child, byIndex: false, into: &reached)
        case .array:
            let index = arrayIndex(component)
            if let index {
                var position = 0
                _ = try value.forEachChildUntil { _, element in
                    if position == index {
                        try reach(rest, in: element, byIndex: true, into: &reached)
                        return false
                    }
                    position += 1
                    return true
                }
            }
            // Elements that are documents are looked into with the same
            // component (a numeric one names a field there too, but a
            // document without it does not make the path missing).
            // Scalars and nested arrays are passed over.
            try value.forEachChild { _, element in
                guard element.tag == .object else { return }
                if index != nil, try element.field(component) == nil { return }
                try reach(path, in: element, byIndex: false, into: &reached)
            }
        default:
            reached.missing = true
        }
    }

    /// A path component as an array index: decimal digits only, as MongoDB
    /// reads them ("01" and "-1" are field names).
    static func arrayIndex(_ component: String) -> Int? {
        guard let first = component.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"),
              component.utf8.count == 1 || first != UInt8(ascii: "0") else { return nil }
        return Int(component)
    }
}

extension Filter.Predicate {
    /// Whether what a path reached satisfies the predicate.
    func matches(_ reached: Filter.Reached) throws -> Bool {
        switch self {
        case .notEquals(let operand):
            return try !Filter.Predicate.equals(operand).matches(reached)
        case .notIn(let operands):
            return try !Filter.Predicate.isIn(operands).matches(reached)
        case .exists(let wanted):
            return reached.values.isEmpty != wanted
        case .not(let inner):
            return try !inner.matches(reached)
        case .both(let parts):
            for part in parts where try !part.matches(reached) { return false }
            return true
        case .containsAll(let operands):
            // $all is the $and of one equality per item; an empty list
            // matches nothing.
            guard !operands.isEmpty else { return false }
            for operand in operands where try !Filter.Predicate.equals(operand).matches(reached) { return false }
            return true
        case .matchesEach(let matches):
            for match in matches where try !Filter.Predicate.elementMatches(match).matches(reached) { return false }
            return true
        case .equals(let operand) where operand.withValue({ $0.tag == .null }):
            if reached.missing { return true }
        case .isIn(let operands) where operands.contains(where: { $0.withValue { $0.tag == .null } }):
            if reached.missing { return true }
        case .compare(let comparison, let operand) where comparison == .greaterOrEqual || comparison == .lessOrEqual:
            // null <= null: a missing path compares as null.
            if reached.missing, operand.withValue({ $0.tag == .null }) { return true }
        default:
            break
        }
        return try reached.values.contains { try matchesOne($0.value, expand: !$0.byIndex) }
    }

    /// Whether one reached value satisfies a positive predicate: the value
    /// itself, or (for an array, unless reached by index) any element.
    private func matchesOne(_ value: DocumentValue, expand: Bool) throws -> Bool {
        if try matchesExactly(value) { return true }
        guard expand, value.tag == .array else { return false }
        switch self {
        case .size, .elementMatches:
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
            for set in sets where try set.contains(value) { return true }
            return false
        case .size(let wanted):
            guard case .array(let count) = try value.kind() else { return false }
            return count == wanted
        case .elementMatches(let match):
            guard value.tag == .array else { return false }
            var any = false
            _ = try value.forEachChildUntil { _, element in
                switch match {
                case .document(let filter): any = element.tag == .object ? try filter.matches(element) : false
                case .value(let predicate): any = try predicate.matches(Filter.Reached(element))
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
        case .notEquals, .notIn, .exists, .not, .both, .containsAll, .matchesEach:
            return try matches(Filter.Reached(value))
        }
    }
}
