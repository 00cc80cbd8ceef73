/// Types and conversion: $type, $convert {input, to, onError, onNull} and
/// its short forms $toString $toInt $toLong $toDouble $toBool $toDate
/// (which are $convert without onError or onNull: null or missing gives
/// null, a failed conversion is INVALID_ARGUMENT). A value that does not
/// fit the target (1e30 to an int, NaN to a long) is a failed conversion,
/// never a trap: every narrowing goes through Int64(exactly:) and a range
/// check. "int" is the 32-bit range, "long" the 64-bit one; both are int64
/// values in Cairn.
extension Expression {
    enum Target: String {
        case double, string, bool, date, int, long

        /// The target of $convert: a type name or its BSON type number.
        init(_ value: MutableValue?, _ op: String) throws {
            switch value {
            case .string(let utf8)?:
                let name = Expression.text(utf8)
                guard let target = Target(rawValue: name) else {
                    throw CairnError.invalidArgument("\(op): cannot convert to '\(name)' (supported: double, string, bool, date, int, long)")
                }
                self = target
            case .int(let code)?:
                let codes: [Int64: Target] = [1: .double, 2: .string, 8: .bool, 9: .date, 16: .int, 18: .long]
                guard let target = codes[code] else {
                    throw CairnError.invalidArgument("\(op): cannot convert to type number \(code) (supported: 1, 2, 8, 9, 16, 18)")
                }
                self = target
            default:
                throw CairnError.invalidArgument("\(op): to must be a type name or number, not \(value?.typeName ?? "missing")")
            }
        }
    }

    static func conversion(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        let target: Target
        switch op {
        case .type: return typeName(values[0])
        case .toString: target = .string
        case .toInt: target = .int
        case .toLong: target = .long
        case .toDouble: target = .double
        case .toBool: target = .bool
        case .toDate: target = .date
        default: throw CairnError(.internal, "\(op.rawValue) is not a conversion")
        }
        switch values[0] {
        case nil, .null?: return .null
        case let value?: return try convert(value, to: target, op.rawValue)
        }
    }

    /// $convert and $dateFromString, which evaluate onNull and onError only
    /// when they are needed.
    static func convertOrParse(_ op: Operator, _ arguments: [Expression], _ context: Context) throws -> MutableValue? {
        if op == .dateFromString { return try dateFromString(arguments, context) }
        let input = try arguments[0].evaluate(in: context)
        let onError = arguments[2], onNull = arguments[3]
        let target = try Target(try arguments[1].evaluate(in: context), "$convert")
        guard let value = input, !{ if case .null = value { return true } else { return false } }() else {
            return onNull.isAbsent ? .null : try onNull.evaluate(in: context)
        }
        do {
            return try convert(value, to: target, "$convert")
        } catch let error as CairnError where !onError.isAbsent && error.code == .invalidArgument {
            return try onError.evaluate(in: context)
        }
    }

    static func typeName(_ value: MutableValue?) -> MutableValue {
        guard let value else { return string("missing") }
        switch value {
        case .int(let n): return string(Int32(exactly: n) != nil ? "int" : "long")
        case .binary: return string("binData")
        default: return string(value.typeName)
        }
    }

    /// `value` (not null) as `target`, or INVALID_ARGUMENT naming `op`.
    static func convert(_ value: MutableValue, to target: Target, _ op: String) throws -> MutableValue {
        let failure = CairnError.invalidArgument("\(op): cannot convert \(value.typeName) \(describe(value)) to \(target.rawValue)")
        switch target {
        case .string:
            switch value {
            case .string: return value
            case .int(let n): return string(String(n))
            case .double(let d): return string(doubleText(d))
            case .bool(let flag): return string(flag ? "true" : "false")
            case .date(let ms): return string(try DateFormat.string(ms, offset: 0, format: DateFormat.defaultFormat, op))
            default: throw failure
            }
        case .int, .long:
            let n: Int64
            switch value {
            case .int(let v): n = v
            case .bool(let flag): n = flag ? 1 : 0
            case .double(let d):
                guard d.isFinite, let v = Int64(exactly: d.rounded(.towardZero)) else { throw failure }
                n = v
            case .string(let utf8):
                guard let v = Int64(text(utf8)) else { throw failure }
                n = v
            case .date(let ms) where target == .long: n = ms
            default: throw failure
            }
            guard target == .long || Int32(exactly: n) != nil else { throw failure }
            return .int(n)
        case .double:
            switch value {
            case .double: return value
            case .int(let n): return .double(Double(n))
            case .bool(let flag): return .double(flag ? 1 : 0)
            case .date(let ms): return .double(Double(ms))
            case .string(let utf8):
                let text = self.text(utf8)
                switch text {
                case "Infinity", "inf": return .double(.infinity)
                case "-Infinity", "-inf": return .double(-.infinity)
                case "NaN", "nan": return .double(.nan)
                default:
                    // Decimal notation only (Swift would also read hex floats).
                    guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || "+-.eE".utf8.contains($0) }),
                          let d = Double(text) else { throw failure }
                    return .double(d)
                }
            default: throw failure
            }
        case .bool:
            switch value {
            case .bool: return value
            case .int(let n): return .bool(n != 0)
            case .double(let d): return .bool(d != 0)
            case .string, .date: return .bool(true)
            default: throw failure
            }
        case .date:
            switch value {
            case .date: return value
            case .int(let n): return .date(n)
            case .double(let d):
                guard d.isFinite, let ms = Int64(exactly: d.rounded(.towardZero)) else { throw failure }
                return .date(ms)
            case .string(let utf8):
                guard let parsed = DateFormat.parseISO(utf8), let local = parsed.time.milliseconds else { throw failure }
                let (ms, overflow) = local.subtractingReportingOverflow(parsed.offset ?? 0)
                guard !overflow else { throw failure }
                return .date(ms)
            default: throw failure
            }
        }
    }

    /// A double as MongoDB writes it: no ".0" on whole numbers, exponents
    /// as "1e+30", Infinity and NaN by name.
    static func doubleText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        var text = d.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    private static func describe(_ value: MutableValue) -> String {
        switch value {
        case .int(let n): return String(n)
        case .double(let d): return doubleText(d)
        case .string(let utf8): return "'\(text(Array(utf8.prefix(64))))'"
        default: return ""
        }
    }
}
