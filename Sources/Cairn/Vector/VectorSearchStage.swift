/// The aggregation stage $vectorSearch, in Atlas Vector Search's shape:
///
///     {"$vectorSearch": {"index": "v_vector", "path": "embedding",
///                        "queryVector": [...], "numCandidates": 100,
///                        "limit": 10, "filter": {...}, "exact": false}}
///
/// It must be the first stage. Its rows are the nearest documents, nearest
/// first, each carrying its score, which `{"$meta": "vectorSearchScore"}`
/// reads in the stages after it (Atlas's score: VectorMetric.score). The
/// score rides in the row as a hidden field (MetaField), which the end of
/// the pipeline removes, so it shows only where $meta puts it.
struct VectorSearchStage {
    var index: String?
    var path: String
    var options: VectorSearchOptions

    /// The hidden field of the score (MetaField, FullText/MetaField.swift).
    static let scoreField = MetaField.vectorSearchScore.hiddenField

    static func parse(_ spec: MutableValue, at here: String) throws -> VectorSearchStage {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        var index: String?, path: String?
        var options = VectorSearchOptions()
        var sawVector = false, sawLimit = false, sawCandidates = false
        for (key, value) in members {
            let encoded = value.encoded()
            try encoded.withUnsafeBytes { raw in
                let member = DocumentValue(raw)
                switch key {
                case "index", "path":
                    guard case .string(let utf8) = value, !utf8.isEmpty else { throw CairnError.invalidArgument("\(here).\(key) must be a non-empty string") }
                    if key == "index" { index = String(decoding: utf8, as: UTF8.self) } else { path = String(decoding: utf8, as: UTF8.self) }
                case "queryVector":
                    options.vector = try VectorSearchOptions.queryVector(member, at: "\(here).queryVector")
                    sawVector = true
                case "limit":
                    options.k = try VectorSearchOptions.integer(member, "\(here).limit", 1...VectorSearchOptions.maxK)
                    sawLimit = true
                case "numCandidates":
                    options.ef = try VectorSearchOptions.integer(member, "\(here).numCandidates", 1...VectorIndexSpec.maxEf)
                    sawCandidates = true
                case "filter":
                    guard member.tag == .object else { throw CairnError.invalidArgument("\(here).filter must be an object") }
                    options.filter = try Filter.parse(document: member, path: "\(here).filter")
                case "exact":
                    guard case .bool(let flag) = value else { throw CairnError.invalidArgument("\(here).exact must be true or false") }
                    options.exact = flag
                default:
                    throw CairnError.invalidArgument("\(here).\(key): unknown field (known: index, path, queryVector, numCandidates, limit, filter, exact)")
                }
            }
        }
        guard let path else { throw CairnError.invalidArgument("\(here).path is required") }
        guard sawVector else { throw CairnError.invalidArgument("\(here).queryVector is required") }
        guard sawLimit else { throw CairnError.invalidArgument("\(here).limit is required") }
        guard sawCandidates || options.exact else { throw CairnError.invalidArgument("\(here).numCandidates is required unless exact is true") }
        if let ef = options.ef, ef < options.k { throw CairnError.invalidArgument("\(here).numCandidates must be at least limit") }
        options.index = index
        return VectorSearchStage(index: index, path: path, options: options)
    }

    /// Whether the stages after $vectorSearch read nothing of a row but its
    /// `_id` and its score: the first is a $project that keeps `_id` (or
    /// not) and computes fields from `_id`, the score's `$meta`, literals
    /// and operators of those only (Atlas's usual
    /// `{"$project": {"_id": 1, "score": {"$meta": "vectorSearchScore"}}}`);
    /// its output is then the same whether it read the whole document or
    /// `{_id, score}`. Anything that binds variables or reads the root is
    /// left to the documents.
    static func needsOnlyID(_ rest: ArraySlice<Pipeline.Stage>) -> Bool {
        guard case .project(let projection)? = rest.first, projection.including, projection.tree.isEmpty else { return false }
        func reads(_ expression: Expression) -> Bool {
            switch expression {
            case .field(let path): return path.first == "_id" || path == [scoreField]
            case .literal: return true
            case .object(let members): return members.allSatisfy { reads($0.value) }
            case .array(let items): return items.allSatisfy(reads)
            case .call(_, let arguments): return arguments.allSatisfy(reads)
            case .branches(let cases, let otherwise):
                return cases.allSatisfy { reads($0.test) && reads($0.then) } && (otherwise.map(reads) ?? true)
            default: return false  // the root, variables, $let, $map, $filter, $reduce, regexes
            }
        }
        return projection.computed.allSatisfy { reads($0.value) }
    }

    /// The rows of the pipeline that starts with this stage over
    /// `collection` (`rest`: the stages after it).
    func open(in environment: PipelineEnvironment, collection name: String, rest: ArraySlice<Pipeline.Stage>) throws -> PipelinePull {
        let transaction = environment.transaction
        var source: PipelinePull = { nil }
        if let info = try transaction.collection(name) {
            let (index, spec) = try transaction.vectorIndex(of: info, named: self.index)
            guard index.fields[0].path == path else {
                throw CairnError.invalidArgument("$vectorSearch.path '\(path)' is not the field of vector index '\(index.name)' ('\(index.fields[0].path)')")
            }
            let hits = try transaction.vectorSearch(info, index: index, spec: spec, options: options)
            let reader = environment.reader
            let prefix = CollectionInfo.documentPrefix(info.id)
            let expiry = DocumentExpiry(info, now: reader.engine.env.nowMillis())
            // Covered rows, as vector_search's (VectorResults): when the next
            // stage keeps only `_id` and values computed from it and the
            // score, a row is {_id, score} from the node record, which that
            // stage turns into what it makes of the whole document.
            let covered = expiry == nil && info.primaryKey == "_id" && VectorSearchStage.needsOnlyID(rest)
            var position = 0
            source = {
                while position < hits.count {
                    let hit = hits[position]
                    position += 1
                    if covered, let id = (try? VectorFilterValues.id(in: hit.filterValues, fields: spec.filterFields)) ?? nil {
                        let value = try id.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
                        return .tree(.object([("_id", value), (VectorSearchStage.scoreField, .double(spec.metric.score(distance: hit.distance)))]))
                    }
                    var row: PipelineRow?
                    _ = try reader.read(prefix + hit.primaryKey) { raw in
                        if let expiry, try expiry.hides(raw) { return }
                        guard case .object(var members) = try MutableValue(DocumentValue(raw)) else { return }
                        members.append((VectorSearchStage.scoreField, .double(spec.metric.score(distance: hit.distance))))
                        row = .tree(.object(members))
                    }
                    if let row { return row }
                }
                return nil
            }
        }
        let pull = try environment.chain(rest, after: source)
        return {
            guard let row = try pull() else { return nil }
            if case .tree(.object(var members)) = row, members.contains(where: { $0.key == VectorSearchStage.scoreField }) {
                members.removeAll { $0.key == VectorSearchStage.scoreField }
                return .tree(.object(members))
            }
            return row
        }
    }
}
