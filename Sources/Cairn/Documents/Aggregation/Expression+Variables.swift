/// The operators that bind variables: $let, $map, $filter, $reduce. Each
/// parses its body under the outer scope plus its names, and evaluates it
/// with the values appended in the same order (the scope invariant of
/// Expression). The bound values are set in place in one copy of the
/// context per call, not copied per element.
extension Expression {
    /// {"$let": {"vars": {name: expression, ...}, "in": expression}}: each
    /// value is evaluated in the outer scope (they cannot see each other).
    static func parseLet(_ operand: MutableValue, at here: String, scope: Scope) throws -> Expression {
        guard case .object(let members) = operand else { throw CairnError.invalidArgument("\(here) takes {vars, in}") }
        var names: [String] = [], values: [Expression] = []
        var bodyValue: MutableValue?
        for (key, value) in members {
            switch key {
            case "vars":
                guard case .object(let variables) = value else { throw CairnError.invalidArgument("\(here).vars must be an object") }
                for (name, expression) in variables {
                    try validateVariableName(name, at: "\(here).vars.\(name)")
                    names.append(name)
                    values.append(try parse(expression, at: "\(here).vars.\(name)", scope: scope))
                }
            case "in":
                bodyValue = value
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown argument (known: vars, in)")
            }
        }
        guard let bodyValue else { throw CairnError.invalidArgument("\(here) needs in") }
        return .bind(values, body: try parse(bodyValue, at: "\(here).in", scope: scope.adding(names)))
    }

    /// {"$map": {"input": array, "as": name (default "this"), "in": expression}}.
    static func parseMap(_ operand: MutableValue, at here: String, scope: Scope) throws -> Expression {
        let (input, name, rest) = try iteration(operand, at: here, scope: scope, names: ["in"])
        guard let body = rest["in"] else { throw CairnError.invalidArgument("\(here) needs in") }
        return .map(input, body: try parse(body, at: "\(here).in", scope: scope.adding([name])))
    }

    /// {"$filter": {"input", "as", "cond", "limit"}}.
    static func parseFilter(_ operand: MutableValue, at here: String, scope: Scope) throws -> Expression {
        let (input, name, rest) = try iteration(operand, at: here, scope: scope, names: ["cond", "limit"])
        guard let condition = rest["cond"] else { throw CairnError.invalidArgument("\(here) needs cond") }
        let limit = try rest["limit"].map { try parse($0, at: "\(here).limit", scope: scope) } ?? absent
        return .filter(input, condition: try parse(condition, at: "\(here).cond", scope: scope.adding([name])), limit: limit)
    }

    /// {"$reduce": {"input", "initialValue", "in"}}, with $$value and $$this.
    static func parseReduce(_ operand: MutableValue, at here: String, scope: Scope) throws -> Expression {
        guard case .object(let members) = operand else { throw CairnError.invalidArgument("\(here) takes {input, initialValue, in}") }
        // "in" is parsed apart: it sees $$value and $$this, the others do not.
        let outer = try parseNamed(.object(members.filter { $0.key != "in" }), names: ["input", "initialValue"], required: 2, at: here, scope: scope)
        guard let body = members.first(where: { $0.key == "in" })?.value else { throw CairnError.invalidArgument("\(here) needs in") }
        return .reduce(outer[0], initial: outer[1], body: try parse(body, at: "\(here).in", scope: scope.adding(["value", "this"])))
    }

    /// The parts common to $map and $filter: input (parsed), the variable
    /// name, and the other named parts still unparsed (they need the scope
    /// with the name).
    private static func iteration(_ operand: MutableValue, at here: String, scope: Scope, names: [String])
        throws -> (Expression, String, [String: MutableValue]) {
        guard case .object(let members) = operand else { throw CairnError.invalidArgument("\(here) takes {input, as, \(names.joined(separator: ", "))}") }
        var input: Expression?
        var name = "this"
        var rest: [String: MutableValue] = [:]
        for (key, value) in members {
            switch key {
            case "input": input = try parse(value, at: "\(here).input", scope: scope)
            case "as":
                guard case .string(let utf8) = value else { throw CairnError.invalidArgument("\(here).as must be a string") }
                name = text(utf8)
                try validateVariableName(name, at: "\(here).as")
            case _ where names.contains(key): rest[key] = value
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown argument (known: input, as, \(names.joined(separator: ", ")))")
            }
        }
        guard let input else { throw CairnError.invalidArgument("\(here) needs input") }
        return (input, name, rest)
    }

    /// The input array of $map, $filter or $reduce; nil for null or missing.
    private static func input(_ value: MutableValue?, _ name: String) throws -> [MutableValue]? {
        switch value {
        case nil, .null?: return nil
        case .array(let elements)?: return elements
        case let other?: throw CairnError.invalidArgument("\(name): input must be an array, not \(other.typeName)")
        }
    }

    func evaluateScoped(in context: Context) throws -> MutableValue? {
        switch self {
        case .bind(let values, let body):
            var inner = context
            for value in values { inner.variables.append(try value.evaluate(in: context)) }
            return try body.evaluate(in: inner)
        case .map(let input, let body):
            guard let elements = try Expression.input(try input.evaluate(in: context), "$map") else { return .null }
            var inner = context
            let slot = inner.variables.count
            inner.variables.append(nil)
            var out: [MutableValue] = []
            out.reserveCapacity(elements.count)
            try context.meter.charge(elements.count * 16, "$map")
            for element in elements {
                inner.variables[slot] = element
                out.append(try body.evaluate(in: inner) ?? .null)
            }
            return .array(out)
        case .filter(let input, let condition, let limitExpression):
            guard let elements = try Expression.input(try input.evaluate(in: context), "$filter") else { return .null }
            var limit = Int.max
            switch try limitExpression.evaluate(in: context) {
            case nil, .null?: break
            case let value?:
                guard case .int(let n) = value, n >= 1 else {
                    throw CairnError.invalidArgument("$filter: limit must be a positive integer")
                }
                limit = Int(n)
            }
            var inner = context
            let slot = inner.variables.count
            inner.variables.append(nil)
            var out: [MutableValue] = []
            for element in elements where out.count < limit {
                inner.variables[slot] = element
                if Expression.isTrue(try condition.evaluate(in: inner)) { out.append(element) }
            }
            return .array(out)
        case .reduce(let input, let initial, let body):
            guard let elements = try Expression.input(try input.evaluate(in: context), "$reduce") else { return .null }
            var inner = context
            let slot = inner.variables.count
            inner.variables.append(try initial.evaluate(in: context))
            inner.variables.append(nil)
            for element in elements {
                inner.variables[slot + 1] = element
                inner.variables[slot] = try body.evaluate(in: inner)
            }
            return inner.variables[slot]
        default:
            return try evaluate(in: context)
        }
    }
}
