/// MongoDB's `$text` filter: `{"$text": {"$search": "...", "$language":
/// "...", "$caseSensitive": bool}}`. As in MongoDB, a quoted phrase must
/// match, words are OR-ed, and "-word" excludes; the rest of TextQuery's
/// syntax (prefixes, fuzzy words, fields) works too. A find with `$text`
/// reads its candidates from the collection's text index, best first
/// (FindExecution), and `{"$meta": "textScore"}` gives their scores.
struct TextFilter {
    var query: TextQuery
    /// Analyze the query with this language's stemmer and stopwords.
    var language: String?
    /// Each word the query requires (or, for OR-ed words, one of them)
    /// must appear with the case typed, in one of the indexed fields.
    var caseSensitive = false
    var text: String

    /// The hidden field that carries a text score through a find or a
    /// pipeline; `{"$meta": "textScore"}` reads it, and results never
    /// show it (no stored document can have a top-level name with '$').
    static let scoreField = "$textScore"

    static func parse(_ value: DocumentValue, at path: String) throws -> TextFilter {
        guard value.tag == .object else { throw CairnError.invalidArgument("\(path) must be an object like {\"$search\": \"words\"}") }
        var search: String?
        var language: String?
        var caseSensitive = false
        for (key, option) in try value.members() {
            switch (key, try option.kind()) {
            case ("$search", .string(let utf8)):
                search = String(decoding: utf8, as: UTF8.self)
            case ("$language", .string):
                language = try AnalyzerOptions.language(try MutableValue(option), at: "\(path).$language")
            case ("$caseSensitive", .bool(let on)):
                caseSensitive = on
            case ("$diacriticSensitive", .bool(let on)):
                guard !on else { throw CairnError.invalidArgument("\(path).$diacriticSensitive: true is not supported (words are matched with their diacritics)") }
            default:
                throw CairnError.invalidArgument("\(path).\(key): unknown option or wrong type (known: $search (string), $language (string), $caseSensitive, $diacriticSensitive (bool))")
            }
        }
        guard let search else { throw CairnError.invalidArgument("\(path).$search is required") }
        return TextFilter(query: try TextQuery.parse(search, phrasesMust: true), language: language, caseSensitive: caseSensitive, text: search)
    }

    /// With $caseSensitive: whether `document` holds the query's words as
    /// typed (each required word, and one of the optional ones).
    func caseMatches(_ document: DocumentValue, fields: [IndexDefinition.Field]) throws -> Bool {
        var words = Set<[UInt8]>()
        for field in fields {
            var values: [DocumentValue] = []
            var sawArray = false
            try IndexDefinition.collectValues(at: field.components[...], in: document, into: &values, sawArray: &sawArray)
            for value in values {
                if case .string(let text) = try value.kind() { TextFilter.forEachWord(text) { words.insert($0) } }
            }
        }
        func holds(_ text: String) -> Bool {
            var all = true
            var copy = text
            copy.withUTF8 { utf8 in TextFilter.forEachWord(UnsafeRawBufferPointer(utf8)) { all = all && words.contains($0) } }
            return all
        }
        var optional: [Bool] = []
        for clause in query.clauses {
            let text: String
            switch clause.kind {
            case .word(let t), .phrase(let t): text = t
            case .prefix, .fuzzy: continue
            }
            switch clause.occur {
            case .must: if !holds(text) { return false }
            case .should: optional.append(holds(text))
            case .mustNot: continue
            }
        }
        return optional.isEmpty || optional.contains(true)
    }

    /// The words of a text as written: runs of letters, digits and marks.
    static func forEachWord(_ text: UnsafeRawBufferPointer, _ body: ([UInt8]) -> Void) {
        var word: [UInt8] = []
        var offset = 0
        while offset < text.count {
            let (scalar, length) = text[offset] < 0x80 ? (Unicode.Scalar(text[offset]), 1) : Analyzer.decode(text, at: offset)
            if let scalar, Analyzer.isWordScalar(scalar, inWord: !word.isEmpty) {
                word.append(contentsOf: text[offset..<(offset + length)])
            } else if !word.isEmpty {
                body(word)
                word.removeAll(keepingCapacity: true)
            }
            offset += length
        }
        if !word.isEmpty { body(word) }
    }
}

extension Filter {
    /// A top-level `$text` and the rest of the filter; nil without one.
    /// `$text` anywhere else, or twice, is INVALID_ARGUMENT.
    func splittingText() throws -> (text: TextFilter, rest: Filter)? {
        // Most filters have no $text: checked without building anything.
        if case .all(let list) = self {
            if !list.contains(where: { if case .text = $0 { return true } else { return false } }) {
                if list.contains(where: \.mentionsText) {
                    throw CairnError.invalidArgument("filter: $text may stand only at the top level (not inside $or, $nor or $elemMatch)")
                }
                return nil
            }
        } else if case .text = self {
        } else {
            if mentionsText { throw CairnError.invalidArgument("filter: $text may stand only at the top level (not inside $or, $nor or $elemMatch)") }
            return nil
        }
        var found: TextFilter?
        var rest: [Filter] = []
        let parts: [Filter]
        if case .all(let list) = self { parts = list } else { parts = [self] }
        for part in parts {
            if case .text(let text) = part {
                guard found == nil else { throw CairnError.invalidArgument("filter: at most one $text") }
                found = text
            } else {
                guard !part.mentionsText else {
                    throw CairnError.invalidArgument("filter: $text may stand only at the top level (not inside $or, $nor or $elemMatch)")
                }
                rest.append(part)
            }
        }
        guard let found else { return nil }
        return (found, rest.count == 1 ? rest[0] : .all(rest))
    }

    var mentionsText: Bool {
        switch self {
        case .text: return true
        case .all(let parts), .any(let parts), .none(let parts): return parts.contains { $0.mentionsText }
        default: return false
        }
    }
}
