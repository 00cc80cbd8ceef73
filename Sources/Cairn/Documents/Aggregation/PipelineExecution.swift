/// Runs a pipeline inside a transaction's snapshot. A leading $match, and
/// a $sort right after it, become the find of the first stage, so they are
/// planned like any find and use indexes; every other stage pulls from the
/// one before it.
extension Transaction {
    func openAggregate(in name: String, pipeline: Pipeline) throws -> DocumentCursor {
        let reader = self.reader
        var stages = pipeline.stages[...]
        var filter = Filter.all([])
        var options = FindOptions()
        if case .match(let first)? = stages.first {
            filter = first
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
        var pull: () throws -> PipelineRow?
        if let info = try collection(name) {
            let execution = try FindExecution(reader: reader, collection: info, filter: filter, options: options)
            pull = { try execution.next().map { .stored($0) } }
        } else {
            pull = { nil }
        }
        for stage in stages {
            pull = try Transaction.chain(stage, after: pull, reader: reader, transaction: self)
        }
        let source = pull
        return DocumentCursor(database: database) { out in
            switch try source() {
            case nil:
                return false
            case .stored(let document)?:
                try document.appendJSON(to: &out)
            case .tree(let document)?:
                let encoded = document.encoded()
                try encoded.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
            }
            return true
        }
    }

    /// The pull function of `stage` reading from `upstream`.
    private static func chain(_ stage: Pipeline.Stage, after upstream: @escaping () throws -> PipelineRow?,
                              reader: TransactionReader, transaction: Transaction) throws -> () throws -> PipelineRow? {
        switch stage {
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
        case .project(let projection):
            return { try upstream().map { .tree(try projection.apply(to: $0)) } }
        case .addFields(let fields):
            return {
                guard let row = try upstream() else { return nil }
                let input = try row.tree()
                var document = input
                for (path, expression) in fields {
                    if let value = try expression.evaluate(input) {
                        try MutableValue.modify(&document, path: path[...], create: true, at: "$addFields") { $0 = value }
                    }
                }
                return .tree(document)
            }
        case .unset(let paths):
            return {
                guard var document = try upstream()?.tree() else { return nil }
                for path in paths { _ = try MutableValue.remove(&document, path: path[...]) }
                return .tree(document)
            }
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
            var sorted: [MutableValue]?
            var position = 0
            return {
                if sorted == nil {
                    var keyed: [(key: [UInt8], document: MutableValue)] = []
                    var budget = MemoryBudget(stage: "$sort", limit: reader.memoryLimit)
                    while let row = try upstream() {
                        let key: [UInt8]
                        switch row {
                        case .stored(let document): key = try FindOptions.sortKey(of: document, by: keys)
                        case .tree(let document):
                            let encoded = document.encoded()
                            key = try encoded.withUnsafeBytes { try FindOptions.sortKey(of: DocumentValue($0), by: keys) }
                        }
                        let document = try row.tree()
                        try budget.charge(48 + key.count + document.memorySize + 64)  // the key's storage, the tree, the entry
                        keyed.append((key, document))
                    }
                    keyed.sort { $0.key.lexicographicallyPrecedes($1.key) }  // stable: equal keys keep input order
                    sorted = keyed.map(\.document)
                }
                guard position < sorted!.count else { return nil }
                position += 1
                return .tree(sorted![position - 1])
            }
        case .unwind(let path, let preserveEmpty):
            var pending: [MutableValue] = []
            return {
                while pending.isEmpty {
                    guard let document = try upstream()?.tree() else { return nil }
                    switch document.value(at: path[...]) {
                    case .array(let elements)?:
                        if elements.isEmpty {
                            if preserveEmpty {
                                var copy = document
                                _ = try MutableValue.remove(&copy, path: path[...])
                                return .tree(copy)
                            }
                            continue
                        }
                        for element in elements.reversed() {
                            var copy = document
                            try MutableValue.modify(&copy, path: path[...], create: true, at: "$unwind") { $0 = element }
                            pending.append(copy)
                        }
                    case nil, .null?:
                        if preserveEmpty { return .tree(document) }
                    case _?:
                        return .tree(document)  // a non-array value unwinds to itself
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
            return try groupStage(id: id, accumulators: accumulators, upstream: upstream, memoryLimit: reader.memoryLimit)
        case .sortByCount(let expression):
            let group = try groupStage(id: expression, accumulators: [("count", try Accumulator(.object([("$sum", .int(1))]), at: "$sortByCount"))],
                                       upstream: upstream, memoryLimit: reader.memoryLimit)
            return try chain(.sort([(["count"], -1), (["_id"], 1)]), after: group, reader: reader, transaction: transaction)
        case .lookup(let from, let localField, let foreignField, let target):
            let foreign = try transaction.collection(from)
            return {
                guard var document = try upstream()?.tree() else { return nil }
                var matches: [MutableValue] = []
                // The joined document obeys the 16 MiB limit of every document.
                var size = document.encodedSize
                if let foreign {
                    let local = Expression.resolve(localField[...], in: document) ?? .null
                    let predicate: Filter.Predicate
                    if case .array(let elements) = local {
                        predicate = .isIn(elements.map { Filter.Operand(bytes: $0.encoded()) })
                    } else {
                        predicate = .equals(Filter.Operand(bytes: local.encoded()))
                    }
                    let execution = try FindExecution(reader: reader, collection: foreign, filter: .field(path: foreignField, predicate: predicate),
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
    private static func groupStage(id: Expression, accumulators: [(name: String, accumulator: Accumulator)],
                                   upstream: @escaping () throws -> PipelineRow?, memoryLimit: Int) throws -> () throws -> PipelineRow? {
        var output: [MutableValue]?
        var position = 0
        return {
            if output == nil {
                var groups: [[UInt8]: Int] = [:]
                var keys: [MutableValue] = []
                var states: [[Accumulator.State]] = []
                var budget = MemoryBudget(stage: "$group", limit: memoryLimit)
                while let document = try upstream() {
                    let key = try id.evaluate(document) ?? .null
                    var keyBytes: [UInt8] = []
                    let encoded = key.encoded()
                    try encoded.withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &keyBytes) }
                    let slot: Int
                    if let existing = groups[keyBytes] {
                        slot = existing
                    } else {
                        slot = keys.count
                        groups[keyBytes] = slot
                        keys.append(key)
                        states.append(Array(repeating: Accumulator.State(), count: accumulators.count))
                        try budget.charge(Transaction.groupBytes(key: key, keyBytes: keyBytes.count, accumulators: accumulators.count))
                    }
                    for (index, entry) in accumulators.enumerated() {
                        try budget.charge(try entry.accumulator.add(document, to: &states[slot][index]))
                    }
                }
                output = keys.indices.map { slot in
                    .object([("_id", keys[slot])] + accumulators.enumerated().map { ($0.element.name, $0.element.accumulator.result(states[slot][$0.offset])) })
                }
            }
            guard position < output!.count else { return nil }
            position += 1
            return .tree(output![position - 1])
        }
    }
}
