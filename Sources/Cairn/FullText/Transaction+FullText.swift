/// A text index's maintenance, written once against a transaction: every
/// document change rewrites the document's postings, its document number,
/// the document frequencies of its terms and its stripe's statistics in
/// the same transaction as the document (Transaction.writeDocument), so a
/// crash leaves the index equal to its documents.
///
/// The counters (statistics and document frequencies) go through a
/// TextIndexCounters: a run of changes in one transaction (an insert_many,
/// a chunk of an index build) reads each counter once, keeps it in memory,
/// and writes it once when the run ends (withTextCounterBatch); a lone
/// change writes its counters at once.
extension Transaction {
    /// Replaces `old`'s entries in the text index with `new`'s (either may
    /// be nil: an insert, a delete).
    func updateTextIndex(_ spec: TextIndexSpec, _ index: IndexDefinition, collection: UInt32, primaryKey: [UInt8],
                         old: DocumentValue?, new: DocumentValue?) throws {
        let analyzer = database.fullText.analyzer(spec.analyzer)
        let prefix = TextIndexFormat.prefix(collection: collection, index: index.id)
        var before = try old.flatMap { try TextDocument($0, fields: index.fields, analyzer: analyzer) }
        let after = try new.flatMap { try TextDocument($0, fields: index.fields, analyzer: analyzer) }
        if before == after { return }

        // The document's number; a document an interrupted build has not
        // reached yet has none, and nothing of it is in the index.
        // An index build visits each document once, after clearing the
        // index, so none has a number yet: no read. Nor has a document
        // being inserted (no old version): deleting a document deletes its
        // number in the same batch, and dropping an index or a collection
        // clears its range.
        let docnumKey = TextIndexFormat.docnumKey(prefix, primaryKey: primaryKey)
        var docnum: UInt32?
        if old != nil && textCounters?.building != true {
            _ = try read(docnumKey) { docnum = try TextIndexFormat.decodeDocnum($0, what: "text index '\(index.name)'") }
        }
        if docnum == nil { before = nil }
        if before == nil && after == nil { return }

        let batched = textCounters != nil
        let counters = textCounters ?? TextIndexCounters()
        let damaged = CairnError.corruption("text index '\(index.name)' of collection \(collection): statistics out of step with the postings")
        // A numbered document's stripe is its docnum's; a new one takes the
        // run's stripe (TextIndexCounters.stripe(forNew:)).
        let stripe = docnum.map { TextIndexFormat.stripe(ofDocnum: $0) } ?? counters.stripe(forNew: primaryKey)
        let statsKey = TextIndexFormat.statsKey(prefix, stripe: stripe)
        var numbered = false
        try counters.updateStats(statsKey, fields: index.fields.count, in: self,
                                 what: "text index '\(index.name)' statistics") { stats in
            if let before {
                guard stats.documents > 0 else { throw damaged }
                stats.documents -= 1
                for (field, length) in before.lengths.enumerated() where length > 0 {
                    guard stats.fieldDocuments[field] > 0, stats.fieldLengths[field] >= UInt64(length) else { throw damaged }
                    stats.fieldDocuments[field] -= 1
                    stats.fieldLengths[field] -= UInt64(length)
                }
            }
            if let after {
                if docnum == nil {
                    let (number, overflow) = stats.nextLocal.multipliedReportingOverflow(by: UInt64(TextIndexFormat.stripes))
                    guard !overflow, number + UInt64(stripe) <= UInt64(UInt32.max) else {
                        throw CairnError.invalidArgument("text index '\(index.name)': more documents than one index can number (2^32)")
                    }
                    docnum = UInt32(number + UInt64(stripe))
                    stats.nextLocal += 1
                    numbered = true
                }
                // Checked: a damaged counter is CORRUPTION, never a trap.
                func add(_ counter: inout UInt64, _ amount: UInt64) throws {
                    let (sum, overflow) = counter.addingReportingOverflow(amount)
                    guard !overflow else { throw damaged }
                    counter = sum
                }
                try add(&stats.documents, 1)
                for (field, length) in after.lengths.enumerated() where length > 0 {
                    try add(&stats.fieldDocuments[field], 1)
                    try add(&stats.fieldLengths[field], UInt64(length))
                }
            }
        }
        guard let docnum else { return }
        if numbered {
            try put(docnumKey, withUnsafeBytes(of: docnum.bigEndian) { Array($0) })
            try put(TextIndexFormat.primaryKeyKey(prefix, docnum: docnum), primaryKey)
        } else if after == nil {
            try delete(docnumKey)
            try delete(TextIndexFormat.primaryKeyKey(prefix, docnum: docnum))
        }

        // Postings: removed for terms gone, written for terms new or changed.
        var frequencyChanges: [[UInt8]: (add: UInt32, remove: UInt32)] = [:]
        if let before {
            for term in before.postings.keys where after?.postings[term] == nil {
                try delete(TextIndexFormat.postingKey(prefix, term: term, docnum: docnum))
            }
            for (term, mask) in before.fieldsOfTerm { frequencyChanges[term, default: (0, 0)].remove = mask }
        }
        if let after {
            for (term, value) in after.postings where before?.postings[term] != value {
                try put(TextIndexFormat.postingKey(prefix, term: term, docnum: docnum), value)
            }
            for (term, mask) in after.fieldsOfTerm { frequencyChanges[term, default: (0, 0)].add = mask }
        }
        var newTerms: [[UInt8]] = []
        for (term, change) in frequencyChanges where change.add != change.remove {
            for field in 0..<index.fields.count {
                let bit: UInt32 = 1 << UInt32(field)
                let delta = (change.add & bit != 0 ? 1 : 0) - (change.remove & bit != 0 ? 1 : 0)
                guard delta != 0 else { continue }
                var key = TextIndexFormat.frequencyPrefix(prefix, term: term, field: field)
                key.append(UInt8(stripe))
                try counters.addFrequency(key, delta, in: self, what: "text index '\(index.name)' document frequency", damaged: damaged)
            }
            if change.add != 0 { newTerms.append(term) }
        }
        if !batched { try counters.write(to: self) }
        database.fullText.dictionary(collection: collection, index: index.id).note(newTerms)
    }

