/// The terms of one text index, sorted, in memory: what prefix and fuzzy
/// queries expand against, without walking the index's keys for every
/// query. Loaded from the index (its document-frequency keys) by the
/// first query that needs it, then kept current by the writers: a
/// document's new terms are noted as it is written. The dictionary may
/// hold terms no committed document has any more (a rolled-back write, a
/// deleted document); queries read each candidate's document frequency at
/// their snapshot and drop those, so it only has to be a superset.
///
/// Writers note terms whether or not it is loaded (memory bounded by the
/// index's vocabulary), so a write in flight while it loads is never
/// missed. Its lock is a leaf.
final class TermDictionary: @unchecked Sendable {
    private let lock = Lock()
    private var added = Set<[UInt8]>()
    private var terms: PackedTerms?

    func note(_ new: [[UInt8]]) {
        guard !new.isEmpty else { return }
        lock.withLock { for term in new { added.insert(term) } }
    }

    /// The sorted terms, loaded with `load` the first time.
    func sorted(load: () throws -> PackedTerms) throws -> PackedTerms {
        if let ready = lock.withLock({ () -> PackedTerms? in
            guard let terms else { return nil }
            if !added.isEmpty {
                self.terms = terms.merging(added)
                added.removeAll()
            }
            return self.terms
        }) { return ready }
        let loaded = try load()
        return lock.withLock {
            let merged = (terms ?? loaded).merging(added)
            added.removeAll()
            terms = merged
            return merged
        }
    }
}

/// Sorted, distinct terms in one buffer.
struct PackedTerms {
    private(set) var bytes: [UInt8] = []
    /// Where each term starts; one more entry than terms, the end.
    private(set) var offsets: [Int] = [0]

    var count: Int { offsets.count - 1 }

    /// Appends a term; callers append in sorted order.
    mutating func append<C: Collection>(_ term: C) where C.Element == UInt8 {
        bytes.append(contentsOf: term)
        offsets.append(bytes.count)
    }

    func term(_ i: Int) -> ArraySlice<UInt8> { bytes[offsets[i]..<offsets[i + 1]] }

    /// The first position whose term is not less than `key`.
    func lowerBound<C: Collection>(_ key: C) -> Int where C.Element == UInt8 {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if term(middle).lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func merging(_ extra: Set<[UInt8]>) -> PackedTerms {
        guard !extra.isEmpty else { return self }
        let sortedExtra = extra.sorted { $0.lexicographicallyPrecedes($1) }
        var out = PackedTerms()
        out.bytes.reserveCapacity(bytes.count + sortedExtra.reduce(0) { $0 + $1.count })
        out.offsets.reserveCapacity(count + sortedExtra.count + 1)
        var i = 0, j = 0
        while i < count || j < sortedExtra.count {
            if j == sortedExtra.count || (i < count && term(i).lexicographicallyPrecedes(sortedExtra[j])) {
                out.append(term(i))
                i += 1
            } else if i < count && term(i).elementsEqual(sortedExtra[j]) {
                out.append(term(i))
                i += 1
                j += 1
            } else {
                out.append(sortedExtra[j])
                j += 1
            }
        }
        return out
    }

    // MARK: Expansion

    /// Up to `limit` terms starting with `prefix`, in order.
    func withPrefix(_ prefix: [UInt8], limit: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = lowerBound(prefix)
        while i < count, out.count < limit, term(i).starts(with: prefix) {
            out.append(Array(term(i)))
            i += 1
        }
        return out
    }

    /// The terms within `maxEdits` of `query` (Levenshtein distance over
    /// Unicode scalars, a transposition of two neighbours counting as one
    /// edit, as Lucene's fuzzy query counts), nearest first, at most
    /// `limit`. Walks the sorted terms sharing the distance rows of common
    /// prefixes, and skips every term under a prefix already too far.
    func within(_ maxEdits: Int, of query: [UInt8], limit: Int) -> [(term: [UInt8], distance: Int)] {
        let target = Array(String(decoding: query, as: UTF8.self).unicodeScalars.map(\.value))
        let n = target.count
        var rows: [[Int]] = [Array(0...n)]
        var previous: [UInt32] = []
        var found: [(term: [UInt8], distance: Int)] = []
        var i = 0
        while i < count {
            let bytes = term(i)
            let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value))
            var common = 0
            while common < min(previous.count, scalars.count, rows.count - 1), previous[common] == scalars[common] { common += 1 }
            rows.removeLast(rows.count - (common + 1))
            var pruned = false
            var depth = common
            while depth < scalars.count {
                let above = rows[depth]
                var row = [Int](repeating: 0, count: n + 1)
                row[0] = depth + 1
                var smallest = row[0]
                for j in 1...max(n, 1) where j <= n {
                    let cost = target[j - 1] == scalars[depth] ? 0 : 1
                    var best = min(above[j] + 1, row[j - 1] + 1, above[j - 1] + cost)
                    if depth > 0, j > 1, scalars[depth] == target[j - 2], scalars[depth - 1] == target[j - 1] {
                        best = min(best, rows[depth - 1][j - 2] + 1)
                    }
                    row[j] = best
                    smallest = min(smallest, best)
                }
                // A transposition reaches back a row: prune only when that
                // row cannot help either.
                let reachBack = above.min() ?? 0
                rows.append(row)
                depth += 1
                if smallest > maxEdits && reachBack >= maxEdits {
                    // No term under this prefix can come within reach.
                    let prefix = Array(String(String.UnicodeScalarView(scalars[0..<depth].compactMap(Unicode.Scalar.init))).utf8)
                    previous = Array(scalars[0..<depth])
                    let next = lowerBound(prefixUpperBound(prefix))
                    i = max(next, i + 1)
                    pruned = true
                    break
                }
            }
            if pruned { continue }
            previous = scalars
            if rows[scalars.count][n] <= maxEdits { found.append((Array(bytes), rows[scalars.count][n])) }
            i += 1
        }
        found.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.term.lexicographicallyPrecedes($1.term) }
        return Array(found.prefix(limit))
    }
}
