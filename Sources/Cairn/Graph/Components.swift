/// Connected components of the whole graph (GraphSnapshot).
///
/// - Weak: edges taken in both directions; union-find with path halving.
/// - Strong: Tarjan's algorithm, iteratively (no recursion, so a long
///   chain cannot overflow the stack).
///
/// Each component lists its vertices in key order; components come in the
/// order of their first vertex.
enum Components {
    static func weak(_ snapshot: GraphSnapshot, graph: GraphReader) throws -> [[Int]] {
        try graph.budget.charge(snapshot.count * 40)  // parents, groups, slots
        var parent = Array(0..<snapshot.count)
        func find(_ v: Int) -> Int {
            var v = v
            while parent[v] != v {
                parent[v] = parent[parent[v]]
                v = parent[v]
            }
            return v
        }
        for v in 0..<snapshot.count {
            if v & 4095 == 0 { try graph.checkInterrupt() }
            for w in snapshot.successors(v) {
                let a = find(v), b = find(Int(w))
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        return group(count: snapshot.count) { find($0) }
    }

    /// Groups vertices by a representative, in order of first vertex.
    private static func group(count: Int, _ representative: (Int) -> Int) -> [[Int]] {
        var slot: [Int: Int] = [:]
        var groups: [[Int]] = []
        for v in 0..<count {
            let r = representative(v)
            if let s = slot[r] { groups[s].append(v) } else {
                slot[r] = groups.count
                groups.append([v])
            }
        }
        return groups
    }

    static func strong(_ snapshot: GraphSnapshot, graph: GraphReader) throws -> [[Int]] {
        let n = snapshot.count
        try graph.budget.charge(n * 80)  // index, low, flags, component, stacks, groups
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var component = [Int](repeating: -1, count: n)
        var stack: [Int] = []
        var call: [(vertex: Int, next: Int)] = []
        var counter = 0, components = 0
        for root in 0..<n where index[root] < 0 {
            try graph.checkInterrupt()
            call.append((root, snapshot.offsets[root]))
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let top = call.indices.last {
                let v = call[top].vertex
                if call[top].next < snapshot.offsets[v + 1] {
                    let w = Int(snapshot.targets[call[top].next])
                    call[top].next += 1
                    if index[w] < 0 {
                        index[w] = counter; low[w] = counter; counter += 1
                        stack.append(w); onStack[w] = true
                        call.append((w, snapshot.offsets[w]))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                    continue
                }
                call.removeLast()
                if let caller = call.last { low[caller.vertex] = min(low[caller.vertex], low[v]) }
                if low[v] == index[v] {
                    while let w = stack.popLast() {
                        onStack[w] = false
                        component[w] = components
                        if w == v { break }
                    }
                    components += 1
                }
            }
        }
        return group(count: n) { component[$0] }
    }
}
