import CPCRE2

/// A compiled pattern of `$regex` (does it match?) and of the aggregation
/// operators $regexMatch, $regexFind and $regexFindAll (where, and what
/// the groups captured): PCRE2, which is MongoDB's own regex dialect,
/// JIT-compiled where the CPU allows. Matching runs under a match limit and
/// a depth limit, so a hostile pattern (catastrophic backtracking) fails
/// with INVALID_ARGUMENT instead of hanging the process.
///
/// Thread-safe: the compiled code is shared read-only; each match makes its
/// own match data.
final class RegexPattern: @unchecked Sendable {
    /// Backtracking steps one match may take.
    static let matchLimit: UInt32 = 1_000_000
    /// Nested backtracking frames, in KiB of heap (PCRE2's depth limit).
    static let depthLimit: UInt32 = 10_000

    private let code: OpaquePointer
    private let context: OpaquePointer
    let source: String
    let path: String

    /// One match: byte ranges into the subject; a group that took no part
    /// in the match is nil.
    struct Match {
        var range: Range<Int>
        var groups: [Range<Int>?]
    }

    /// Compiles `pattern` with MongoDB's options: i (case-insensitive), m
    /// (multi-line anchors), s (dot matches newlines), x (extended: spaces
    /// and # comments ignored). Errors name `path` and the offset.
    convenience init(pattern: String, options: String, path: String) throws {
        try self.init(pattern: Array(pattern.utf8), options: Array(options.utf8), path: path)
    }

    init(pattern: [UInt8], options: [UInt8], path: String) throws {
        var flags = UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF)
        for option in options {
            switch option {
            case UInt8(ascii: "i"): flags |= UInt32(PCRE2_CASELESS)
            case UInt8(ascii: "m"): flags |= UInt32(PCRE2_MULTILINE)
            case UInt8(ascii: "s"): flags |= UInt32(PCRE2_DOTALL)
            case UInt8(ascii: "x"): flags |= UInt32(PCRE2_EXTENDED)
            default:
                throw CairnError.invalidArgument("\(path): unknown $options flag '\(String(decoding: [option], as: UTF8.self))' (known: i, m, s, x)")
            }
        }
        guard !pattern.contains(0) else { throw CairnError.invalidArgument("\(path): a regex may not contain a NUL byte") }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.withUnsafeBufferPointer { bytes in
            pcre2_compile_8(bytes.baseAddress, bytes.count, flags, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw CairnError.invalidArgument("\(path): \(RegexPattern.message(errorCode)) at offset \(errorOffset) of the pattern")
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
        source = String(decoding: pattern, as: UTF8.self)
        self.path = path
    }

    deinit {
        pcre2_match_context_free_8(context)
        pcre2_code_free_8(code)
    }

    private static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, 256) }
        return length > 0 ? String(decoding: buffer.prefix(Int(length)), as: UTF8.self) : "error \(code)"
    }

    /// Whether the pattern matches somewhere in `text`.
    func matches(_ text: UnsafeRawBufferPointer) throws -> Bool {
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else {
            throw CairnError(.internal, "\(path): out of memory")
        }
        defer { pcre2_match_data_free_8(data) }
        let subject = text.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)
        let result = pcre2_match_8(code, subject, text.count, 0, 0, data, context)
        if result >= 0 { return true }
        if result == PCRE2_ERROR_NOMATCH { return false }
        if result == PCRE2_ERROR_MATCHLIMIT || result == PCRE2_ERROR_DEPTHLIMIT || result == PCRE2_ERROR_HEAPLIMIT {
            throw CairnError.invalidArgument("\(path): the pattern needs too much backtracking (match limit \(RegexPattern.matchLimit) reached)")
        }
        throw CairnError.invalidArgument("\(path): \(RegexPattern.message(result))")
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
        guard result >= 0 else { throw CairnError.invalidArgument("\(path): \(RegexPattern.message(result))") }
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