    /// Runs `body` (a run of document changes) with the text indexes'
    /// counters held in memory, then writes each counter it changed once,
    /// in this transaction. When `body` throws, nothing of the counters is
    /// written (the caller discards the run's other writes too: a single
    /// operation's transaction, or the savepoint of an explicit one's).
    /// Nothing may read a text index's counters inside `body` (a search
    /// would see them as they were before the run).
    func withTextCounterBatch<T>(_ body: () throws -> T) throws -> T {
        if textCounters != nil { return try body() }  // an outer run writes them
        textCounters = TextIndexCounters()
        defer { textCounters = nil }
        let result = try body()
        try textCounters!.write(to: self)
        return result
    }
}

/// The statistics and document-frequency counters of text indexes that a
/// run of changes touches: each read from the transaction once, changed in
/// memory, written once. Every count stays exact (the same checks as one
/// change at a time), only the number of engine reads and writes drops:
/// words repeat heavily across the documents of one insert_many.
final class TextIndexCounters {
    /// For an index build (Database.backfill): the index was cleared and
    /// each document comes once, so none of them has entries yet.
    let building: Bool

    /// The stripe the run's new documents are numbered in (the first
    /// one's): their counters then fall on one stripe's keys instead of
    /// up to 16 per word, which halves the counters a batch reads and
    /// writes. Concurrent runs still meet on a stripe only by chance.
    private var newStripe: Int?

    init(building: Bool = false) { self.building = building }

    /// The stripe of a document about to be numbered.
    func stripe(forNew primaryKey: [UInt8]) -> Int {
        if let newStripe { return newStripe }
        let stripe = TextIndexFormat.stripe(of: primaryKey)
        newStripe = stripe
        return stripe
    }

    private var stats: [EngineKey: (original: TextIndexFormat.Stats?, current: TextIndexFormat.Stats)] = [:]
    private var frequencies: [EngineKey: (original: UInt64, current: UInt64)] = [:]

    /// Changes the statistics at `key` (read on first use; zeros when absent).
    func updateStats(_ key: [UInt8], fields: Int, in transaction: Transaction, what: String,
                     _ change: (inout TextIndexFormat.Stats) throws -> Void) throws {
        let engineKey = EngineKey(key)
        var entry: (original: TextIndexFormat.Stats?, current: TextIndexFormat.Stats)
        let cached = stats[engineKey]
        if let cached {
            entry = cached
        } else {
            var original: TextIndexFormat.Stats?
            _ = try transaction.read(key) { original = try TextIndexFormat.Stats($0, fields: fields, what: what) }
            entry = (original, original ?? TextIndexFormat.Stats(fields: fields))
        }
        // Changed on a copy: a change that throws leaves the count as it was.
        var updated = entry.current
        try change(&updated)
        entry.current = updated
        if undoLog != nil { undoLog!.append(.stats(engineKey, cached)) }
        stats[engineKey] = entry
    }

    /// Adds `delta` (+1 or -1) to the document frequency at `key`.
    func addFrequency(_ key: [UInt8], _ delta: Int, in transaction: Transaction, what: String, damaged: CairnError) throws {
        let engineKey = EngineKey(key)
        var entry: (original: UInt64, current: UInt64)
        let cached = frequencies[engineKey]
        if let cached {
            entry = cached
        } else {
            var count: UInt64 = 0
            _ = try transaction.read(key) { raw in
                var reader = ByteReader(raw, what: what)
                count = try reader.readVarint()
            }
            entry = (count, count)
        }
        if delta < 0 {
            guard entry.current > 0 else { throw damaged }
            entry.current -= 1
        } else {
            guard entry.current < UInt64.max else { throw damaged }
            entry.current += 1
        }
        if undoLog != nil { undoLog!.append(.frequency(engineKey, cached)) }
        frequencies[engineKey] = entry
    }

