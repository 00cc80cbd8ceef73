/// $lookup with `let` and `pipeline` (and the combined form with
/// localField/foreignField and a pipeline): for each input document, the
/// let values are evaluated on it and bound as the pipeline's variables,
/// and the pipeline runs over the foreign collection (restricted to the
/// equal foreign values when localField/foreignField are given, planned as
/// one find with the pipeline's leading $match). The joined document obeys
/// the 16 MiB document limit.
///
/// The usual join, {"$match": {"$expr": {"$eq": ["$field", "$$name"]}}}
/// first in the pipeline, is also planned as a find: each such equality of
/// a top-level field and a variable becomes a filter {field: value} (the
/// primary key or an index serves it), and the $expr still runs after it.
/// The filter can only match more ({field: v} also matches an array
/// holding v, and null matches missing), never less, so the result is the
/// $expr's.
struct LookupPipeline {
    var from: String
    var equality: (local: [String], foreign: [String])?
    var variables: [Expression]
    var pipeline: Pipeline
    var target: [String]
    /// Top-level fields the leading $expr requires equal to a variable (by slot).
    var keys: [(field: String, slot: Int)] = []

    static func equalities(_ expression: Expression) -> [(field: String, slot: Int)] {
        switch expression {
        case .call(.eq, let arguments) where arguments.count == 2:
            switch (arguments[0], arguments[1]) {
            case (.field(let path), .variable(.bound(let slot), let rest)) where path.count == 1 && rest.isEmpty,
                 (.variable(.bound(let slot), let rest), .field(let path)) where path.count == 1 && rest.isEmpty:
                return [(path[0], slot)]
            default:
                return []
            }
        case .call(.and, let arguments):
            return arguments.flatMap(equalities)
        default:
            return []
        }
    }
}

extension Pipeline {
    static func parseLookup(_ spec: MutableValue, at here: String, place: Place) throws -> Stage {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        var fields: [String: String] = [:]
        var letMembers: [(key: String, value: MutableValue)]?
        var pipelineValue: MutableValue?
        for (key, value) in members {
            switch key {
            case "from", "localField", "foreignField", "as":
                fields[key] = try string(value, at: "\(here).\(key)")
            case "let":
                guard case .object(let variables) = value else { throw CairnError.invalidArgument("\(here).let must be an object") }
                letMembers = variables
            case "pipeline":
                pipelineValue = value
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown field (known: from, localField, foreignField, let, pipeline, as)")
            }
        }
        guard let from = fields["from"], let target = fields["as"] else { throw CairnError.invalidArgument("\(here) needs from and as") }
        try CollectionInfo.validate(name: from)
        let local = try fields["localField"].map { try path($0, at: "\(here).localField") }
        let foreign = try fields["foreignField"].map { try path($0, at: "\(here).foreignField") }
        guard (local == nil) == (foreign == nil) else { throw CairnError.invalidArgument("\(here) needs both localField and foreignField, or neither") }
        let targetPath = try path(target, at: "\(here).as")
        guard let pipelineValue else {
            guard letMembers == nil else { throw CairnError.invalidArgument("\(here).let needs a pipeline") }
            guard let local, let foreign else { throw CairnError.invalidArgument("\(here) needs localField and foreignField, or a pipeline") }
            return .lookup(from: from, localField: local, foreignField: foreign, as: targetPath)
        }
        var names: [String] = [], values: [Expression] = []
        for (name, value) in letMembers ?? [] {
            try Expression.validateVariableName(name, at: "\(here).let.\(name)")
            names.append(name)
            values.append(try Expression.parse(value, at: "\(here).let.\(name)", scope: place.scope))
        }
        let pipeline = try parse(pipelineValue, at: "\(here).pipeline", place: Place(scope: place.scope.adding(names)))
        let equality = local.flatMap { l in foreign.map { (l, $0) } }
        var lookup = LookupPipeline(from: from, equality: equality, variables: values, pipeline: pipeline, target: targetPath)
        if case .matchExpression(let expression)? = pipeline.stages.first { lookup.keys = LookupPipeline.equalities(expression) }
        return .lookupPipeline(lookup)
    }
}

extension PipelineEnvironment {
    func lookupStage(_ lookup: LookupPipeline, after upstream: @escaping PipelinePull) throws -> PipelinePull {
        let environment = self
        return {
            guard var document = try upstream()?.tree() else { return nil }
            let context = environment.bindings.context(.tree(document))
            var inner = environment
            for value in lookup.variables { inner.bindings.variables.append(try value.evaluate(in: context)) }
            var filters = lookup.equality.map { [PipelineEnvironment.equality($0.local, in: document, foreignField: $0.foreign)] } ?? []
            for key in lookup.keys where inner.bindings.variables.indices.contains(key.slot) {
                let value = inner.bindings.variables[key.slot] ?? .null
                filters.append(.field(path: [key.field], predicate: .equals(Filter.Operand(bytes: value.encoded()))))
            }
            let restrict: Filter? = filters.isEmpty ? nil : filters.count == 1 ? filters[0] : .all(filters)
            let pull = try inner.open(collection: lookup.from, stages: lookup.pipeline.stages[...], restrict: restrict)
            var matches: [MutableValue] = []
            var size = document.encodedSize
            while let row = try pull() {
                let match = try row.tree()
                size += match.encodedSize
                guard size <= DocumentLimits.maxDocumentBytes else {
                    throw CairnError.invalidArgument("$lookup: a joined document would be over \(DocumentLimits.maxDocumentBytes >> 20) MiB")
                }
                matches.append(match)
            }
            try MutableValue.modify(&document, path: lookup.target[...], create: true, at: "$lookup") { $0 = .array(matches) }
            return .tree(document)
        }
    }
}
