/// A parsed MongoDB query filter: `{"age": {"$gte": 18}, "tags": "red",
/// "$or": [...]}`. Parsing validates the whole filter up front, so an
/// unknown operator or a malformed operand is INVALID_ARGUMENT naming its
/// path (`filter.age.$gtx`) before any document is looked at.
///
/// Operands are kept as binary values (DocumentValue bytes), so matching
/// compares binary against binary with ValueOrder.
indirect enum Filter {
    case all([Filter])
    case any([Filter])
    case none([Filter])
    case field(path: [String], predicate: Predicate)

    /// What a field's values must satisfy.
    indirect enum Predicate {
        case equals(Operand)
        case notEquals(Operand)
        case compare(Comparison, Operand)
        case isIn([Operand])
        case notIn([Operand])
        case exists(Bool)
        case type([TypeSet])
        case size(Int)
        case containsAll([Operand])
        /// Some array element matches: a filter over element objects, or
        /// operator predicates over the elements themselves.
        case elementMatches(ElementMatch)
        case mod(divisor: Int64, remainder: Int64)
        case regex(RegexPattern)
        case not(Predicate)
        case both([Predicate])
    }

    enum ElementMatch {
        case document(Filter)
        case value(Predicate)
    }

    enum Comparison { case greater, greaterOrEqual, less, lessOrEqual }

    /// A MongoDB $type alias or number, as the set of tags it stands for.
    struct TypeSet {
        let tags: Set<UInt8>
        let matchesArray: Bool
    }

    /// A binary value owned by the filter.
    struct Operand {
        let bytes: [UInt8]
        func withValue<T>(_ body: (DocumentValue) throws -> T) rethrows -> T {
            try bytes.withUnsafeBytes { try body(DocumentValue($0)) }
        }
    }
}

// MARK: - Parsing

extension Filter {
    /// Parses filter JSON (an object). Empty input or `{}` matches everything.
    static func parse(json: UnsafeRawBufferPointer) throws -> Filter {
        guard json.count > 0 else { return .all([]) }
        let document = try DocumentBuilder.document(fromJSON: json, what: "filter")
        return try document.withUnsafeBytes { try parse(document: DocumentValue($0), path: "filter") }
    }

