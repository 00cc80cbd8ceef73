#if canImport(Glibc)
import Glibc
#endif

/// One search over one text index at one snapshot: the query's clauses are
/// analyzed as the index analyzes documents, each clause's postings are
/// scored with BM25, the clauses are combined (must, should, must not),
/// and the best hits are fetched in score order.
///
/// **Scoring** is Lucene's BM25 (Lucene 8 and later), per field, summed
/// over the fields with their weights:
///
///     score(d) = Σ_clauses Σ_fields weight_f · idf_f · tf_f
///     idf_f    = ln(1 + (N_f − n_f + 0.5) / (n_f + 0.5))
///     tf_f     = f / (f + k1 · (1 − b + b · dl / avgdl_f))
///
/// where N_f is the number of documents with text in field f, n_f the
/// number of them holding the term in f, f the term's frequency in the
/// document's field, dl the field's length in tokens and avgdl_f the mean
/// length of f. Unlike Lucene, dl is exact (Lucene rounds it to one byte),
/// and a phrase scores as Lucene's PhraseQuery: the sum of its terms' idf
/// times tf of the phrase's frequency. A prefix or fuzzy clause scores as
/// the best of the terms it expands to; a fuzzy match at distance d scores
/// at most (1 − d / (maxEdits + 1)) of the lowest score of an exact match
/// of the same word, so it never outranks one.
///
/// **Filters** run first when their plan uses an index and they match few
/// documents (then the postings of just those documents are read, point
/// by point); otherwise the text runs first and each hit, in score order,
/// is checked against the filter until the page is full.
final class TextSearch {
    struct Hit {
        var docnum: UInt32
        var score: Double
        var document: [UInt8] = []
    }

    let reader: TransactionReader
    let collection: CollectionInfo
    let index: IndexDefinition
    let spec: TextIndexSpec
    let analyzer: Analyzer
    private let layer: FullTextLayer
    private let prefix: [UInt8]
    private var totals: TextIndexFormat.Stats
    private var weights: [Double]
    private var allowed: UInt32
    /// The terms the query matched (expansions included), for highlights.
    private(set) var matchedTerms = Set<[UInt8]>()
    /// How the search ran, for explain.
    private(set) var strategy = "text_first"
    private(set) var postingsRead = 0

    /// Prefix and fuzzy clauses expand to at most this many terms each
    /// (Lucene's FuzzyQuery default is 50).
    static let maxExpansions = 50

    /// `language`: analyze the query with another language than the
    /// index's ($text's $language).
    init(reader: TransactionReader, collection: CollectionInfo, index: IndexDefinition, spec: TextIndexSpec,
         fields: [String]?, weights overrides: [String: Double], language: String? = nil) throws {
        self.reader = reader
        self.collection = collection
        self.index = index
        self.spec = spec
        layer = reader.fullText
        var options = spec.analyzer
        if let language { options.language = language }
        analyzer = layer.analyzer(options)
        prefix = TextIndexFormat.prefix(collection: collection.id, index: index.id)
        let paths = index.fields.map(\.path)
        weights = spec.weights
        for (path, weight) in overrides {
            guard let position = paths.firstIndex(of: path) else {
                throw CairnError.invalidArgument("search options.weights.\(path): not a field of text index '\(index.name)' (fields: \(paths.joined(separator: ", ")))")
            }
            weights[position] = weight
        }
        if let fields {
            allowed = 0
            for path in fields {
                guard let position = paths.firstIndex(of: path) else {
                    throw CairnError.invalidArgument("search options.fields: '\(path)' is not a field of text index '\(index.name)' (fields: \(paths.joined(separator: ", ")))")
                }
                allowed |= 1 << UInt32(position)
            }
        } else {
            allowed = index.fields.count == 32 ? UInt32.max : (1 << UInt32(index.fields.count)) - 1
        }
        totals = TextIndexFormat.Stats(fields: index.fields.count)
        let scan = try reader.scan(lower: prefix + [TextIndexFormat.Tag.stats.rawValue], upper: prefix + [TextIndexFormat.Tag.posting.rawValue])
        while try scan.next() {
            totals.add(try TextIndexFormat.Stats(scan.value, fields: index.fields.count, what: "text index '\(index.name)' statistics"))
        }
    }

    // MARK: Compiling the query

