/// Marks the words a search matched in a hit's fields, and cuts a short
/// snippet around the best match, as search users expect beside a result.
struct HighlightOptions {
    var pre = "<em>"
    var post = "</em>"
    /// Words of context in the snippet.
    var snippetWords = 24

    static func parse(_ value: MutableValue, at path: String) throws -> HighlightOptions? {
        switch value {
        case .bool(let on): return on ? HighlightOptions() : nil
        case .object(let members):
            var options = HighlightOptions()
            for (key, option) in members {
                switch (key, option) {
                case ("pre", .string(let utf8)) where utf8.count <= 64: options.pre = String(decoding: utf8, as: UTF8.self)
                case ("post", .string(let utf8)) where utf8.count <= 64: options.post = String(decoding: utf8, as: UTF8.self)
                case ("snippet_words", let n):
                    guard let words = n.number, words >= 1, words <= 1000, words == words.rounded() else {
                        throw CairnError.invalidArgument("\(path).snippet_words must be an integer in [1, 1000]")
                    }
                    options.snippetWords = Int(words)
                default:
                    throw CairnError.invalidArgument("\(path).\(key): unknown option or wrong type (known: pre, post (strings of at most 64 bytes), snippet_words)")
                }
            }
            return options
        default:
            throw CairnError.invalidArgument("\(path) must be true, false or an object")
        }
    }

    /// {"field": "text with <em>marked</em> words", ...} for the fields of
    /// `mask` that hold a matched term, and the snippet of the field with
    /// the most matches.
    func highlight(_ document: DocumentValue, fields: [IndexDefinition.Field], mask: UInt32, analyzer: Analyzer,
                   terms: Set<[UInt8]>) throws -> (fields: MutableValue, snippet: String) {
        var marked: [(key: String, value: MutableValue)] = []
        var bestSnippet = ""
        var bestCount = 0
        for (position, field) in fields.enumerated() where mask & (1 << UInt32(position)) != 0 {
            var values: [DocumentValue] = []
            var sawArray = false
            try IndexDefinition.collectValues(at: field.components[...], in: document, into: &values, sawArray: &sawArray)
            var texts: [String] = []
            for value in values {
                guard case .string(let text) = try value.kind() else { continue }
                var tokens: [(start: Int, end: Int, hit: Bool)] = []
                analyzer.analyze(text, includingDropped: true) { token in
                    tokens.append((token.start, token.end, !token.term.isEmpty && terms.contains(token.term)))
                }
                let hits = tokens.filter(\.hit).count
                guard hits > 0 else { continue }
                texts.append(mark(text, tokens: tokens[...]))
                if hits > bestCount {
                    bestCount = hits
                    bestSnippet = snippet(text, tokens: tokens)
                }
            }
            if !texts.isEmpty {
                marked.append((field.path, texts.count == 1 ? .string(Array(texts[0].utf8)) : .array(texts.map { .string(Array($0.utf8)) })))
            }
        }
        return (.object(marked), bestSnippet)
    }

    /// The text between the tokens' bounds, matched tokens wrapped.
    private func mark(_ text: UnsafeRawBufferPointer, tokens: ArraySlice<(start: Int, end: Int, hit: Bool)>,
                      from: Int = 0, to: Int? = nil) -> String {
        var out: [UInt8] = []
        var at = from
        for token in tokens where token.hit {
            out.append(contentsOf: text[at..<token.start])
            out.append(contentsOf: pre.utf8)
            out.append(contentsOf: text[token.start..<token.end])
            out.append(contentsOf: post.utf8)
            at = token.end
        }
        out.append(contentsOf: text[at..<(to ?? text.count)])
        return String(decoding: out, as: UTF8.self)
    }

    /// The window of `snippetWords` tokens holding the most matches, with
    /// an ellipsis where it cuts the text.
    private func snippet(_ text: UnsafeRawBufferPointer, tokens: [(start: Int, end: Int, hit: Bool)]) -> String {
        guard tokens.count > snippetWords else { return mark(text, tokens: tokens[...]) }
        var best = 0, bestHits = -1, hits = 0
        for i in tokens.indices {
            if tokens[i].hit { hits += 1 }
            if i >= snippetWords, tokens[i - snippetWords].hit { hits -= 1 }
            if i >= snippetWords - 1, hits > bestHits {
                bestHits = hits
                best = i - snippetWords + 1
            }
        }
        let window = tokens[best..<(best + snippetWords)]
        let start = window.first!.start
        let end = window.last!.end
        let body = mark(text, tokens: window, from: start, to: end)
        return (best > 0 ? "… " : "") + body + (best + snippetWords < tokens.count ? " …" : "")
    }
}
