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

    /// Bidirectional BFS. Each side keeps, per vertex reached, the vertex
    /// and edge it came from (toward its own end).
    private func bidirectional(from start: [UInt8], to target: [UInt8]) throws -> GraphPath? {
        if start == target { return GraphPath(vertices: [start], edges: [], weights: []) }
        typealias Parent = (vertex: [UInt8], edge: [UInt8])
        var forward: [EngineKey: Parent?] = [EngineKey(start): nil], backward: [EngineKey: Parent?] = [EngineKey(target): nil]
        var forwardFrontier = [start], backwardFrontier = [target]
        var steps: [GraphReader.Step] = []
        while !forwardFrontier.isEmpty && !backwardFrontier.isEmpty {
            let expandForward = forwardFrontier.count <= backwardFrontier.count
            var next: [[UInt8]] = []
            var meeting: [UInt8]?
            let direction = expandForward ? query.direction : reversed(query.direction)
            for vertex in expandForward ? forwardFrontier : backwardFrontier {
                steps.removeAll(keepingCapacity: true)
                try graph.steps(of: vertex, direction, labels: query.labels, edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
                for step in steps {
                    let key = EngineKey(step.vertex)
                    if expandForward {
                        guard forward[key] == nil else { continue }
                        forward[key] = .some((vertex, step.edge))
                        if meeting == nil && backward[key] != nil { meeting = step.vertex }
                    } else {
                        guard backward[key] == nil else { continue }
                        backward[key] = .some((vertex, step.edge))
                        if meeting == nil && forward[key] != nil { meeting = step.vertex }
                    }
                    try graph.budget.charge(step.vertex.count * 2 + step.edge.count + 160)
                    next.append(step.vertex)
                }
            }
            if let meeting {
                var vertices: [[UInt8]] = [meeting], edges: [[UInt8]] = []
                var at = meeting
                while let parent = forward[EngineKey(at)] ?? nil {
                    vertices.append(parent.vertex)
                    edges.append(parent.edge)
                    at = parent.vertex
                }
                vertices.reverse()
                edges.reverse()
                at = meeting
                while let parent = backward[EngineKey(at)] ?? nil {
                    vertices.append(parent.vertex)
                    edges.append(parent.edge)
                    at = parent.vertex
                }
                return GraphPath(vertices: vertices, edges: edges, weights: Array(repeating: 1, count: edges.count))
            }
            if expandForward { forwardFrontier = next } else { backwardFrontier = next }
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