    /// A clause ready to run: its terms, analyzed.
    private enum Plan {
        /// One term; for expansions, the edit distance of each (0 for a word or a prefix).
        case terms([(term: [UInt8], distance: Int)], fuzzyEdits: Int?)
        /// Terms at relative positions.
        case phrase([(term: [UInt8], offset: Int)])
    }

    /// The fields a search reads: `fields` (paths), or every field.
    func fieldsMask(_ fields: [String]?) throws -> UInt32 {
        guard let fields else { return allowed }
        return try fields.reduce(UInt32(0)) { $0 | (try fieldMask($1)) }
    }

    private func fieldMask(_ field: String?) throws -> UInt32 {
        guard let field else { return allowed }
        let paths = index.fields.map(\.path)
        guard let position = paths.firstIndex(of: field) else {
            throw CairnError.invalidArgument("search query: '\(field)' is not a field of text index '\(index.name)' (fields: \(paths.joined(separator: ", ")))")
        }
        return allowed & (1 << UInt32(position))
    }

    /// Case-folds without stemming or stopwords (prefixes and fuzzy words
    /// are matched against the dictionary as typed).
    private func folded(_ word: String) -> [[UInt8]] {
        layer.analyzer(AnalyzerOptions(language: "none", stemming: false, stopwords: .none, minTokenLength: 1)).terms(word).map(\.term)
    }

