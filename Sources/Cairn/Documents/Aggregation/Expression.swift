/// An aggregation expression: a field path ("$address.city"), a literal,
/// an object or array of expressions, or an operator ({"$add": [...]}).
/// Parsed once per pipeline; evaluated per document. A result of nil means
/// "missing" (MongoDB tells missing from null: $project leaves a missing
/// field out).
indirect enum Expression {
    case field([String])
    case root
    case literal(MutableValue)
    case object([(key: String, value: Expression)])
    case array([Expression])
    case call(Operator, [Expression])

    enum Operator: String, CaseIterable {
        case add = "$add", subtract = "$subtract", multiply = "$multiply", divide = "$divide", mod = "$mod", abs = "$abs"
        case eq = "$eq", ne = "$ne", gt = "$gt", gte = "$gte", lt = "$lt", lte = "$lte", cmp = "$cmp"
        case and = "$and", or = "$or", not = "$not", cond = "$cond", ifNull = "$ifNull"
        case concat = "$concat", toLower = "$toLower", toUpper = "$toUpper", strLenCP = "$strLenCP", substrCP = "$substrCP"
        case size = "$size", arrayElemAt = "$arrayElemAt", isIn = "$in", type = "$type"

        /// Fixed argument counts; nil for variadic.
        var arity: ClosedRange<Int>? {
            switch self {
            case .add, .multiply, .and, .or, .concat: return nil
            case .abs, .not, .toLower, .toUpper, .strLenCP, .size, .type: return 1...1
            case .subtract, .divide, .mod, .eq, .ne, .gt, .gte, .lt, .lte, .cmp, .arrayElemAt, .isIn: return 2...2
            case .cond, .substrCP: return 3...3
            case .ifNull: return 2...16
            }
        }
    }

    // MARK: Parsing

    static func parse(_ value: MutableValue, at path: String) throws -> Expression {
        switch value {
        case .string(let utf8) where utf8.first == UInt8(ascii: "$"):
            let text = String(decoding: utf8, as: UTF8.self)
            if text == "$$ROOT" || text == "$$CURRENT" { return .root }
            guard !text.hasPrefix("$$") else { throw CairnError.invalidArgument("\(path): unknown variable \(text)") }
            let fieldPath = String(text.dropFirst())
            try Filter.validateFieldPath(fieldPath, at: path)
            return .field(fieldPath.split(separator: ".").map(String.init))
        case .array(let elements):
            return .array(try elements.enumerated().map { try parse($0.element, at: "\(path).\($0.offset)") })
        case .object(let members):
            if members.count == 1, members[0].key.hasPrefix("$") {
                let (name, operand) = members[0]
                let here = "\(path).\(name)"
                if name == "$literal" { return .literal(operand) }
                guard let op = Operator(rawValue: name) else { throw CairnError.invalidArgument("\(here): unknown expression operator") }
                var arguments: [Expression]
                if op == .cond, case .object(let parts) = operand {
                    arguments = []
                    for key in ["if", "then", "else"] {
                        guard let part = parts.first(where: { $0.key == key }) else { throw CairnError.invalidArgument("\(here) needs if, then and else") }
                        arguments.append(try parse(part.value, at: "\(here).\(key)"))
                    }
                    guard parts.count == 3 else { throw CairnError.invalidArgument("\(here) takes only if, then and else") }
                } else if case .array(let list) = operand {
                    arguments = try list.enumerated().map { try parse($0.element, at: "\(here).\($0.offset)") }
                } else {
                    arguments = [try parse(operand, at: here)]
                }
                if let arity = op.arity, !arity.contains(arguments.count) {
                    throw CairnError.invalidArgument("\(here) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument(s), not \(arguments.count)")
                }
                return .call(op, arguments)
            }
            for member in members where member.key.hasPrefix("$") {
                throw CairnError.invalidArgument("\(path).\(member.key): an operator must be the only field of its object")
            }
            return .object(try members.map { ($0.key, try parse($0.value, at: "\(path).\($0.key)")) })
        default:
            return .literal(value)
        }
    }

    // MARK: Evaluation

    func evaluate(_ document: MutableValue) throws -> MutableValue? {
        try evaluate(.tree(document))
    }

    func evaluate(_ document: PipelineRow) throws -> MutableValue? {
        switch self {
        case .field(let path): return try document.resolve(path[...])
        case .root: return try document.tree()
        case .literal(let value): return value
        case .object(let members):
            var out: [(key: String, value: MutableValue)] = []
            for (key, expression) in members {
                if let value = try expression.evaluate(document) { out.append((key, value)) }
            }
            return .object(out)
        case .array(let elements):
            return .array(try elements.map { try $0.evaluate(document) ?? .null })
        case .call(let op, let arguments):
            return try Expression.apply(op, arguments, document)
        }
    }

    /// MongoDB's path resolution: through objects, and through arrays
    /// element by element ("$items.sku" gives the array of every sku).
    static func resolve(_ path: ArraySlice<String>, in value: MutableValue) -> MutableValue? {
        guard let first = path.first else { return value }
        switch value {
        case .object(let members):
            guard let child = members.first(where: { $0.key == first })?.value else { return nil }
            return resolve(path.dropFirst(), in: child)
        case .array(let elements):
            return .array(elements.compactMap { element in
                if case .object = element { return resolve(path, in: element) }
                return nil
            })
        default:
            return nil
        }
    }

    static func isTrue(_ value: MutableValue?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        case .int(let n)?: return n != 0
        case .double(let d)?: return d != 0
        default: return true
        }
    }

    private static func number(_ value: MutableValue?, _ op: Operator) throws -> MutableValue? {
        switch value {
        case nil, .null?: return nil
        case .int?, .double?, .date?: return value
        case let other?: throw CairnError.invalidArgument("\(op.rawValue) only supports numeric types, not \(other.typeName)")
        }
    }

    private static func double(_ value: MutableValue) -> Double {
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

    private static func string(_ value: MutableValue?, _ op: Operator) throws -> [UInt8]? {
        switch value {
        case nil, .null?: return nil
        case .string(let utf8)?: return utf8
        case let other?: throw CairnError.invalidArgument("\(op.rawValue) needs strings, not \(other.typeName)")
        }
    }

    private static func apply(_ op: Operator, _ arguments: [Expression], _ document: PipelineRow) throws -> MutableValue? {
        let values = try arguments.map { try $0.evaluate(document) }
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
        case .eq, .ne, .gt, .gte, .lt, .lte, .cmp:
            // A missing value sorts below null, as in MongoDB.
            let c: Int
            switch (values[0], values[1]) {
            case (nil, nil): c = 0
            case (nil, _): c = -1
            case (_, nil): c = 1
            case (let a?, let b?): c = try a.compare(b)
            }
            switch op {
            case .eq: return .bool(c == 0)
            case .ne: return .bool(c != 0)
            case .gt: return .bool(c > 0)
            case .gte: return .bool(c >= 0)
            case .lt: return .bool(c < 0)
            case .lte: return .bool(c <= 0)
            default: return .int(Int64(c.signum()))
            }
        case .and:
            return .bool(values.allSatisfy { isTrue($0) })
        case .or:
            return .bool(values.contains { isTrue($0) })
        case .not:
            return .bool(!isTrue(values[0]))
        case .cond:
            return isTrue(values[0]) ? values[1] : values[2]
        case .ifNull:
            for value in values.dropLast() {
                if let value, case .null = value { continue }
                if let value { return value }
            }
            return values.last!
        case .concat:
            var out: [UInt8] = []
            for value in values {
                guard let text = try string(value, op) else { return .null }
                out.append(contentsOf: text)
            }
            return .string(out)
        case .toLower, .toUpper:
            guard let text = try string(values[0], op) else { return .string([]) }
            let converted = String(decoding: text, as: UTF8.self)
            return .string(Array((op == .toLower ? converted.lowercased() : converted.uppercased()).utf8))
        case .strLenCP:
            guard let text = try string(values[0], op) else { throw CairnError.invalidArgument("$strLenCP needs a string") }
            return .int(Int64(String(decoding: text, as: UTF8.self).unicodeScalars.count))
        case .substrCP:
            guard let text = try string(values[0], op) else { return .string([]) }
            guard case .int(let start)? = values[1], case .int(let count)? = values[2], start >= 0, count >= 0 else {
                throw CairnError.invalidArgument("$substrCP needs a string, a non-negative start and a non-negative count")
            }
            let scalars = Array(String(decoding: text, as: UTF8.self).unicodeScalars)
            // Safe: start and count are non-negative; the end is clamped
            // before it is added, so start + count cannot overflow.
            let from = min(Int(start), scalars.count), to = from + min(Int(count), scalars.count - from)
            var result = String.UnicodeScalarView()
            result.append(contentsOf: scalars[from..<to])
            return .string(Array(String(result).utf8))
        case .size:
            guard case .array(let elements)? = values[0] else {
                throw CairnError.invalidArgument("$size needs an array, not \(values[0]?.typeName ?? "missing")")
            }
            return .int(Int64(elements.count))
        case .arrayElemAt:
            guard case .array(let elements)? = values[0] else {
                if values[0] == nil { return nil }
                if case .null? = values[0] { return .null }
                throw CairnError.invalidArgument("$arrayElemAt needs an array first")
            }
            guard case .int(let index)? = values[1] else { throw CairnError.invalidArgument("$arrayElemAt needs an integer index") }
            let position = index < 0 ? elements.count + Int(index) : Int(index)
            return elements.indices.contains(position) ? elements[position] : nil
        case .isIn:
            guard case .array(let elements)? = values[1] else { throw CairnError.invalidArgument("$in needs an array as its second argument") }
            let needle = values[0] ?? .null
            return .bool(try elements.contains { try $0.compare(needle) == 0 })
        case .type:
            guard let value = values[0] else { return .string(Array("missing".utf8)) }
            let name: String
            switch value {
            case .null: name = "null"
            case .bool: name = "bool"
            case .int(let n): name = Int32(exactly: n) != nil ? "int" : "long"
            case .double: name = "double"
            case .string: name = "string"
            case .binary: name = "binData"
            case .date: name = "date"
            case .array: name = "array"
            case .object: name = "object"
            }
            return .string(Array(name.utf8))
        }
    }
}

/// A document flowing through a pipeline: still the stored binary form
/// (valid only until the stage above pulls again), or a decoded tree once a
/// stage changed it. $match and $group read stored documents in place, so a
/// pipeline that only filters and groups never decodes whole documents.
enum PipelineRow {
    case stored(DocumentValue)
    case tree(MutableValue)

    func tree() throws -> MutableValue {
        switch self {
        case .stored(let document): return try MutableValue(document)
        case .tree(let value): return value
        }
    }

    /// The value at `path` with MongoDB's array rules (see Expression.resolve).
    func resolve(_ path: ArraySlice<String>) throws -> MutableValue? {
        switch self {
        case .tree(let value):
            return Expression.resolve(path, in: value)
        case .stored(let document):
            var current = document
            var rest = path
            while let component = rest.first {
                switch current.tag {
                case .object:
                    guard let child = try current.field(component) else { return nil }
                    current = child
                    rest = rest.dropFirst()
                case .array:
                    return Expression.resolve(rest, in: try MutableValue(current))
                default:
                    return nil
                }
            }
            return try MutableValue(current)
        }
    }
}
