/// The options of a text index: how its fields are analyzed and weighed,
/// and BM25's parameters. Parsed from the index spec that
/// cairn_index_create takes, as MongoDB declares text indexes:
///
///     {"keys": {"title": "text", "body": "text"}, "name": "search",
///      "weights": {"title": 3}, "default_language": "english",
///      "analyzer": {"stemming": true, "stopwords": true, "min_token_length": 2},
///      "k1": 1.2, "b": 0.75}
///
/// `stopwords` is true (the language's list), false, or a list of words.
/// Kept in the catalog beside the index definition, in the same shape.
struct TextIndexSpec: Equatable {
    /// Per indexed field, in the order of `keys`: its weight (default 1).
    var weights: [Double]
    var analyzer: AnalyzerOptions
    var k1 = 1.2
    var b = 0.75

    static let maxWeight = 1_000_000.0

    /// Parses the options beside `keys`; `fields` are the indexed paths.
    /// Unknown options are INVALID_ARGUMENT.
    static func parse(fields: [String], options: [(key: String, value: MutableValue)]) throws -> TextIndexSpec {
        var spec = TextIndexSpec(weights: Array(repeating: 1, count: fields.count), analyzer: AnalyzerOptions())
        for (key, value) in options {
            switch key {
            case "weights":
                guard case .object(let members) = value else { throw CairnError.invalidArgument("index spec.weights must be an object like {\"title\": 3}") }
                for (path, weight) in members {
                    guard let position = fields.firstIndex(of: path) else {
                        throw CairnError.invalidArgument("index spec.weights.\(path): not a field of the index")
                    }
                    guard let w = weight.number, w > 0, w <= maxWeight else {
                        throw CairnError.invalidArgument("index spec.weights.\(path) must be a number in (0, \(Int(maxWeight))]")
                    }
                    spec.weights[position] = w
                }
            case "default_language", "language":
                spec.analyzer.language = try AnalyzerOptions.language(value, at: "index spec.\(key)")
            case "analyzer":
                try spec.analyzer.parse(value, at: "index spec.analyzer")
            case "k1":
                guard let k1 = value.number, k1 >= 0, k1 <= 100 else { throw CairnError.invalidArgument("index spec.k1 must be a number in [0, 100]") }
                spec.k1 = k1
            case "b":
                guard let b = value.number, b >= 0, b <= 1 else { throw CairnError.invalidArgument("index spec.b must be a number in [0, 1]") }
                spec.b = b
            default:
                throw CairnError.invalidArgument("index spec.\(key): unknown option of a text index (known: keys, name, weights, default_language, analyzer, k1, b)")
            }
        }
        return spec
    }

    /// The options as the spec and the catalog hold them.
    func options(fields: [String]) -> [(key: String, value: MutableValue)] {
        [("weights", .object(zip(fields, weights).map { ($0, .double($1)) })),
         ("default_language", .string(Array(analyzer.language.utf8))),
         ("analyzer", analyzer.value), ("k1", .double(k1)), ("b", .double(b))]
    }

    init(weights: [Double], analyzer: AnalyzerOptions) {
        self.weights = weights
        self.analyzer = analyzer
    }

    init(catalogValue: MutableValue, fields: [String]) throws {
        guard case .object(let members) = catalogValue else { throw CairnError.corruption("catalog: damaged text index options") }
        do {
            self = try TextIndexSpec.parse(fields: fields, options: members)
        } catch let error as CairnError where error.code == .invalidArgument {
            throw CairnError.corruption("catalog: damaged text index options (\(error.message))")
        }
    }
}

extension MutableValue {
    /// The value as a Double when it is a number.
    var number: Double? {
        switch self {
        case .int(let n): return Double(n)
        case .double(let x): return x.isFinite ? x : nil
        default: return nil
        }
    }
}
