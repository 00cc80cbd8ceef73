/// Fusing ranked lists (hybrid search): a text ranking and a vector
/// ranking, each a list of (primary key, score) best first, into one.
///
///   - Reciprocal Rank Fusion: fused = Σ_lists weight / (k + rank), rank
///     from 1; a key missing from a list adds nothing. k = 60 by default
///     (Cormack et al., 2009). Needs no calibration of the scores.
///   - Weighted sum of normalised scores: each list's scores are scaled to
///     [0, 1] by min-max over the list (a single score becomes 1), then
///     fused = Σ weight · normalised; a missing key adds 0.
///
/// Ties order by primary key bytes, so the result is fully determined.
enum RankFusion: Equatable {
    case reciprocalRank(k: Double)
    case weightedSum

    struct Fused {
        var primaryKey: [UInt8]
        var score: Double
        /// Each input list's score for this key (nil when absent from it).
        var scores: [Double?]
    }

    static let defaultK = 60.0

    static func fuse(_ lists: [[(primaryKey: [UInt8], score: Double)]], weights: [Double], method: RankFusion) -> [Fused] {
        precondition(weights.count == lists.count, "a weight per list")
        var fused: [EngineKey: Fused] = [:]
        for (position, list) in lists.enumerated() {
            let weight = weights[position]
            let low = list.map(\.score).min() ?? 0, high = list.map(\.score).max() ?? 0
            for (rank, item) in list.enumerated() {
                let contribution: Double
                switch method {
                case .reciprocalRank(let k): contribution = weight / (k + Double(rank + 1))
                case .weightedSum: contribution = weight * (high > low ? (item.score - low) / (high - low) : 1)
                }
                let key = EngineKey(item.primaryKey)
                var entry = fused[key] ?? Fused(primaryKey: item.primaryKey, score: 0, scores: Array(repeating: nil, count: lists.count))
                if entry.scores[position] == nil {  // a key twice in one list counts once, at its best rank
                    entry.scores[position] = item.score
                    entry.score += contribution
                }
                fused[key] = entry
            }
        }
        return fused.values.sorted { $0.score > $1.score || ($0.score == $1.score && $0.primaryKey.lexicographicallyPrecedes($1.primaryKey)) }
    }
}
