/// A text index's maintenance, written once against a transaction: every
/// document change rewrites the document's postings, its document number,
/// the document frequencies of its terms and its stripe's statistics in
/// the same transaction as the document (Transaction.writeDocument), so a
/// crash leaves the index equal to its documents.
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
        let docnumKey = TextIndexFormat.docnumKey(prefix, primaryKey: primaryKey)
        var docnum: UInt32?
        _ = try read(docnumKey) { docnum = try TextIndexFormat.decodeDocnum($0, what: "text index '\(index.name)'") }
        if docnum == nil { before = nil }
        if before == nil && after == nil { return }

        let stripe = TextIndexFormat.stripe(of: primaryKey)
        let statsKey = TextIndexFormat.statsKey(prefix, stripe: stripe)
        var stats = TextIndexFormat.Stats(fields: index.fields.count)
        _ = try read(statsKey) { stats = try TextIndexFormat.Stats($0, fields: index.fields.count, what: "text index '\(index.name)' statistics") }
        let damaged = CairnError.corruption("text index '\(index.name)' of collection \(collection): statistics out of step with the postings")

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
                try put(docnumKey, withUnsafeBytes(of: docnum!.bigEndian) { Array($0) })
                try put(TextIndexFormat.primaryKeyKey(prefix, docnum: docnum!), primaryKey)
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
        } else if let docnum {
            try delete(docnumKey)
            try delete(TextIndexFormat.primaryKeyKey(prefix, docnum: docnum))
        }
        guard let docnum else { return }
        try put(statsKey, stats.encoded)

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
                var count: UInt64 = 0
                _ = try read(key) { raw in
                    var reader = ByteReader(raw, what: "text index '\(index.name)' document frequency")
                    count = try reader.readVarint()
                }
                if delta < 0 {
                    guard count > 0 else { throw damaged }
                    count -= 1
                } else {
                    guard count < UInt64.max else { throw damaged }
                    count += 1
                }
                if count == 0 {
                    try delete(key)
                } else {
                    var value: [UInt8] = []
                    Varint.append(count, to: &value)
                    try put(key, value)
                }
            }
            if change.add != 0 { newTerms.append(term) }
        }
        database.fullText.dictionary(collection: collection, index: index.id).note(newTerms)
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
        let (scored, postFilter) = try search.scores(query, filter: options.filter)
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