    // MARK: Savepoints

    /// While a savepoint is open (Transaction.savepoint), what each change
    /// replaced (nil: not yet read), so that a document failing inside a
    /// run (insert_many skipping failures) takes its counts back with it.
    private var undoLog: [Undo]?

    private enum Undo {
        case stats(EngineKey, (original: TextIndexFormat.Stats?, current: TextIndexFormat.Stats)?)
        case frequency(EngineKey, (original: UInt64, current: UInt64)?)
    }

    /// Starts recording for a savepoint (nested ones share the log);
    /// returns where its part starts and whether it is the outermost.
    func beginSavepoint() -> (mark: Int, outermost: Bool) {
        let outermost = undoLog == nil
        if outermost { undoLog = [] }
        return (undoLog?.count ?? 0, outermost)
    }

    /// Ends the outermost savepoint's recording.
    func endSavepoints() {
        undoLog = nil
    }

    /// Puts back every counter as it was at `mark`.
    func rollBack(to mark: Int) {
        guard let log = undoLog, mark <= log.count else { return }
        for entry in log[mark...].reversed() {
            switch entry {
            case .stats(let key, let previous): stats[key] = previous
            case .frequency(let key, let previous): frequencies[key] = previous
            }
        }
        undoLog?.removeSubrange(mark...)
    }

    /// Writes every counter that changed (a count of zero is deleted) and
    /// forgets them all.
    func write(to transaction: Transaction) throws {
        for (key, entry) in stats where entry.original != entry.current {
            try transaction.put(key.bytes, entry.current.encoded)
        }
        for (key, entry) in frequencies where entry.original != entry.current {
            if entry.current == 0 {
                try transaction.delete(key.bytes)
            } else {
                var value: [UInt8] = []
                Varint.append(entry.current, to: &value)
                try transaction.put(key.bytes, value)
            }
        }
        stats = [:]
        frequencies = [:]
    }
}

extension Transaction {
    /// Maintains a search index (IndexKind) for one document change: the
    /// one place each kind's maintenance is called from.
    func updateSearchIndex(_ index: IndexDefinition, collection: UInt32, primaryKey: [UInt8],
                           old: DocumentValue?, new: DocumentValue?) throws {
        switch index.kind {
        case .ordered: break
        case .text(let spec): try updateTextIndex(spec, index, collection: collection, primaryKey: primaryKey, old: old, new: new)
        case .vector(let spec): try updateVectorIndex(spec, index, collection: collection, primaryKey: primaryKey, old: old, new: new)
        }
    }
}

// MARK: Searching

extension Transaction {
    /// The hits of a search, best first, with their documents (binary).
    func searchHits(_ info: CollectionInfo, query: TextQuery, options: SearchOptions) throws -> (hits: [TextSearch.Hit], search: TextSearch) {
        let (index, spec) = try info.textIndex(named: options.index)
        let search = try TextSearch(reader: reader, collection: info, index: index, spec: spec, fields: options.fields, weights: options.weights)
        let (scored, postFilter) = try search.scores(query, filter: options.filter, wanted: options.skip &+ options.limit)
        return (try search.hits(scored, filter: postFilter, minScore: options.minScore, skip: options.skip, limit: options.limit), search)
    }

    /// cairn_search: {"document", "score", and with highlight "highlights"
    /// and "snippet"} per hit, as JSON, best first.
    func search(in name: String, query text: String, options: SearchOptions) throws -> [[UInt8]] {
        let query = try TextQuery.parse(text)
        guard let info = try collection(name) else { return [] }
        let (hits, search) = try searchHits(info, query: query, options: options)
        return try hits.map { hit in
            try hit.document.withUnsafeBytes { raw in
                let document = DocumentValue(raw)
                var shown = try MutableValue(document)
                if let projection = options.projection { shown = try projection.apply(to: shown) }
                var members: [(key: String, value: MutableValue)] = [("document", shown), ("score", .double(hit.score))]
                if let highlight = options.highlight {
                    let mask = try search.fieldsMask(options.fields)
                    let (fields, snippet) = try highlight.highlight(document, fields: search.index.fields, mask: mask,
                                                                   analyzer: search.analyzer, terms: search.matchedTerms)
                    members.append(("highlights", fields))
                    members.append(("snippet", .string(Array(snippet.utf8))))
                }
                var out: [UInt8] = []
                let encoded = MutableValue.object(members).encoded()
                try encoded.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
                return out
            }
        }
    }
}
