/// A find in progress: candidates from the plan, filtered, sorted when the
/// plan does not already give the order, then skipped and limited.
final class FindExecution {
    let source: DocumentSource
    private let filter: Filter
    private let options: FindOptions
    /// With a sort the plan cannot give: the matches (binary) in order.
    private var sorted: [[UInt8]]?
    private var sortedIndex = 0
    private var skipped = 0
    private(set) var returned = 0
    private let current = ByteBuffer()
    private let interrupts: Interrupts
    private let ticket: UInt64
    /// `$text` with `$caseSensitive`: the check each match must also pass.
    private let caseCheck: (text: TextFilter, fields: [IndexDefinition.Field])?
    /// Each `$text` match carries its score in a hidden field
    /// (TextFilter.scoreField), for a sort, a projection or later stages.
    private let carriesScore: Bool
    private let scored = ByteBuffer()
    /// The plan's candidates are exactly the filter's matches
    /// (QueryPlan.selectsExactly): no document is checked again.
    private let filterImplied: Bool

    /// `carryScore`: a pipeline's first stage, whose later stages may ask
    /// for {"$meta": "textScore"}.
    init(reader: TransactionReader, collection: CollectionInfo, filter: Filter, options: FindOptions, carryScore: Bool = false) throws {
        interrupts = reader.engine.interrupts
        ticket = interrupts.ticket
        self.options = options
        let sortsByScore = options.sort.contains { $0.path == [TextFilter.scoreField] }
        if options.sort.contains(where: { $0.path.first?.hasPrefix("$") == true && $0.path != [TextFilter.scoreField] }) {
            throw CairnError.invalidArgument("a find sorts by {\"$meta\": \"textScore\"} only (searchScore belongs to a pipeline's $search)")
        }
        let projectsScore = !(options.projection?.textScoreFields.isEmpty ?? true)
        let plan: QueryPlan
        if let (text, rest) = try filter.splittingText() {
            // Candidates come from the text index, best first.
            let matches = try TextMatches(text, rest: rest, reader: reader, collection: collection)
            let inScoreOrder = options.sort.isEmpty || (options.sort.count == 1 && sortsByScore)
            plan = QueryPlan(source: .text(matches), sortFromIndex: inScoreOrder, bounds: [])
            filterImplied = false
            self.filter = rest
            caseCheck = text.caseSensitive ? (text, matches.index.fields) : nil
            carriesScore = carryScore || projectsScore || !inScoreOrder
        } else {
            guard !sortsByScore && !projectsScore else {
                throw CairnError.invalidArgument("{\"$meta\": \"textScore\"} needs a $text query in the filter")
            }
            self.filter = filter
            caseCheck = nil
            carriesScore = false
            plan = try QueryPlan.choose(filter: filter, sort: options.sort, collection: collection)
            filterImplied = plan.selectsExactly(filter)
        }
        source = try DocumentSource(reader: reader, collection: collection, plan: plan, includeExpired: options.includeExpired)
        if !options.sort.isEmpty && !plan.sortFromIndex {
            // Each match's sort key is computed once, as order-preserving
            // bytes, so sorting compares bytes instead of decoding values.
            var matches: [(key: [UInt8], document: [UInt8])] = []
            var budget = MemoryBudget(stage: "the sort of find", limit: reader.memoryLimit)
            while let document = try nextFiltered() {
                let key = try FindOptions.sortKey(of: document, by: options.sort)
                try budget.charge(2 * 48 + key.count + document.bytes.count + 64)  // two arrays' storage, the entry
                matches.append((key, Array(document.bytes)))
            }
            matches.sort { $0.key.lexicographicallyPrecedes($1.key) }
            sorted = matches.map(\.document)
        }
    }

    private func nextFiltered() throws -> DocumentValue? {
        while let document = try source.next() {
            try interrupts.check(ticket)
            guard try filterImplied || filter.matches(document) else { continue }
            if let caseCheck, try !caseCheck.text.caseMatches(document, fields: caseCheck.fields) { continue }
            if carriesScore, let score = source.score {
                guard case .object(var members) = try MutableValue(document) else { return document }
                members.append((TextFilter.scoreField, .double(score)))
                MutableValue.object(members).encoded().withUnsafeBytes { scored.set($0) }
                return DocumentValue(scored.bytes)
            }
            return document
        }
        return nil
    }

    /// The next result before projection, valid until the next call.
    func next() throws -> DocumentValue? {
        try interrupts.check(ticket)
        while true {
            if let limit = options.limit, returned >= limit { return nil }
            let document: DocumentValue
            if let sorted {
                guard sortedIndex < sorted.count else { return nil }
                sorted[sortedIndex].withUnsafeBytes { current.set($0) }
                sortedIndex += 1
                document = DocumentValue(current.bytes)
            } else {
                guard let match = try nextFiltered() else { return nil }
                document = match
            }
            if skipped < options.skip {
                skipped += 1
                continue
            }
            returned += 1
            return document
        }
    }

    /// Appends the next result as JSON (projected); false at the end.
    func nextJSON(into out: inout [UInt8]) throws -> Bool {
        guard let document = try next() else { return false }
        try appendJSON(of: document, to: &out)
        return true
    }

    /// As nextJSON(into:) for a text buffer (a cursor's batch): a plain
    /// find writes each document straight into it.
    func nextJSON(into out: ByteBuffer) throws -> Bool {
        guard let document = try next() else { return false }
        if options.projection != nil || carriesScore {
            var text: [UInt8] = []
            try appendJSON(of: document, to: &text)
            text.withUnsafeBytes { out.append($0) }
        } else {
            try document.appendJSON(to: out)
        }
        return true
    }

    private func appendJSON(of document: DocumentValue, to out: inout [UInt8]) throws {
        // Only a projection (or a score to hide) needs the document decoded into a tree.
        if options.projection != nil || carriesScore {
            var tree = try MutableValue(document)
            let score = tree.removingMember(TextFilter.scoreField)
            if let projection = options.projection {
                tree = try projection.apply(to: tree)
                if case .object(var members) = tree {
                    for field in projection.textScoreFields { members.append((field, score ?? .null)) }
                    tree = .object(members)
                }
            }
            try tree.encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        } else {
            try document.appendJSON(to: &out)
        }
    }

    /// What explain reports, after running the query to its end.
    func explanation() throws -> MutableValue {
        while try next() != nil {}
        let plan = source.plan
        var search: [(key: String, value: MutableValue)] = []
        if case .text(let matches) = plan.source {
            search = [("search", .object([("strategy", .string(Array(matches.strategy.utf8))),
                                          ("matches", .int(Int64(matches.docnums.count))),
                                          ("postings_read", .int(Int64(matches.postingsRead)))]))]
        }
        return .object([
            ("plan", .string(Array(plan.name.utf8))),
            ("index", plan.index.map { .string(Array($0.name.utf8)) } ?? .null),
            ("bounds", .object(try plan.describedBounds().map { ($0.field, .string(Array($0.text.utf8))) })),
            ("sort_from_index", .bool(plan.sortFromIndex && !options.sort.isEmpty)),
            ("keys_examined", .int(Int64(source.keysExamined))),
            ("documents_examined", .int(Int64(source.documentsExamined))),
            ("returned", .int(Int64(returned))),
        ] + search)
    }
}