    private func compile(_ clause: TextQuery.Clause) throws -> Plan? {
        switch clause.kind {
        case .word(let text), .phrase(let text):
            let tokens = analyzer.terms(text)
            guard let first = tokens.first else { return nil }
            if tokens.count == 1 { return .terms([(first.term, 0)], fuzzyEdits: nil) }
            return .phrase(tokens.map { ($0.term, $0.position - first.position) })
        case .prefix(let text):
            // The index holds stems ("tables" as "tabl"), so the prefix as
            // typed and as stemmed both expand: "table*" finds "table".
            guard let typed = folded(text).first else { return nil }
            var forms = [typed]
            if let stemmed = analyzer.terms(text).first?.term, stemmed != typed { forms.append(stemmed) }
            let dictionary = try loadDictionary()
            var expanded: [[UInt8]] = []
            for form in forms {
                for term in dictionary.withPrefix(form, limit: TextSearch.maxExpansions) where !expanded.contains(term) { expanded.append(term) }
            }
            return .terms(expanded.prefix(TextSearch.maxExpansions).map { ($0, 0) }, fuzzyEdits: nil)
        case .fuzzy(let text, let maxEdits):
            var forms = Set(folded(text))
            if let stemmed = analyzer.terms(text).first?.term { forms.insert(stemmed) }
            guard !forms.isEmpty else { return nil }
            let dictionary = try loadDictionary()
            var best: [[UInt8]: Int] = [:]
            for form in forms {
                for (term, distance) in dictionary.within(maxEdits, of: form, limit: TextSearch.maxExpansions) {
                    best[term] = min(best[term] ?? Int.max, distance)
                }
            }
            let ordered = best.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key.lexicographicallyPrecedes($1.key) }
            return .terms(ordered.prefix(TextSearch.maxExpansions).map { ($0.key, $0.value) }, fuzzyEdits: maxEdits)
        }
    }

    private func loadDictionary() throws -> PackedTerms {
        try layer.dictionary(collection: collection.id, index: index.id).sorted {
            var terms = PackedTerms()
            let lower = prefix + [TextIndexFormat.Tag.documentFrequency.rawValue]
            let scan = try reader.scan(lower: lower, upper: prefix + [TextIndexFormat.Tag.primaryKey.rawValue])
            var last: [UInt8]?
            while try scan.next() {
                let rest = UnsafeRawBufferPointer(rebasing: scan.key[lower.count...])
                guard let end = rest.firstIndex(of: 0) else { throw CairnError.corruption("text index '\(index.name)': damaged term key") }
                let term = UnsafeRawBufferPointer(rebasing: rest[..<end])
                if let last, term.elementsEqual(last) { continue }
                terms.append(term)
                last = Array(term)
            }
            return terms
        }
    }

    // MARK: Statistics of terms

    /// Per field: how many documents hold `term` there.
    private func documentFrequencies(_ term: [UInt8]) throws -> [UInt64] {
        if let known = frequencies[term] { return known }
        let counts = try readDocumentFrequencies(term)
        frequencies[term] = counts
        return counts
    }

    /// Document frequencies read so far (a query reads each term's once).
    private var frequencies: [[UInt8]: [UInt64]] = [:]

    private func readDocumentFrequencies(_ term: [UInt8]) throws -> [UInt64] {
        var counts = Array(repeating: UInt64(0), count: index.fields.count)
        var lower = prefix
        lower.append(TextIndexFormat.Tag.documentFrequency.rawValue)
        lower.append(contentsOf: term)
        lower.append(0)
        let scan = try reader.scan(lower: lower, upper: prefixUpperBound(lower))
        while try scan.next() {
            guard scan.key.count == lower.count + 2 else { throw CairnError.corruption("text index '\(index.name)': damaged frequency key") }
            let field = Int(scan.key[lower.count])
            guard field < counts.count else { throw CairnError.corruption("text index '\(index.name)': frequency of an unknown field") }
            var value = ByteReader(scan.value, what: "text index '\(index.name)' document frequency")
            let (sum, overflow) = counts[field].addingReportingOverflow(try value.readVarint())
            guard !overflow else { throw CairnError.corruption("text index '\(index.name)': document frequency overflows") }
            counts[field] = sum
        }
        return counts
    }

    private func idf(_ n: UInt64, field: Int) -> Double {
        // Never below the documents holding the term, so a count out of
        // step (an interrupted build) cannot make a NaN.
        let holding = Double(n)
        let documents = max(Double(totals.fieldDocuments[field]), holding)
        return log(1 + (documents - holding + 0.5) / (holding + 0.5))
    }

    @inline(__always)
    private func tf(_ frequency: Double, length: Int, field: Int) -> Double {
        let documents = Double(max(totals.fieldDocuments[field], 1))
        let average = Double(totals.fieldLengths[field]) / documents
        let norm = average > 0 ? Double(length) / average : 1
        return frequency / (frequency + spec.k1 * (1 - spec.b + spec.b * norm))
    }

    // MARK: Postings

    /// A point read of a posting costs about this many postings read in
    /// sequence (measured on GCIDE with bench/fts_bench.c): candidates
    /// fewer than a term's postings over this are read point by point, more
    /// are found by scanning the term's postings.
    static let pointReadCost: UInt64 = 8

    /// Calls `body` with each posting of `term`, in docnum order: all of
    /// them, or those of `candidates` (sorted). Few candidates against the
    /// term's postings are read point by point; many (a phrase of two
    /// frequent words, a filter matching thousands) by one scan of the
    /// term that skips the others, since a point read per candidate would
    /// cost several times the scan.
    private func forEachPosting(_ term: [UInt8], candidates: [UInt32]?, _ body: (UInt32, UnsafeRawBufferPointer) throws -> Void) throws {
        let termPrefix = TextIndexFormat.postingsPrefix(prefix, term: term)
        if let candidates, UInt64(candidates.count) &* TextSearch.pointReadCost >= (try documentFrequencies(term).reduce(0, &+)) {
            guard !candidates.isEmpty else { return }
            var next = 0
            let scan = try reader.scan(lower: termPrefix, upper: prefixUpperBound(termPrefix))
            while try scan.next() {
                guard scan.key.count == termPrefix.count + 4 else { throw CairnError.corruption("text index '\(index.name)': damaged posting key") }
                postingsRead += 1
                let docnum = TextIndexFormat.docnum(ofPosting: scan.key)
                while next < candidates.count && candidates[next] < docnum { next += 1 }
                if next == candidates.count { return }
                if candidates[next] == docnum { try body(docnum, scan.value) }
            }
            return
        }
        if let candidates {
            var key = termPrefix
            for docnum in candidates {
                key.removeLast(key.count - termPrefix.count)
                key.appendUInt32BE(docnum)
                _ = try reader.read(key) { value in
                    postingsRead += 1
                    try body(docnum, value)
                }
            }
            return
        }
        let scan = try reader.scan(lower: termPrefix, upper: prefixUpperBound(termPrefix))
        while try scan.next() {
            guard scan.key.count == termPrefix.count + 4 else { throw CairnError.corruption("text index '\(index.name)': damaged posting key") }
            postingsRead += 1
            try body(TextIndexFormat.docnum(ofPosting: scan.key), scan.value)
        }
    }

    typealias Scores = [(docnum: UInt32, score: Double)]

    /// The BM25 scores of one term over the fields of `mask`.
    private func scoreTerm(_ term: [UInt8], mask: UInt32, candidates: [UInt32]?) throws -> Scores {
        let frequencies = try documentFrequencies(term)
        var idfs = Array(repeating: 0.0, count: index.fields.count)
        var any = false
        for field in idfs.indices where mask & (1 << UInt32(field)) != 0 && frequencies[field] > 0 {
            idfs[field] = idf(frequencies[field], field: field) * weights[field]
            any = true
        }
        guard any else { return [] }
        var out: Scores = []
        try forEachPosting(term, candidates: candidates) { docnum, value in
            var score = 0.0
            try TextIndexFormat.forEachOccurrence(value, fields: index.fields.count) { occurrence in
                guard mask & (1 << UInt32(occurrence.field)) != 0 else { return }
                score += idfs[occurrence.field] * tf(Double(occurrence.frequency), length: occurrence.length, field: occurrence.field)
            }
            if score > 0 { out.append((docnum, score)) }
        }
        if !out.isEmpty { matchedTerms.insert(term) }
        return out
    }

    /// The scores of a phrase: documents where its terms stand at their
    /// relative positions in one field.
    private func scorePhrase(_ terms: [(term: [UInt8], offset: Int)], mask: UInt32, candidates: [UInt32]?) throws -> Scores {
        let frequencies = try terms.map { try documentFrequencies($0.term) }
        // The rarest term first: its documents bound the rest.
        let order = terms.indices.sorted { frequencies[$0].reduce(0, +) < frequencies[$1].reduce(0, +) }
        // Each term's postings in docnum order, packed: two frequent words
        // keep tens of thousands, which a dictionary of arrays per posting
        // made the phrase's main cost.
        var postings = Array(repeating: PackedPostings(), count: terms.count)
        var survivors = candidates
        for position in order {
            var found = PackedPostings()
            try forEachPosting(terms[position].term, candidates: survivors) { docnum, value in found.append(docnum, value) }
            if found.docnums.isEmpty { return [] }
            survivors = found.docnums
            postings[position] = found
        }
        // Every term's list holds the last survivors, in the same order, so
        // one cursor per term walks them in step.
        guard let documents = survivors else { return [] }
        var cursors = Array(repeating: 0, count: terms.count)
        var lists = Array(repeating: [UInt32](), count: terms.count)
        var out: Scores = []
        for docnum in documents {
            for position in terms.indices {
                while postings[position].docnums[cursors[position]] < docnum { cursors[position] += 1 }
            }
            var score = 0.0
            for field in 0..<index.fields.count where mask & (1 << UInt32(field)) != 0 {
                var length = 0
                var complete = true
                for position in terms.indices where complete {
                    var present = false
                    try postings[position].withValue(at: cursors[position]) { raw in
                        try TextIndexFormat.forEachOccurrence(raw, fields: index.fields.count) { occurrence in
                            guard occurrence.field == field else { return }
                            try TextIndexFormat.positions(raw, occurrence, into: &lists[position])
                            length = occurrence.length
                            present = true
                        }
                    }
                    complete = present
                }
                guard complete else { continue }
                var phraseFrequency = 0
                for start in lists[0] {
                    let base = Int(start) - terms[0].offset
                    var all = true
                    for i in 1..<terms.count {
                        let wanted = base + terms[i].offset
                        guard wanted >= 0, lists[i].binarySearch(UInt32(wanted)) else {
                            all = false
                            break
                        }
                    }
                    if all { phraseFrequency += 1 }
                }
                guard phraseFrequency > 0 else { continue }
                let idfSum = terms.indices.reduce(0.0) { $0 + idf(frequencies[$1][field], field: field) }
                score += weights[field] * idfSum * tf(Double(phraseFrequency), length: length, field: field)
            }
            if score > 0 { out.append((docnum, score)) }
        }
        if !out.isEmpty { for term in terms { matchedTerms.insert(term.term) } }
        return out
    }

    private func run(_ plan: Plan, mask: UInt32, candidates: [UInt32]?) throws -> Scores {
        switch plan {
        case .phrase(let terms):
            return try scorePhrase(terms, mask: mask, candidates: candidates)
        case .terms(let terms, let fuzzyEdits):
            if terms.count == 1 && fuzzyEdits == nil { return try scoreTerm(terms[0].term, mask: mask, candidates: candidates) }
            // Expansions: each document scores as its best term.
            var exact: Scores = []
            var others: [(scores: Scores, distance: Int)] = []
            for (term, distance) in terms {
                let scores = try scoreTerm(term, mask: mask, candidates: candidates)
                if distance == 0 { exact = TextSearch.merge(exact, scores, combine: max) } else { others.append((scores, distance)) }
            }
            guard let fuzzyEdits else { return exact }
            // The floor is the lowest exact match among all documents, not
            // just the candidates, so a filter or a required word never
            // changes a fuzzy match's score.
            var floor = exact.map(\.score).min()
            if candidates != nil {
                var everywhere: Scores = []
                for (term, distance) in terms where distance == 0 {
                    everywhere = TextSearch.merge(everywhere, try scoreTerm(term, mask: mask, candidates: nil), combine: max)
                }
                floor = everywhere.map(\.score).min()
            }
            var result = exact
            for (scores, distance) in others {
                let factor = 1 - Double(distance) / Double(fuzzyEdits + 1)
                let capped = scores.map { ($0.docnum, min($0.score, floor ?? $0.score) * factor) }
                result = TextSearch.merge(result, capped, combine: max)
            }
            return result
        }
    }

    // MARK: Combining

    /// The union of two docnum-sorted score lists, combining the scores of
    /// documents in both.
    static func merge(_ a: Scores, _ b: Scores, combine: (Double, Double) -> Double) -> Scores {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var out: Scores = []
        out.reserveCapacity(max(a.count, b.count))
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].docnum < b[j].docnum) {
                out.append(a[i]); i += 1
            } else if i == a.count || b[j].docnum < a[i].docnum {
                out.append(b[j]); j += 1
            } else {
                out.append((a[i].docnum, combine(a[i].score, b[j].score))); i += 1; j += 1
            }
        }
        return out
    }

    /// The documents of `a` also in `b`, their scores summed.
    static func intersect(_ a: Scores, _ b: Scores) -> Scores {
        var out: Scores = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a[i].docnum < b[j].docnum { i += 1 } else if b[j].docnum < a[i].docnum { j += 1 } else {
                out.append((a[i].docnum, a[i].score + b[j].score)); i += 1; j += 1
            }
        }
        return out
    }

    /// Adds `b`'s scores to the documents of `a` that `b` also holds.
    static func boost(_ a: Scores, by b: Scores) -> Scores {
        guard !b.isEmpty else { return a }
        var out = a
        var j = 0
        for i in out.indices {
            while j < b.count && b[j].docnum < out[i].docnum { j += 1 }
            if j < b.count && b[j].docnum == out[i].docnum { out[i].score += b[j].score }
        }
        return out
    }

    static func subtract(_ a: Scores, _ b: Scores) -> Scores {
        guard !b.isEmpty else { return a }
        var out: Scores = []
        var j = 0
        for entry in a {
            while j < b.count && b[j].docnum < entry.docnum { j += 1 }
            if j < b.count && b[j].docnum == entry.docnum { continue }
            out.append(entry)
        }
        return out
    }

    /// Every matching document and its score, in docnum order; within
    /// `candidates` when given.
    func scores(_ query: TextQuery, candidates: [UInt32]? = nil) throws -> Scores {
        var must: Scores?
        var should: Scores = []
        var mustNot: Scores = []
        var anyPositive = false
        // The required clauses run first, rarest first: once the documents
        // they leave are few against a clause's postings, that clause reads
        // just their postings, point by point (so "+rare +common" costs the
        // rare word's postings, not the common one's).
        var planned: [(clause: TextQuery.Clause, plan: Plan, mask: UInt32, postings: UInt64)] = []
        for clause in query.clauses {
            let mask = try fieldMask(clause.field)
            // A clause of stopwords only matches nothing and constrains nothing.
            guard let plan = try compile(clause) else { continue }
            planned.append((clause, plan, mask, try postings(of: plan)))
        }
        let order = planned.indices.sorted { a, b in
            let (x, y) = (planned[a], planned[b])
            if (x.clause.occur == .must) != (y.clause.occur == .must) { return x.clause.occur == .must }
            return x.clause.occur == .must ? x.postings < y.postings : a < b
        }
        for position in order {
            let (clause, plan, mask, postings) = planned[position]
            var restrict = candidates
            if let must, UInt64(must.count) &* TextSearch.pointReadCost < postings { restrict = must.map(\.docnum) }
            let scores = mask == 0 ? [] : try run(plan, mask: mask, candidates: restrict)
            switch clause.occur {
            case .must:
                must = must.map { TextSearch.intersect($0, scores) } ?? scores
                anyPositive = true
            case .should:
                should = TextSearch.merge(should, scores, combine: +)
                anyPositive = true
            case .mustNot:
                mustNot = TextSearch.merge(mustNot, scores, combine: max)
            }
        }
        guard anyPositive else { return [] }
        let matched = must.map { TextSearch.boost($0, by: should) } ?? should
        return TextSearch.subtract(matched, mustNot)
    }

    /// How many postings a clause would read: its words' document counts.
    private func postings(of plan: Plan) throws -> UInt64 {
        switch plan {
        case .terms(let terms, _):
            return try terms.reduce(UInt64(0)) { $0 &+ (try documentFrequencies($1.term).reduce(0, &+)) }
        case .phrase(let terms):
            return try terms.map { try documentFrequencies($0.term).reduce(0, &+) }.min() ?? 0
        }
    }

    /// What a search's hits must still pass after scoring.
    enum PostFilter {
        case none
        /// Read each hit's document and test it.
        case documents(Filter)
        /// The document keys of every match (an index answered the filter):
        /// a hit's key is tested before its document is read.
        case keys(Set<[UInt8]>)
    }

    /// The scores of `query`'s matches, running `filter` first when that
    /// is cheaper, and what the hits must still pass. `wanted`: how many
    /// hits the caller reads (skip + limit), nil for all of them.
    ///
    /// Costs are counted in point reads, a posting read in sequence costing
    /// 1/pointReadCost of one. A filter that an index answers alone
    /// (CoveredFilter) gives its matches' keys for a scan of its entries;
    /// then running it first costs a docnum read per match and, per word,
    /// the fewer of a point read per match and the word's postings, while
    /// running the text first costs the postings and a docnum read per
    /// scored document tried, about wanted × documents / matches of them.
    /// Any other filter, or one matching more than 16 times the postings,
    /// runs first only when a find for it stops within a budget: it reads
    /// each match's document.
    func scores(_ query: TextQuery, filter: Filter?, wanted: Int? = nil) throws -> (Scores, PostFilter) {
        guard let filter else { return (try scores(query), .none) }
        let work = try estimatedPostings(query)
        let words = max(1, query.clauses.count)
        let sequential = work / Int(TextSearch.pointReadCost)
        // Past this many matches, testing each scored document itself (at
        // most `work` of them) costs less than scanning the matches' entries.
        let coveredCap = max(64, min(1 << 20, work.multipliedReportingOverflow(by: 16).partialValue))
        switch try CoveredFilter.documentKeys(filter, collection: collection, reader: reader, cap: coveredCap) {
        case .documentKeys(let keys):
            strategy = "filter_first"
            let matches = keys.count
            guard matches > 0 else { return ([], .none) }
            let filterFirst = matches &+ min(matches.multipliedReportingOverflow(by: words).partialValue, sequential)
            let tried = wanted.map { min(work, $0.multipliedReportingOverflow(by: max(Int(clamping: totals.documents), 1)).partialValue / matches) } ?? work
            let textFirst = sequential &+ tried
            if filterFirst <= textFirst {
                var docnums: [UInt32] = []
                docnums.reserveCapacity(matches)
                let documentPrefix = CollectionInfo.documentPrefix(collection.id).count
                for key in keys {
                    _ = try reader.read(TextIndexFormat.docnumKey(prefix, primaryKey: Array(key[documentPrefix...]))) { raw in
                        docnums.append(try TextIndexFormat.decodeDocnum(raw, what: "text index '\(index.name)'"))
                    }
                }
                docnums.sort()
                return (try scores(query, candidates: docnums), .none)
            }
            strategy = "text_first"
            return (try scores(query), .keys(Set(keys)))
        case .tooMany:
            // More than the find's budget below, which is smaller.
            return (try scores(query), .documents(filter))
        case .notCovered:
            if let matching = try filterCandidates(filter, cap: max(64, work / (Int(TextSearch.pointReadCost) * (1 + words)))) {
                return (try scores(query, candidates: matching), .none)
            }
            return (try scores(query), .documents(filter))
        }
    }

    /// The document key of each entry (docnum → primary key → key).
    func documentKey(of docnum: UInt32) throws -> [UInt8] {
        var primaryKey: [UInt8]?
        _ = try reader.read(TextIndexFormat.primaryKeyKey(prefix, docnum: docnum)) { primaryKey = Array($0) }
        guard let primaryKey else {
            throw CairnError.corruption("text index '\(index.name)' of collection '\(collection.name)': posting of document number \(docnum), which has no primary key")
        }
        return CollectionInfo.documentPrefix(collection.id) + primaryKey
    }

    // MARK: Hits

    /// The docnums of the documents `filter` matches, sorted; nil when the
    /// filter is not selective enough to run first (no index serves it, or
    /// more than `cap` documents match).
    func filterCandidates(_ filter: Filter, cap: Int) throws -> [UInt32]? {
        let plan = try QueryPlan.choose(filter: filter, sort: [], collection: collection)
        if case .collectionScan = plan.source { return nil }
        strategy = "filter_first"
        var options = FindOptions()
        options.limit = cap + 1
        let execution = try FindExecution(reader: reader, collection: collection, filter: filter, options: options)
        var docnums: [UInt32] = []
        var seen = 0
        while let document = try execution.next() {
            seen += 1
            if seen > cap {
                strategy = "text_first"
                return nil
            }
            guard let id = try document.value(atPath: collection.primaryKey) else { continue }
            var primaryKey: [UInt8] = []
            try IndexKey.append(id, to: &primaryKey)
            _ = try reader.read(TextIndexFormat.docnumKey(prefix, primaryKey: primaryKey)) { raw in
                docnums.append(try TextIndexFormat.decodeDocnum(raw, what: "text index '\(index.name)'"))
            }
        }
        docnums.sort()
        return docnums
    }

    /// The work the text side would do: the postings of the query's words.
    func estimatedPostings(_ query: TextQuery) throws -> Int {
        var total: UInt64 = 0
        for clause in query.clauses where clause.occur != .mustNot {
            switch clause.kind {
            case .word(let text), .phrase(let text):
                for token in analyzer.terms(text) { total &+= try documentFrequencies(token.term).reduce(0, &+) }
            case .prefix, .fuzzy:
                total &+= UInt64(totals.documents)
            }
        }
        return Int(clamping: total)
    }

    /// Fetches the document of each scored entry in score order (ties by
    /// docnum), keeps those `filter` accepts and whose score reaches
    /// `minScore`, and returns the page [skip, skip + limit).
    func hits(_ scored: Scores, filter: PostFilter, minScore: Double?, skip: Int, limit: Int) throws -> [Hit] {
        var entries = minScore.map { floor in scored.filter { $0.score >= floor } } ?? scored
        let wanted = skip + limit
        // Expired documents are still indexed until the purge removes them.
        let expiry = DocumentExpiry(collection, now: reader.engine.env.nowMillis())
        func better(_ a: (docnum: UInt32, score: Double), _ b: (docnum: UInt32, score: Double)) -> Bool {
            a.score != b.score ? a.score > b.score : a.docnum < b.docnum
        }
        if case .none = filter, expiry == nil, entries.count > wanted * 4 {
            entries = Array(TextSearch.top(entries, count: wanted, by: better))
        } else {
            entries.sort(by: better)
        }
        var out: [Hit] = []
        var skipped = 0
        for entry in entries {
            if out.count >= limit { break }
            let key = try documentKey(of: entry.docnum)
            if case .keys(let matches) = filter, !matches.contains(key) { continue }
            var document: [UInt8]?
            _ = try reader.read(key) { document = Array($0) }
            guard let document else {
                throw CairnError.corruption("text index '\(index.name)' of collection '\(collection.name)': a posting names a document that does not exist")
            }
            if case .documents(let filter) = filter, try !document.withUnsafeBytes({ try filter.matches(DocumentValue($0)) }) { continue }
            if let expiry, try document.withUnsafeBytes({ try expiry.hides($0) }) { continue }
            if skipped < skip {
                skipped += 1
                continue
            }
            out.append(Hit(docnum: entry.docnum, score: entry.score, document: document))
        }
        return out
    }

    /// The best `count` entries, in order, by a bounded heap.
    static func top(_ entries: Scores, count: Int, by better: ((docnum: UInt32, score: Double), (docnum: UInt32, score: Double)) -> Bool) -> Scores {
        guard count > 0 else { return [] }
        var heap: Scores = []  // a min-heap by `better`: the worst kept at the root
        heap.reserveCapacity(count)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < heap.count && better(heap[worst], heap[l]) { worst = l }
                if r < heap.count && better(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for entry in entries {
            if heap.count < count {
                heap.append(entry)
                var i = heap.count - 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    guard better(heap[parent], heap[i]) else { break }
                    heap.swapAt(parent, i)
                    i = parent
                }
            } else if better(entry, heap[0]) {
                heap[0] = entry
                siftDown(0)
            }
        }
        return heap.sorted(by: better)
    }
}

