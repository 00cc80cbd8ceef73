#if canImport(Glibc)
import Glibc
#endif
import CCairnSupport

/// HNSW (Malkov & Yashunin, 2016) over a transaction: a layered graph in
/// which every node links to its nearest neighbours at level 0 and, with a
/// probability falling by M each level, at higher levels too. A search
/// descends greedily from the entry point through the upper levels, then
/// runs a best-first walk of breadth `ef` at level 0.
///
/// Every read goes through the transaction (its snapshot and its own
/// writes) and every change is a put or delete in it, so the graph changes
/// in the same commit as the document. The vectors come from the node
/// cache when it has them (VectorNodeCache), otherwise from the LSM; the
/// links always come from the LSM (they change; see docs for why).
///
/// One `HNSWGraph` serves one operation (an insert, a delete, a search)
/// and holds the cache's shared lock while it lives: call `finish()`.
///
/// Concurrency: inserts near each other write the same neighbour lists,
/// so concurrent writers conflict and one is retried
/// (Scope.withTransaction); each list is its own small key, so writers in
/// different parts of the graph do not conflict. Every change to a list
/// also writes the lists it adds a link to (their in-link keys), so a
/// delete of a node and an insert linking to it always conflict: no list
/// ever points at a deleted node.
struct HNSW {
    /// Levels are stored in a byte; 16 levels hold 16^16 nodes at M = 16.
    static let maxLevel = 15

    /// A node's level, drawn from its number (reproducible: the same
    /// inserts build the same graph): floor(−ln(u) · mL), u uniform in (0, 1].
    static func level(of node: UInt32, multiplier: Double) -> Int {
        var x = UInt64(node) &+ 0x9E37_79B9_7F4A_7C15  // Wraps: splitmix64, a hash
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        let u = (Double(x >> 11) + 1) / Double(1 << 53)
        return min(maxLevel, Int(-log(u) * multiplier))
    }
}

/// A binary heap of (distance, node), min- or max-ordered.
struct DistanceHeap {
    private(set) var items: [(distance: Float, node: UInt32)] = []
    let isMax: Bool

    init(max: Bool, capacity: Int = 0) {
        isMax = max
        items.reserveCapacity(capacity)
    }

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    var top: (distance: Float, node: UInt32)? { items.first }

    // Push and pop move a hole instead of swapping, on the array's
    // storage, with the order read once per call: the walk
    // does both thousands of times a query (a quarter of its
    // instructions). A child replaces its parent only when strictly
    // better, and a right child beats the left one only when strictly
    // better, as before: the same heap, ties included.

    mutating func push(_ distance: Float, _ node: UInt32) {
        items.append((distance, node))
        let item = (distance: distance, node: node)
        let isMax = self.isMax
        items.withUnsafeMutableBufferPointer { heap in
            // Safe: every index is below heap.count.
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) >> 1
                let above = heap[parent].distance
                guard isMax ? item.distance > above : item.distance < above else { break }
                heap[i] = heap[parent]
                i = parent
            }
            heap[i] = item
        }
    }

    @discardableResult
    mutating func pop() -> (distance: Float, node: UInt32)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        let count = items.count
        guard count > 0 else { return top }
        let isMax = self.isMax
        items.withUnsafeMutableBufferPointer { heap in
            // Safe: every index is below count == heap.count.
            var i = 0
            while true {
                let left = 2 &* i &+ 1
                if left >= count { break }
                var best = left
                let right = left &+ 1
                if right < count && (isMax ? heap[right].distance > heap[left].distance : heap[right].distance < heap[left].distance) {
                    best = right
                }
                let below = heap[best].distance
                guard isMax ? below > last.distance : below < last.distance else { break }
                heap[i] = heap[best]
                i = best
            }
            heap[i] = last
        }
        return top
    }

    /// The items, nearest first.
    func sorted() -> [(distance: Float, node: UInt32)] {
        items.sorted { $0.distance < $1.distance || ($0.distance == $1.distance && $0.node < $1.node) }
    }
}

