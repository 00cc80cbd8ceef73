#if canImport(Glibc)
import Glibc
#endif

/// Math: $round $sqrt $pow $exp $ln $log $log10. Results are doubles,
/// except $round of an integer and $pow of integers while the result is
/// exact (as in MongoDB). Arguments outside a function's domain (a
/// negative square root, the logarithm of 0, 0 to a negative power) are
/// INVALID_ARGUMENT naming the operator; integer overflow gives a double.
extension Expression {
    static func math(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        var numbers: [MutableValue] = []
        for value in values {
            switch value {
            case nil, .null?: return .null
            case .int?, .double?: numbers.append(value ?? .null)
            case let other?: throw CairnError.invalidArgument("\(op.rawValue) only supports numeric types, not \(other.typeName)")
            }
        }
        let x = double(numbers[0])
        switch op {
        case .sqrt:
            guard x >= 0 || x.isNaN else { throw CairnError.invalidArgument("$sqrt's argument must be greater than or equal to 0") }
            return .double(x.squareRoot())
        case .exp:
            return .double(Glibc.exp(x))
        case .ln, .log10:
            guard x > 0 || x.isNaN else { throw CairnError.invalidArgument("\(op.rawValue)'s argument must be a positive number") }
            return .double(op == .ln ? Glibc.log(x) : Glibc.log10(x))
        case .log:
            let base = double(numbers[1])
            guard x > 0 || x.isNaN else { throw CairnError.invalidArgument("$log's argument must be a positive number") }
            guard base > 0, base != 1 else { throw CairnError.invalidArgument("$log's base must be a positive number other than 1") }
            return .double(Glibc.log(x) / Glibc.log(base))
        case .pow:
            return try power(numbers[0], numbers[1])
        case .round:
            var place: Int64 = 0
            if numbers.count == 2 {
                guard case .int(let given) = numbers[1], (-20...100).contains(given) else {
                    throw CairnError.invalidArgument("$round: the place must be an integer from -20 to 100")
                }
                place = given
            }
            return round(numbers[0], place: place)
        default:
            throw CairnError(.internal, "\(op.rawValue) is not a math operator")
        }
    }

    /// Integers by squaring while exact (no overflow), else doubles.
    private static func power(_ base: MutableValue, _ exponent: MutableValue) throws -> MutableValue {
        if case .int(let b) = base, case .int(let e) = exponent {
            guard !(b == 0 && e < 0) else { throw CairnError.invalidArgument("$pow cannot raise 0 to a negative exponent") }
            if e >= 0 {
                var result: Int64 = 1, factor = b, rest = e
                var exact = true
                while rest > 0, exact {
                    if rest & 1 == 1 {
                        let (product, overflow) = result.multipliedReportingOverflow(by: factor)
                        exact = !overflow
                        result = product
                    }
                    rest >>= 1
                    if rest > 0 {
                        let (square, overflow) = factor.multipliedReportingOverflow(by: factor)
                        exact = exact && !overflow
                        factor = square
                    }
                }
                if exact { return .int(result) }
            }
            return .double(Glibc.pow(Double(b), Double(e)))
        }
        let b = double(base), e = double(exponent)
        guard !(b == 0 && e < 0) else { throw CairnError.invalidArgument("$pow cannot raise 0 to a negative exponent") }
        return .double(Glibc.pow(b, e))
    }

    /// Round half to even at `place` decimal digits (negative: tens,
    /// hundreds, ...), as MongoDB's $round does.
    private static func round(_ value: MutableValue, place: Int64) -> MutableValue {
        switch value {
        case .int(let n):
            guard place < 0 else { return value }
            guard place >= -18 else {
                let scale = Glibc.pow(10, Double(-place))
                return .double((Double(n) / scale).rounded(.toNearestOrEven) * scale)
            }
            var factor: Int64 = 1
            for _ in 0..<(-place) { factor *= 10 }  // Safe: at most 10^18
            var (q, r) = n.quotientAndRemainder(dividingBy: factor)
            let twice = r.magnitude * 2  // Safe: |r| < 10^18, twice < 2 * 10^18 < UInt64.max
            if twice > factor.magnitude || (twice == factor.magnitude && q % 2 != 0) { q += n < 0 ? -1 : 1 }  // Safe: |q| <= Int64.max / 10
            let (result, overflow) = q.multipliedReportingOverflow(by: factor)
            return overflow ? .double(Double(q) * Double(factor)) : .int(result)
        case .double(let d):
            let scale = Glibc.pow(10, Double(place))
            guard d.isFinite, scale.isFinite, scale > 0 else { return value }
            let scaled = d * scale
            guard scaled.isFinite else { return value }
            return .double(scaled.rounded(.toNearestOrEven) / scale)
        default:
            return value
        }
    }
}
