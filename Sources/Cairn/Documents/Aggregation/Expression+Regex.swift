/// The regex operators of aggregation ($regexMatch, $regexFind,
/// $regexFindAll), over the same compiled patterns as the query operator
/// $regex (RegexPattern).
extension RegexPattern {
    /// The pattern compiled once at parse time when the pattern and the
    /// options are literals (the common case); nil otherwise, and the
    /// operator compiles per document.
    static func compileIfLiteral(pattern: Expression, options: Expression, at here: String) throws -> RegexPattern? {
        guard case .literal(.string(let text)) = pattern else { return nil }
        switch options {
        case .literal(.string(let flags)): return try RegexPattern(pattern: text, options: flags, path: here)
        case .variable(.absent, _): return try RegexPattern(pattern: text, options: [], path: here)
        default: return nil
        }
    }
}

extension Expression {
    /// $regexMatch (a bool), $regexFind ({match, idx, captures} or null)
    /// and $regexFindAll (an array of those). idx counts code points.
    static func regex(_ op: Operator, _ arguments: [Expression], _ compiled: RegexPattern?, _ context: Context) throws -> MutableValue? {
        let input = try arguments[0].evaluate(in: context)
        let search: RegexPattern
        if let compiled {
            search = compiled
        } else {
            let pattern = try arguments[1].evaluate(in: context), options = try arguments[2].evaluate(in: context)
            guard case .string(let text)? = pattern else {
                throw CairnError.invalidArgument("\(op.rawValue): regex must be a string, not \(pattern?.typeName ?? "missing")")
            }
            var flags: [UInt8] = []
            switch options {
            case nil, .null?: break
            case .string(let utf8)?: flags = utf8
            case let other?: throw CairnError.invalidArgument("\(op.rawValue): options must be a string, not \(other.typeName)")
            }
            search = try RegexPattern(pattern: text, options: flags, path: op.rawValue)
        }
        let subject: [UInt8]
        switch input {
        case nil, .null?:
            return op == .regexMatch ? .bool(false) : op == .regexFind ? .null : .array([])
        case .string(let utf8)?: subject = utf8
        case let other?: throw CairnError.invalidArgument("\(op.rawValue): input must be a string, not \(other.typeName)")
        }
        func describe(_ match: RegexPattern.Match) -> MutableValue {
            let index = subject[..<match.range.lowerBound].reduce(0) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
            return .object([
                ("match", .string(Array(subject[match.range]))),
                ("idx", .int(Int64(index))),
                ("captures", .array(match.groups.map { $0.map { .string(Array(subject[$0])) } ?? .null })),
            ])
        }
        switch op {
        case .regexMatch:
            return .bool(try search.firstMatch(in: subject, from: 0) != nil)
        case .regexFind:
            return try search.firstMatch(in: subject, from: 0).map(describe) ?? .null
        default:
            var results: [MutableValue] = []
            var offset = 0, size = 0
            while offset <= subject.count, let match = try search.firstMatch(in: subject, from: offset) {
                let described = describe(match)
                size += described.encodedSize
                try context.meter.charge(4 * elementCost + match.range.count, op.rawValue)
                guard size <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("$regexFindAll: the matches would be over \(DocumentLimits.maxDocumentBytes >> 20) MiB")
                }
                results.append(described)
                if match.range.isEmpty {
                    // An empty match: step over one code point, or the
                    // search would find the same empty match forever.
                    offset = match.range.upperBound + 1
                    while offset < subject.count, subject[offset] & 0xC0 == 0x80 { offset += 1 }
                } else {
                    offset = match.range.upperBound
                }
            }
            return .array(results)
        }
    }
}