/// One operation's access to one vector index's graph (see HNSW above).
final class HNSWGraph {
    let transaction: Transaction
    let spec: VectorIndexSpec
    let indexName: String
    let prefix: [UInt8]
    let cache: VectorNodeCache
    private let reader: VectorNodeCache.Reader
    private var fills: [VectorNodeCache.Fill] = []
    /// The transaction has pending writes: they are looked at first.
    private let hasWrites: Bool
    private var finished = false
    /// A search reads and learns neighbour lists through the cache (see
    /// VectorNodeCache); a writer never does.
    let useListCache: Bool
    let snapshot: UInt64
    /// Where list changes stood before the first list was read (see
    /// VectorNodeCache.listsUnchanged).
    let changeMark: VectorNodeCache.ChangeMark
    private var listFills: [(key: UInt64, links: [UInt32])] = []
    /// The lists this operation changed, forgotten by the cache at commit.
    private var changedLists = Set<UInt64>()
    /// Lists and vectors as this transaction sees them, kept for a run of
    /// document changes (VectorGraphMemo) or for this operation alone.
    private let memo: VectorGraphMemo.Graph
    var distanceCount = 0

    /// Opens the graph and takes the cache's shared lock until `finish`.
    /// `forSearch`: the operation only reads (it may use cached lists).
    init(transaction: Transaction, index: IndexDefinition, spec: VectorIndexSpec, collection: UInt32, forSearch: Bool = false) {
        self.transaction = transaction
        self.spec = spec
        indexName = index.name
        prefix = VectorIndexFormat.prefix(collection: collection, index: index.id)
        cache = transaction.database.vectors.cache(collection: collection, index: index.id, dimensions: spec.dimensions,
                                                   maxLinks0: spec.maxLinks0)
        hasWrites = !transaction.writes.isEmpty
        memo = transaction.vectorMemo?.graph(collection: collection, index: index.id) ?? VectorGraphMemo.Graph()
        changeMark = cache.changeMark()
        reader = cache.beginRead()
        snapshot = transaction.view.sequence
        useListCache = forSearch && !hasWrites && snapshot >= reader.minFillSequence
    }

    /// Releases the cache and hands it the records this operation read.
    func finish() {
        guard !finished else { return }
        finished = true
        cache.endRead()
        cache.add(fills, lists: listFills, sequence: snapshot)
        fills = []
        listFills = []
        if !changedLists.isEmpty {
            // Begun before the commit can be visible; the hook holds it, so
            // a transaction that never commits ends it when it drops its
            // hooks (VectorNodeCache.listsUnchanged).
            let (cache, engine, changed) = (self.cache, transaction.engine, changedLists)
            let change = cache.beginListChange()
            transaction.afterCommit.append {
                let sequence = (try? engine.readView().sequence) ?? UInt64.max
                cache.invalidate(changed, sequence: sequence)
                change.end(sequence: sequence)
            }
            changedLists = []
        }
    }

    deinit { finish() }

    var damaged: String { "vector index '\(indexName)'" }

    // MARK: Nodes

    /// Calls `body` with `node`'s vector; nil when the node does not exist.
    @inline(__always)
    func withVector<T>(_ node: UInt32, _ body: (UnsafeRawPointer) throws -> T) throws -> T? {
        // A cached record is committed and never changes. A node this
        // transaction deleted is cached still, but never asked for: the
        // links and the entry point are read through the transaction, which
        // no longer reaches it.
        if let cached = reader.vector(node) { return try body(cached) }
        if let known = memo.vectors[node] { return try known.withUnsafeBytes { try body($0.baseAddress!) } }
        guard let vector = try loadVector(node) else { return nil }
        return try vector.withUnsafeBytes { try body($0.baseAddress!) }
    }

