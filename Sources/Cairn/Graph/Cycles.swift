/// Directed cycles.
///
/// - `find`: whether a cycle exists, and one: a depth-first search walked
///   through the adjacency index (no snapshot), from each vertex with
///   out-edges in key order, neighbours in index order, which stops at
///   the first edge back to a vertex on its path. A graph with a cycle
///   near its first vertices answers after a few reads; an acyclic one
///   costs one look at every edge.
/// - `all`: over a GraphSnapshot, every simple cycle of at most `maxLength` edges, each once: a
///   cycle is reported from its smallest vertex s, by a depth-first search
///   from s through vertices after s only. Self-loops are cycles of length
///   1. Bounded by maxLength, "limit", the budget and the interrupt.
enum Cycles {
    static func find(in graph: GraphReader, query: GraphQuery) throws -> [[UInt8]]? {
        guard let roots = try graph.sourceScan() else { return nil }
        var done: Set<EngineKey> = []
        var onPath: Set<EngineKey> = []
        var path: [(vertex: [UInt8], steps: [GraphReader.Step], next: Int)] = []
        var steps: [GraphReader.Step] = []
        func expand(_ vertex: [UInt8]) throws -> [GraphReader.Step] {
            steps.removeAll(keepingCapacity: true)
            try graph.steps(of: vertex, .outbound, labels: query.labels, edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
            try graph.budget.charge(GraphReader.frameBytes(steps) + vertex.count * 2 + 96)
            return steps
        }
        var lastRoot: [UInt8] = []
        while let root = try roots.next() {
            guard root != lastRoot else { continue }
            lastRoot = root
            guard !done.contains(EngineKey(root)) else { continue }
            onPath.insert(EngineKey(root))
            path.append((root, try expand(root), 0))
            while let top = path.indices.last {
                guard path[top].next < path[top].steps.count else {
                    let finished = path.removeLast()
                    graph.budget.release(GraphReader.frameBytes(finished.steps))
                    onPath.remove(EngineKey(finished.vertex))
                    done.insert(EngineKey(finished.vertex))
                    continue
                }
                let next = path[top].steps[path[top].next].vertex
                path[top].next += 1
                let key = EngineKey(next)
                if onPath.contains(key) {
                    let from = path.firstIndex { $0.vertex == next }!  // Safe: onPath holds exactly the path's vertices.
                    return path[from...].map(\.vertex)
                }
                guard !done.contains(key) else { continue }
                onPath.insert(key)
                path.append((next, try expand(next), 0))
            }
        }
        return nil
    }

    static func all(_ snapshot: GraphSnapshot, graph: GraphReader, maxLength: Int, limit: Int) throws -> [[Int]] {
        var cycles: [[Int]] = []
        try graph.budget.charge(snapshot.count * 17 + maxLength * 16)  // flags, the path
        var onPath = [Bool](repeating: false, count: snapshot.count)
        var steps = 0
        for start in 0..<snapshot.count {
            try graph.checkInterrupt()
            var path = [start]
            onPath[start] = true
            var call: [Int] = [snapshot.offsets[start]]  // the next edge of each vertex on the path
            while let top = call.indices.last {
                let v = path[top]
                guard call[top] < snapshot.offsets[v + 1] else {
                    call.removeLast()
                    onPath[path.removeLast()] = false
                    continue
                }
                let w = Int(snapshot.targets[call[top]])
                call[top] += 1
                steps += 1
                if steps & 4095 == 0 { try graph.checkInterrupt() }
                if w == start {
                    try graph.budget.charge(path.count * 8 + 48)
                    cycles.append(path)
                    if cycles.count >= limit { return cycles }
                } else if w > start && !onPath[w] && path.count < maxLength {
                    onPath[w] = true
                    path.append(w)
                    call.append(snapshot.offsets[w])
                }
            }
        }
        return cycles
    }
}
