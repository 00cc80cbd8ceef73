/// Hybrid search: a text ranking (the full-text layer's BM25 search) and a
/// vector ranking (the nearest neighbours) of one collection, fused into
/// one (RankFusion), at one snapshot.
///
///     {"text": {"query": "red shoes", "index": ..., "fields": [...],
///               "weights": {...}, "filter": {...}},
///      "vector": [...], "vector_options": {"ef": 100, "filter": {...},
///                                         "index": ..., "exact": false},
///      "limit": 10, "candidates": 100,
///      "fusion": "rrf" or "weighted", "rrf_k": 60,
///      "weights": {"text": 1, "vector": 1}}
///
/// Each ranking takes `candidates` hits (default max(limit, 50)); the
/// fused list keeps `limit` (default 10). The text options are
/// cairn_search's (its "limit" and "skip" are set by the fusion); the
/// vector options are cairn_vector_search's without vector and k. Each
/// result is {"document": ..., "score": fused, "text_score": BM25 or
/// null, "vector_score": Atlas's vector score or null}, best first.
struct HybridSearchOptions {
    var query: String
    var text = SearchOptions()
    var vector = VectorSearchOptions()
    var limit = 10
    var candidates: Int?
    var fusion = RankFusion.reciprocalRank(k: RankFusion.defaultK)
    var weights = (text: 1.0, vector: 1.0)

    static func parse(json: UnsafeRawBufferPointer) throws -> HybridSearchOptions {
        let binary = try DocumentBuilder.document(fromJSON: json, what: "hybrid search options")
        return try binary.withUnsafeBytes { raw in
            let here = "hybrid search options"
            var query: String?
            var textJSON: [UInt8] = []
            var vectorValue: [UInt8]?
            var vectorOptions: [(key: String, value: MutableValue)] = []
            var limit = 10, candidates: Int?
            var method = "rrf", rrfK = RankFusion.defaultK
            var weights = (text: 1.0, vector: 1.0)
            for (key, member) in try DocumentValue(raw).members() {
                switch key {
                case "text":
                    guard case .object(var members) = try MutableValue(member) else {
                        throw CairnError.invalidArgument("\(here).text must be an object with a \"query\"")
                    }
                    guard let position = members.firstIndex(where: { $0.key == "query" }), case .string(let utf8) = members[position].value else {
                        throw CairnError.invalidArgument("\(here).text.query must be a string")
                    }
                    query = String(decoding: utf8, as: UTF8.self)
                    members.remove(at: position)
                    for banned in ["limit", "skip", "projection", "highlight"] where members.contains(where: { $0.key == banned }) {
                        throw CairnError.invalidArgument("\(here).text.\(banned): not an option of a hybrid search's text part")
                    }
                    try MutableValue.object(members).encoded().withUnsafeBytes { textJSON = Array(try DocumentValue($0).json().utf8) }
                case "vector":
                    vectorValue = Array(member.bytes)
                case "vector_options":
                    guard case .object(let members) = try MutableValue(member) else {
                        throw CairnError.invalidArgument("\(here).vector_options must be an object")
                    }
                    for banned in ["vector", "k", "limit", "include_scores", "projection"] where members.contains(where: { $0.key == banned }) {
                        throw CairnError.invalidArgument("\(here).vector_options.\(banned): set by the hybrid search")
                    }
                    vectorOptions = members
                case "limit":
                    limit = try VectorSearchOptions.integer(member, "\(here).limit", 1...VectorSearchOptions.maxK)
                case "candidates":
                    candidates = try VectorSearchOptions.integer(member, "\(here).candidates", 1...VectorSearchOptions.maxK)
                case "fusion":
                    guard case .string(let utf8) = try member.kind(), ["rrf", "weighted"].contains(String(decoding: utf8, as: UTF8.self)) else {
                        throw CairnError.invalidArgument("\(here).fusion must be \"rrf\" or \"weighted\"")
                    }
                    method = String(decoding: utf8, as: UTF8.self)
                case "rrf_k":
                    guard case let n? = try MutableValue(member).number, n >= 0, n <= 1_000_000 else {
                        throw CairnError.invalidArgument("\(here).rrf_k must be a number in [0, 1000000]")
                    }
                    rrfK = n
                case "weights":
                    guard case .object(let members) = try MutableValue(member) else {
                        throw CairnError.invalidArgument("\(here).weights must be {\"text\": w, \"vector\": w}")
                    }
                    for (name, value) in members {
                        guard let w = value.number, w >= 0, w <= 1_000_000 else {
                            throw CairnError.invalidArgument("\(here).weights.\(name) must be a number in [0, 1000000]")
                        }
                        switch name {
                        case "text": weights.text = w
                        case "vector": weights.vector = w
                        default: throw CairnError.invalidArgument("\(here).weights.\(name): unknown (known: text, vector)")
                        }
                    }
                default:
                    throw CairnError.invalidArgument("\(here).\(key): unknown option (known: text, vector, vector_options, limit, candidates, fusion, rrf_k, weights)")
                }
            }
            guard let query else { throw CairnError.invalidArgument("\(here).text is required: {\"query\": \"...\"}") }
            guard let vectorValue else { throw CairnError.invalidArgument("\(here).vector is required") }
            var options = HybridSearchOptions(query: query)
            options.limit = limit
            options.candidates = candidates
            options.fusion = method == "rrf" ? .reciprocalRank(k: rrfK) : .weightedSum
            options.weights = weights
            options.text = try textJSON.withUnsafeBytes { try SearchOptions.parse(json: $0) }
            // The vector part through the vector search's own parser.
            let vector = try vectorValue.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
            let vectorDocument = MutableValue.object(vectorOptions + [("vector", vector)]).encoded()
            options.vector = try vectorDocument.withUnsafeBytes { try VectorSearchOptions.parse(DocumentValue($0)) }
            return options
        }
    }
}

