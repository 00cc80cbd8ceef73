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
    /// `$expr`: an aggregation expression, true for the documents it keeps.
    case expression(Expression)
    /// `$jsonSchema`: the documents a collection schema would accept.
    case schema(Schema)
    /// `$text`: a search of the collection's text index. A find runs it
    /// as its source of candidates (FindExecution); it cannot be checked
    /// against one document alone.
    case text(TextFilter)

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
        /// `$all` of `$elemMatch` items: each matches some element.
        case matchesEach([ElementMatch])
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
    /// JSON has one kind of integer; Cairn stores every integer as int64
    /// and calls those that fit in 32 bits "int" (BSON type 16) and the
    /// others "long" (18), as a driver encoding the same JSON would (the
    /// aggregation $type answers the same way). Types JSON cannot hold
    /// (objectId, decimal, timestamp, ...) are accepted and match nothing.
    struct TypeSet {
        enum Integers { case any, int32, beyondInt32 }
        let tags: Set<UInt8>
        let matchesArray: Bool
        var integers = Integers.any

        func contains(_ value: DocumentValue) throws -> Bool {
            guard let tag = value.tag else { return false }
            if tag == .array && matchesArray { return true }
            guard tags.contains(tag.rawValue) else { return false }
            guard tag == .int, integers != .any, case .int(let n) = try value.kind() else { return true }
            return (Int32(exactly: n) != nil) == (integers == .int32)
        }
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
            case "$expr":
                parts.append(.expression(try Expression.parse(try MutableValue(value), at: here)))
            case "$jsonSchema":
                guard value.tag == .object else { throw CairnError.invalidArgument("\(here) must be a schema object") }
                parts.append(.schema(try Schema(try MutableValue(value), at: here)))
            case "$comment":
                continue
            case "$text":
                parts.append(.text(try TextFilter.parse(value, at: here)))
            case _ where key.hasPrefix("$"):
                throw CairnError.invalidArgument("\(here): unknown top-level operator")
            default:
                try validateFieldPath(key, at: here)
                // Most filter fields are not dotted: no split for them.
                let components = key.utf8.contains(UInt8(ascii: ".")) ? key.split(separator: ".", omittingEmptySubsequences: false).map(String.init) : [key]
                parts.append(.field(path: components, predicate: try parsePredicate(value, path: here)))
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    /// `here` names the field in messages; built only for one.
    static func validateFieldPath(_ path: String, at here: @autoclosure () -> String) throws {
        guard !path.isEmpty, !path.utf8.contains(0) else { throw CairnError.invalidArgument("\(here()): invalid field name") }
        // An empty component: a '.' first, last or next to another. A byte
        // scan, where splitting the path built an array per filter field.
        var previous = UInt8(ascii: ".")
        for byte in path.utf8 {
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { throw CairnError.invalidArgument("\(here()): empty path component") }
            previous = byte
        }
        guard previous != UInt8(ascii: ".") else { throw CairnError.invalidArgument("\(here()): empty path component") }
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
                let elements = try operand.elements()
                if op == "$all", let matches = try elementMatches(elements, path: here) {
                    predicates.append(.matchesEach(matches))
                    continue
                }
                for (position, element) in elements.enumerated() where try isOperatorObject(element) {
                    throw CairnError.invalidArgument("\(here).\(position): operators are not allowed in \(op) (except $elemMatch in $all)")
                }
                let list = elements.map { Operand(bytes: Array($0.bytes)) }
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
                predicates.append(.elementMatches(try elementMatch(operand, path: here)))
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

    /// The query of an `$elemMatch`: operators on the elements themselves
    /// (`{"$gte": 80, "$lt": 85}`), or a filter over element documents
    /// (`{"product": "xyz", "$or": [...]}`), which is what any field name or
    /// logical operator ($and, $or, $nor, $expr) makes it.
    static func elementMatch(_ operand: DocumentValue, path: String) throws -> ElementMatch {
        guard operand.tag == .object else { throw CairnError.invalidArgument("\(path) needs an object") }
        let logical: Set<String> = ["$and", "$or", "$nor", "$expr", "$jsonSchema", "$comment"]
        let keys = try operand.members().map(\.0)
        if try isOperatorObject(operand), !keys.contains(where: logical.contains) {
            return .value(try parsePredicate(operand, path: path))
        }
        return .document(try parse(document: operand, path: path))
    }

    /// `$all` items that are all `{"$elemMatch": ...}`, parsed; nil when
    /// none is (a plain `$all`). Mixing the two forms is refused, as
    /// MongoDB refuses it.
    private static func elementMatches(_ items: [DocumentValue], path: String) throws -> [ElementMatch]? {
        var matches: [ElementMatch] = []
        for (position, item) in items.enumerated() {
            guard item.tag == .object, let members = try? item.members(), members.count == 1, members[0].0 == "$elemMatch" else { continue }
            matches.append(try elementMatch(members[0].1, path: "\(path).\(position).$elemMatch"))
        }
        guard !matches.isEmpty else { return nil }
        guard matches.count == items.count else {
            throw CairnError.invalidArgument("\(path): $all cannot mix $elemMatch items with values")
        }
        return matches
    }

    private static func integer(_ value: DocumentValue) throws -> Int64? {
        switch try value.kind() {
        case .int(let n): return n
        case .double(let d) where d.isFinite && d.rounded(.towardZero) == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    /// The BSON type names and numbers MongoDB's $type accepts, with the
    /// stored tags each stands for (none for the types JSON cannot hold).
    private static let typeNames: [(name: String, code: Int64, set: TypeSet)] = {
        func tags(_ list: [DocumentTag], array: Bool = false, integers: TypeSet.Integers = .any) -> TypeSet {
            TypeSet(tags: Set(list.map(\.rawValue)), matchesArray: array, integers: integers)
        }
        let nothing = tags([])
        return [
            ("double", 1, tags([.double])), ("string", 2, tags([.string])), ("object", 3, tags([.object])),
            ("array", 4, tags([], array: true)), ("binData", 5, tags([.binary])), ("undefined", 6, nothing),
            ("objectId", 7, nothing), ("bool", 8, tags([.false, .true])), ("date", 9, tags([.date])),
            ("null", 10, tags([.null])), ("regex", 11, nothing), ("dbPointer", 12, nothing), ("javascript", 13, nothing),
            ("symbol", 14, nothing), ("javascriptWithScope", 15, nothing), ("int", 16, tags([.int], integers: .int32)),
            ("timestamp", 17, nothing), ("long", 18, tags([.int], integers: .beyondInt32)), ("decimal", 19, nothing),
            ("minKey", -1, nothing), ("maxKey", 127, nothing),
        ]
    }()

    private static func typeSet(_ value: DocumentValue, path: String) throws -> TypeSet {
        switch try value.kind() {
        case .string(let utf8):
            let name = String(decoding: utf8, as: UTF8.self)
            if name == "number" { return TypeSet(tags: [DocumentTag.int.rawValue, DocumentTag.double.rawValue], matchesArray: false) }
            guard let entry = typeNames.first(where: { $0.name == name }) else {
                throw CairnError.invalidArgument("\(path): unknown type name '\(name)'")
            }
            return entry.set
        case .int, .double:
            guard let code = try integer(value), let entry = typeNames.first(where: { $0.code == code }) else {
                throw CairnError.invalidArgument("\(path): unknown type number \(try value.json())")
            }
            return entry.set
        default:
            throw CairnError.invalidArgument("\(path) needs a type name or number")
        }
    }
}
