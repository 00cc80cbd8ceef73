/// The options of a vector search (cairn_vector_search):
///
///     {"vector": [0.1, ...] or {"$binary": {...,"subType": "09"}},
///      "k": 10, "ef": 64, "filter": {"category": "books"},
///      "exact": false, "include_scores": true, "index": "by_embedding",
///      "projection": {"_id": 1, "title": 1}}
///
/// `k` (1 to 10,000) results, nearest first; `ef` the walk's breadth
/// (default the index's; at least k is used); `filter` a query filter on
/// the index's filter_fields; `exact` compares the query with every vector
/// (ground truth, small collections); `include_scores` adds `_distance`
/// and `_score` (VectorMetric) to each document; `index` names the vector
/// index when the collection has several; `projection` the fields each
/// document keeps (cairn_find()'s projections; the scores are added after
/// it), so a search that needs only ids or titles does not carry every
/// stored vector back across the ABI.
struct VectorSearchOptions {
    var vector: [Float] = []
    var k = 10
    var ef: Int?
    var filter: Filter?
    var exact = false
    var includeScores = false
    var index: String?
    var projection: Projection?

    static let maxK = 10_000

    static func parse(json: UnsafeRawBufferPointer) throws -> VectorSearchOptions {
        let binary = try DocumentBuilder.document(fromJSON: json, what: "vector search options")
        return try binary.withUnsafeBytes { try parse(DocumentValue($0)) }
    }

    static func parse(_ value: DocumentValue) throws -> VectorSearchOptions {
        var options = VectorSearchOptions()
        var vectorValue: [UInt8]?
        for (key, member) in try value.members() {
            switch key {
            case "vector": vectorValue = Array(member.bytes)
            case "k", "limit": options.k = try integer(member, "vector search options.\(key)", 1...maxK)
            case "ef", "numCandidates": options.ef = try integer(member, "vector search options.\(key)", 1...VectorIndexSpec.maxEf)
            case "filter":
                guard member.tag == .object else { throw CairnError.invalidArgument("vector search options.filter must be an object") }
                options.filter = try Filter.parse(document: member, path: "filter")
            case "exact", "include_scores":
                guard case .bool(let flag) = try member.kind() else {
                    throw CairnError.invalidArgument("vector search options.\(key) must be true or false")
                }
                if key == "exact" { options.exact = flag } else { options.includeScores = flag }
            case "index":
                guard case .string(let utf8) = try member.kind() else {
                    throw CairnError.invalidArgument("vector search options.index must be an index name")
                }
                options.index = String(decoding: utf8, as: UTF8.self)
            case "projection":
                let projection = try Projection.parse(member, what: "vector search options.projection")
                guard projection.textScoreFields.isEmpty else {
                    throw CairnError.invalidArgument("vector search options.projection: {\"$meta\": \"textScore\"} belongs to text searches; include_scores adds the vector scores")
                }
                options.projection = projection
            default:
                throw CairnError.invalidArgument("vector search options.\(key): unknown option (known: vector, k, ef, filter, exact, include_scores, index, projection)")
            }
        }
        guard let vectorValue else { throw CairnError.invalidArgument("vector search options.vector is required") }
        options.vector = try vectorValue.withUnsafeBytes { try queryVector(DocumentValue($0), at: "vector search options.vector") }
        return options
    }

    /// A query vector of any length (checked against the index later).
    static func queryVector(_ value: DocumentValue, at here: String) throws -> [Float] {
        let count: Int
        switch try value.kind() {
        case .array(let n): count = n
        case .binary(let bytes, _): count = bytes.count >= 2 ? (bytes.count - 2) / 4 : 0
        default: throw CairnError.invalidArgument("\(here) must be an array of numbers or a float32 binary vector (subType 09)")
        }
        switch try VectorValue.decode(value, dimensions: count) {
        case .vector(let v):
            guard !v.isEmpty else { throw CairnError.invalidArgument("\(here) is empty") }
            return v
        case .invalid(let problem): throw CairnError.invalidArgument("\(here) \(problem)")
        case .missing: throw CairnError.invalidArgument("\(here) is required")
        }
    }

    static func integer(_ value: DocumentValue, _ here: String, _ range: ClosedRange<Int>) throws -> Int {
        let n: Int?
        switch try value.kind() {
        case .int(let v): n = Int(exactly: v)
        case .double(let x): n = x.isFinite && x.rounded() == x && abs(x) < 1e18 ? Int(exactly: x) : nil
        default: n = nil
        }
        guard let n, range.contains(n) else {
            throw CairnError.invalidArgument("\(here) must be an integer in [\(range.lowerBound), \(range.upperBound)]")
        }
        return n
    }
}
