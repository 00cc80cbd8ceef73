/// Shortest paths between two vertices.
///
/// - Unweighted: a bidirectional breadth-first search, expanding the
///   smaller frontier one whole level at a time (out-edges forward from
///   the start, in-edges backward from the target, for "out"), so a pair
///   in a large small-world graph meets after visiting about the square
///   root of what one search would visit. Of equally short paths it gives
///   the one whose meeting vertex was found first.
/// - Weighted: Dijkstra on the weight field (missing: 1); a negative,
///   infinite or non-numeric weight reached is INVALID_ARGUMENT.
/// - k shortest (k > 1): Yen's algorithm over loopless paths, each spur
///   path found by Dijkstra (unit weights when unweighted); ordered by
///   weight, then by length, then by the order found.
struct ShortestPath {
    let graph: GraphReader
    let query: GraphQuery

    private var weightField: String? { query.weighted ? (query.weightField ?? graph.definition.weight) : nil }

    func run() throws -> [GraphPath] {
        guard let start = query.start, let target = query.target else { return [] }
        if query.k == 1 {
            let path = query.weighted ? try dijkstra(from: start, to: target, bannedVertices: [], bannedEdges: [])
                                      : try bidirectional(from: start, to: target)
            return path.map { [$0] } ?? []
        }
        return try yen(from: start, to: target)
    }

    private func reversed(_ direction: GraphReader.Direction) -> GraphReader.Direction {
        switch direction {
        case .outbound: return .inbound
        case .inbound: return .outbound
        case .any: return .any
        }
    }

    /// Bidirectional BFS. Every vertex reached is numbered once (a
    /// VertexTable) with the side that reached it and its parent toward
    /// that side's end, and edges are read borrowed (GraphReader.forEachStep),
    /// so an edge to a vertex already met costs a hash probe and no
    /// allocation. The search stops at the first edge that joins the two
    /// sides: every meeting found while expanding one level gives a path of
    /// the same length (each side's depth so far is a lower bound), so the
    /// rest of the level cannot shorten it.
    private func bidirectional(from start: [UInt8], to target: [UInt8]) throws -> GraphPath? {
        if start == target { return GraphPath(vertices: [start], edges: [], weights: []) }
        let reached = ReachedVertices()
        try start.withUnsafeBytes { _ = try reached.add($0, fromStart: true, parent: -1, edge: UnsafeRawBufferPointer(start: nil, count: 0)) }
        try target.withUnsafeBytes { _ = try reached.add($0, fromStart: false, parent: -1, edge: UnsafeRawBufferPointer(start: nil, count: 0)) }
        var forwardFrontier: [Int32] = [0], backwardFrontier: [Int32] = [1]
        var next: [Int32] = []
        let current = ByteBuffer()
        // Locals, so the per-edge closure below captures references, not a
        // copy of this struct and its query.
        let graph = self.graph, labels = query.labels, edgeFilter = query.edgeFilter
        let forwardDirection = query.direction, backwardDirection = reversed(query.direction)
        while !forwardFrontier.isEmpty && !backwardFrontier.isEmpty {
            let expandForward = forwardFrontier.count <= backwardFrontier.count
            let direction = expandForward ? forwardDirection : backwardDirection
            next.removeAll(keepingCapacity: true)
            // The expanded vertex, the vertex of the other side it reached, and the edge between.
            var meeting: (from: Int32, to: Int32, edge: [UInt8])?
            for vertex in expandForward ? forwardFrontier : backwardFrontier {
                reached.vertices.copyKey(vertex, into: current)
                _ = try graph.forEachStep(of: current.bytes, direction, labels: labels, edgeFilter: edgeFilter, weightField: nil) { other, edge, _ in
                    let (id, isNew) = try reached.add(other, fromStart: expandForward, parent: vertex, edge: edge)
                    if isNew {
                        try graph.budget.charge(other.count + edge.count + ReachedVertices.overheadPerVertex)
                        next.append(id)
                        return true
                    }
                    if reached.fromStart[Int(id)] == expandForward { return true }
                    meeting = (vertex, id, Array(edge))
                    return false
                }
                if let meeting {
                    return expandForward ? reached.path(forwardEnd: meeting.from, edge: meeting.edge, backwardEnd: meeting.to)
                                         : reached.path(forwardEnd: meeting.to, edge: meeting.edge, backwardEnd: meeting.from)
                }
            }
            if expandForward { swap(&forwardFrontier, &next) } else { swap(&backwardFrontier, &next) }
        }
        return nil
    }

