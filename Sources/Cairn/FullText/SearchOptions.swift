/// The options of a search call (cairn_search):
///
///     {"index": "name", "fields": ["title"], "weights": {"title": 3},
///      "filter": {...}, "limit": 10, "skip": 0, "min_score": 0.5,
///      "highlight": true or {"pre", "post", "snippet_words"},
///      "projection": {...}}
struct SearchOptions {
    var index: String?
    var fields: [String]?
    var weights: [String: Double] = [:]
    var filter: Filter?
    var limit = 10
    var skip = 0
    var minScore: Double?
    var highlight: HighlightOptions?
    var projection: Projection?

    static let maxLimit = 100_000

    static func parse(json: UnsafeRawBufferPointer) throws -> SearchOptions {
        var options = SearchOptions()
        guard json.count > 0 else { return options }
        let binary = try DocumentBuilder.document(fromJSON: json, what: "search options")
        try binary.withUnsafeBytes { raw in
            let document = DocumentValue(raw)
            guard document.tag == .object else { throw CairnError.invalidArgument("search options must be a JSON object") }
            for (key, value) in try document.members() {
                switch key {
                case "filter":
                    options.filter = try Filter.parse(document: value, path: "search options.filter")
                case "projection":
                    options.projection = try Projection.parse(value)
                default:
                    try options.set(key, try MutableValue(value))
                }
            }
        }
        return options
    }

    private mutating func set(_ key: String, _ value: MutableValue) throws {
        let at = "search options.\(key)"
        switch (key, value) {
        case ("index", .string(let utf8)):
            index = String(decoding: utf8, as: UTF8.self)
        case ("fields", .array(let list)):
            fields = try list.map { item in
                guard case .string(let utf8) = item else { throw CairnError.invalidArgument("\(at) must be an array of field paths") }
                return String(decoding: utf8, as: UTF8.self)
            }
        case ("weights", .object(let members)):
            for (path, weight) in members {
                guard let w = weight.number, w > 0, w <= TextIndexSpec.maxWeight else {
                    throw CairnError.invalidArgument("\(at).\(path) must be a number in (0, \(Int(TextIndexSpec.maxWeight))]")
                }
                weights[path] = w
            }
        case ("limit", let n), ("skip", let n):
            guard let count = n.number, count >= 0, count == count.rounded(), count <= Double(SearchOptions.maxLimit) else {
                throw CairnError.invalidArgument("\(at) must be an integer in [0, \(SearchOptions.maxLimit)]")
            }
            if key == "limit" { limit = count == 0 ? 10 : Int(count) } else { skip = Int(count) }
        case ("min_score", let n):
            guard let score = n.number else { throw CairnError.invalidArgument("\(at) must be a number") }
            minScore = score
        case ("highlight", _):
            highlight = try HighlightOptions.parse(value, at: at)
        default:
            throw CairnError.invalidArgument("\(at): unknown option or wrong type (known: index (string), fields (array), weights (object), filter, limit, skip, min_score, highlight, projection)")
        }
    }
}
