/// Reads a graph at one transaction's snapshot: the edges of a vertex by a
/// prefix scan of an adjacency index, edge and vertex documents by point
/// reads. Every algorithm runs over one GraphReader, which also holds its
/// memory budget and its interrupt ticket.
///
/// An adjacency entry (a non-unique index entry, Documents/IndexDefinition.swift):
///
///     0x04 | edges' collection id | index id | 0x80.. (non-unique)
///     | key(this vertex) | key(label) | key(other vertex)
///     | key(edge's primary key) | its length (u16 BE)
///
/// where key() is the index key of a value (GraphKey). The neighbours of
/// `v` with label `l` are the entries starting with prefix | key(v) |
/// key(l); all of v's neighbours, those starting with prefix | key(v).
final class GraphReader {
    enum Direction: String { case outbound = "out", inbound = "in", any }

    /// One edge leaving a vertex.
    struct Step {
        /// The vertex at the other end (its key).
        var vertex: [UInt8]
        /// The edge's primary key (its key).
        var edge: [UInt8]
        /// The weight (1 unless the query asked for weights).
        var weight: Double
    }

    let definition: GraphDefinition
    let transaction: Transaction
    let reader: TransactionReader
    let edges: CollectionInfo?
    private let vertexCollections: [CollectionInfo]
    private let outPrefix: [UInt8]?
    private let inPrefix: [UInt8]?
    private let edgePrefix: [UInt8]
    private let interrupts: Interrupts
    private let ticket: UInt64
    var budget: MemoryBudget
    private let scratch = ByteBuffer()
    /// Expired edges and vertices (TTL indexes, Documents/Expiry.swift) are
    /// not part of the graph; nil when their collection has no TTL index.
    private let edgeExpiry: DocumentExpiry?
    private let vertexExpiries: [DocumentExpiry?]
    /// The adjacency cache, when this reader may use it: no pending writes
    /// (AdjacencyCache's rules). `cacheMark` turns unusable once a change
    /// began or ended since this reader's snapshot.
    private let cache: AdjacencyCache?
    private var cacheMark: AdjacencyCache.Mark
    private let snapshot: UInt64
    /// A cached entry's key, rebuilt from its list's prefix and its bytes.
    private let cachedKey = ByteBuffer()
    /// The entries a scan collects for the cache (AdjacencyCache.List).
    private var collected: [UInt8] = []

    init(transaction: Transaction, definition: GraphDefinition, memoryLimit: Int?, operation: String) throws {
        self.definition = definition
        self.transaction = transaction
        reader = transaction.reader
        interrupts = transaction.engine.interrupts
        ticket = interrupts.ticket
        budget = MemoryBudget(stage: "graph \(operation)", limit: memoryLimit ?? reader.memoryLimit,
                              advice: "lower max_depth or max_length, filter by label, or raise memory_limit")
        edges = try transaction.collection(definition.edges)
        vertexCollections = try definition.vertices.compactMap { try transaction.collection($0) }
        let now = transaction.engine.env.nowMillis()
        snapshot = reader.view.sequence
        let adjacency = transaction.database.graphs.adjacency
        if adjacency.isOn && reader.writes.isEmpty {
            cache = adjacency
            cacheMark = adjacency.mark(snapshot: snapshot)
        } else {
            cache = nil
            cacheMark = .unusable
        }
        edgeExpiry = edges.flatMap { DocumentExpiry($0, now: now) }
        vertexExpiries = vertexCollections.map { DocumentExpiry($0, now: now) }
        edgePrefix = CollectionInfo.documentPrefix(edges?.id ?? 0)
        if let edges {
            guard let out = edges.index(named: GraphDefinition.outIndexName), let into = edges.index(named: GraphDefinition.inIndexName),
                  !out.building, !into.building else {
                throw CairnError(.notFound, "graph '\(definition.name)': the adjacency indexes of collection '\(edges.name)' are missing; drop and create the graph again")
            }
            outPrefix = out.entryPrefix(collection: edges.id)
            inPrefix = into.entryPrefix(collection: edges.id)
        } else {
            outPrefix = nil
            inPrefix = nil
        }
    }

    /// Throws INTERRUPTED once cairn_interrupt() was called after the start.
    @inline(__always)
    func checkInterrupt() throws { try interrupts.check(ticket) }