    static func parse(document: DocumentValue, path: String) throws -> Filter {
        guard document.tag == .object else { throw CairnError.invalidArgument("\(path) must be an object") }
        var parts: [Filter] = []
        for (key, value) in try document.members() {
            let here = path + "." + key
            switch key {
            case "$and", "$or", "$nor":
                guard value.tag == .array else { throw CairnError.invalidArgument("\(here) must be an array of filters") }
                let clauses = try value.elements().enumerated().map { try parse(document: $0.element, path: "\(here).\($0.offset)") }
                guard !clauses.isEmpty else { throw CairnError.invalidArgument("\(here) must not be empty") }
                parts.append(key == "$and" ? .all(clauses) : key == "$or" ? .any(clauses) : .none(clauses))
            case _ where key.hasPrefix("$"):
                throw CairnError.invalidArgument("\(here): unknown top-level operator")
            default:
                try validateFieldPath(key, at: here)
                let components = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                parts.append(.field(path: components, predicate: try parsePredicate(value, path: here)))
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    static func validateFieldPath(_ path: String, at here: String) throws {
        guard !path.isEmpty, !path.utf8.contains(0) else { throw CairnError.invalidArgument("\(here): invalid field name") }
        guard !path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw CairnError.invalidArgument("\(here): empty path component")
        }
    }

    /// True when `value` is an object whose keys all start with '$'
    /// (an operator expression) and it has at least one.
    private static func isOperatorObject(_ value: DocumentValue) throws -> Bool {
        guard value.tag == .object else { return false }
        let keys = try value.members().map(\.0)
        return !keys.isEmpty && keys.allSatisfy { $0.hasPrefix("$") }
    }

    static func parsePredicate(_ value: DocumentValue, path: String) throws -> Predicate {
        guard try isOperatorObject(value) else { return .equals(Operand(bytes: Array(value.bytes))) }
        var predicates: [Predicate] = []
        let members = try value.members()
        // $options belongs to $regex, wherever it stands among the operators.
        var regexOptions = ""
        if let options = members.first(where: { $0.0 == "$options" }) {
            guard case .string(let text) = try options.1.kind() else {
                throw CairnError.invalidArgument("\(path).$options needs a string such as \"im\"")
            }
            guard members.contains(where: { $0.0 == "$regex" }) else {
                throw CairnError.invalidArgument("\(path).$options needs a $regex beside it")
            }
            regexOptions = String(decoding: text, as: UTF8.self)
        }
        for (op, operand) in members {
            let here = path + "." + op
            let own = Operand(bytes: Array(operand.bytes))
            switch op {
            case "$eq": predicates.append(.equals(own))
            case "$ne": predicates.append(.notEquals(own))
            case "$gt": predicates.append(.compare(.greater, own))
            case "$gte": predicates.append(.compare(.greaterOrEqual, own))
            case "$lt": predicates.append(.compare(.less, own))
            case "$lte": predicates.append(.compare(.lessOrEqual, own))
            case "$in", "$nin", "$all":
                guard operand.tag == .array else { throw CairnError.invalidArgument("\(here) needs an array") }
                let list = try operand.elements().map { Operand(bytes: Array($0.bytes)) }
                predicates.append(op == "$in" ? .isIn(list) : op == "$nin" ? .notIn(list) : .containsAll(list))
            case "$exists":
                switch try operand.kind() {
                case .bool(let flag): predicates.append(.exists(flag))
                case .int(let n): predicates.append(.exists(n != 0))
                default: throw CairnError.invalidArgument("\(here) needs true or false")
                }
            case "$type":
                let names = operand.tag == .array ? try operand.elements() : [operand]
                predicates.append(.type(try names.map { try typeSet($0, path: here) }))
            case "$size":
                guard case .int(let n) = try operand.kind(), n >= 0 else {
                    throw CairnError.invalidArgument("\(here) needs a non-negative integer")
                }
                predicates.append(.size(Int(n)))
            case "$mod":
                let parts = try operand.elements()
                guard operand.tag == .array, parts.count == 2,
                      let divisor = try integer(parts[0]), let remainder = try integer(parts[1]), divisor != 0 else {
                    throw CairnError.invalidArgument("\(here) needs [divisor, remainder] with a non-zero divisor")
                }
                predicates.append(.mod(divisor: divisor, remainder: remainder))
            case "$elemMatch":
                guard operand.tag == .object else { throw CairnError.invalidArgument("\(here) needs an object") }
                if try isOperatorObject(operand) {
                    predicates.append(.elementMatches(.value(try parsePredicate(operand, path: here))))
                } else {
                    predicates.append(.elementMatches(.document(try parse(document: operand, path: here))))
                }
            case "$regex":
                guard case .string(let text) = try operand.kind() else {
                    throw CairnError.invalidArgument("\(here) needs a pattern string")
                }
                predicates.append(.regex(try RegexPattern(pattern: String(decoding: text, as: UTF8.self), options: regexOptions, path: here)))
            case "$options":
                continue
            case "$not":
                guard try isOperatorObject(operand) else {
                    throw CairnError.invalidArgument("\(here) needs an operator expression such as {\"$gt\": 5}")
                }
                predicates.append(.not(try parsePredicate(operand, path: here)))
            default:
                throw CairnError.invalidArgument("\(here): unknown operator")
            }
        }
        return predicates.count == 1 ? predicates[0] : .both(predicates)
    }

    private static func integer(_ value: DocumentValue) throws -> Int64? {
        switch try value.kind() {
        case .int(let n): return n
        case .double(let d) where d.isFinite && d.rounded(.towardZero) == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    private static func typeSet(_ value: DocumentValue, path: String) throws -> TypeSet {
        func tags(_ list: [DocumentTag], array: Bool = false) -> TypeSet { TypeSet(tags: Set(list.map(\.rawValue)), matchesArray: array) }
        switch try value.kind() {
        case .string(let utf8):
            switch String(decoding: utf8, as: UTF8.self) {
            case "double": return tags([.double])
            case "string": return tags([.string])
            case "object": return tags([.object])
            case "array": return tags([], array: true)
            case "binData": return tags([.binary])
            case "bool": return tags([.false, .true])
            case "date": return tags([.date])
            case "null": return tags([.null])
            case "int", "long": return tags([.int])
            case "number": return tags([.int, .double])
            case let other: throw CairnError.invalidArgument("\(path): unknown type name '\(other)'")
            }
        case .int(let code):
            switch code {
            case 1: return tags([.double])
            case 2: return tags([.string])
            case 3: return tags([.object])
            case 4: return tags([], array: true)
            case 5: return tags([.binary])
            case 8: return tags([.false, .true])
            case 9: return tags([.date])
            case 10: return tags([.null])
            case 16, 18: return tags([.int])
            default: throw CairnError.invalidArgument("\(path): unknown type number \(code)")
            }
        default:
            throw CairnError.invalidArgument("\(path) needs a type name or number")
        }
    }
}
