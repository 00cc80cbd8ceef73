/// The graph layer's reads and writes in a transaction.
extension Transaction {
    /// The declaration of graph `name`; nil when none.
    func graph(_ name: String) throws -> GraphDefinition? {
        var definition: GraphDefinition?
        _ = try read(GraphDefinition.key(name)) { definition = try GraphDefinition.decode(name: name, $0) }
        return definition
    }

    /// Every declared graph, by name.
    func graphs() throws -> [GraphDefinition] {
        let prefix = [Namespace.graphs.rawValue]
        let scan = try self.scan(lower: prefix, upper: Namespace.graphs.upperBound)
        var result: [GraphDefinition] = []
        while try scan.next() {
            let name = String(decoding: scan.key[1...], as: UTF8.self)
            result.append(try GraphDefinition.decode(name: name, scan.value))
        }
        return result
    }

    /// A traversal that walks as its rows are asked for (a cursor's).
    func graphTraversal(_ definition: GraphDefinition, _ query: GraphQuery) throws -> GraphTraversal {
        let graph = try GraphReader(transaction: self, definition: definition, memoryLimit: query.memoryLimit, operation: "traverse")
        return GraphTraversal(graph: graph, query: query, from: query.start!)  // Safe: GraphQuery.parse requires start.
    }

