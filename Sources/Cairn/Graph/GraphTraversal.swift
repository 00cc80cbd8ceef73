/// Traversal from a start vertex, breadth-first or depth-first (pre-order),
/// along out-, in- or any edges, with label, edge and vertex filters.
///
/// Uniqueness decides what a walk may repeat, and so why every walk ends:
/// - "vertex": each vertex is reached once (the first path to it, in
///   visiting order); at most every vertex and edge is looked at once.
/// - "edge": a path never takes the same edge twice, so it may revisit
///   vertices; a path is at most as long as the graph has edges, and
///   max_depth usually bounds it far sooner.
/// Either way the memory budget and the interrupt bound what is left.
///
/// A vertex that fails the vertex filter is neither output nor expanded;
/// the start vertex is not filtered. Vertices are output at depths in
/// [min_depth, max_depth], in visiting order; neighbours are visited in
/// adjacency index order (label, vertex key, edge key), outbound first.
struct GraphTraversal {
    /// One step of the walk: a vertex reached by an edge from a parent.
    private struct Node {
        var vertex: Int32      // into `vertexKeys`
        var parent: Int32      // into `nodes`; -1 for the start
        var edge: [UInt8]      // the edge that reached it; empty for the start
        var depth: Int32
    }

    let graph: GraphReader
    let query: GraphQuery
    private var vertexKeys: [[UInt8]] = []
    /// EngineKey hashes the bytes in one call (a [UInt8] key hashes byte by byte).
    private var vertexIndex: [EngineKey: Int32] = [:]
    private var nodes: [Node] = []
    private var rows: [MutableValue] = []
    private var emitted = 0
    private var steps: [GraphReader.Step] = []

    init(graph: GraphReader, query: GraphQuery) {
        self.graph = graph
        self.query = query
    }

    private mutating func intern(_ key: [UInt8]) throws -> (index: Int32, isNew: Bool) {
        if let index = vertexIndex[EngineKey(key)] { return (index, false) }
        try graph.budget.charge(key.count * 2 + 96)
        guard vertexKeys.count < Int(Int32.max) else { throw CairnError.invalidArgument("graph traverse: more than 2^31 vertices") }
        let index = Int32(vertexKeys.count)
        vertexKeys.append(key)
        vertexIndex[EngineKey(key)] = index
        return (index, true)
    }

    /// Whether the path to `node` already took `edge`.
    private func pathHas(_ edge: [UInt8], upTo node: Int32) -> Bool {
        var at = node
        while at >= 0 {
            if nodes[Int(at)].edge == edge { return true }
            at = nodes[Int(at)].parent
        }
        return false
    }

    /// The node that `step` makes from `parent`, or nil when uniqueness
    /// or the vertex filter rules it out.
    private mutating func child(of parent: Int32, _ step: GraphReader.Step) throws -> Int32? {
        let (vertex, isNew) = try intern(step.vertex)
        if query.edgeUniqueness {
            if pathHas(step.edge, upTo: parent) { return nil }
        } else if !isNew {
            return nil
        }
        if let filter = query.vertexFilter, try !graph.vertexMatches(step.vertex, filter) { return nil }
        try graph.budget.charge(step.edge.count + 64)
        guard nodes.count < Int(Int32.max) else { throw CairnError.invalidArgument("graph traverse: more than 2^31 paths; lower max_depth") }
        nodes.append(Node(vertex: vertex, parent: parent, edge: step.edge, depth: nodes[Int(parent)].depth + 1))
        return Int32(nodes.count - 1)
    }

