/// Inserting and deleting nodes (HNSW's INSERT, and deletion with repair).
extension HNSWGraph {
    /// Remembers a vector this operation wrote (so walks see it without a read).
    func remember(_ node: UInt32, vector: [Float]) {
        setLocal(node, vector)
    }

    /// A new node number from the primary key's stripe counter.
    func allocateNode(primaryKey: [UInt8]) throws -> UInt32 {
        let stripe = VectorIndexFormat.stripe(of: primaryKey)
        let key = VectorIndexFormat.counterKey(prefix, stripe: stripe)
        var next: UInt64 = 0
        _ = try transaction.read(key) { raw in
            var reader = ByteReader(raw, what: "\(damaged) counter")
            next = try reader.readVarint()
        }
        let (scaled, overflow) = next.multipliedReportingOverflow(by: UInt64(VectorIndexFormat.stripes))
        guard !overflow, scaled + UInt64(stripe) <= UInt64(UInt32.max) else {
            throw CairnError.invalidArgument("\(damaged): more vectors were inserted than one index can number (2^32)")
        }
        var value: [UInt8] = []
        Varint.append(next + 1, to: &value)
        try transaction.put(key, value)
        return UInt32(scaled + UInt64(stripe))
    }

    /// Inserts a node for `primaryKey` with `vector` (normalised for cosine).
    func insert(primaryKey: [UInt8], vector: [Float], filterValues: [UInt8]) throws {
        let node = try allocateNode(primaryKey: primaryKey)
        let level = HNSW.level(of: node, multiplier: spec.levelMultiplier)
        try transaction.put(VectorIndexFormat.nodeKey(prefix, node),
                            VectorIndexFormat.encodeNode(level: level, primaryKey: primaryKey, filterValues: filterValues, vector: vector))
        var owner: [UInt8] = []
        owner.appendUInt32BE(node)
        try transaction.put(VectorIndexFormat.ownerKey(prefix, primaryKey: primaryKey), owner)
        if level > 0 {
            for l in 1...level { try transaction.put(VectorIndexFormat.upperKey(prefix, level: l, node: node), []) }
        }
        remember(node, vector: vector)
        guard let entry = try entryPoint() else {
            for l in 0...level { try setLinks(node, level: l, old: [], new: []) }
            try transaction.put(VectorIndexFormat.entryKey(prefix), VectorIndexFormat.encodeEntry(node: node, level: level))
            return
        }
        try vector.withUnsafeBytes { q in
            let query = q.baseAddress!
            guard let d = try distance(query, entry.node) else {
                throw CairnError.corruption("\(damaged): the entry point \(entry.node) has no node")
            }
            var current = (distance: d, node: entry.node)
            var l = entry.level
            while l > level {
                current = try greedy(query, from: current, level: l)
                l -= 1
            }
            var starts = [current]
            for l in stride(from: min(level, entry.level), through: 0, by: -1) {
                let found = try searchLayer(query, starts: starts, ef: spec.efConstruction, level: l)!.sorted()
                let chosen = try selectNeighbours(found, limit: spec.m)
                try setLinks(node, level: l, old: [], new: chosen.map(\.node))
                for neighbour in chosen {
                    let old = try links(neighbour.node, level: l)
                    var new = old
                    if !old.contains(node) {
                        if old.count < maxLinks(level: l) {
                            new.append(node)
                        } else {
                            var candidates = [(distance: neighbour.distance, node: node)]
                            for other in old {
                                if let d = try distance(between: neighbour.node, other) { candidates.append((d, other)) }
                            }
                            candidates.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.node < $1.node) }
                            new = try selectNeighbours(candidates, limit: maxLinks(level: l)).map(\.node)
                        }
                    }
                    // Written even when unchanged: a concurrent delete of
                    // this neighbour then conflicts with the insert.
                    try setLinks(neighbour.node, level: l, old: old, new: new)
                }
                if level > entry.level {
                    // Levels above the old entry's have no other node yet.
                }
                starts = found
            }
            if level > entry.level {
                for l in (entry.level + 1)...level { try setLinks(node, level: l, old: [], new: []) }
                try transaction.put(VectorIndexFormat.entryKey(prefix), VectorIndexFormat.encodeEntry(node: node, level: level))
            }
        }
    }

    /// Deletes `node` and repairs the lists that linked to it: each such
    /// list loses the node and chooses again (the heuristic) among what it
    /// kept and the deleted node's own links, so the graph stays as well
    /// connected as a fresh build.
    func delete(node: UInt32) throws {
        guard let record = try record(node) else { return }
        for l in 0...record.level {
            let out = try links(node, level: l)
            for from in try inLinks(node, level: l) where from != node {
                let old = try links(from, level: l)
                var candidates: [(distance: Float, node: UInt32)] = []
                var seen = Set<UInt32>([from, node])
                for other in old + out where seen.insert(other).inserted {
                    if let d = try distance(between: from, other) { candidates.append((d, other)) }
                }
                candidates.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.node < $1.node) }
                let new = try selectNeighbours(candidates, limit: maxLinks(level: l)).map(\.node)
                try setLinks(from, level: l, old: old, new: new, touchAdded: true)
            }
            // The node's own in-link list (the repairs emptied it) and its
            // place in the in-link lists of the nodes it linked to.
            try transaction.delete(VectorIndexFormat.inLinkKey(prefix, node, level: l))
            for to in out where to != node { try changeInLinks(to, level: l) { $0.removeAll { $0 == node } } }
            try deleteLinks(node, level: l)
            if l > 0 { try transaction.delete(VectorIndexFormat.upperKey(prefix, level: l, node: node)) }
        }
        try transaction.delete(VectorIndexFormat.nodeKey(prefix, node))
        try transaction.delete(VectorIndexFormat.ownerKey(prefix, primaryKey: record.primaryKey))
        forgetLocal(node)
        if let entry = try entryPoint(), entry.node == node {
            if let replacement = try highestNode() {
                try transaction.put(VectorIndexFormat.entryKey(prefix), VectorIndexFormat.encodeEntry(node: replacement.node, level: replacement.level))
            } else {
                try transaction.delete(VectorIndexFormat.entryKey(prefix))
            }
        }
    }

    /// The node of the highest level (the last upper key), else any node.
    private func highestNode() throws -> (node: UInt32, level: Int)? {
        let upper = prefix + [VectorIndexFormat.Tag.upper.rawValue]
        let scan = try transaction.scan(lower: upper, upper: prefixUpperBound(upper), reverse: true)
        if try scan.next() {
            guard scan.key.count == upper.count + 5 else { throw CairnError.corruption("\(damaged): damaged level key") }
            return (VectorIndexFormat.readUInt32BE(scan.key, upper.count + 1), Int(scan.key[upper.count]))
        }
        let nodes = prefix + [VectorIndexFormat.Tag.node.rawValue]
        let any = try transaction.scan(lower: nodes, upper: prefixUpperBound(nodes))
        if try any.next() {
            guard any.key.count == nodes.count + 4 else { throw CairnError.corruption("\(damaged): damaged node key") }
            return (VectorIndexFormat.readUInt32BE(any.key, nodes.count), 0)
        }
        return nil
    }

    /// The node of `primaryKey`, if it has one.
    func node(of primaryKey: [UInt8]) throws -> UInt32? {
        var node: UInt32?
        _ = try transaction.read(VectorIndexFormat.ownerKey(prefix, primaryKey: primaryKey)) { raw in
            guard raw.count == 4 else { throw CairnError.corruption("\(damaged): damaged owner entry") }
            node = VectorIndexFormat.readUInt32BE(raw, 0)
        }
        return node
    }
}
