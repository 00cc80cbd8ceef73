/// Vector search over a transaction: the HNSW walk, the filtered walk and
/// its switch to an exact scan, and exact search.
///
/// Filtered search (as Lucene does it): the filter applies during the walk,
/// which goes through every node but keeps only the matching ones as
/// results. A selective filter makes the walk go far before it has k
/// matches; when it has visited more nodes than the filter is estimated to
/// match (HNSWGraph.searchLayer), it stops and the search becomes an exact
/// scan of the matching vectors (the node records, whose filter values
/// the filter is tested on). So recall does not fall at low selectivity:
/// the low end is exact.
struct VectorHit {
    var distance: Float
    var primaryKey: [UInt8]
    /// The node record's filter values (which hold the document's `_id`:
    /// VectorFilterValues), for results that need no document.
    var filterValues: [UInt8]
}

extension Transaction {
    /// The vector index a search uses: the named one, or the only one.
    func vectorIndex(of info: CollectionInfo, named name: String?) throws -> (IndexDefinition, VectorIndexSpec) {
        let vectorIndexes = info.indexes.compactMap { index -> (IndexDefinition, VectorIndexSpec)? in
            if case .vector(let spec) = index.kind { return (index, spec) }
            return nil
        }
        if let name {
            guard let found = vectorIndexes.first(where: { $0.0.name == name }) else {
                throw CairnError(.notFound, "collection '\(info.name)' has no vector index '\(name)'")
            }
            return found
        }
        guard let only = vectorIndexes.first else { throw CairnError(.notFound, "collection '\(info.name)' has no vector index") }
        guard vectorIndexes.count == 1 else {
            throw CairnError.invalidArgument("collection '\(info.name)' has \(vectorIndexes.count) vector indexes: name one in the search's \"index\"")
        }
        return only
    }

