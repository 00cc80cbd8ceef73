/// MongoDB's $graphLookup: for each input document, a breadth-first
/// search of collection `from`, starting with the values of `startWith`
/// and following `connectFromField` of each document found to the
/// documents whose `connectToField` equals it:
///
///     {"$graphLookup": {"from": "employees", "startWith": "$reportsTo",
///       "connectFromField": "reportsTo", "connectToField": "name",
///       "as": "chain", "maxDepth": 2, "depthField": "depth",
///       "restrictSearchWithMatch": {"active": true}}}
///
/// Each level is one find of {connectToField: {$in: [new values]}} (with
/// the restriction), planned like any find, so an index on
/// connectToField serves it. A document joins once (by primary key), at
/// its smallest depth; a value is looked up once, so cycles end. `as`
/// lists the documents in the order found; the search holds them under
/// the query memory budget and the joined document obeys the 16 MiB limit.
struct GraphLookupStage {
    var from: String
    var startWith: Expression
    var connectFromField: String
    var connectToField: String
    var target: [String]
    var maxDepth: Int?
    var depthField: [String]?
    var restrict: Filter?

    static func parse(_ spec: MutableValue, at here: String, scope: Expression.Scope) throws -> GraphLookupStage {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        var strings: [String: String] = [:]
        var startWith: Expression?
        var maxDepth: Int?
        var restrict: Filter?
        for (key, value) in members {
            switch key {
            case "from", "connectFromField", "connectToField", "as", "depthField":
                strings[key] = try Pipeline.string(value, at: "\(here).\(key)")
            case "startWith":
                startWith = try Expression.parse(value, at: "\(here).startWith", scope: scope)
            case "maxDepth":
                maxDepth = try Pipeline.nonNegative(value, at: "\(here).maxDepth")
            case "restrictSearchWithMatch":
                guard case .object = value else { throw CairnError.invalidArgument("\(here).restrictSearchWithMatch must be an object") }
                restrict = try value.encoded().withUnsafeBytes { try Filter.parse(document: DocumentValue($0), path: "\(here).restrictSearchWithMatch") }
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown field (known: from, startWith, connectFromField, connectToField, as, maxDepth, depthField, restrictSearchWithMatch)")
            }
        }
        for required in ["from", "connectFromField", "connectToField", "as"] where strings[required] == nil {
            throw CairnError.invalidArgument("\(here).\(required) is required")
        }
        guard let startWith else { throw CairnError.invalidArgument("\(here).startWith is required") }
        let from = strings["from"]!, connectFrom = strings["connectFromField"]!, connectTo = strings["connectToField"]!  // Safe: checked above.
        try CollectionInfo.validate(name: from)
        _ = try Pipeline.path(connectFrom, at: "\(here).connectFromField")
        _ = try Pipeline.path(connectTo, at: "\(here).connectToField")
        return GraphLookupStage(from: from, startWith: startWith, connectFromField: connectFrom, connectToField: connectTo,
                                target: try Pipeline.path(strings["as"]!, at: "\(here).as"),  // Safe: checked above.
                                maxDepth: maxDepth,
                                depthField: try strings["depthField"].map { try Pipeline.path($0, at: "\(here).depthField") },
                                restrict: restrict)
    }
}

extension PipelineEnvironment {
    func graphLookupStage(_ stage: GraphLookupStage, after upstream: @escaping PipelinePull) throws -> PipelinePull {
        let foreign = try transaction.collection(stage.from)
        let reader = self.reader, bindings = self.bindings, memoryLimit = self.memoryLimit
        let interrupts = transaction.engine.interrupts, ticket = interrupts.ticket
        return {
            guard let row = try upstream() else { return nil }
            var document = try row.tree()
            var found: [MutableValue] = []
            if let foreign {
                var budget = MemoryBudget(stage: "$graphLookup", limit: memoryLimit,
                                          advice: "set maxDepth or restrictSearchWithMatch")
                var size = document.encodedSize
                var queried: Set<EngineKey> = []
                var joined: Set<EngineKey> = []
                var pending: [MutableValue] = []
                // A missing value (no startWith, a document without connectFromField) starts no search.
                func add(_ value: MutableValue?) throws {
                    guard let value else { return }
                    let values: [MutableValue]
                    if case .array(let elements) = value { values = elements } else { values = [value] }
                    for value in values {
                        let key = try PipelineEnvironment.key(of: value)
                        guard queried.insert(EngineKey(key)).inserted else { continue }
                        try budget.charge(key.count * 2 + value.memorySize + 64)
                        pending.append(value)
                    }
                }
                try add(try stage.startWith.evaluate(in: bindings.context(.tree(document))))
                var depth = 0
                while !pending.isEmpty {
                    try interrupts.check(ticket)
                    var filter = Filter.field(path: stage.connectToField.split(separator: ".").map(String.init),
                                              predicate: .isIn(pending.map { Filter.Operand(bytes: $0.encoded()) }))
                    if let restrict = stage.restrict { filter = .all([filter, restrict]) }
                    pending.removeAll()
                    let execution = try FindExecution(reader: reader, collection: foreign, filter: filter, options: FindOptions())
                    while let match = try execution.next() {
                        let primaryKey = try match.value(atPath: foreign.primaryKey)
                        var key: [UInt8] = []
                        if let primaryKey { try IndexKey.append(primaryKey, to: &key) }
                        guard joined.insert(EngineKey(key)).inserted else { continue }
                        var tree = try MutableValue(match)
                        if let depthField = stage.depthField {
                            try MutableValue.modify(&tree, path: depthField[...], create: true, at: "$graphLookup") { $0 = .int(Int64(depth)) }
                        }
                        size += tree.encodedSize
                        guard size <= DocumentLimits.maxDocumentBytes else {
                            throw CairnError.invalidArgument("$graphLookup: a joined document would be over \(DocumentLimits.maxDocumentBytes >> 20) MiB")
                        }
                        try budget.charge(tree.memorySize + key.count + 64)
                        found.append(tree)
                        if stage.maxDepth.map({ depth < $0 }) ?? true {
                            try add(try match.value(atPath: stage.connectFromField).map(MutableValue.init))
                        }
                    }
                    depth += 1
                }
            }
            try MutableValue.modify(&document, path: stage.target[...], create: true, at: "$graphLookup") { $0 = .array(found) }
            return .tree(document)
        }
    }
}
