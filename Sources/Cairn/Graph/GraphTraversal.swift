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
///
/// The walk advances as rows are asked for (`nextRow`), so a cursor over a
/// traversal holds the walk's state (its queue or stack, the vertices
/// seen) but never its output.
final class GraphTraversal {
    /// One step of the walk: a vertex reached by an edge from a parent.
    private struct Node {
        var vertex: Int32      // into `vertexKeys`
        var parent: Int32      // into `nodes`; -1 for the start
        var edge: [UInt8]      // the edge that reached it; empty for the start
        var depth: Int32
    }

    let graph: GraphReader
    let query: GraphQuery
    private let start: [UInt8]
    private var vertexKeys: [[UInt8]] = []
    /// EngineKey hashes the bytes in one call (a [UInt8] key hashes byte by byte).
    private var vertexIndex: [EngineKey: Int32] = [:]
    private var nodes: [Node] = []
    private var steps: [GraphReader.Step] = []
    private var started = false
    /// Breadth-first: the next node of `nodes` to visit.
    private var head = 0
    /// Depth-first: the path, each node with its steps and the next one.
    private var stack: [(node: Int32, steps: [GraphReader.Step], next: Int)] = []
    private var emitted = 0
    /// Paths of a count_only walk's last level, counted without nodes.
    private var counted = 0

    init(graph: GraphReader, query: GraphQuery, from start: [UInt8]) {
        self.graph = graph
        self.query = query
        self.start = start
    }

    private func intern(_ key: [UInt8]) throws -> (index: Int32, isNew: Bool) {
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
    private func child(of parent: Int32, _ step: GraphReader.Step) throws -> Int32? {
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

    private func expand(_ node: Int32) throws -> [GraphReader.Step] {
        steps.removeAll(keepingCapacity: true)
        try graph.steps(of: vertexKeys[Int(nodes[Int(node)].vertex)], query.direction, labels: query.labels,
                        edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
        try graph.budget.charge(GraphReader.frameBytes(steps))
        return steps
    }

    /// The output row of `node`.
    private func row(_ node: Int32) throws -> MutableValue {
        let entry = nodes[Int(node)]
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
        return .object(members)
    }

    /// A count_only breadth-first walk with each edge once per path and no
    /// vertex or edge filter counts the children of a node one level above
    /// max_depth without making them.
    private func countsLastLevel(from node: Int32) -> Bool {
        let depth = Int(nodes[Int(node)].depth) + 1
        return query.countOnly && !query.depthFirst && query.edgeUniqueness && query.vertexFilter == nil && query.edgeFilter == nil
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

    /// The next row; nil at the end. With count_only, the one row
    /// {"count": n}, after walking everything.
    func nextRow() throws -> MutableValue? {
        if query.countOnly {
            guard !started else { return nil }
            while emitted + counted < query.limit, try nextNode() != nil { emitted += 1 }
            return .object([("count", .int(Int64(min(emitted + counted, query.limit))))])
        }
        guard emitted < query.limit, let node = try nextNode() else { return nil }
        emitted += 1
        return try row(node)
    }

    private func nextNode() throws -> Int32? {
        if !started {
            started = true
            let (vertex, _) = try intern(start)
            nodes.append(Node(vertex: vertex, parent: -1, edge: [], depth: 0))
            if query.depthFirst {
                if query.maxDepth > 0 { stack.append((0, try expand(0), 0)) }
                if query.minDepth == 0 { return 0 }
            }
        }
        return query.depthFirst ? try nextDepthFirst() : try nextBreadthFirst()
    }

    /// Visits queued nodes, queueing their children, until one is in the
    /// depth range.
    private func nextBreadthFirst() throws -> Int32? {
        while head < nodes.count {
            let node = Int32(head)
            head += 1
            let depth = Int(nodes[Int(node)].depth)
            if depth < query.maxDepth {
                if countsLastLevel(from: node) {
                    // Only counted: the paths of the last level need no nodes.
                    counted += try graph.countSteps(of: vertexKeys[Int(nodes[Int(node)].vertex)], query.direction, labels: query.labels,
                                                    excluding: edgesOnPath(to: node))
                } else {
                    let steps = try expand(node)
                    graph.budget.release(GraphReader.frameBytes(steps))  // only the children stay
                    for step in steps { _ = try child(of: node, step) }
                }
            }
            if depth >= query.minDepth { return node }
        }
        return nil
    }

    /// Takes the next step of the path on the stack, until a new node is
    /// in the depth range (pre-order).
    private func nextDepthFirst() throws -> Int32? {
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].steps.count else {
                graph.budget.release(GraphReader.frameBytes(stack.removeLast().steps))
                continue
            }
            let step = stack[top].steps[stack[top].next]
            stack[top].next += 1
            guard let node = try child(of: stack[top].node, step) else { continue }
            let depth = Int(nodes[Int(node)].depth)
            if depth < query.maxDepth { stack.append((node, try expand(node), 0)) }
            if depth >= query.minDepth { return node }
        }
        return nil
    }
}
