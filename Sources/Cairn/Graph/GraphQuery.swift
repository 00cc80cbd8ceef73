/// A graph query (cairn_graph_query): one JSON object whose "op" names the
/// operation, with that operation's options.
///
///     {"op": "traverse", "start": id, "direction": "out"|"in"|"any",
///      "order": "bfs"|"dfs", "min_depth": 1, "max_depth": n,
///      "labels": "l" or ["l", ...], "edge_filter": {...},
///      "vertex_filter": {...}, "uniqueness": "vertex"|"edge",
///      "vertices": true, "edges": false, "paths": false,
///      "count_only": false, "limit": n, "memory_limit": bytes}
///     {"op": "shortest_path", "start", "target", "direction", "labels",
///      "edge_filter", "weighted": false, "weight": field, "k": 1}
///     {"op": "all_paths", "start", "target", "max_length": n, ...}
///     {"op": "components", "mode": "weak"|"strong"}
///     {"op": "has_cycle"}, {"op": "cycles", "max_length": n}
///     {"op": "degree", "vertex": id}, {"op": "neighbors", "vertex": id}
///
/// Every operation accepts "labels", "edge_filter" and "memory_limit"; the
/// per-vertex ones also "direction" (default "out").
struct GraphQuery {
    enum Operation: String, CaseIterable {
        case traverse, shortestPath = "shortest_path", allPaths = "all_paths", components
        case hasCycle = "has_cycle", cycles, degree, neighbors
    }

    var operation = Operation.traverse
    var start: [UInt8]?
    var target: [UInt8]?
    var direction = GraphReader.Direction.outbound
    var depthFirst = false
    var minDepth = 1
    var maxDepth = Int.max
    var labels: [[UInt8]]?
    var edgeFilter: Filter?
    var vertexFilter: Filter?
    var edgeUniqueness = false
    var includeVertices = true
    var includeEdges = false
    var includePaths = false
    var countOnly = false
    var limit = Int.max
    var memoryLimit: Int?
    var weighted = false
    var weightField: String?
    var k = 1
    var maxLength: Int?
    var strong = false

    static let maxK = 10_000
    static let maxPathLength = 1_000_000

    static func parse(json: UnsafeRawBufferPointer) throws -> GraphQuery {
        let binary = try DocumentBuilder.document(fromJSON: json, what: "graph query")
        return try binary.withUnsafeBytes { try parse(DocumentValue($0)) }
    }

    private static func bool(_ value: DocumentValue, _ here: String) throws -> Bool {
        guard case .bool(let flag) = try value.kind() else { throw CairnError.invalidArgument("\(here) must be true or false") }
        return flag
    }

    private static func string(_ value: DocumentValue, _ here: String) throws -> String {
        guard case .string(let utf8) = try value.kind() else { throw CairnError.invalidArgument("\(here) must be a string") }
        return String(decoding: utf8, as: UTF8.self)
    }

    private static func vertexKey(_ value: DocumentValue) throws -> [UInt8] {
        var out: [UInt8] = []
        try IndexKey.append(value, to: &out)
        return out
    }

    static func parse(_ value: DocumentValue) throws -> GraphQuery {
        var query = GraphQuery()
        var sawOperation = false
        let integer = VectorSearchOptions.integer
        for (key, member) in try value.members() {
            let here = "graph query.\(key)"
            switch key {
            case "op":
                let name = try string(member, here)
                guard let operation = Operation(rawValue: name) else {
                    throw CairnError.invalidArgument("\(here): unknown operation '\(name)' (known: \(Operation.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                query.operation = operation
                sawOperation = true
            case "start", "vertex": query.start = try vertexKey(member)
            case "target": query.target = try vertexKey(member)
            case "direction":
                let name = try string(member, here)
                guard let direction = GraphReader.Direction(rawValue: name) else {
                    throw CairnError.invalidArgument("\(here) must be \"out\", \"in\" or \"any\"")
                }
                query.direction = direction
            case "order":
                switch try string(member, here) {
                case "bfs": query.depthFirst = false
                case "dfs": query.depthFirst = true
                default: throw CairnError.invalidArgument("\(here) must be \"bfs\" or \"dfs\"")
                }
            case "min_depth": query.minDepth = try integer(member, here, 0...maxPathLength)
            case "max_depth": query.maxDepth = try integer(member, here, 0...maxPathLength)
            case "max_length": query.maxLength = try integer(member, here, 1...maxPathLength)
            case "labels", "label":
                if case .array = try member.kind() {
                    query.labels = try member.elements().map(vertexKey)
                } else {
                    query.labels = [try vertexKey(member)]
                }
                // One scan per label, in label order; the same label twice would list its edges twice.
                query.labels = Array(Set(query.labels!)).sorted { $0.lexicographicallyPrecedes($1) }
            case "edge_filter", "vertex_filter":
                guard member.tag == .object else { throw CairnError.invalidArgument("\(here) must be an object") }
                let filter = try Filter.parse(document: member, path: key)
                if key == "edge_filter" { query.edgeFilter = filter } else { query.vertexFilter = filter }
            case "uniqueness":
                switch try string(member, here) {
                case "vertex": query.edgeUniqueness = false
                case "edge": query.edgeUniqueness = true
                default: throw CairnError.invalidArgument("\(here) must be \"vertex\" (each vertex once) or \"edge\" (each edge once per path)")
                }
            case "vertices": query.includeVertices = try bool(member, here)
            case "edges": query.includeEdges = try bool(member, here)
            case "paths": query.includePaths = try bool(member, here)
            case "count_only": query.countOnly = try bool(member, here)
            case "weighted": query.weighted = try bool(member, here)
            case "weight":
                let field = try string(member, here)
                try Filter.validateFieldPath(field, at: here)
                query.weightField = field
                query.weighted = true
            case "limit": query.limit = try integer(member, here, 1...Int(Int32.max))
            case "k": query.k = try integer(member, here, 1...maxK)
            case "memory_limit": query.memoryLimit = try integer(member, here, 1...(1 << 40))
            case "mode":
                switch try string(member, here) {
                case "weak": query.strong = false
                case "strong": query.strong = true
                default: throw CairnError.invalidArgument("\(here) must be \"weak\" or \"strong\"")
                }
            default:
                throw CairnError.invalidArgument("\(here): unknown option (known: op, start, target, vertex, direction, order, min_depth, max_depth, max_length, labels, edge_filter, vertex_filter, uniqueness, vertices, edges, paths, count_only, weighted, weight, limit, k, memory_limit, mode)")
            }
        }
        guard sawOperation else { throw CairnError.invalidArgument("graph query.op is required") }
        switch query.operation {
        case .traverse, .degree, .neighbors:
            guard query.start != nil else {
                throw CairnError.invalidArgument("graph query.\(query.operation == .traverse ? "start" : "vertex") is required")
            }
        case .shortestPath, .allPaths:
            guard query.start != nil, query.target != nil else { throw CairnError.invalidArgument("graph query: start and target are required") }
            if query.operation == .allPaths && query.maxLength == nil {
                throw CairnError.invalidArgument("graph query.max_length is required for all_paths")
            }
        case .cycles:
            guard query.maxLength != nil else { throw CairnError.invalidArgument("graph query.max_length is required for cycles") }
        case .components, .hasCycle:
            break
        }
        guard query.minDepth <= query.maxDepth else { throw CairnError.invalidArgument("graph query: min_depth is over max_depth") }
        return query
    }
}