    private mutating func expand(_ node: Int32) throws -> [GraphReader.Step] {
        steps.removeAll(keepingCapacity: true)
        try graph.steps(of: vertexKeys[Int(nodes[Int(node)].vertex)], query.direction, labels: query.labels,
                        edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
        try graph.budget.charge(GraphReader.frameBytes(steps))
        return steps
    }

    /// Outputs `node` when its depth is in range; false once the limit is reached.
    private mutating func emit(_ node: Int32) throws -> Bool {
        let entry = nodes[Int(node)]
        guard entry.depth >= query.minDepth else { return true }
        emitted += 1
        if !query.countOnly {
            var members: [(key: String, value: MutableValue)] = [
                ("id", try GraphKey.value(of: vertexKeys[Int(entry.vertex)])), ("depth", .int(Int64(entry.depth)))]
            if query.includeVertices { members.append(("vertex", try graph.vertexDocument(vertexKeys[Int(entry.vertex)]) ?? .null)) }
            if query.includeEdges { members.append(("edge", entry.edge.isEmpty ? .null : try graph.edgeDocument(entry.edge) ?? .null)) }
            if query.includePaths {
                var vertices: [MutableValue] = [], edges: [MutableValue] = []
                var at = node
                while at >= 0 {
                    let step = nodes[Int(at)]
                    vertices.append(try GraphKey.value(of: vertexKeys[Int(step.vertex)]))
                    if !step.edge.isEmpty { edges.append(try GraphKey.value(of: step.edge)) }
                    at = step.parent
                }
                members.append(("path", .object([("vertices", .array(vertices.reversed())), ("edges", .array(edges.reversed()))])))
            }
            let row = MutableValue.object(members)
            try graph.budget.charge(row.memorySize + 16)
            rows.append(row)
        }
        return emitted < query.limit
    }

    /// A count_only breadth-first walk with each edge once per path and no
    /// vertex or edge filter counts the children of a node one level above
    /// max_depth without making them.
    private func countsLastLevel(from node: Int32) -> Bool {
        let depth = Int(nodes[Int(node)].depth) + 1
        return query.countOnly && query.edgeUniqueness && query.vertexFilter == nil && query.edgeFilter == nil
            && depth == query.maxDepth && depth >= query.minDepth
    }

    /// The edges of the path to `node`.
    private func edgesOnPath(to node: Int32) -> [[UInt8]] {
        var edges: [[UInt8]] = []
        var at = node
        while at >= 0 {
            if !nodes[Int(at)].edge.isEmpty { edges.append(nodes[Int(at)].edge) }
            at = nodes[Int(at)].parent
        }
        return edges
    }

    mutating func run(from start: [UInt8]) throws -> [MutableValue] {
        let (vertex, _) = try intern(start)
        nodes.append(Node(vertex: vertex, parent: -1, edge: [], depth: 0))
        if query.depthFirst { try depthFirst() } else { try breadthFirst() }
        return query.countOnly ? [.object([("count", .int(Int64(emitted)))])] : rows
    }

    private mutating func breadthFirst() throws {
        var head = 0
        while head < nodes.count {
            let node = Int32(head)
            head += 1
            guard try emit(node) else { return }
            guard Int(nodes[Int(node)].depth) < query.maxDepth else { continue }
            if countsLastLevel(from: node) {
                // Only counted: the paths of the last level need no nodes.
                let path = edgesOnPath(to: node)
                emitted += try graph.countSteps(of: vertexKeys[Int(nodes[Int(node)].vertex)], query.direction, labels: query.labels,
                                                excluding: path)
                if emitted >= query.limit { emitted = query.limit; return }
                continue
            }
            let steps = try expand(node)
            graph.budget.release(GraphReader.frameBytes(steps))  // only the children stay
            for step in steps { _ = try child(of: node, step) }
        }
    }

    private mutating func depthFirst() throws {
        guard try emit(0) else { return }
        guard query.maxDepth > 0 else { return }
        var stack: [(node: Int32, steps: [GraphReader.Step], next: Int)] = [(0, try expand(0), 0)]
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].steps.count else {
                graph.budget.release(GraphReader.frameBytes(stack.removeLast().steps))
                continue
            }
            let step = stack[top].steps[stack[top].next]
            stack[top].next += 1
            guard let node = try child(of: stack[top].node, step) else { continue }
            guard try emit(node) else { return }
            if Int(nodes[Int(node)].depth) < query.maxDepth { stack.append((node, try expand(node), 0)) }
        }
    }
}
