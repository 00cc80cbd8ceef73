/// Runs a pipeline inside a transaction's snapshot. A leading $match, and
/// a $sort right after it, become the find of the first stage, so they are
/// planned like any find and use indexes; every other stage pulls from the
/// one before it. The same opening serves the sub-pipelines of $lookup and
/// $unionWith on their collections; $facet chains its sub-pipelines onto
/// the input it gathered.
extension Transaction {
    func openAggregate(in name: String, pipeline: Pipeline) throws -> DocumentCursor {
        let environment = PipelineEnvironment(transaction: self, reader: reader, bindings: Bindings(now: currentTimeMillis()))
        let source = try environment.open(collection: name, stages: pipeline.stages[...], restrict: nil)
        // Search metadata rides in hidden fields (MetaField); results drop them.
        let carriesMetadata = pipeline.carriesMetadata
        return DocumentCursor(database: database) { out in
            switch try source() {
            case nil:
                return false
            case .stored(let document)? where !carriesMetadata:
                try document.appendJSON(to: &out)
            case let row?:
                var document = try row.tree()
                if carriesMetadata { document.removeMetadata() }
                let encoded = document.encoded()
                try encoded.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
            }
            return true
        }
    }
}

/// A stage's source of rows: the next row, or nil at the end.
typealias PipelinePull = () throws -> PipelineRow?

/// What the stages of one run of a pipeline share: the transaction (for
/// the collections of $lookup and $unionWith), its reader, and the
/// variables' values.
struct PipelineEnvironment {
    let transaction: Transaction
    let reader: TransactionReader
    var bindings: Bindings

    var memoryLimit: Int { reader.memoryLimit }

