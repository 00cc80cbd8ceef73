#if canImport(Glibc)
import Glibc
#endif

/// The options of a vector index, parsed from the index spec that
/// cairn_index_create takes:
///
///     {"keys": {"embedding": "vector"}, "name": "by_embedding",
///      "dimensions": 384, "metric": "cosine", "M": 16,
///      "ef_construction": 200, "ef": 64,
///      "filter_fields": ["category", "in_stock"], "on_invalid": "skip"}
///
/// `dimensions` is required. `metric` is "cosine" (default), "l2" or
/// "dot". `M` is HNSW's number of links per node above level 0 (level 0
/// keeps 2·M), `ef_construction` the breadth of the search that links a
/// new node, `ef` the default breadth of a query. `filter_fields` are the
/// document fields a search may filter on (as Atlas Vector Search's
/// "filter" fields): their values are kept with each vector so the graph
/// walk tests the filter without reading documents. `on_invalid` says what
/// a document whose field is missing or not a vector of `dimensions`
/// finite numbers does: "skip" leaves it out of the index (default),
/// "reject" fails its write with INVALID_ARGUMENT (a missing field is
/// always skipped). Kept in the catalog beside the definition, in the
/// same shape.
struct VectorIndexSpec: Equatable {
    var dimensions: Int
    var metric: VectorMetric = .cosine
    var m = 16
    var efConstruction = 200
    var ef = 64
    var filterFields: [String] = []
    var rejectInvalid = false

    static let maxDimensions = 4096
    static let maxM = 128
    static let maxEf = 10_000

    /// Level 0 keeps twice as many links as the levels above (HNSW's Mmax0).
    var maxLinks0: Int { 2 * m }

    /// HNSW's level multiplier, 1/ln(M).
    var levelMultiplier: Double { 1 / log(Double(max(m, 2))) }

    /// Parses the options beside `keys`; unknown options are INVALID_ARGUMENT.
    static func parse(options: [(key: String, value: MutableValue)]) throws -> VectorIndexSpec {
        var spec = VectorIndexSpec(dimensions: 0)
        var sawDimensions = false
        func integer(_ value: MutableValue, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
            let n: Int?
            switch value {
            case .int(let v): n = Int(exactly: v)
            case .double(let x): n = x.isFinite && x.rounded() == x ? Int(exactly: x) : nil
            default: n = nil
            }
            guard let n, range.contains(n) else {
                throw CairnError.invalidArgument("index spec.\(key) must be an integer in [\(range.lowerBound), \(range.upperBound)]")
            }
            return n
        }
        for (key, value) in options {
            switch key {
            case "dimensions", "numDimensions":
                spec.dimensions = try integer(value, key, 1...maxDimensions)
                sawDimensions = true
            case "metric", "similarity":
                guard case .string(let utf8) = value else {
                    throw CairnError.invalidArgument("index spec.\(key) must be \"cosine\", \"l2\" or \"dot\"")
                }
                spec.metric = try VectorMetric.parse(String(decoding: utf8, as: UTF8.self), at: "index spec.\(key)")
            case "M", "m":
                spec.m = try integer(value, key, 2...maxM)
            case "ef_construction":
                spec.efConstruction = try integer(value, key, 1...maxEf)
            case "ef":
                spec.ef = try integer(value, key, 1...maxEf)
            case "filter_fields":
                guard case .array(let items) = value else {
                    throw CairnError.invalidArgument("index spec.filter_fields must be an array of field paths")
                }
                for item in items {
                    guard case .string(let utf8) = item else {
                        throw CairnError.invalidArgument("index spec.filter_fields must be an array of field paths")
                    }
                    let path = String(decoding: utf8, as: UTF8.self)
                    try Filter.validateFieldPath(path, at: "index spec.filter_fields")
                    guard !spec.filterFields.contains(path) else {
                        throw CairnError.invalidArgument("index spec.filter_fields: '\(path)' appears twice")
                    }
                    spec.filterFields.append(path)
                }
                guard spec.filterFields.count <= 64 else {
                    throw CairnError.invalidArgument("index spec.filter_fields: at most 64 fields")
                }
            case "on_invalid":
                guard case .string(let utf8) = value, ["skip", "reject"].contains(String(decoding: utf8, as: UTF8.self)) else {
                    throw CairnError.invalidArgument("index spec.on_invalid must be \"skip\" or \"reject\"")
                }
                spec.rejectInvalid = String(decoding: utf8, as: UTF8.self) == "reject"
            default:
                throw CairnError.invalidArgument("index spec.\(key): unknown option of a vector index (known: keys, name, dimensions, metric, M, ef_construction, ef, filter_fields, on_invalid)")
            }
        }
        guard sawDimensions else {
            throw CairnError.invalidArgument("index spec.dimensions is required for a vector index (the length of its vectors, 1 to \(maxDimensions))")
        }
        return spec
    }

    /// The options as the spec and the catalog hold them.
    var options: [(key: String, value: MutableValue)] {
        [("dimensions", .int(Int64(dimensions))), ("metric", .string(Array(metric.name.utf8))),
         ("M", .int(Int64(m))), ("ef_construction", .int(Int64(efConstruction))), ("ef", .int(Int64(ef))),
         ("filter_fields", .array(filterFields.map { .string(Array($0.utf8)) })),
         ("on_invalid", .string(Array((rejectInvalid ? "reject" : "skip").utf8)))]
    }

    init(dimensions: Int) { self.dimensions = dimensions }

    init(catalogValue: MutableValue) throws {
        guard case .object(let members) = catalogValue else { throw CairnError.corruption("catalog: damaged vector index options") }
        do {
            self = try VectorIndexSpec.parse(options: members)
        } catch let error as CairnError where error.code == .invalidArgument {
            throw CairnError.corruption("catalog: damaged vector index options (\(error.message))")
        }
    }
}
