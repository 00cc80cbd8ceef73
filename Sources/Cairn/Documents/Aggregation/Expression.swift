/// An aggregation expression: a field path ("$address.city"), a variable
/// ("$$ROOT", "$$this.price"), a literal, an object or array of
/// expressions, or an operator ({"$add": [...]}). Parsed once per pipeline;
/// evaluated per document. A result of nil means "missing" (MongoDB tells
/// missing from null: $project leaves a missing field out).
///
/// Variables are resolved at parse time to slots: the parser keeps the
/// names bound around each point ($let, $map, $filter, $reduce, a $lookup's
/// `let`), so an unknown variable is INVALID_ARGUMENT before any document
/// is read, and evaluation finds a variable by its index instead of by name.
/// The invariant this relies on: an expression parsed under a scope of n
/// names is evaluated with exactly those n values bound, in that order.
///
/// The operators live in one file per family (Expression+Arithmetic,
/// +Math, +Logic, +Strings, +Regex, +Arrays, +Objects, +Variables, +Conversion,
/// +Dates); this file holds the grammar, the dispatch and shared helpers.
indirect enum Expression {
    case field([String])
    /// $$ROOT or $$CURRENT: the whole document.
    case root
    case variable(Variable, [String])
    case literal(MutableValue)
    case object([(key: String, value: Expression)])
    case array([Expression])
    case call(Operator, [Expression])
    /// $let: the values bound (each evaluated in the outer scope), then the body.
    case bind([Expression], body: Expression)
    /// $map: the input array and the body run with one more variable.
    case map(Expression, body: Expression)
    /// $filter: the input, the condition (with one more variable), the limit.
    case filter(Expression, condition: Expression, limit: Expression)
    /// $reduce: the input, the initial value, the body (with $$value, $$this).
    case reduce(Expression, initial: Expression, body: Expression)
    /// $switch: the branches in order and the default (nil when absent).
    case branches([(test: Expression, then: Expression)], otherwise: Expression?)
    /// $regexMatch, $regexFind, $regexFindAll: input, pattern, options, and
    /// the pattern compiled at parse time when it and the options are literals.
    case regex(Operator, [Expression], RegexPattern?)

    /// The variables an expression can name.
    enum Variable {
        /// $$REMOVE: evaluates to missing, so a field set to it is left out.
        case remove
        /// $$NOW: the same date for the whole run of a pipeline.
        case now
        /// A variable bound by $let, $map, $filter, $reduce or $lookup, by
        /// its slot in the scope.
        case bound(Int)
        /// An optional named argument that was not given (internal: never
        /// parsed from text); evaluates to missing.
        case absent
    }

    /// What evaluation reads: the document, the values of the bound
    /// variables (one per name of the parse-time scope), and $$NOW.
    struct Context {
        var root: PipelineRow
        var variables: [MutableValue?]
        let now: Int64
        /// Shared by every context derived from this one (a $map's body
        /// sees the same meter), so it bounds the whole evaluation.
        let meter = Meter()

        init(root: PipelineRow, variables: [MutableValue?] = [], now: Int64) {
            self.root = root
            self.variables = variables
            self.now = now
        }
    }

    /// What one evaluation (one expression on one document) may build.
    /// Each operator that makes values bigger than its inputs ($range,
    /// $concat, $concatArrays, $map, $replaceAll, ...) charges what it
    /// builds, so that an expression that doubles a value in a $reduce,
    /// or maps a $range into $ranges, ends in INVALID_ARGUMENT instead of
    /// exhausting memory (which would abort the process).
    final class Meter {
        static let limit = 64 << 20
        private(set) var bytes = 0

        func charge(_ amount: Int, _ op: String) throws {
            bytes += amount  // Safe: each amount is bounded by memory already held or just checked
            guard bytes <= Meter.limit else {
                throw CairnError.invalidArgument("\(op): the expression would build more than \(Meter.limit >> 20) MiB for one document")
            }
        }
    }

    /// The memory one element of a built array is charged: its reference,
    /// its box and some payload (see MutableValue.memorySize).
    static let elementCost = 64

    /// The names bound at a point of parsing, innermost last.
    struct Scope {
        var names: [String] = []

        /// The slot of `name`: the innermost binding shadows outer ones.
        func slot(of name: String) -> Int? { names.lastIndex(of: name) }

        func adding(_ more: [String]) -> Scope { Scope(names: names + more) }
    }

    static var absent: Expression { .variable(.absent, []) }

    var isAbsent: Bool {
        if case .variable(.absent, _) = self { return true }
        return false
    }

    enum Operator: String, CaseIterable {
        // Arithmetic
        case add = "$add", subtract = "$subtract", multiply = "$multiply", divide = "$divide", mod = "$mod", abs = "$abs"
        case floor = "$floor", ceil = "$ceil", trunc = "$trunc"
        case sum = "$sum", avg = "$avg", min = "$min", max = "$max"
        case round = "$round", sqrt = "$sqrt", pow = "$pow", exp = "$exp", ln = "$ln", log = "$log", log10 = "$log10"
        // Comparison and logic
        case eq = "$eq", ne = "$ne", gt = "$gt", gte = "$gte", lt = "$lt", lte = "$lte", cmp = "$cmp"
        case and = "$and", or = "$or", not = "$not", cond = "$cond", ifNull = "$ifNull"
        // Strings
        case concat = "$concat", toLower = "$toLower", toUpper = "$toUpper", strLenCP = "$strLenCP", substrCP = "$substrCP"
        case split = "$split", trim = "$trim", ltrim = "$ltrim", rtrim = "$rtrim", indexOfCP = "$indexOfCP"
        case replaceOne = "$replaceOne", replaceAll = "$replaceAll"
        case regexMatch = "$regexMatch", regexFind = "$regexFind", regexFindAll = "$regexFindAll"
        // Arrays and objects
        case size = "$size", arrayElemAt = "$arrayElemAt", isIn = "$in", isArray = "$isArray", reverseArray = "$reverseArray"
        case concatArrays = "$concatArrays", slice = "$slice", indexOfArray = "$indexOfArray", range = "$range"
        case first = "$first", last = "$last"
        case setUnion = "$setUnion", setIntersection = "$setIntersection", setDifference = "$setDifference"
        case setEquals = "$setEquals", setIsSubset = "$setIsSubset", anyElementTrue = "$anyElementTrue", allElementsTrue = "$allElementsTrue"
        case isNumber = "$isNumber", strcasecmp = "$strcasecmp"
        case mergeObjects = "$mergeObjects", objectToArray = "$objectToArray", arrayToObject = "$arrayToObject"
        // Types and conversion
        case type = "$type", toString = "$toString", toInt = "$toInt", toLong = "$toLong", toDouble = "$toDouble"
        case toBool = "$toBool", toDate = "$toDate", convert = "$convert"
        // Dates
        case year = "$year", month = "$month", dayOfMonth = "$dayOfMonth", hour = "$hour", minute = "$minute"
        case second = "$second", millisecond = "$millisecond", dayOfWeek = "$dayOfWeek", dayOfYear = "$dayOfYear"
        case week = "$week", isoWeek = "$isoWeek", isoWeekYear = "$isoWeekYear", isoDayOfWeek = "$isoDayOfWeek"
        case dateToString = "$dateToString", dateFromString = "$dateFromString", dateTrunc = "$dateTrunc"
        case dateAdd = "$dateAdd", dateSubtract = "$dateSubtract", dateDiff = "$dateDiff"
        case dateFromParts = "$dateFromParts", dateToParts = "$dateToParts"

        /// Fixed argument counts of the positional operators; nil for variadic.
        var arity: ClosedRange<Int>? {
            switch self {
            case .add, .multiply, .and, .or, .concat, .concatArrays, .mergeObjects, .sum, .avg, .min, .max, .setUnion, .setIntersection: return nil
            case .setEquals: return 2...64
            case .setDifference, .setIsSubset, .strcasecmp: return 2...2
            case .anyElementTrue, .allElementsTrue, .isNumber: return 1...1
            case .abs, .floor, .ceil, .trunc, .sqrt, .exp, .ln, .log10, .not, .toLower, .toUpper, .strLenCP, .size, .type, .isArray, .reverseArray,
                 .objectToArray, .arrayToObject, .toString, .toInt, .toLong, .toDouble, .toBool, .toDate, .first, .last:
                return 1...1
            case .subtract, .divide, .mod, .eq, .ne, .gt, .gte, .lt, .lte, .cmp, .arrayElemAt, .isIn, .split: return 2...2
            case .cond, .substrCP: return 3...3
            case .ifNull: return 2...16
            case .slice, .range: return 2...3
            case .round: return 1...2
            case .pow, .log: return 2...2
            case .indexOfArray, .indexOfCP: return 2...4
            case .trim, .ltrim, .rtrim, .regexMatch, .regexFind, .regexFindAll, .convert, .dateToString, .dateFromString, .replaceOne, .replaceAll,
                 .dateTrunc, .dateAdd, .dateSubtract, .dateDiff, .dateFromParts, .dateToParts:
                return 1...1  // one object of named arguments
            case .year, .month, .dayOfMonth, .hour, .minute, .second, .millisecond, .dayOfWeek, .dayOfYear, .week,
                 .isoWeek, .isoWeekYear, .isoDayOfWeek:
                return 1...1  // a date; {date, timezone} is parsed by name
            }
        }

        /// The operators that take one object of named arguments: the names
        /// in the order of the argument list, and how many come first and
        /// are required.
        var namedArguments: (names: [String], required: Int)? {
            switch self {
            case .trim, .ltrim, .rtrim: return (["input", "chars"], 1)
            case .replaceOne, .replaceAll: return (["input", "find", "replacement"], 3)
            case .regexMatch, .regexFind, .regexFindAll: return (["input", "regex", "options"], 2)
            case .convert: return (["input", "to", "onError", "onNull"], 2)
            case .dateToString: return (["date", "format", "timezone", "onNull"], 1)
            case .dateFromString: return (["dateString", "format", "timezone", "onError", "onNull"], 1)
            case .dateTrunc: return (["date", "unit", "binSize", "timezone", "startOfWeek"], 2)
            case .dateAdd, .dateSubtract: return (["startDate", "unit", "amount", "timezone"], 3)
            case .dateDiff: return (["startDate", "endDate", "unit", "timezone", "startOfWeek"], 3)
            case .dateFromParts:
                return (["year", "month", "day", "hour", "minute", "second", "millisecond", "isoWeekYear", "isoWeek", "isoDayOfWeek", "timezone"], 0)
            case .dateToParts: return (["date", "timezone", "iso8601"], 1)
            default: return nil
            }
        }

        var isDatePart: Bool {
            switch self {
            case .year, .month, .dayOfMonth, .hour, .minute, .second, .millisecond, .dayOfWeek, .dayOfYear, .week,
                 .isoWeek, .isoWeekYear, .isoDayOfWeek:
                return true
            default:
                return false
            }
        }
    }

    // MARK: Parsing

    /// Parses an expression in which no user variable is bound.
    static func parse(_ value: MutableValue, at path: String) throws -> Expression {
        try parse(value, at: path, scope: Scope())
    }

    static func parse(_ value: MutableValue, at path: String, scope: Scope) throws -> Expression {
        switch value {
        case .string(let utf8) where utf8.first == UInt8(ascii: "$"):
            let text = String(decoding: utf8, as: UTF8.self)
            if text.hasPrefix("$$") { return try parseVariable(text, at: path, scope: scope) }
            let fieldPath = String(text.dropFirst())
            try Filter.validateFieldPath(fieldPath, at: path)
            return .field(fieldPath.split(separator: ".").map(String.init))
        case .array(let elements):
            return .array(try elements.enumerated().map { try parse($0.element, at: "\(path).\($0.offset)", scope: scope) })
        case .object(let members):
            if members.count == 1, members[0].key.hasPrefix("$") {
                return try parseOperator(members[0].key, members[0].value, at: "\(path).\(members[0].key)", scope: scope)
            }
            for member in members where member.key.hasPrefix("$") {
                throw CairnError.invalidArgument("\(path).\(member.key): an operator must be the only field of its object")
            }
            return .object(try members.map { ($0.key, try parse($0.value, at: "\(path).\($0.key)", scope: scope)) })
        default:
            return .literal(value)
        }
    }

    private static func parseOperator(_ name: String, _ operand: MutableValue, at here: String, scope: Scope) throws -> Expression {
        switch name {
        case "$literal": return .literal(operand)
        case "$meta":
            // Search metadata travels in a hidden field (MetaField).
            guard case .string(let utf8) = operand, let meta = MetaField(rawValue: String(decoding: utf8, as: UTF8.self)) else {
                throw CairnError.invalidArgument("\(here) must be \"textScore\", \"searchScore\", \"searchHighlights\" or \"vectorSearchScore\"")
            }
            return .field([meta.hiddenField])
        case "$let": return try parseLet(operand, at: here, scope: scope)
        case "$map": return try parseMap(operand, at: here, scope: scope)
        case "$filter": return try parseFilter(operand, at: here, scope: scope)
        case "$reduce": return try parseReduce(operand, at: here, scope: scope)
        case "$switch": return try parseSwitch(operand, at: here, scope: scope)
        default: break
        }
        guard let op = Operator(rawValue: name) else { throw CairnError.invalidArgument("\(here): unknown expression operator") }
        var arguments: [Expression]
        var named = true
        if let (names, required) = op.namedArguments {
            arguments = try parseNamed(operand, names: names, required: required, at: here, scope: scope)
        } else if op.isDatePart, case .object(let parts) = operand, parts.contains(where: { $0.key == "date" }) {
            // {date, timezone}; any other object is an expression giving the date.
            arguments = try parseNamed(operand, names: ["date", "timezone"], required: 1, at: here, scope: scope)
        } else if op == .cond, case .object(let parts) = operand {
            arguments = try parseNamed(.object(parts), names: ["if", "then", "else"], required: 3, at: here, scope: scope)
        } else if case .array(let list) = operand {
            named = false
            arguments = try list.enumerated().map { try parse($0.element, at: "\(here).\($0.offset)", scope: scope) }
        } else {
            named = false
            arguments = [try parse(operand, at: here, scope: scope)]
        }
        if !named, let arity = op.arity, !arity.contains(arguments.count) {
            throw CairnError.invalidArgument("\(here) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument(s), not \(arguments.count)")
        }
        if op == .regexMatch || op == .regexFind || op == .regexFindAll {
            return .regex(op, arguments, try RegexPattern.compileIfLiteral(pattern: arguments[1], options: arguments[2], at: here))
        }
        return .call(op, arguments)
    }

    /// The arguments of an operator taking {name: expression, ...}, in the
    /// order of `names`; an optional one not given is `Expression.absent`.
    static func parseNamed(_ operand: MutableValue, names: [String], required: Int, at here: String, scope: Scope) throws -> [Expression] {
        guard case .object(let members) = operand else {
            throw CairnError.invalidArgument("\(here) takes an object with \(names.prefix(required).joined(separator: ", "))")
        }
        var arguments = Array(repeating: Expression.absent, count: names.count)
        var given = Array(repeating: false, count: names.count)
        for (key, value) in members {
            guard let index = names.firstIndex(of: key) else {
                throw CairnError.invalidArgument("\(here).\(key): unknown argument (known: \(names.joined(separator: ", ")))")
            }
            arguments[index] = try parse(value, at: "\(here).\(key)", scope: scope)
            given[index] = true
        }
        for index in 0..<required where !given[index] {
            throw CairnError.invalidArgument("\(here) needs \(names[index])")
        }
        return arguments
    }

    private static func parseVariable(_ text: String, at path: String, scope: Scope) throws -> Expression {
        let components = text.dropFirst(2).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let name = components.first, !name.isEmpty, !components.dropFirst().contains(where: \.isEmpty) else {
            throw CairnError.invalidArgument("\(path): invalid variable reference \(text)")
        }
        let rest = Array(components.dropFirst())
        switch name {
        case "ROOT", "CURRENT": return rest.isEmpty ? .root : .field(rest)
        case "REMOVE": return .variable(.remove, rest)
        case "NOW": return .variable(.now, rest)
        default:
            guard let slot = scope.slot(of: name) else { throw CairnError.invalidArgument("\(path): unknown variable $$\(name)") }
            return .variable(.bound(slot), rest)
        }
    }

    /// A name a user may bind: a lowercase ASCII letter or a non-ASCII
    /// character first, then letters, digits and '_' (MongoDB's rule, which
    /// keeps user names apart from ROOT, CURRENT, REMOVE and NOW).
    static func validateVariableName(_ name: String, at here: String) throws {
        guard let first = name.unicodeScalars.first, (first >= "a" && first <= "z") || first.value > 127,
              name.unicodeScalars.allSatisfy({ $0.value > 127 || ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || $0 == "_" })
        else {
            throw CairnError.invalidArgument("\(here): '\(name)' is not a valid variable name (start with a lowercase letter; letters, digits and _ only)")
        }
    }

    // MARK: Evaluation

    /// Evaluates against `document` with no bound variables; $$NOW is the
    /// current time.
    func evaluate(_ document: MutableValue) throws -> MutableValue? {
        try evaluate(in: Context(root: .tree(document), now: currentTimeMillis()))
    }

    func evaluate(_ document: PipelineRow) throws -> MutableValue? {
        try evaluate(in: Context(root: document, now: currentTimeMillis()))
    }

    func evaluate(in context: Context) throws -> MutableValue? {
        switch self {
        case .field(let path): return try context.root.resolve(path[...])
        case .root: return try context.root.tree()
        case .variable(let variable, let path):
            let value: MutableValue?
            switch variable {
            case .remove, .absent: return nil
            case .now: value = .date(context.now)
            case .bound(let slot):
                // The scope invariant (see the type's comment) keeps the
                // slot in range; a broken one is an error, never a trap.
                guard context.variables.indices.contains(slot) else {
                    throw CairnError(.internal, "expression variable \(slot) is not bound")
                }
                value = context.variables[slot]
            }
            guard let value else { return nil }
            return path.isEmpty ? value : Expression.resolve(path[...], in: value)
        case .literal(let value): return value
        case .object(let members):
            var out: [(key: String, value: MutableValue)] = []
            for (key, expression) in members {
                if let value = try expression.evaluate(in: context) { out.append((key, value)) }
            }
            return .object(out)
        case .array(let elements):
            return .array(try elements.map { try $0.evaluate(in: context) ?? .null })
        case .call(let op, let arguments):
            return try Expression.apply(op, arguments, context)
        case .bind, .map, .filter, .reduce:
            return try evaluateScoped(in: context)
        case .branches(let branches, let otherwise):
            for branch in branches where Expression.isTrue(try branch.test.evaluate(in: context)) {
                return try branch.then.evaluate(in: context)
            }
            guard let otherwise else {
                throw CairnError.invalidArgument("$switch: no branch matched and there is no default")
            }
            return try otherwise.evaluate(in: context)
        case .regex(let op, let arguments, let compiled):
            return try Expression.regex(op, arguments, compiled, context)
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

    /// Operators whose arguments are evaluated only as needed ($cond and
    /// $ifNull pick one, $and and $or stop early, $convert and
    /// $dateFromString evaluate onError only on an error), so that
    /// {"$cond": [{"$eq": ["$n", 0]}, null, {"$divide": [1, "$n"]}]} never
    /// divides by zero. The others evaluate every argument, then apply.
    private static func apply(_ op: Operator, _ arguments: [Expression], _ context: Context) throws -> MutableValue? {
        switch op {
        case .and:
            for argument in arguments where !isTrue(try argument.evaluate(in: context)) { return .bool(false) }
            return .bool(true)
        case .or:
            for argument in arguments where isTrue(try argument.evaluate(in: context)) { return .bool(true) }
            return .bool(false)
        case .cond:
            return try arguments[isTrue(try arguments[0].evaluate(in: context)) ? 1 : 2].evaluate(in: context)
        case .ifNull:
            for argument in arguments.dropLast() {
                switch try argument.evaluate(in: context) {
                case nil, .null?: continue
                case let value?: return value
                }
            }
            return try arguments[arguments.count - 1].evaluate(in: context)
        case .convert, .dateFromString:
            return try convertOrParse(op, arguments, context)
        default:
            break
        }
        let values = try arguments.map { try $0.evaluate(in: context) }
        let meter = context.meter
        switch op {
        case .add, .subtract, .multiply, .divide, .mod, .abs, .floor, .ceil, .trunc:
            return try arithmetic(op, values)
        case .sum, .avg, .min, .max:
            return try summary(op, values)
        case .round, .sqrt, .pow, .exp, .ln, .log, .log10:
            return try math(op, values)
        case .eq, .ne, .gt, .gte, .lt, .lte, .cmp, .not:
            return try comparison(op, values)
        case .concat, .toLower, .toUpper, .strLenCP, .substrCP, .split, .trim, .ltrim, .rtrim, .indexOfCP, .replaceOne, .replaceAll:
            return try strings(op, values, meter)
        case .size, .arrayElemAt, .isIn, .isArray, .reverseArray, .concatArrays, .slice, .indexOfArray, .range, .first, .last:
            return try arrays(op, values, meter)
        case .mergeObjects, .objectToArray, .arrayToObject:
            return try objects(op, values, meter)
        case .setUnion, .setIntersection, .setDifference, .setEquals, .setIsSubset, .anyElementTrue, .allElementsTrue:
            return try sets(op, values, meter)
        case .isNumber:
            switch values[0] {
            case .int?, .double?: return .bool(true)
            default: return .bool(false)
            }
        case .strcasecmp:
            // ASCII case folding, as MongoDB's $strcasecmp; null and missing are "".
            func folded(_ value: MutableValue?) throws -> [UInt8] {
                (try string(value, op) ?? []).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }  // Safe: 'A'...'Z' + 32 is 'a'...'z'
            }
            let a = try folded(values[0]), b = try folded(values[1])
            return .int(a == b ? 0 : a.lexicographicallyPrecedes(b) ? -1 : 1)
        case .type, .toString, .toInt, .toLong, .toDouble, .toBool, .toDate:
            return try conversion(op, values)
        case .year, .month, .dayOfMonth, .hour, .minute, .second, .millisecond, .dayOfWeek, .dayOfYear, .week,
             .isoWeek, .isoWeekYear, .isoDayOfWeek, .dateToString, .dateTrunc, .dateAdd, .dateSubtract, .dateDiff:
            return try dates(op, values)
        case .dateFromParts, .dateToParts:
            return try dateParts(op, values)
        case .and, .or, .cond, .ifNull, .convert, .dateFromString, .regexMatch, .regexFind, .regexFindAll:
            throw CairnError(.internal, "\(op.rawValue) is not dispatched here")
        }
    }

    // MARK: Shared argument helpers

    /// A value that must be a string; nil for null or missing.
    static func string(_ value: MutableValue?, _ op: Operator) throws -> [UInt8]? {
        switch value {
        case nil, .null?: return nil
        case .string(let utf8)?: return utf8
        case let other?: throw CairnError.invalidArgument("\(op.rawValue) needs strings, not \(other.typeName)")
        }
    }

    /// A value that must be an integer (an int, or a double without a
    /// fraction that fits in int64); nil for null or missing.
    static func integer(_ value: MutableValue?, _ op: Operator, _ what: String) throws -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .int(let n)?: return n
        case .double(let d)?:
            guard let n = Int64(exactly: d) else { throw CairnError.invalidArgument("\(op.rawValue): \(what) must be an integer, not \(d)") }
            return n
        case let other?: throw CairnError.invalidArgument("\(op.rawValue): \(what) must be an integer, not \(other.typeName)")
        }
    }

    static func text(_ utf8: [UInt8]) -> String { String(decoding: utf8, as: UTF8.self) }

    static func string(_ text: String) -> MutableValue { .string(Array(text.utf8)) }
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
