/// Comparison and negation: $eq $ne $gt $gte $lt $lte $cmp compare across
/// types in BSON order (a missing value sorts below null, as in MongoDB);
/// $not. The short-circuiting operators ($and $or $cond $ifNull) are in
/// Expression.apply, $switch in Expression.evaluate.
extension Expression {
    static func comparison(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        if op == .not { return .bool(!isTrue(values[0])) }
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
    }

    /// {"$switch": {"branches": [{"case": e, "then": e}, ...], "default": e}}.
    /// With no default, a document that matches no branch is an error at
    /// evaluation, as in MongoDB.
    static func parseSwitch(_ operand: MutableValue, at here: String, scope: Scope) throws -> Expression {
        guard case .object(let members) = operand else { throw CairnError.invalidArgument("\(here) takes {branches, default}") }
        var branches: [(test: Expression, then: Expression)] = []
        var otherwise: Expression?
        var sawBranches = false
        for (key, value) in members {
            switch key {
            case "branches":
                guard case .array(let list) = value else { throw CairnError.invalidArgument("\(here).branches must be an array") }
                sawBranches = true
                for (index, branch) in list.enumerated() {
                    let at = "\(here).branches.\(index)"
                    let parts = try parseNamed(branch, names: ["case", "then"], required: 2, at: at, scope: scope)
                    branches.append((parts[0], parts[1]))
                }
            case "default":
                otherwise = try parse(value, at: "\(here).default", scope: scope)
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown argument (known: branches, default)")
            }
        }
        guard sawBranches, !branches.isEmpty else { throw CairnError.invalidArgument("\(here) needs at least one branch") }
        return .branches(branches, otherwise: otherwise)
    }
}
