/// Directed cycles of the whole graph (GraphSnapshot).
///
/// - `find`: whether a cycle exists, and one: a depth-first search over
///   the vertices in key order, which stops at the first edge back to a
///   vertex on its path. Linear in the graph's size.
/// - `all`: every simple cycle of at most `maxLength` edges, each once: a
///   cycle is reported from its smallest vertex s, by a depth-first search
///   from s through vertices after s only. Self-loops are cycles of length
///   1. Bounded by maxLength, "limit", the budget and the interrupt.
enum Cycles {
    static func find(_ snapshot: GraphSnapshot, graph: GraphReader) throws -> [Int]? {
        let n = snapshot.count
        try graph.budget.charge(n * 17)  // states, the path
        var state = [UInt8](repeating: 0, count: n)  // 0 new, 1 on the path, 2 done
        var call: [(vertex: Int, next: Int)] = []
        for root in 0..<n where state[root] == 0 {
            try graph.checkInterrupt()
            state[root] = 1
            call.append((root, snapshot.offsets[root]))
            while let top = call.indices.last {
                let v = call[top].vertex
                guard call[top].next < snapshot.offsets[v + 1] else {
                    state[v] = 2
                    call.removeLast()
                    continue
                }
                let w = Int(snapshot.targets[call[top].next])
                call[top].next += 1
                if state[w] == 1 {
                    let from = call.firstIndex { $0.vertex == w }!  // Safe: state 1 means w is on the path.
                    return call[from...].map(\.vertex)
                }
                if state[w] == 0 {
                    state[w] = 1
                    call.append((w, snapshot.offsets[w]))
                }
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
