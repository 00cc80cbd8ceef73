/// The whole graph in memory, for the algorithms that look at every vertex
/// (components, cycles): vertices numbered in key order (so results come
/// out in the order of MongoDB's value order of the primary keys), and
/// out-edges in compressed sparse rows, each vertex's targets sorted and
/// without repeats (parallel edges add nothing to these algorithms).
///
/// The vertices are those of the vertex collections and every endpoint of
/// an edge (an edge may name a vertex without a document). Loading charges
/// the budget for the keys, their dictionary and the edge arrays.
struct GraphSnapshot {
    private(set) var keys: [[UInt8]] = []
    /// Out-edges of vertex v: targets[offsets[v]..<offsets[v + 1]].
    private(set) var offsets: [Int] = [0]
    private(set) var targets: [Int32] = []

    var count: Int { keys.count }

    func successors(_ vertex: Int) -> ArraySlice<Int32> { targets[offsets[vertex]..<offsets[vertex + 1]] }

    init(graph: GraphReader, query: GraphQuery) throws {
        // Keys are numbered through a VertexTable, looked up from the
        // entry's bytes: a dictionary of [UInt8] keys cost an array and a
        // SipHash per edge end, over half of loading 2.4M edges.
        let index = VertexTable()
        var keys: [[UInt8]] = []
        func intern(_ key: UnsafeRawBufferPointer) throws -> Int32 {
            if let known = index.find(key) { return known }
            guard keys.count < Int(Int32.max) else { throw CairnError.invalidArgument("graph: more than 2^31 vertices") }
            try graph.budget.charge(key.count * 2 + 112)
            let (id, _) = try index.insert(key)
            keys.append(Array(key))
            return id
        }
        try graph.forEachVertexDocument { key in _ = try key.withUnsafeBytes { try intern($0) } }
        var pairs: [UInt64] = []
        let labels = query.labels.map(Set.init)
        try graph.forEachEdge { from, label, to, edge, key in
            if let labels, !labels.contains(Array(key[label])) { return }
            if let filter = query.edgeFilter, try !graph.edgeMatches(UnsafeRawBufferPointer(rebasing: key[edge]), filter) { return }
            let source = try intern(UnsafeRawBufferPointer(rebasing: key[from])), target = try intern(UnsafeRawBufferPointer(rebasing: key[to]))
            try graph.budget.charge(12)
            pairs.append(UInt64(UInt32(source)) << 32 | UInt64(UInt32(target)))
        }
        // Renumber in key order.
        let order = keys.indices.sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) }
        var renumber = [Int32](repeating: 0, count: keys.count)
        for (position, old) in order.enumerated() { renumber[old] = Int32(position) }
        self.keys = order.map { keys[$0] }
        for i in pairs.indices {
            let source = renumber[Int(pairs[i] >> 32)], target = renumber[Int(pairs[i] & 0xFFFF_FFFF)]
            pairs[i] = UInt64(UInt32(source)) << 32 | UInt64(UInt32(target))
        }
        try graph.checkInterrupt()
        pairs.sort()
        offsets = [Int](repeating: 0, count: keys.count + 1)
        targets.reserveCapacity(pairs.count)
        var previous: UInt64?
        for pair in pairs where pair != previous {
            previous = pair
            offsets[Int(pair >> 32) + 1] += 1
            targets.append(Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF))  // Safe: built from an Int32 above.
        }
        for v in 0..<keys.count { offsets[v + 1] += offsets[v] }
    }

    /// The undirected neighbours (successors and predecessors) in rows.
    func undirected() -> (offsets: [Int], targets: [Int32]) {
        var degree = [Int](repeating: 0, count: count + 1)
        for v in 0..<count {
            for w in successors(v) {
                degree[v + 1] += 1
                degree[Int(w) + 1] += 1
            }
        }
        for v in 0..<count { degree[v + 1] += degree[v] }
        var fill = degree
        var out = [Int32](repeating: 0, count: degree[count])
        for v in 0..<count {
            for w in successors(v) {
                out[fill[v]] = w
                fill[v] += 1
                out[fill[Int(w)]] = Int32(v)
                fill[Int(w)] += 1
            }
        }
        return (degree, out)
    }
}
