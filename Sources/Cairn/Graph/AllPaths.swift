/// Every simple path (no vertex twice) from the start to the target of at
/// most max_length edges, in depth-first order (neighbours in adjacency
/// index order). The number of such paths can grow exponentially with
/// max_length; "limit", the memory budget and the interrupt bound it.
struct AllPaths {
    let graph: GraphReader
    let query: GraphQuery

    func run() throws -> [GraphPath] {
        guard let start = query.start, let target = query.target, let maxLength = query.maxLength else { return [] }
        if start == target { return [GraphPath(vertices: [start], edges: [], weights: [])] }
        var paths: [GraphPath] = []
        var onPath: Set<EngineKey> = [EngineKey(start)]
        var vertices: [[UInt8]] = [start], edges: [[UInt8]] = []
        var stack: [(steps: [GraphReader.Step], next: Int)] = []
        var steps: [GraphReader.Step] = []
        func expand(_ vertex: [UInt8]) throws -> [GraphReader.Step] {
            steps.removeAll(keepingCapacity: true)
            try graph.steps(of: vertex, query.direction, labels: query.labels, edgeFilter: query.edgeFilter, weightField: nil, into: &steps)
            try graph.budget.charge(GraphReader.frameBytes(steps))
            return steps
        }
        stack.append((try expand(start), 0))
        while let top = stack.indices.last {
            guard stack[top].next < stack[top].steps.count else {
                graph.budget.release(GraphReader.frameBytes(stack.removeLast().steps))
                if let last = vertices.popLast() { onPath.remove(EngineKey(last)) }
                _ = edges.popLast()
                continue
            }
            let step = stack[top].steps[stack[top].next]
            stack[top].next += 1
            if step.vertex == target {
                let path = GraphPath(vertices: vertices + [target], edges: edges + [step.edge],
                                     weights: Array(repeating: 1, count: edges.count + 1))
                try graph.budget.charge(path.memorySize)
                paths.append(path)
                if paths.count >= query.limit { return paths }
                continue
            }
            guard edges.count + 1 < maxLength, !onPath.contains(EngineKey(step.vertex)) else { continue }
            onPath.insert(EngineKey(step.vertex))
            vertices.append(step.vertex)
            edges.append(step.edge)
            stack.append((try expand(step.vertex), 0))
        }
        return paths
    }
}