extension Array where Element == UInt32 {
    /// Whether the sorted array holds `value`.
    func binarySearch(_ value: UInt32) -> Bool {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < count && self[low] == value
    }
}

extension CollectionInfo {
    /// The text index named `name`, or the collection's only one; NOT_FOUND
    /// without one, INVALID_ARGUMENT when several and no name, or when it
    /// is still being built.
    func textIndex(named name: String?) throws -> (IndexDefinition, TextIndexSpec) {
        let texts = indexes.compactMap { index -> (IndexDefinition, TextIndexSpec)? in
            if case .text(let spec) = index.kind { return (index, spec) }
            return nil
        }
        let found: (IndexDefinition, TextIndexSpec)
        if let name {
            guard let named = texts.first(where: { $0.0.name == name }) else {
                throw CairnError(.notFound, "collection '\(self.name)' has no text index '\(name)'")
            }
            found = named
        } else {
            guard let only = texts.first else { throw CairnError(.notFound, "collection '\(self.name)' has no text index") }
            guard texts.count == 1 else {
                throw CairnError.invalidArgument("collection '\(self.name)' has several text indexes (\(texts.map(\.0.name).joined(separator: ", "))): name one with \"index\"")
            }
            found = only
        }
        guard !found.0.building else {
            throw CairnError.invalidArgument("text index '\(found.0.name)' is still being built; search it when cairn_index_list shows it ready")
        }
        return found
    }
}

