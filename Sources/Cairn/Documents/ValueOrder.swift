/// MongoDB's order of values across types, for sorting, range filters and
/// index keys: null < numbers < strings < objects < arrays < binary <
/// booleans < dates. Numbers compare by value whatever their type (1 == 1.0,
/// and a large int64 compares exactly against a double); strings compare by
/// their UTF-8 bytes (MongoDB's simple collation); objects compare member by
/// member (key, then value), arrays element by element, binary values by
/// length, then subtype, then bytes.
enum ValueOrder {
    /// The rank of a type in the order above; numbers share one rank.
    static func typeRank(_ tag: DocumentTag) -> UInt8 {
        switch tag {
        case .null: return 2
        case .int, .double: return 3
        case .string: return 4
        case .object: return 5
        case .array: return 6
        case .binary: return 7
        case .false, .true: return 9
        case .date: return 10
        }
    }

    /// -1, 0 or 1 as `a` sorts before, with, or after `b`.
    static func compare(_ a: DocumentValue, _ b: DocumentValue) throws -> Int {
        guard let ta = a.tag, let tb = b.tag else { throw CairnError.corruption("document: unknown tag") }
        let ra = typeRank(ta), rb = typeRank(tb)
        if ra != rb { return ra < rb ? -1 : 1 }
        switch (try a.kind(), try b.kind()) {
        case (.null, .null):
            return 0
        case (.bool(let x), .bool(let y)):
            return x == y ? 0 : (x ? 1 : -1)
        case (.date(let x), .date(let y)):
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.string(let x), .string(let y)):
            return sign(compareBytes(x, y))
        case (.binary(let x, let sx), .binary(let y, let sy)):
            if x.count != y.count { return x.count < y.count ? -1 : 1 }
            if sx != sy { return sx < sy ? -1 : 1 }
            return sign(compareBytes(x, y))
        case (.array, .array), (.object, .object):
            let left = try children(a), right = try children(b)
            for (x, y) in zip(left, right) {
                if let kx = x.key, let ky = y.key {
                    let c = sign(compareBytes(kx, ky))
                    if c != 0 { return c }
                }
                let c = try compare(x.value, y.value)
                if c != 0 { return c }
            }
            return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
        case (let x, let y):
            return compareNumbers(x, y)
        }
    }

    private static func children(_ value: DocumentValue) throws -> [(key: UnsafeRawBufferPointer?, value: DocumentValue)] {
        var result: [(key: UnsafeRawBufferPointer?, value: DocumentValue)] = []
        try value.forEachChild { key, child in result.append((key, child)) }
        return result
    }

    @inline(__always)
    private static func sign(_ value: Int) -> Int { value < 0 ? -1 : (value > 0 ? 1 : 0) }

    /// Exact comparison of two numbers of either type. NaN sorts below
    /// every other number and equals itself, as in MongoDB.
    static func compareNumbers(_ a: DocumentValue.Kind, _ b: DocumentValue.Kind) -> Int {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)):
            return compareDoubles(x, y)
        case (.int(let x), .double(let y)):
            return -compareDoubleToInt(y, x)
        case (.double(let x), .int(let y)):
            return compareDoubleToInt(x, y)
        default:
            return 0
        }
    }

    private static func compareDoubles(_ x: Double, _ y: Double) -> Int {
        if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? 0 : (x.isNaN ? -1 : 1) }
        return x < y ? -1 : (x > y ? 1 : 0)
    }

    /// Compares a double with an int64 without rounding the int64.
    private static func compareDoubleToInt(_ d: Double, _ i: Int64) -> Int {
        if d.isNaN { return -1 }
        // Every int64 lies in [-2^63, 2^63); doubles outside are beyond all of them.
        if d >= 9_223_372_036_854_775_808.0 { return 1 }
        if d < -9_223_372_036_854_775_808.0 { return -1 }
        let whole = Int64(d.rounded(.down))
        if whole != i { return whole < i ? -1 : 1 }
        return d > d.rounded(.down) ? 1 : 0
    }
}