    /// Dijkstra from `start` until `target` is settled, avoiding the
    /// banned vertices and edges (Yen's spur searches).
    func dijkstra(from start: [UInt8], to target: [UInt8], bannedVertices: Set<EngineKey>, bannedEdges: Set<EngineKey>) throws -> GraphPath? {
        var index: [EngineKey: Int32] = [EngineKey(start): 0]
        var keys: [[UInt8]] = [start]
        var distance: [Double] = [0]
        var parent: [Int32] = [-1]
        var parentEdge: [[UInt8]] = [[]]
        var parentWeight: [Double] = [0]
        var settled: [Bool] = [false]
        var heap = PathHeap()
        heap.push(0, 0)
        var steps: [GraphReader.Step] = []
        let weightField = self.weightField
        while let (dist, vertex) = heap.pop() {
            let v = Int(vertex)
            if settled[v] || dist > distance[v] { continue }
            settled[v] = true
            if keys[v] == target {
                var path = GraphPath(vertices: [], edges: [], weights: [])
                var at = Int32(v)
                while at >= 0 {
                    path.vertices.append(keys[Int(at)])
                    if parent[Int(at)] >= 0 {
                        path.edges.append(parentEdge[Int(at)])
                        path.weights.append(parentWeight[Int(at)])
                    }
                    at = parent[Int(at)]
                }
                path.vertices.reverse()
                path.edges.reverse()
                path.weights.reverse()
                return path
            }
            steps.removeAll(keepingCapacity: true)
            try graph.steps(of: keys[v], query.direction, labels: query.labels, edgeFilter: query.edgeFilter, weightField: weightField, into: &steps)
            for step in steps {
                if (!bannedVertices.isEmpty && bannedVertices.contains(EngineKey(step.vertex)))
                    || (!bannedEdges.isEmpty && bannedEdges.contains(EngineKey(step.edge))) { continue }
                let candidate = dist + (weightField == nil ? 1 : step.weight)
                let u: Int
                if let known = index[EngineKey(step.vertex)] {
                    u = Int(known)
                    guard !settled[u], candidate < distance[u] else { continue }
                    distance[u] = candidate
                } else {
                    try graph.budget.charge(step.vertex.count * 2 + step.edge.count + 200)
                    guard keys.count < Int(Int32.max) else { throw CairnError.invalidArgument("graph shortest_path: more than 2^31 vertices") }
                    u = keys.count
                    index[EngineKey(step.vertex)] = Int32(u)
                    keys.append(step.vertex)
                    distance.append(candidate)
                    parent.append(-1)
                    parentEdge.append([])
                    parentWeight.append(0)
                    settled.append(false)
                }
                parent[u] = Int32(v)
                parentEdge[u] = step.edge
                parentWeight[u] = weightField == nil ? 1 : step.weight
                try graph.budget.charge(24)
                heap.push(candidate, Int32(u))
            }
        }
        return nil
    }