/// The matches of a `$text` filter, best first: a find's source of
/// candidates (QueryPlan.Source.text).
struct TextMatches {
    let index: IndexDefinition
    /// The matches' document numbers, best first; each becomes a document
    /// key only when the find reaches it, so a limit reads few.
    let docnums: [UInt32]
    let scores: [Double]
    private let search: TextSearch
    /// "filter_first" or "text_first", and the postings read, for explain.
    let strategy: String
    let postingsRead: Int

    init(_ text: TextFilter, rest: Filter, reader: TransactionReader, collection: CollectionInfo) throws {
        let (index, spec) = try collection.textIndex(named: nil)
        let search = try TextSearch(reader: reader, collection: collection, index: index, spec: spec, fields: nil, weights: [:],
                                    language: text.language)
        let (scored, _) = try search.scores(text.query, filter: rest.isEverything ? nil : rest)
        let ordered = scored.sorted { $0.score != $1.score ? $0.score > $1.score : $0.docnum < $1.docnum }
        self.index = index
        self.search = search
        docnums = ordered.map(\.docnum)
        scores = ordered.map(\.score)
        strategy = search.strategy
        postingsRead = search.postingsRead
    }

    /// The document key of the match at `position`.
    func documentKey(_ position: Int) throws -> [UInt8] { try search.documentKey(of: docnums[position]) }
}

extension Filter {
    /// `{}`: matches every document.
    var isEverything: Bool {
        if case .all(let parts) = self { return parts.allSatisfy(\.isEverything) }
        return false
    }
}

/// The postings of one term a phrase keeps: docnums ascending, their
/// values end to end in one buffer.
private struct PackedPostings {
    private(set) var docnums: [UInt32] = []
    private var ends: [Int] = []
    private var bytes: [UInt8] = []

    mutating func append(_ docnum: UInt32, _ value: UnsafeRawBufferPointer) {
        docnums.append(docnum)
        bytes.append(contentsOf: value)
        ends.append(bytes.count)
    }

    func withValue<T>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let start = index == 0 ? 0 : ends[index - 1]
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<ends[index]])) }
    }
}
