/// The `$search` aggregation stage, in Atlas Search's shape, with its
/// `text` and `phrase` operators:
///
///     {"$search": {"index": "name",
///                  "text": {"query": "words" or ["words", ...],
///                           "path": "title" or ["title", "body"] or {"wildcard": "*"},
///                           "fuzzy": {"maxEdits": 1 or 2}},
///                  "highlight": {"path": ...}}}
///     {"$search": {"phrase": {"query": "exact words", "path": ...}}}
///
/// It must be the first stage. Its output is the matching documents, best
/// first, each carrying `{"$meta": "searchScore"}` (and with "highlight",
/// `{"$meta": "searchHighlights"}`: the marked fields, as cairn_search's
/// "highlights"). The query text is plain words (no operators), as Atlas's
/// text operator takes it.
struct SearchStage {
    var index: String?
    var query: TextQuery
    var fields: [String]?
    var highlight: HighlightOptions?

    static func parse(_ spec: MutableValue, at here: String) throws -> SearchStage {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        var index: String?
        var query: TextQuery?
        var fields: [String]?
        var highlight: HighlightOptions?
        var highlightPaths: [String]?
        for (key, value) in members {
            switch (key, value) {
            case ("index", .string(let utf8)):
                index = String(decoding: utf8, as: UTF8.self)
            case ("text", .object(let options)), ("phrase", .object(let options)):
                guard query == nil else { throw CairnError.invalidArgument("\(here): one operator only (text or phrase)") }
                var words: [String] = []
                var maxEdits: Int?
                for (name, option) in options {
                    switch (name, option) {
                    case ("query", .string(let utf8)):
                        words = [String(decoding: utf8, as: UTF8.self)]
                    case ("query", .array(let list)):
                        words = try list.map {
                            guard case .string(let utf8) = $0 else { throw CairnError.invalidArgument("\(here).\(key).query must hold strings") }
                            return String(decoding: utf8, as: UTF8.self)
                        }
                    case ("path", _):
                        fields = try paths(option, at: "\(here).\(key).path")
                    case ("fuzzy", .object(let fuzzy)) where key == "text":
                        maxEdits = 2
                        for (setting, amount) in fuzzy {
                            switch setting {
                            case "maxEdits":
                                guard let edits = amount.number, edits == 1 || edits == 2 else {
                                    throw CairnError.invalidArgument("\(here).text.fuzzy.maxEdits must be 1 or 2")
                                }
                                maxEdits = Int(edits)
                            case "maxExpansions", "prefixLength":
                                continue
                            default:
                                throw CairnError.invalidArgument("\(here).text.fuzzy.\(setting): unknown option (known: maxEdits)")
                            }
                        }
                    default:
                        throw CairnError.invalidArgument("\(here).\(key).\(name): unknown option or wrong type (known: query, path\(key == "text" ? ", fuzzy" : ""))")
                    }
                }
                guard !words.isEmpty else { throw CairnError.invalidArgument("\(here).\(key).query is required") }
                if key == "phrase" {
                    query = TextQuery(clauses: words.map { .init(occur: .should, field: nil, kind: .phrase($0)) })
                } else {
                    // Plain words: split on spaces, no query operators.
                    let split = words.flatMap { $0.split(whereSeparator: { $0.isWhitespace }).map(String.init) }
                    guard !split.isEmpty, split.count <= TextQuery.maxClauses else {
                        throw CairnError.invalidArgument("\(here).text.query must hold 1 to \(TextQuery.maxClauses) words")
                    }
                    query = TextQuery(clauses: split.map { word in
                        .init(occur: .should, field: nil, kind: maxEdits.map { .fuzzy(word, maxEdits: $0) } ?? .word(word))
                    })
                }
            case ("highlight", .object(let options)):
                highlight = HighlightOptions()
                for (name, option) in options {
                    guard name == "path" else { throw CairnError.invalidArgument("\(here).highlight.\(name): unknown option (known: path)") }
                    highlightPaths = try paths(option, at: "\(here).highlight.path")
                }
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown option or wrong type (known: index, text, phrase, highlight)")
            }
        }
        guard let query else { throw CairnError.invalidArgument("\(here) needs an operator: text or phrase") }
        var stage = SearchStage(index: index, query: query, fields: fields, highlight: highlight)
        stage.highlightPaths = highlightPaths
        return stage
    }

    /// The fields highlighted (default: those searched).
    var highlightPaths: [String]?

    /// nil for {"wildcard": "*"}: every field of the index.
    private static func paths(_ value: MutableValue, at here: String) throws -> [String]? {
        switch value {
        case .string(let utf8): return [String(decoding: utf8, as: UTF8.self)]
        case .array(let list):
            return try list.map {
                guard case .string(let utf8) = $0 else { throw CairnError.invalidArgument("\(here) must hold field paths") }
                return String(decoding: utf8, as: UTF8.self)
            }
        case .object(let members) where members.count == 1 && members[0].key == "wildcard":
            return nil
        default:
            throw CairnError.invalidArgument("\(here) must be a field path, an array of them, or {\"wildcard\": \"*\"}")
        }
    }

    /// The stage's rows: the matching documents, best first, each with its
    /// hidden score (and highlights).
    func rows(reader: TransactionReader, collection: CollectionInfo) throws -> PipelinePull {
        let (index, spec) = try collection.textIndex(named: self.index)
        let search = try TextSearch(reader: reader, collection: collection, index: index, spec: spec, fields: fields, weights: [:])
        let ordered = try search.scores(query).sorted { $0.score != $1.score ? $0.score > $1.score : $0.docnum < $1.docnum }
        let mask = try search.fieldsMask(highlightPaths ?? fields)
        let expiry = DocumentExpiry(collection, now: reader.engine.env.nowMillis())
        var next = 0
        return {
          while next < ordered.count {
            let entry = ordered[next]
            next += 1
            var document: MutableValue?
            var expired = false
            let key = try search.documentKey(of: entry.docnum)
            _ = try reader.read(key) { raw in
                let stored = DocumentValue(raw)
                if let expiry, try expiry.hides(stored) {
                    expired = true
                    return
                }
                guard case .object(var members) = try MutableValue(stored) else { return }
                members.append((MetaField.searchScore.hiddenField, .double(entry.score)))
                if let highlight {
                    let marked = try highlight.highlight(stored, fields: index.fields, mask: mask, analyzer: search.analyzer, terms: search.matchedTerms)
                    members.append((MetaField.searchHighlights.hiddenField, marked.fields))
                }
                document = .object(members)
            }
            if expired { continue }
            guard let document else {
                throw CairnError.corruption("text index '\(index.name)' of collection '\(collection.name)' names a document that does not exist")
            }
            return .tree(document)
          }
          return nil
        }
    }
}

extension Pipeline {
    /// The pipeline starts with $search or a $match with $text, so its rows
    /// may carry hidden metadata fields for its results to drop.
    var carriesMetadata: Bool {
        switch stages.first {
        case .search?: return true
        case .match(let filter)?: return filter.mentionsText
        default: return false
        }
    }
}