    /// Yen's k shortest loopless paths.
    private func yen(from start: [UInt8], to target: [UInt8]) throws -> [GraphPath] {
        guard let first = try dijkstra(from: start, to: target, bannedVertices: [], bannedEdges: []) else { return [] }
        var found: [GraphPath] = [first]
        var known: Set<GraphPath> = [first]
        var candidates: [(path: GraphPath, order: Int)] = []
        var order = 0
        while found.count < query.k {
            let previous = found[found.count - 1]
            for i in 0..<(previous.vertices.count - 1) {
                try graph.checkInterrupt()
                let spur = previous.vertices[i]
                let rootVertices = previous.vertices[0...i]
                let rootEdges = previous.edges[0..<i]
                var bannedEdges: Set<EngineKey> = []
                for path in found where path.vertices.count > i + 1 && path.vertices[0...i] == rootVertices && path.edges[0..<i] == rootEdges {
                    bannedEdges.insert(EngineKey(path.edges[i]))
                }
                let bannedVertices = Set(rootVertices.dropLast().map(EngineKey.init))
                guard let spurPath = try dijkstra(from: spur, to: target, bannedVertices: bannedVertices, bannedEdges: bannedEdges) else { continue }
                let total = GraphPath(vertices: Array(rootVertices.dropLast()) + spurPath.vertices, edges: Array(rootEdges) + spurPath.edges,
                                      weights: Array(previous.weights[0..<i]) + spurPath.weights)
                guard known.insert(total).inserted else { continue }
                try graph.budget.charge(total.memorySize * 2)
                candidates.append((total, order))
                order += 1
            }
            guard !candidates.isEmpty else { break }
            var best = 0
            for (position, candidate) in candidates.enumerated().dropFirst() {
                let a = candidate.path, b = candidates[best].path
                if (a.weight, a.edges.count, candidate.order) < (b.weight, b.edges.count, candidates[best].order) { best = position }
            }
            found.append(candidates.remove(at: best).path)
        }
        return found
    }
}

/// A binary min-heap of (distance, vertex), ties by insertion order.
struct PathHeap {
    private var items: [(distance: Double, sequence: Int, vertex: Int32)] = []
    private var sequence = 0

    mutating func push(_ distance: Double, _ vertex: Int32) {
        items.append((distance, sequence, vertex))
        sequence += 1
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        (items[a].distance, items[a].sequence) < (items[b].distance, items[b].sequence)
    }

    mutating func pop() -> (Double, Int32)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && less(left, smallest) { smallest = left }
                if right < items.count && less(right, smallest) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (top.distance, top.vertex)
    }
}

/// The vertices a bidirectional search has reached: each numbered once,
/// with the side that reached it first, its parent toward that side's end
/// (-1 for the two ends) and the edge to that parent, all in flat arrays.
/// A class, like its VertexTable: one per search, never copied.
final class ReachedVertices {
    let vertices = VertexTable()
    private(set) var fromStart: [Bool] = []
    private var parent: [Int32] = []
    private let edgeBytes = ByteBuffer(capacity: 4096)
    private var edgeEnds: [Int] = []

    /// What a vertex reached costs beyond its key and edge bytes.
    static let overheadPerVertex = VertexTable.overheadPerKey + 24

    /// Numbers `key` as reached from `parent` by `edge` on its side, unless
    /// it was reached before; its number, and whether it is new.
    @inline(__always)
    func add(_ key: UnsafeRawBufferPointer, fromStart side: Bool, parent from: Int32,
             edge: UnsafeRawBufferPointer) throws -> (id: Int32, isNew: Bool) {
        let (id, inserted) = try vertices.insert(key)
        if inserted {
            fromStart.append(side)
            parent.append(from)
            edgeBytes.append(edge)
            edgeEnds.append(edgeBytes.count)
        }
        return (id, inserted)
    }

    private func edge(_ id: Int32) -> [UInt8] {
        let end = edgeEnds[Int(id)]
        return Array(UnsafeRawBufferPointer(rebasing: edgeBytes.bytes[(id == 0 ? 0 : edgeEnds[Int(id) - 1])..<end]))
    }

    /// The path start ... `forwardEnd` -`edge`- `backwardEnd` ... target.
    func path(forwardEnd: Int32, edge: [UInt8], backwardEnd: Int32) -> GraphPath {
        /// The vertices and edges from `end` up its side's parents to the
        /// side's root (the start or the target).
        func chain(from end: Int32) -> (vertices: [[UInt8]], edges: [[UInt8]]) {
            var vertices: [[UInt8]] = [], edges: [[UInt8]] = []
            var at = end
            while true {
                vertices.append(self.vertices.key(at))
                let up = parent[Int(at)]
                if up < 0 { break }
                edges.append(self.edge(at))
                at = up
            }
            return (vertices, edges)
        }
        let forward = chain(from: forwardEnd), backward = chain(from: backwardEnd)
        let path = forward.vertices.reversed() + backward.vertices
        let edges = forward.edges.reversed() + [edge] + backward.edges
        return GraphPath(vertices: path, edges: edges, weights: Array(repeating: 1, count: edges.count))
    }
}