    /// Appends the edges of `vertex` in `direction` to `steps`, in index
    /// order (label, other vertex, edge key), outbound before inbound for
    /// `.any` (where a self-loop is listed once). `labels` (index keys)
    /// restricts the labels; `edgeFilter` is matched against each edge
    /// document; `weightField` reads each edge's weight. The caller
    /// charges the budget for the steps it keeps.
    func steps(of vertex: [UInt8], _ direction: Direction, labels: [[UInt8]]?, edgeFilter: Filter?,
               weightField: String?, into steps: inout [Step]) throws {
        _ = try vertex.withUnsafeBytes { raw in
            try forEachStep(of: raw, direction, labels: labels, edgeFilter: edgeFilter, weightField: weightField) { other, edge, weight in
                steps.append(Step(vertex: Array(other), edge: Array(edge), weight: weight))
                return true
            }
        }
    }

    /// The edges `steps` lists, each handed to `body` as borrowed bytes
    /// (the other vertex's key, the edge's key, valid during the call) and
    /// its weight, copying nothing; `body` returns false to stop. Returns
    /// false when it was stopped. For searches that keep only the vertices
    /// they have not met yet (ShortestPath), so that most edges cost no
    /// allocation.
    func forEachStep(of vertex: UnsafeRawBufferPointer, _ direction: Direction, labels: [[UInt8]]?, edgeFilter: Filter?,
                     weightField: String?, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Double) throws -> Bool) throws -> Bool {
        try checkInterrupt()
        guard let outPrefix, let inPrefix else { return true }
        if direction != .inbound, try !scan(outPrefix, vertex, labels, edgeFilter, weightField, skipLoops: false, body) { return false }
        if direction != .outbound, try !scan(inPrefix, vertex, labels, edgeFilter, weightField, skipLoops: direction == .any, body) {
            return false
        }
        return true
    }

    /// One iterator per adjacency index, made on first use and moved by
    /// seeks: a walk scans one short prefix per vertex, and making an
    /// engine iterator (its sources, its merge heap, its snapshot
    /// registration) costs more than reading the few entries it finds.
    private var outIterator: EngineIterator?
    private var inIterator: EngineIterator?

    /// Calls `body` with each entry key starting with `prefix` (which starts
    /// with `indexPrefix`), in order, until it returns false (then returns
    /// false). Without pending writes a seek of the index's iterator, or
    /// the vertex's list in the adjacency cache when `vertexEnd` (where the
    /// vertex's key ends in `prefix`) is given; in a transaction that
    /// wrote, a scan merging them.
    @inline(__always)
    private func forEachEntry(_ indexPrefix: [UInt8], _ prefix: UnsafeRawBufferPointer, vertexEnd: Int? = nil,
                              _ body: (UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        guard reader.writes.isEmpty else {
            let lower = Array(prefix)
            let scan = try reader.scan(lower: lower, upper: GraphKey.end(of: lower))
            while try scan.next() {
                guard try body(scan.key) else { return false }
            }
            return true
        }
        if cacheMark.usable, let cache, let vertexEnd {
            let listPrefix = UnsafeRawBufferPointer(rebasing: prefix[0..<vertexEnd])
            let hash = AdjacencyCache.hash(listPrefix)
            if let list = cache.lookup(listPrefix, hash: hash, mark: &cacheMark) {
                return try forEachCached(list, prefix, vertexEnd: vertexEnd, body)
            }
            // A label's part of a list is not the list: only a whole one fills.
            if prefix.count == vertexEnd && cacheMark.usable {
                return try forEachScanned(indexPrefix, prefix, filling: cache, hash: hash, body)
            }
        }
        return try forEachScanned(indexPrefix, prefix, filling: nil, hash: 0, body)
    }

    /// The entries of a cached list that start with `prefix`.
    private func forEachCached(_ list: AdjacencyCache.List, _ prefix: UnsafeRawBufferPointer, vertexEnd: Int,
                               _ body: (UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        list.prefix.withUnsafeBytes { cachedKey.set($0) }
        return try list.entries.withUnsafeBytes { entries in
            var position = 0
            while position < entries.count {
                // Safe: the list was encoded by forEachScanned, lengths and all.
                let length = Int(entries[position]) << 8 | Int(entries[position + 1])
                cachedKey.truncate(to: vertexEnd)
                cachedKey.append(UnsafeRawBufferPointer(rebasing: entries[(position + 2)..<(position + 2 + length)]))
                position += 2 + length
                let key = cachedKey.bytes
                if prefix.count > vertexEnd {
                    guard key.count >= prefix.count, compareBytes(UnsafeRawBufferPointer(rebasing: key[0..<prefix.count]), prefix) == 0 else {
                        continue
                    }
                }
                guard try body(key) else { return false }
            }
            return true
        }
    }

    /// The entries starting with `prefix`, from the index's iterator. With
    /// `filling`, `prefix` is a whole list's, and the entries are collected
    /// and kept in the cache (all of them: the scan goes on past a `body`
    /// that stopped it).
    private func forEachScanned(_ indexPrefix: [UInt8], _ prefix: UnsafeRawBufferPointer, filling: AdjacencyCache?, hash: UInt64,
                                _ body: (UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        let isOut = indexPrefix == outPrefix
        let iterator: EngineIterator
        if let cached = isOut ? outIterator : inIterator {
            iterator = cached
        } else {
            guard !reader.engine.isClosed else { throw CairnError.closed }
            iterator = try indexPrefix.withUnsafeBytes { lower in
                try GraphKey.end(of: indexPrefix).withUnsafeBytes { upper in
                    try reader.engine.makeIterator(lower: lower, upper: upper, reverse: false, view: reader.view)
                }
            }
            if isOut { outIterator = iterator } else { inIterator = iterator }
        }
        iterator.iterator.seek(prefix)
        var collecting = filling != nil
        if collecting { collected.removeAll(keepingCapacity: true) }
        var stopped = false
        while try iterator.iterator.next() {
            let key = iterator.iterator.key
            guard key.count >= prefix.count, compareBytes(UnsafeRawBufferPointer(rebasing: key[0..<prefix.count]), prefix) == 0 else { break }
            if collecting, let filling {
                let length = key.count - prefix.count
                if length <= 0xFFFF && collected.count + 2 + length <= filling.maxListBytes {
                    collected.append(UInt8(length >> 8))
                    collected.append(UInt8(length & 0xFF))
                    collected.append(contentsOf: UnsafeRawBufferPointer(rebasing: key[prefix.count...]))
                } else {
                    collecting = false  // too large to keep
                }
            }
            if !stopped {
                let goOn = try body(key)
                if !goOn {
                    stopped = true
                    if !collecting { return false }
                }
            }
        }
        if collecting, let filling {
            // A copy of its own size: `collected` keeps the capacity of the
            // largest list read, which a small list must not hold on to.
            let entries = collected.withUnsafeBytes { [UInt8]($0) }
            filling.fill(AdjacencyCache.List(prefix: Array(prefix), entries: entries), hash: hash, snapshot: snapshot)
        }
        return !stopped
    }

    /// The prefix `scan` seeks (the index prefix, the vertex, a label),
    /// built in place for each vertex instead of in a new array.
    private let prefixBuffer = ByteBuffer()

    private func scan(_ indexPrefix: [UInt8], _ vertex: UnsafeRawBufferPointer, _ labels: [[UInt8]]?, _ edgeFilter: Filter?,
                      _ weightField: String?, skipLoops: Bool,
                      _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Double) throws -> Bool) throws -> Bool {
        indexPrefix.withUnsafeBytes { prefixBuffer.set($0) }
        prefixBuffer.append(vertex)
        let base = prefixBuffer.count
        // No labels: every entry of the vertex; else one prefix per label.
        guard let labels else { return try scanEntries(indexPrefix, base, vertex, edgeFilter, weightField, skipLoops: skipLoops, body) }
        for label in labels {
            prefixBuffer.truncate(to: base)
            label.withUnsafeBytes { prefixBuffer.append($0) }
            guard try scanEntries(indexPrefix, base, vertex, edgeFilter, weightField, skipLoops: skipLoops, body) else { return false }
        }
        return true
    }

    /// `scan` of the entries starting with `prefixBuffer`, whose first
    /// `base` bytes are the index prefix and the vertex.
    @inline(__always)
    private func scanEntries(_ indexPrefix: [UInt8], _ base: Int, _ vertex: UnsafeRawBufferPointer, _ edgeFilter: Filter?,
                             _ weightField: String?, skipLoops: Bool,
                             _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Double) throws -> Bool) throws -> Bool {
        try forEachEntry(indexPrefix, prefixBuffer.bytes, vertexEnd: base) { key in
            // Skip: this vertex (the prefix), the label; then the other vertex, the edge key.
            var position = base
            guard key.count >= position + 2 else { throw CairnError.corruption("graph: a damaged adjacency entry") }
            position += try GraphKey.length(of: key, at: position)
            let otherLength = try GraphKey.length(of: key, at: position)
            let other = UnsafeRawBufferPointer(rebasing: key[position..<(position + otherLength)])
            position += otherLength
            let edgeLength = key.count - 2 - position
            guard edgeLength > 0 else { throw CairnError.corruption("graph: a damaged adjacency entry") }
            if skipLoops && compareBytes(other, vertex) == 0 { return true }
            let edge = UnsafeRawBufferPointer(rebasing: key[position..<(position + edgeLength)])
            var weight = 1.0
            if edgeFilter != nil || weightField != nil || edgeExpiry != nil {
                var edgeKey = edgePrefix
                edgeKey.append(contentsOf: edge)
                guard try reader.read(edgeKey, { scratch.set($0) }) else {
                    throw CairnError.corruption("graph '\(definition.name)': an adjacency entry without its edge")
                }
                let document = DocumentValue(scratch.bytes)
                if let edgeExpiry, try edgeExpiry.hides(document) { return true }
                if let edgeFilter, try !edgeFilter.matches(document) { return true }
                if let weightField { weight = try GraphReader.weight(of: document, field: weightField) }
            }
            return try body(other, edge, weight)
        }
    }

    /// How many edges of `vertex` in `direction` (with `labels`) `steps`
    /// would list, leaving out those in `excluding` (edge keys), without
    /// copying any: a count_only walk's last level.
    func countSteps(of vertex: [UInt8], _ direction: Direction, labels: [[UInt8]]?, excluding: [[UInt8]]) throws -> Int {
        try checkInterrupt()
        guard let outPrefix, let inPrefix else { return 0 }
        var count = 0
        for (indexPrefix, skipLoops) in [(outPrefix, false), (inPrefix, direction == .any)] {
            if indexPrefix == outPrefix && direction == .inbound || indexPrefix == inPrefix && direction == .outbound { continue }
            let prefixes = labels.map { $0.map { indexPrefix + vertex + $0 } } ?? [indexPrefix + vertex]
            for prefix in prefixes {
                _ = try prefix.withUnsafeBytes { rawPrefix in try forEachEntry(indexPrefix, rawPrefix, vertexEnd: indexPrefix.count + vertex.count) { key in
                    var position = indexPrefix.count + vertex.count
                    position += try GraphKey.length(of: key, at: position)
                    let otherLength = try GraphKey.length(of: key, at: position)
                    let other = UnsafeRawBufferPointer(rebasing: key[position..<(position + otherLength)])
                    position += otherLength
                    guard key.count - 2 > position else { throw CairnError.corruption("graph: a damaged adjacency entry") }
                    if skipLoops && vertex.withUnsafeBytes({ compareBytes(other, $0) == 0 }) { return true }
                    let edge = UnsafeRawBufferPointer(rebasing: key[position..<(key.count - 2)])
                    if !excluding.isEmpty {
                        if excluding.contains(where: { $0.withUnsafeBytes { compareBytes(edge, $0) == 0 } }) { return true }
                    }
                    if edgeExpiry != nil, try !edgeIsLive(edge) { return true }
                    count += 1
                    return true
                } }
            }
        }
        return count
    }

    /// What a list of steps held on a walk's stack costs the budget.
    static func frameBytes(_ steps: [Step]) -> Int {
        steps.reduce(64) { $0 + $1.vertex.count + $1.edge.count + 96 }
    }

    /// An edge's weight: its field's number (1 when missing). Negative,
    /// NaN, infinite and non-numeric weights are INVALID_ARGUMENT.
    static func weight(of edge: DocumentValue, field: String) throws -> Double {
        guard let value = try edge.value(atPath: field) else { return 1 }
        let weight: Double
        switch try value.kind() {
        case .int(let n): weight = Double(n)
        case .double(let d): weight = d
        case .null: return 1
        default: throw CairnError.invalidArgument("graph: edge weight '\(field)' must be a number")
        }
        guard weight.isFinite else { throw CairnError.invalidArgument("graph: edge weight '\(field)' must be finite") }
        guard weight >= 0 else { throw CairnError.invalidArgument("graph: negative edge weight \(weight) in '\(field)'; shortest paths need weights >= 0") }
        return weight
    }

    /// Whether the edge at key `edge` has not expired (read only when its
    /// collection has a TTL index).
    private func edgeIsLive(_ edge: UnsafeRawBufferPointer) throws -> Bool {
        guard let edgeExpiry else { return true }
        var key = edgePrefix
        key.append(contentsOf: edge)
        var live = false
        _ = try reader.read(key) { live = try !edgeExpiry.hides($0) }
        return live
    }

    /// The edge document whose key is `edge`, as a tree; nil when gone.
    func edgeDocument(_ edge: [UInt8]) throws -> MutableValue? {
        var found: MutableValue?
        _ = try reader.read(edgePrefix + edge) { raw in
            if let edgeExpiry, try edgeExpiry.hides(raw) { return }
            found = try MutableValue(DocumentValue(raw))
        }
        return found
    }

    /// The document of `vertex` in the first vertex collection holding it
    /// (an expired one is not held).
    func vertexDocument(_ vertex: [UInt8]) throws -> MutableValue? {
        for (collection, expiry) in zip(vertexCollections, vertexExpiries) {
            var found: MutableValue?
            _ = try reader.read(CollectionInfo.documentPrefix(collection.id) + vertex) { raw in
                if let expiry, try expiry.hides(raw) { return }
                found = try MutableValue(DocumentValue(raw))
            }
            if found != nil { return found }
        }
        return nil
    }

    /// Whether `vertex` passes `filter` (a vertex without a document
    /// matches as an empty document does).
    func vertexMatches(_ vertex: [UInt8], _ filter: Filter) throws -> Bool {
        for (collection, expiry) in zip(vertexCollections, vertexExpiries) {
            var matched: Bool?
            _ = try reader.read(CollectionInfo.documentPrefix(collection.id) + vertex) { raw in
                if let expiry, try expiry.hides(raw) { return }
                matched = try filter.matches(DocumentValue(raw))
            }
            if let matched { return matched }
        }
        return try MutableValue.object([]).encoded().withUnsafeBytes { try filter.matches(DocumentValue($0)) }
    }

    /// Calls `body` with every vertex of the vertex collections (its key),
    /// in key order per collection.
    func forEachVertexDocument(_ body: ([UInt8]) throws -> Void) throws {
        for (collection, expiry) in zip(vertexCollections, vertexExpiries) {
            let (lower, upper) = collection.documentRange
            let scan = try reader.scan(lower: lower, upper: upper)
            var count = 0
            while try scan.next() {
                count += 1
                if count & 1023 == 0 { try checkInterrupt() }
                if let expiry, try expiry.hides(scan.value) { continue }
                try body(Array(scan.key[lower.count...]))
            }
        }
    }

    /// Calls `body` with every edge (from, label, to, edge keys as slices of
    /// one entry key, valid during the call), in out-index order.
    func forEachEdge(_ body: (_ from: Range<Int>, _ label: Range<Int>, _ to: Range<Int>, _ edge: Range<Int>,
                              _ key: UnsafeRawBufferPointer) throws -> Void) throws {
        guard let outPrefix else { return }
        var count = 0
        _ = try outPrefix.withUnsafeBytes { rawPrefix in try forEachEntry(outPrefix, rawPrefix) { key in
            count += 1
            if count & 1023 == 0 { try checkInterrupt() }
            var position = outPrefix.count
            let fromLength = try GraphKey.length(of: key, at: position)
            let from = position..<(position + fromLength)
            position += fromLength
            let labelLength = try GraphKey.length(of: key, at: position)
            let label = position..<(position + labelLength)
            position += labelLength
            let toLength = try GraphKey.length(of: key, at: position)
            let to = position..<(position + toLength)
            position += toLength
            guard key.count - 2 > position else { throw CairnError.corruption("graph: a damaged adjacency entry") }
            if edgeExpiry != nil, try !edgeIsLive(UnsafeRawBufferPointer(rebasing: key[position..<(key.count - 2)])) { return true }
            try body(from, label, to, position..<(key.count - 2), key)
            return true
        } }
    }

    /// The vertices with out-edges (keys), each once per run of entries, in
    /// key order; a scan of its own, so walks may run between its calls.
    /// Nil when there are no edges.
    final class SourceScan {
        private let scan: TransactionScan
        private let prefixLength: Int
        private let graph: GraphReader
        private var count = 0

        init(scan: TransactionScan, prefixLength: Int, graph: GraphReader) {
            self.scan = scan
            self.prefixLength = prefixLength
            self.graph = graph
        }

        func next() throws -> [UInt8]? {
            guard try scan.next() else { return nil }
            count += 1
            if count & 1023 == 0 { try graph.checkInterrupt() }
            let key = scan.key
            let length = try GraphKey.length(of: key, at: prefixLength)
            return Array(key[prefixLength..<(prefixLength + length)])
        }
    }

    func sourceScan() throws -> SourceScan? {
        guard let outPrefix else { return nil }
        return SourceScan(scan: try reader.scan(lower: outPrefix, upper: GraphKey.end(of: outPrefix)), prefixLength: outPrefix.count, graph: self)
    }

    /// The edge document at key `edge` matches `filter`.
    func edgeMatches(_ edge: UnsafeRawBufferPointer, _ filter: Filter) throws -> Bool {
        var key = edgePrefix
        key.append(contentsOf: edge)
        var matched = false
        _ = try reader.read(key) { raw in
            if let edgeExpiry, try edgeExpiry.hides(raw) { return }
            matched = try filter.matches(DocumentValue(raw))
        }
        return matched
    }
}