extension Transaction {
    /// The fused hits of a hybrid search, best first, as result JSON.
    func hybridSearch(in name: String, options: HybridSearchOptions) throws -> [[UInt8]] {
        let query = try TextQuery.parse(options.query)
        guard let info = try collection(name) else { return [] }
        let candidates = options.candidates ?? max(options.limit, 50)

        var text = options.text
        text.limit = candidates
        text.skip = 0
        let (textHits, _) = try searchHits(info, query: query, options: text)
        var textRanking: [(primaryKey: [UInt8], score: Double)] = []
        var documents: [EngineKey: [UInt8]] = [:]
        for hit in textHits {
            let key = try hit.document.withUnsafeBytes { try primaryKeyBytes(of: DocumentValue($0), in: info) }
            textRanking.append((key, hit.score))
            documents[EngineKey(key)] = hit.document
        }

        var vector = options.vector
        vector.k = candidates
        let (index, spec) = try vectorIndex(of: info, named: vector.index)
        let vectorRanking = try vectorSearch(info, index: index, spec: spec, options: vector)
            .map { (primaryKey: $0.primaryKey, score: spec.metric.score(distance: $0.distance)) }

        let fused = RankFusion.fuse([textRanking, vectorRanking], weights: [options.weights.text, options.weights.vector], method: options.fusion)
        var out: [[UInt8]] = []
        let prefix = CollectionInfo.documentPrefix(info.id)
        for entry in fused.prefix(options.limit) {
            var stored = documents[EngineKey(entry.primaryKey)]
            if stored == nil { _ = try read(prefix + entry.primaryKey) { stored = Array($0) } }
            guard let stored else { continue }
            let document = try stored.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
            let result = MutableValue.object([
                ("document", document), ("score", .double(entry.score)),
                ("text_score", entry.scores[0].map { .double($0) } ?? .null),
                ("vector_score", entry.scores[1].map { .double($0) } ?? .null),
            ]).encoded()
            var json: [UInt8] = []
            try result.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &json) }
            out.append(json)
        }
        return out
    }

    /// The IndexKey bytes of a document's primary key (its key's suffix).
    func primaryKeyBytes(of document: DocumentValue, in info: CollectionInfo) throws -> [UInt8] {
        var value = document
        for component in info.primaryKeyPath {
            guard let child = try value.field(component) else {
                throw CairnError.corruption("collection '\(info.name)': a document without its primary key")
            }
            value = child
        }
        var key: [UInt8] = []
        try IndexKey.append(value, to: &key)
        return key
    }
}

extension Scope {
    /// A cursor over the fused results of a text search and a vector
    /// search of `collection` (HybridSearchOptions), best first.
    public func hybridSearch(collection: String, optionsJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        try CollectionInfo.validate(name: collection)
        let options = try HybridSearchOptions.parse(json: optionsJSON)
        let results = try withTransaction(writing: false) { try $0.hybridSearch(in: collection, options: options) }
        var next = 0
        return DocumentCursor(database: database) { out in
            guard next < results.count else { return false }
            out.append(contentsOf: results[next])
            next += 1
            return true
        }
    }
}