    func setLocal(_ node: UInt32, _ vector: [Float]) { memo.vectors[node] = vector }
    func forgetLocal(_ node: UInt32) { memo.vectors[node] = nil }

    /// Reads a node's vector from the transaction (remembering it for this
    /// operation, and for the cache when it is committed state).
    private func loadVector(_ node: UInt32) throws -> [Float]? {
        let key = VectorIndexFormat.nodeKey(prefix, node)
        let pending = hasWrites && key.withUnsafeBytes { transaction.writes.contains($0) }
        var vector: [Float]?
        _ = try transaction.read(key) { raw in
            let record = try VectorIndexFormat.decodeNode(raw, dimensions: spec.dimensions, index: indexName)
            let v = [Float](unsafeUninitializedCapacity: spec.dimensions) { buffer, count in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: record.vector)
                count = spec.dimensions
            }
            vector = v
            if !pending {
                fills.append(.init(node: node, level: UInt8(record.level), primaryKey: Array(record.primaryKey),
                                   filterValues: Array(record.filterValues), vector: v))
            }
        }
        if let vector { memo.vectors[node] = vector }
        return vector
    }

    /// The record of `node` (level, primary key, filter values); nil when absent.
    func record(_ node: UInt32) throws -> (level: Int, primaryKey: [UInt8], filterValues: [UInt8])? {
        if let cached = reader.record(node) { return (Int(cached.level), cached.primaryKey, cached.filterValues) }
        var out: (level: Int, primaryKey: [UInt8], filterValues: [UInt8])?
        _ = try transaction.read(VectorIndexFormat.nodeKey(prefix, node)) { raw in
            let record = try VectorIndexFormat.decodeNode(raw, dimensions: spec.dimensions, index: indexName)
            out = (record.level, Array(record.primaryKey), Array(record.filterValues))
        }
        return out
    }

    /// The distance from `query` (dimensions floats) to `node`; nil when absent.
    @inline(__always)
    func distance(_ query: UnsafeRawPointer, _ node: UInt32) throws -> Float? {
        distanceCount &+= 1  // Wraps: a statistic
        return try withVector(node) { spec.metric.distance(query, $0, count: spec.dimensions) }
    }

    func distance(between a: UInt32, _ b: UInt32) throws -> Float? {
        try withVector(a) { va in try withVector(b) { vb in spec.metric.distance(va, vb, count: spec.dimensions) } } ?? nil
    }

    // MARK: Links

    func maxLinks(level: Int) -> Int { level == 0 ? spec.maxLinks0 : spec.m }

    func links(_ node: UInt32, level: Int) throws -> [UInt32] {
        if useListCache {
            if level == 0 {
                if let cached = reader.level0Links(node) { return Array(cached) }
            } else if let cached = reader.links(node, level: level) {
                return cached
            }
        }
        let key = UInt64(node) << 8 | UInt64(level)
        if let known = memo.lists[key] { return known }
        var out: [UInt32] = []
        let found = try transaction.read(VectorIndexFormat.linksKey(prefix, node, level: level)) { raw in
            out = try VectorIndexFormat.decodeLinks(raw, max: maxLinks(level: level), index: indexName)
        }
        if useListCache && found { listFills.append((key, out)) }
        memo.remember(key, out)
        return out
    }

    /// Calls `body` with `node`'s list at `level`: the cache's own memory
    /// when it holds the list (no copy: the walk's step), else a copy.
    @inline(__always)
    func withLinks<T>(_ node: UInt32, level: Int, _ body: (UnsafeBufferPointer<UInt32>) throws -> T) throws -> T {
        if useListCache && level == 0, let cached = reader.level0Links(node) { return try body(cached) }
        return try links(node, level: level).withUnsafeBufferPointer { try body($0) }
    }

    /// Deletes `node`'s list at `level` (the node goes).
    func deleteLinks(_ node: UInt32, level: Int) throws {
        try transaction.delete(VectorIndexFormat.linksKey(prefix, node, level: level))
        changedLists.insert(UInt64(node) << 8 | UInt64(level))
        memo.remember(UInt64(node) << 8 | UInt64(level), [])
    }

    /// Replaces `node`'s list at `level` (`old` what it held), keeping the
    /// in-link keys of the nodes it links to in step.
    /// `touchAdded`: also rewrites the list of each node newly linked to, so
    /// that a concurrent delete of that node conflicts with this change.
    func setLinks(_ node: UInt32, level: Int, old: [UInt32], new: [UInt32], touchAdded: Bool = false) throws {
        precondition(new.count <= maxLinks(level: level), "a neighbour list over its bound")
        try transaction.put(VectorIndexFormat.linksKey(prefix, node, level: level), VectorIndexFormat.encodeLinks(new))
        changedLists.insert(UInt64(node) << 8 | UInt64(level))
        memo.remember(UInt64(node) << 8 | UInt64(level), new)
        let before = Set(old), after = Set(new)
        for gone in before.subtracting(after) {
            try changeInLinks(gone, level: level) { $0.removeAll { $0 == node } }
        }
        for added in after.subtracting(before) {
            try changeInLinks(added, level: level) { if !$0.contains(node) { $0.append(node) } }
            if touchAdded {
                let key = VectorIndexFormat.linksKey(prefix, added, level: level)
                var value: [UInt8]?
                _ = try transaction.read(key) { value = Array($0) }
                if let value { try transaction.put(key, value) }
            }
        }
    }

    /// The nodes that link to `node` at `level` (its in-link list).
    func inLinks(_ node: UInt32, level: Int) throws -> [UInt32] {
        var out: [UInt32] = []
        _ = try transaction.read(VectorIndexFormat.inLinkKey(prefix, node, level: level)) { raw in
            out = try VectorIndexFormat.decodeLinks(raw, max: VectorIndexFormat.maxInLinks, index: indexName)
        }
        return out
    }

    /// Rewrites `node`'s in-link list at `level` (deleted when empty).
    func changeInLinks(_ node: UInt32, level: Int, _ change: (inout [UInt32]) -> Void) throws {
        var list = try inLinks(node, level: level)
        let before = list
        change(&list)
        guard list != before else { return }
        let key = VectorIndexFormat.inLinkKey(prefix, node, level: level)
        if list.isEmpty { try transaction.delete(key) } else { try transaction.put(key, VectorIndexFormat.encodeLinks(list)) }
    }

    // MARK: Entry point

    func entryPoint() throws -> (node: UInt32, level: Int)? {
        var entry: (node: UInt32, level: Int)?
        _ = try transaction.read(VectorIndexFormat.entryKey(prefix)) { entry = try VectorIndexFormat.decodeEntry($0, index: indexName) }
        return entry
    }

    // MARK: Walks

    /// The greedy descent of one upper level: the nearest node reachable
    /// from `start` by always moving closer.
    func greedy(_ query: UnsafeRawPointer, from start: (distance: Float, node: UInt32), level: Int) throws -> (distance: Float, node: UInt32) {
        var best = start
        var moved = true
        while moved {
            moved = false
            for next in try links(best.node, level: level) {
                guard let d = try distance(query, next) else { continue }
                if d < best.distance || (d == best.distance && next < best.node) {
                    best = (d, next)
                    moved = true
                }
            }
        }
        return best
    }

    /// HNSW's SEARCH-LAYER: the best-first walk of breadth `ef` at `level`
    /// from `starts`. With `accept`, only accepted nodes enter the results
    /// (the walk still goes through the others: the filter applies during
    /// the walk). With `accept` and `nodes` (the index's size), the walk
    /// gives up (returns nil: the caller switches to an exact scan) once
    /// it has visited more nodes than the filter is estimated to match
    /// (nodes × accepted / visited), which is what the exact scan costs:
    /// Lucene's rule, with the match count sampled by the walk itself.
    func searchLayer(_ query: UnsafeRawPointer, starts: [(distance: Float, node: UInt32)], ef: Int, level: Int,
                     accept: ((UInt32) throws -> Bool)? = nil, nodes: Int = 0) throws -> DistanceHeap? {
        let visited = cache.visitedMarks(nodes: reader.slots.count)
        defer { cache.recycle(visited) }
        var candidates = DistanceHeap(max: false, capacity: ef * 4)
        var results = DistanceHeap(max: true, capacity: ef + 1)
        var visits = 0, accepted = 0
        for start in starts where visited.insert(start.node) {
            candidates.push(start.distance, start.node)
            if try accept?(start.node) ?? true { results.push(start.distance, start.node) }
        }
        while results.count > ef { results.pop() }
        while let current = candidates.pop() {
            if results.count >= ef, let worst = results.top, current.distance > worst.distance { break }
            let gaveUp = try withLinks(current.node, level: level) { list -> Bool in
                guard let accept else {
                    // Unfiltered (searches without a filter, inserts): mark
                    // the neighbours not visited yet and ask for their cached
                    // vectors, then compute the distances, so the loads
                    // overlap the arithmetic (hnswlib prefetches likewise: a
                    // vector is rarely in the CPU's cache, the graph being
                    // larger) and each vector is looked up once. The same
                    // nodes in the same order as the filtered loop below.
                    try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: list.count) { fresh in
                        try withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: list.count) { vectors in
                            var count = 0
                            for next in list where visited.insert(next) {
                                let vector = reader.vector(next)
                                if let vector { cairn_support_prefetch(vector) }
                                // Safe: count < list.count, the buffers' capacity.
                                fresh[count] = next
                                vectors[count] = vector
                                count &+= 1
                            }
                            for i in 0..<count {
                                let next = fresh[i]
                                let d: Float
                                if let vector = vectors[i] {
                                    distanceCount &+= 1  // Wraps: a statistic
                                    d = spec.metric.distance(query, vector, count: spec.dimensions)
                                } else {
                                    guard let found = try distance(query, next) else { continue }
                                    d = found
                                }
                                if results.count < ef || d < results.top!.distance {
                                    candidates.push(d, next)
                                    results.push(d, next)
                                    if results.count > ef { results.pop() }
                                }
                            }
                        }
                    }
                    return false
                }
                for next in list { if let vector = reader.vector(next) { cairn_support_prefetch(vector) } }
                for next in list where visited.insert(next) {
                    visits += 1
                    let isAccepted = try accept(next)
                    if isAccepted { accepted += 1 }
                    if visits >= 512, visits & 63 == 0, Double(visits) > Double(nodes) * Double(accepted) / Double(visits) { return true }
                    guard let d = try distance(query, next) else { continue }
                    if results.count < ef || d < results.top!.distance {
                        candidates.push(d, next)
                        if isAccepted {
                            results.push(d, next)
                            if results.count > ef { results.pop() }
                        }
                    }
                }
                return false
            }
            if gaveUp { return nil }
        }
        return results
    }

    /// HNSW's neighbour selection heuristic: from `candidates` (nearest
    /// first, distances to the base), keeps a candidate only when it is
    /// closer to the base than to every one kept, up to `limit`; this keeps
    /// links pointing in different directions, which keeps clustered data
    /// connected.
    func selectNeighbours(_ candidates: [(distance: Float, node: UInt32)], limit: Int) throws -> [(distance: Float, node: UInt32)] {
        if candidates.count <= limit { return candidates }
        var kept: [(distance: Float, node: UInt32)] = []
        for candidate in candidates {
            if kept.count >= limit { break }
            var good = true
            for other in kept {
                if let d = try distance(between: candidate.node, other.node), d < candidate.distance {
                    good = false
                    break
                }
            }
            if good { kept.append(candidate) }
        }
        return kept
    }
}