    /// The rows of `stages` run over collection `name`, with `restrict`
    /// (a $lookup's equality) and a leading $match ($sort, $limit) planned
    /// as one find. A collection that does not exist has no documents.
    func open(collection name: String, stages: ArraySlice<Pipeline.Stage>, restrict: Filter?) throws -> PipelinePull {
        if case .vectorSearch(let search)? = stages.first, restrict == nil {
            return try search.open(in: self, collection: name, rest: stages.dropFirst())
        }
        var stages = stages
        if case .search(let search)? = stages.first {
            guard let info = try transaction.collection(name) else { return try chain(stages.dropFirst(), after: { nil }) }
            let rows = try search.rows(reader: reader, collection: info)
            let restricted: PipelinePull = restrict.map { filter in {
                while let row = try rows() {
                    let encoded = try row.tree().encoded()
                    if try encoded.withUnsafeBytes({ try filter.matches(DocumentValue($0)) }) { return row }
                }
                return nil
            } } ?? rows
            return try chain(stages.dropFirst(), after: restricted)
        }
        var filter = restrict ?? Filter.all([])
        var options = FindOptions()
        if case .match(let first)? = stages.first {
            filter = restrict.map { .all([$0, first]) } ?? first
            stages = stages.dropFirst()
            if case .sort(let sort)? = stages.first {
                options.sort = sort
                stages = stages.dropFirst()
                if case .limit(let n)? = stages.first {
                    options.limit = n
                    stages = stages.dropFirst()
                }
            }
        }
        var pull: PipelinePull
        if let info = try transaction.collection(name) {
            let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options,
                                              carryScore: filter.mentionsText)
            pull = { try execution.next().map { .stored($0) } }
        } else {
            pull = { nil }
        }
        return try chain(stages, after: pull)
    }

    func chain(_ stages: ArraySlice<Pipeline.Stage>, after upstream: @escaping PipelinePull) throws -> PipelinePull {
        var pull = upstream
        for stage in stages { pull = try chain(stage, after: pull) }
        return pull
    }

    /// The pull function of `stage` reading from `upstream`.
    func chain(_ stage: Pipeline.Stage, after upstream: @escaping PipelinePull) throws -> PipelinePull {
        let bindings = self.bindings
        switch stage {
        case .vectorSearch:
            throw CairnError.invalidArgument("$vectorSearch must be the first stage of a pipeline")
        case .match(let filter):
            return {
                while let row = try upstream() {
                    switch row {
                    case .stored(let document):
                        if try filter.matches(document) { return row }
                    case .tree(let document):
                        let encoded = document.encoded()
                        if try encoded.withUnsafeBytes({ try filter.matches(DocumentValue($0)) }) { return row }
                    }
                }
                return nil
            }
        case .matchExpression(let expression):
            return {
                while let row = try upstream() {
                    if Expression.isTrue(try expression.evaluate(in: bindings.context(row))) { return row }
                }
                return nil
            }
        case .project, .addFields, .unset, .replaceRoot:
            return { try upstream().map { .tree(try Pipeline.reshape(stage, $0, bindings: bindings)) } }
        case .skip(let count):
            var skipped = 0
            return {
                while skipped < count {
                    guard try upstream() != nil else { return nil }
                    skipped += 1
                }
                return try upstream()
            }
        case .limit(let count):
            var returned = 0
            return {
                guard returned < count, let document = try upstream() else { return nil }
                returned += 1
                return document
            }
        case .sort(let keys):
            return sortStage(keys, after: upstream)
        case .unwind(let path, let preserveEmpty, let indexField):
            var pending: [MutableValue] = []
            // includeArrayIndex: the element's position, or null for a
            // document passed through whole.
            func indexed(_ document: MutableValue, _ index: MutableValue) throws -> MutableValue {
                guard let indexField else { return document }
                var copy = document
                try MutableValue.modify(&copy, path: indexField[...], create: true, at: "$unwind") { $0 = index }
                return copy
            }
            return {
                while pending.isEmpty {
                    guard let document = try upstream()?.tree() else { return nil }
                    switch document.value(at: path[...]) {
                    case .array(let elements)?:
                        if elements.isEmpty {
                            if preserveEmpty {
                                var copy = document
                                _ = try MutableValue.remove(&copy, path: path[...])
                                return .tree(try indexed(copy, .null))
                            }
                            continue
                        }
                        for (index, element) in elements.enumerated().reversed() {
                            var copy = document
                            try MutableValue.modify(&copy, path: path[...], create: true, at: "$unwind") { $0 = element }
                            pending.append(try indexed(copy, .int(Int64(index))))
                        }
                    case nil, .null?:
                        if preserveEmpty { return .tree(try indexed(document, .null)) }
                    case _?:
                        return .tree(try indexed(document, .null))  // a non-array value unwinds to itself
                    }
                }
                return .tree(pending.removeLast())
            }
        case .count(let field):
            var done = false
            return {
                guard !done else { return nil }
                done = true
                var count: Int64 = 0
                while try upstream() != nil { count += 1 }
                return count == 0 ? nil : .tree(.object([(field, .int(count))]))
            }
        case .group(let id, let accumulators):
            return groupStage(id: id, accumulators: accumulators, upstream: upstream)
        case .sortByCount(let expression):
            let group = groupStage(id: expression, accumulators: [("count", try Accumulator(.object([("$sum", .int(1))]), at: "$sortByCount"))],
                                   upstream: upstream)
            return sortStage([(["count"], -1), (["_id"], 1)], after: group)
        case .lookup(let from, let localField, let foreignField, let target):
            return try lookupStage(from: from, localField: localField, foreignField: foreignField, as: target, after: upstream)
        case .lookupPipeline(let lookup):
            return try lookupStage(lookup, after: upstream)
        case .graphLookup(let stage):
            return try graphLookupStage(stage, after: upstream)
        case .facet(let facets):
            return facetStage(facets, after: upstream)
        case .bucket(let bucket):
            return bucketStage(bucket, after: upstream)
        case .bucketAuto(let bucket):
            return bucketAutoStage(bucket, after: upstream)
        case .unionWith(let collection, let pipeline):
            return unionWithStage(collection: collection, pipeline: pipeline, after: upstream)
        case .sample(let size):
            return sampleStage(size, after: upstream)
        case .setWindowFields(let fields):
            return windowFieldsStage(fields, after: upstream)
        case .search:
            throw CairnError.invalidArgument("$search must be the first stage of a pipeline on a collection")
        }
    }

    /// Rows gathered by a blocking stage, handed out one by one.
    static func emitting(_ gather: @escaping () throws -> [MutableValue]) -> PipelinePull {
        var output: [MutableValue]?
        var position = 0
        return {
            if output == nil { output = try gather() }
            guard let rows = output, position < rows.count else { return nil }
            position += 1
            return .tree(rows[position - 1])
        }
    }

    /// The bytes a gathered row holds: its tree and the array slot.
    static func rowBytes(_ value: MutableValue) -> Int { value.memorySize + 16 }

    private func sortStage(_ keys: [(path: [String], direction: Int)], after upstream: @escaping PipelinePull) -> PipelinePull {
        let memoryLimit = self.memoryLimit
        return PipelineEnvironment.emitting {
            var keyed: [(key: [UInt8], document: MutableValue)] = []
            var budget = MemoryBudget(stage: "$sort", limit: memoryLimit)
            while let row = try upstream() {
                let key = try PipelineEnvironment.sortKey(of: row, by: keys)
                let document = try row.tree()
                try budget.charge(48 + key.count + document.memorySize + 64)  // the key's storage, the tree, the entry
                keyed.append((key, document))
            }
            keyed.sort { $0.key.lexicographicallyPrecedes($1.key) }  // stable: equal keys keep input order
            return keyed.map(\.document)
        }
    }

    static func sortKey(of row: PipelineRow, by keys: [(path: [String], direction: Int)]) throws -> [UInt8] {
        switch row {
        case .stored(let document): return try FindOptions.sortKey(of: document, by: keys)
        case .tree(let document):
            let encoded = document.encoded()
            return try encoded.withUnsafeBytes { try FindOptions.sortKey(of: DocumentValue($0), by: keys) }
        }
    }

    /// The order-preserving bytes of a value, as a group or partition key
    /// (so 1 and 1.0 are the same key).
    static func key(of value: MutableValue) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let encoded = value.encoded()
        try encoded.withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &bytes) }
        return bytes
    }

    private func lookupStage(from: String, localField: [String], foreignField: [String], as target: [String],
                             after upstream: @escaping PipelinePull) throws -> PipelinePull {
        let foreign = try transaction.collection(from)
        let reader = self.reader
        return {
            guard var document = try upstream()?.tree() else { return nil }
            var matches: [MutableValue] = []
            // The joined document obeys the 16 MiB limit of every document.
            var size = document.encodedSize
            if let foreign {
                let execution = try FindExecution(reader: reader, collection: foreign,
                                                  filter: PipelineEnvironment.equality(localField, in: document, foreignField: foreignField),
                                                  options: FindOptions())
                while let match = try execution.next() {
                    size += match.bytes.count
                    guard size <= DocumentLimits.maxDocumentBytes else {
                        throw CairnError.invalidArgument("$lookup: a joined document would be over \(DocumentLimits.maxDocumentBytes >> 20) MiB")
                    }
                    matches.append(try MutableValue(match))
                }
            }
            try MutableValue.modify(&document, path: target[...], create: true, at: "$lookup") { $0 = .array(matches) }
            return .tree(document)
        }
    }

    /// The filter of a $lookup's localField/foreignField: the foreign field
    /// equals the local value, or any of its elements when it is an array.
    static func equality(_ localField: [String], in document: MutableValue, foreignField: [String]) -> Filter {
        let local = Expression.resolve(localField[...], in: document) ?? .null
        let predicate: Filter.Predicate
        if case .array(let elements) = local {
            predicate = .isIn(elements.map { Filter.Operand(bytes: $0.encoded()) })
        } else {
            predicate = .equals(Filter.Operand(bytes: local.encoded()))
        }
        return .field(path: foreignField, predicate: predicate)
    }

    /// What one new group holds, as counted against the stage's budget:
    /// the dictionary's copy of the key's bytes and its slot (with the
    /// slack a growing table keeps), the key value, the accumulators'
    /// states, and the output row built from them at the end (while the
    /// groups still exist). Checked against measured memory by
    /// CollectionTests.testTheGroupBudgetBoundsWhatTheStageHolds.
    static func groupBytes(key: MutableValue, keyBytes: Int, accumulators: Int) -> Int {
        let storage = 48
        let slot = 2 * (MemoryLayout<[UInt8]>.stride + MemoryLayout<Int>.stride)
        let states = storage + accumulators * MemoryLayout<Accumulator.State>.stride
        let row = 32 + 8 + storage + (1 + accumulators) * MemoryLayout<(key: String, value: MutableValue)>.stride
        return storage + keyBytes + slot + key.memorySize + states + row + accumulators * 48
    }

    /// $group: gathers every input into groups keyed by the order-preserving
    /// bytes of their _id (so 1 and 1.0 share a group), then emits them in
    /// the order the groups first appeared.
    private func groupStage(id: Expression, accumulators: [(name: String, accumulator: Accumulator)],
                            upstream: @escaping PipelinePull) -> PipelinePull {
        let memoryLimit = self.memoryLimit, bindings = self.bindings
        return PipelineEnvironment.emitting {
            var groups: [[UInt8]: Int] = [:]
            var keys: [MutableValue] = []
            var states: [[Accumulator.State]] = []
            var budget = MemoryBudget(stage: "$group", limit: memoryLimit)
            while let document = try upstream() {
                let context = bindings.context(document)
                let key = try id.evaluate(in: context) ?? .null
                let keyBytes = try PipelineEnvironment.key(of: key)
                let slot: Int
                if let existing = groups[keyBytes] {
                    slot = existing
                } else {
                    slot = keys.count
                    groups[keyBytes] = slot
                    keys.append(key)
                    states.append(Array(repeating: Accumulator.State(), count: accumulators.count))
                    try budget.charge(PipelineEnvironment.groupBytes(key: key, keyBytes: keyBytes.count, accumulators: accumulators.count))
                }
                for (index, entry) in accumulators.enumerated() {
                    try budget.charge(try entry.accumulator.add(context, to: &states[slot][index]))
                }
            }
            return keys.indices.map { slot in
                .object([("_id", keys[slot])] + accumulators.enumerated().map { ($0.element.name, $0.element.accumulator.result(states[slot][$0.offset])) })
            }
        }
    }
}