    /// Runs a graph query and returns its rows.
    func graphRows(_ definition: GraphDefinition, _ query: GraphQuery) throws -> [MutableValue] {
        let graph = try GraphReader(transaction: self, definition: definition, memoryLimit: query.memoryLimit,
                                    operation: query.operation.rawValue)
        switch query.operation {
        case .traverse:
            let traversal = GraphTraversal(graph: graph, query: query, from: query.start!)  // Safe: GraphQuery.parse requires start.
            var rows: [MutableValue] = []
            while let row = try traversal.nextRow() { rows.append(row) }
            return rows
        case .shortestPath:
            return try ShortestPath(graph: graph, query: query).run().map { try $0.row(weighted: query.weighted) }
        case .allPaths:
            return try AllPaths(graph: graph, query: query).run().map { try $0.row(weighted: false) }
        case .components:
            let snapshot = try GraphSnapshot(graph: graph, query: query)
            let groups = query.strong ? try Components.strong(snapshot, graph: graph) : try Components.weak(snapshot, graph: graph)
            var rows: [MutableValue] = []
            for (number, group) in groups.prefix(query.limit).enumerated() {
                let vertices = try group.map { try GraphKey.value(of: snapshot.keys[$0]) }
                rows.append(.object([("component", .int(Int64(number))), ("size", .int(Int64(group.count))), ("vertices", .array(vertices))]))
            }
            return rows
        case .hasCycle:
            guard let cycle = try Cycles.find(in: graph, query: query) else { return [.object([("has_cycle", .bool(false)), ("cycle", .null)])] }
            return [.object([("has_cycle", .bool(true)), ("cycle", .array(try cycle.map(GraphKey.value)))])]
        case .cycles:
            let snapshot = try GraphSnapshot(graph: graph, query: query)
            let cycles = try Cycles.all(snapshot, graph: graph, maxLength: query.maxLength!, limit: query.limit)  // Safe: parse requires it.
            return try cycles.map { cycle in
                .object([("vertices", .array(try cycle.map { try GraphKey.value(of: snapshot.keys[$0]) })), ("length", .int(Int64(cycle.count)))])
            }
        case .degree:
            let vertex = query.start!  // Safe: parse requires vertex.
            var steps: [GraphReader.Step] = []
            try graph.steps(of: vertex, .outbound, labels: query.labels, edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
            let out = steps.count
            steps.removeAll()
            try graph.steps(of: vertex, .inbound, labels: query.labels, edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
            return [.object([("id", try GraphKey.value(of: vertex)), ("out", .int(Int64(out))), ("in", .int(Int64(steps.count))),
                             ("degree", .int(Int64(out + steps.count)))])]
        case .neighbors:
            let vertex = query.start!  // Safe: parse requires vertex.
            var steps: [GraphReader.Step] = []
            try graph.steps(of: vertex, query.direction, labels: query.labels, edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
            var seen: Set<EngineKey> = []
            var rows: [MutableValue] = []
            for step in steps where seen.insert(EngineKey(step.vertex)).inserted {
                if let filter = query.vertexFilter, try !graph.vertexMatches(step.vertex, filter) { continue }
                var members: [(key: String, value: MutableValue)] = [("id", try GraphKey.value(of: step.vertex))]
                if query.includeVertices { members.append(("vertex", try graph.vertexDocument(step.vertex) ?? .null)) }
                let row = MutableValue.object(members)
                try graph.budget.charge(row.memorySize + step.vertex.count + 64)
                rows.append(row)
                if rows.count >= query.limit { break }
            }
            return rows
        }
    }

    /// Deletes vertex `id` from every vertex collection of the graph and
    /// every edge from or to it; returns (vertices, edges) deleted.
    func deleteVertex(_ definition: GraphDefinition, id: [UInt8]) throws -> (vertices: Int, edges: Int) {
        let operand = Filter.Operand(bytes: id)
        var vertices = 0, edges = 0
        for name in definition.vertices {
            guard let info = try collection(name) else { continue }
            vertices += try deleteDocuments(in: name, filter: .field(path: info.primaryKeyPath, predicate: .equals(operand)), many: false).count
        }
        if try collection(definition.edges) != nil {
            for field in ["_from", "_to"] {
                edges += try deleteDocuments(in: definition.edges, filter: .field(path: [field], predicate: .equals(operand)), many: true).count
            }
        }
        return (vertices, edges)
    }
}

/// The adjacency lists one transaction's writes change (AdjacencyCache):
/// the change it began at its first adjacency write, and the lists to
/// remove once its commit is visible.
final class AdjacencyWrites {
    let change: AdjacencyCache.Change
    /// The lists' prefixes (0x04 | collection | index | key(vertex)).
    var prefixes: [[UInt8]] = []
    /// Set when the prefixes are too many to keep (or an entry could not
    /// be read): every list goes.
    var all = false

    /// Beyond this many prefixes a commit removes every list: a bulk load
    /// would otherwise keep one array per edge end until it commits.
    static let maxPrefixes = 65_536

    init(change: AdjacencyCache.Change) { self.change = change }
}

extension Transaction {
    /// Notes a write (put or delete) of `entry`, an entry of a graph's
    /// adjacency index (Transaction.writeDocument). The first begins the
    /// transaction's change of the cache, before its commit can be
    /// visible; once it is, the hook removes the lists of the vertices
    /// written and ends the change. A transaction that never commits ends
    /// it when it drops its hooks.
    func noteAdjacencyWrite(_ entry: [UInt8]) {
        let cache = database.graphs.adjacency
        guard cache.isOn else { return }
        let writes: AdjacencyWrites
        if let known = adjacencyWrites {
            writes = known
        } else {
            writes = AdjacencyWrites(change: cache.beginChange())
            adjacencyWrites = writes
            // Captures the engine and the writes, never the transaction
            // (which holds the hook).
            let engine = self.engine
            afterCommit.append {
                let sequence = (try? engine.readView().sequence) ?? UInt64.max
                writes.change.end(removing: writes.all ? nil : writes.prefixes, sequence: sequence)
            }
        }
        guard !writes.all else { return }
        let prefixLength = IndexDefinition.entryPrefixLength
        let vertexLength = try? entry.withUnsafeBytes { try GraphKey.length(of: $0, at: prefixLength) }
        guard let vertexLength, writes.prefixes.count < AdjacencyWrites.maxPrefixes else {
            writes.all = true
            writes.prefixes = []
            return
        }
        writes.prefixes.append(Array(entry[0..<(prefixLength + vertexLength)]))
    }
}