    /// The k nearest documents' primary keys and distances, nearest first
    /// (ties by primary key).
    func vectorSearch(_ info: CollectionInfo, index: IndexDefinition, spec: VectorIndexSpec,
                      options: VectorSearchOptions) throws -> [VectorHit] {
        guard options.vector.count == spec.dimensions else {
            throw CairnError.invalidArgument("vector search: the query vector has \(options.vector.count) components; index '\(index.name)' holds \(spec.dimensions)")
        }
        guard !index.building else { throw CairnError.invalidArgument("vector index '\(index.name)' is still being built") }
        var query = options.vector
        if spec.metric == .cosine && !VectorMetric.normalize(&query) {
            throw CairnError.invalidArgument("vector search: the query vector is zero, which has no cosine")
        }
        if let filter = options.filter {
            guard let paths = VectorFilterValues.paths(of: filter) else {
                throw CairnError.invalidArgument("vector search: the filter may not use $expr, $jsonSchema or $text (it applies to the index's filter_fields)")
            }
            for path in paths where !spec.filterFields.contains(where: { path == $0 || path.hasPrefix($0 + ".") }) {
                throw CairnError.invalidArgument("vector search: the filter names '\(path)', which is not in the filter_fields of index '\(index.name)' (\(spec.filterFields.joined(separator: ", ")))")
            }
        }
        let ef = max(options.ef ?? spec.ef, options.k)
        var hits: [VectorHit]
        if options.exact {
            hits = try exactScanOfNodes(info, index: index, spec: spec, query: query, k: options.k, filter: options.filter)
        } else {
            let graph = HNSWGraph(transaction: self, index: index, spec: spec, collection: info.id, forSearch: true)
            defer { graph.finish() }
            if let walked = try walk(graph, query: query, ef: ef, filter: options.filter) {
                hits = []
                // A walk on cached lists may follow, while a commit is under
                // way, a list older or newer than its snapshot
                // (VectorNodeCache), and so reach a node deleted before it or
                // inserted after it: then a node counts only if it is its
                // document's node at this snapshot (a point read of a small
                // key per result). So every result's document exists here,
                // and results that read no document (VectorResults) equal
                // those that do. Lists read through the transaction only ever
                // link live nodes (docs/format/vectors.md). A secondary's
                // lists change under its writer (catchUp forgets its caches,
                // but a search still on an older snapshot may fill the new
                // one): it always checks.
                let check = graph.useListCache && (engine.mode == .secondary
                    || !graph.cache.listsUnchanged(since: graph.changeMark, snapshot: graph.snapshot))
                for found in walked where hits.count < options.k {
                    guard let record = try graph.record(found.node) else { continue }
                    if check, try graph.node(of: record.primaryKey) != found.node { continue }
                    hits.append(VectorHit(distance: found.distance, primaryKey: record.primaryKey, filterValues: record.filterValues))
                }
            } else {
                graph.finish()
                hits = try exactScanOfNodes(info, index: index, spec: spec, query: query, k: options.k, filter: options.filter)
            }
        }
        hits.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.primaryKey.lexicographicallyPrecedes($1.primaryKey)) }
        return Array(hits.prefix(options.k))
    }

    /// The walk; nil when a filter made it costlier than the exact scan.
    private func walk(_ graph: HNSWGraph, query: [Float], ef: Int, filter: Filter?) throws -> [(distance: Float, node: UInt32)]? {
        guard let entry = try graph.entryPoint() else { return [] }
        return try query.withUnsafeBytes { q -> [(distance: Float, node: UInt32)]? in
            let pointer = q.baseAddress!
            guard let d = try graph.distance(pointer, entry.node) else {
                throw CairnError.corruption("\(graph.damaged): the entry point \(entry.node) has no node")
            }
            var current = (distance: d, node: entry.node)
            var level = entry.level
            while level > 0 {
                current = try graph.greedy(pointer, from: current, level: level)
                level -= 1
            }
            guard let filter else { return try graph.searchLayer(pointer, starts: [current], ef: ef, level: 0)!.sorted() }
            let nodes = try nodeEstimate(graph)
            let accept: (UInt32) throws -> Bool = { node in
                guard let record = try graph.record(node) else { return false }
                if record.filterValues.isEmpty { return try emptyDocument.withUnsafeBytes { try filter.matches(DocumentValue($0)) } }
                return try record.filterValues.withUnsafeBytes { try filter.matches(DocumentValue($0)) }
            }
            return try graph.searchLayer(pointer, starts: [current], ef: ef, level: 0, accept: accept, nodes: nodes)?.sorted()
        }
    }

    /// How many nodes were ever numbered (the stripe counters' sum): an
    /// upper bound of the index's size, for the filtered walk's budget.
    private func nodeEstimate(_ graph: HNSWGraph) throws -> Int {
        var total = 0
        for stripe in 0..<VectorIndexFormat.stripes {
            _ = try read(VectorIndexFormat.counterKey(graph.prefix, stripe: stripe)) { raw in
                var reader = ByteReader(raw, what: "\(graph.damaged) counter")
                total += Int(clamping: try reader.readVarint())
            }
        }
        return total
    }

    /// Exact search over every node record (those whose filter values
    /// match `filter`).
    private func exactScanOfNodes(_ info: CollectionInfo, index: IndexDefinition, spec: VectorIndexSpec, query: [Float], k: Int,
                                  filter: Filter?) throws -> [VectorHit] {
        let prefix = VectorIndexFormat.prefix(collection: info.id, index: index.id) + [VectorIndexFormat.Tag.node.rawValue]
        let scan = try self.scan(lower: prefix, upper: prefixUpperBound(prefix))
        var best = DistanceHeap(max: true, capacity: k + 1)
        var keys: [(primaryKey: [UInt8], filterValues: [UInt8])] = []
        let interrupts = engine.interrupts, ticket = interrupts.ticket
        try query.withUnsafeBytes { q in
            while try scan.next() {
                try interrupts.check(ticket)
                let record = try VectorIndexFormat.decodeNode(scan.value, dimensions: spec.dimensions, index: index.name)
                if let filter {
                    let matches = try record.filterValues.isEmpty ? emptyDocument.withUnsafeBytes { try filter.matches(DocumentValue($0)) }
                        : filter.matches(DocumentValue(record.filterValues))
                    guard matches else { continue }
                }
                let d = spec.metric.distance(q.baseAddress!, record.vector.baseAddress!, count: spec.dimensions)
                if best.count < k || d <= best.top!.distance {
                    keys.append((Array(record.primaryKey), Array(record.filterValues)))
                    best.push(d, UInt32(keys.count - 1))
                    if best.count > k + 64 { best.pop() }  // keep ties beyond k for the tie-break
                }
            }
        }
        return best.items.map {
            let key = keys[Int($0.node)]
            return VectorHit(distance: $0.distance, primaryKey: key.primaryKey, filterValues: key.filterValues)
        }
    }
}

/// The binary form of {}.
let emptyDocument: [UInt8] = MutableValue.object([]).encoded()
