import CPCRE2

/// A compiled pattern for the aggregation operators $regexMatch,
/// $regexFind and $regexFindAll, which need where a match is and what its
/// groups captured (the query operator $regex, in RegexPattern, only asks
/// whether there is one). Same dialect (PCRE2, MongoDB's), same options
/// (i, m, s, x) and the same match and depth limits as RegexPattern, so a
/// hostile pattern fails with INVALID_ARGUMENT instead of hanging.
///
/// Thread-safe: the compiled code is shared read-only; each search makes
/// its own match data.
final class RegexSearch: @unchecked Sendable {
    /// One match: byte ranges into the subject; a group that took no part
    /// in the match is nil.
    struct Match {
        var range: Range<Int>
        var groups: [Range<Int>?]
    }

    private let code: OpaquePointer
    private let context: OpaquePointer
    let path: String

    init(pattern: [UInt8], options: [UInt8], path: String) throws {
        var flags = UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF)
        for option in options {
            switch option {
            case UInt8(ascii: "i"): flags |= UInt32(PCRE2_CASELESS)
            case UInt8(ascii: "m"): flags |= UInt32(PCRE2_MULTILINE)
            case UInt8(ascii: "s"): flags |= UInt32(PCRE2_DOTALL)
            case UInt8(ascii: "x"): flags |= UInt32(PCRE2_EXTENDED)
            default:
                throw CairnError.invalidArgument("\(path): unknown regex option '\(String(decoding: [option], as: UTF8.self))' (known: i, m, s, x)")
            }
        }
        guard !pattern.contains(0) else { throw CairnError.invalidArgument("\(path): a regex may not contain a NUL byte") }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.withUnsafeBufferPointer { bytes in
            pcre2_compile_8(bytes.baseAddress, bytes.count, flags, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw CairnError.invalidArgument("\(path): \(RegexSearch.message(errorCode)) at offset \(errorOffset) of the pattern")
        }
        _ = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE))  // falls back to the interpreter when unsupported
        guard let matchContext = pcre2_match_context_create_8(nil) else {
            pcre2_code_free_8(compiled)
            throw CairnError(.internal, "\(path): out of memory")
        }
        pcre2_set_match_limit_8(matchContext, RegexPattern.matchLimit)
        pcre2_set_depth_limit_8(matchContext, RegexPattern.depthLimit)
        code = compiled
        context = matchContext
        self.path = path
    }

    deinit {
        pcre2_match_context_free_8(context)
        pcre2_code_free_8(code)
    }

    /// The pattern compiled once at parse time when the pattern and the
    /// options are literals (the common case); nil otherwise, and the
    /// operator compiles per document.
    static func compileIfLiteral(pattern: Expression, options: Expression, at here: String) throws -> RegexSearch? {
        guard case .literal(.string(let text)) = pattern else { return nil }
        switch options {
        case .literal(.string(let flags)): return try RegexSearch(pattern: text, options: flags, path: here)
        case .variable(.absent, _): return try RegexSearch(pattern: text, options: [], path: here)
        default: return nil
        }
    }

    private static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, 256) }
        return length > 0 ? String(decoding: buffer.prefix(Int(length)), as: UTF8.self) : "error \(code)"
    }

    /// The first match in `subject` at or after byte `offset` (a code
    /// point boundary), or nil.
    func firstMatch(in subject: [UInt8], from offset: Int) throws -> Match? {
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else {
            throw CairnError(.internal, "\(path): out of memory")
        }
        defer { pcre2_match_data_free_8(data) }
        let result = subject.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress ?? UnsafePointer(bitPattern: 1)
            return pcre2_match_8(code, base, bytes.count, offset, 0, data, context)
        }
        if result == PCRE2_ERROR_NOMATCH { return nil }
        if result == PCRE2_ERROR_MATCHLIMIT || result == PCRE2_ERROR_DEPTHLIMIT || result == PCRE2_ERROR_HEAPLIMIT {
            throw CairnError.invalidArgument("\(path): the pattern needs too much backtracking (match limit \(RegexPattern.matchLimit) reached)")
        }
        guard result >= 0 else { throw CairnError.invalidArgument("\(path): \(RegexSearch.message(result))") }
        let pairs = Int(pcre2_get_ovector_count_8(data))
        guard let vector = pcre2_get_ovector_pointer_8(data), pairs > 0 else { return nil }
        // An unset group holds PCRE2_UNSET (all bits set); any pair not
        // inside the subject is treated as unset.
        func range(_ index: Int) -> Range<Int>? {
            let start = Int(truncatingIfNeeded: vector[2 * index]), end = Int(truncatingIfNeeded: vector[2 * index + 1])
            guard start >= 0, end >= start, end <= subject.count else { return nil }
            return start..<end
        }
        guard let whole = range(0) else { return nil }
        var captureCount: UInt32 = 0
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &captureCount)
        let groups = (0..<Int(captureCount)).map { $0 + 1 < pairs ? range($0 + 1) : nil }
        return Match(range: whole, groups: groups)
    }
}

extension Expression {
    /// $regexMatch (a bool), $regexFind ({match, idx, captures} or null)
    /// and $regexFindAll (an array of those). idx counts code points.
    static func regex(_ op: Operator, _ arguments: [Expression], _ compiled: RegexSearch?, _ context: Context) throws -> MutableValue? {
        let input = try arguments[0].evaluate(in: context)
        let search: RegexSearch
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
            search = try RegexSearch(pattern: text, options: flags, path: op.rawValue)
        }
        let subject: [UInt8]
        switch input {
        case nil, .null?:
            return op == .regexMatch ? .bool(false) : op == .regexFind ? .null : .array([])
        case .string(let utf8)?: subject = utf8
        case let other?: throw CairnError.invalidArgument("\(op.rawValue): input must be a string, not \(other.typeName)")
        }
        func describe(_ match: RegexSearch.Match) -> MutableValue {
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
