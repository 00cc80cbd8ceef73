/// $facet: several sub-pipelines over the same input. The input is
/// gathered once (under the stage's MemoryBudget), each sub-pipeline is
/// chained onto it, and the one output document {name: [results], ...}
/// obeys the 16 MiB document limit.
extension Pipeline {
    static func parseFacet(_ spec: MutableValue, at here: String, place: Place) throws -> Stage {
        guard !place.inFacet else { throw CairnError.invalidArgument("\(here): a $facet cannot hold another $facet") }
        guard case .object(let members) = spec, !members.isEmpty else {
            throw CairnError.invalidArgument("\(here) must be an object of named pipelines")
        }
        return .facet(try members.map { name, value in
            guard !name.isEmpty, !name.hasPrefix("$"), !name.contains("."), !name.utf8.contains(0) else {
                throw CairnError.invalidArgument("\(here).\(name): invalid output field name")
            }
            return (name, try parse(value, at: "\(here).\(name)", place: Place(scope: place.scope, inFacet: true)))
        })
    }
}

extension PipelineEnvironment {
    func facetStage(_ facets: [(name: String, pipeline: Pipeline)], after upstream: @escaping PipelinePull) -> PipelinePull {
        let environment = self
        return PipelineEnvironment.emitting {
            var rows: [MutableValue] = []
            var budget = MemoryBudget(stage: "$facet", limit: environment.memoryLimit)
            while let row = try upstream() {
                let tree = try row.tree()
                try budget.charge(PipelineEnvironment.rowBytes(tree))
                rows.append(tree)
            }
            var output: [(key: String, value: MutableValue)] = []
            var size = 9
            for (name, pipeline) in facets {
                var position = 0
                let source: PipelinePull = {
                    guard position < rows.count else { return nil }
                    position += 1
                    return .tree(rows[position - 1])
                }
                let pull = try environment.chain(pipeline.stages[...], after: source)
                var results: [MutableValue] = []
                size += name.utf8.count + 2 + 9
                while let row = try pull() {
                    let tree = try row.tree()
                    size += tree.encodedSize
                    guard size <= DocumentLimits.maxDocumentBytes else {
                        throw CairnError.invalidArgument("$facet: the output document would be over \(DocumentLimits.maxDocumentBytes >> 20) MiB")
                    }
                    results.append(tree)
                }
                output.append((name, .array(results)))
            }
            return [.object(output)]
        }
    }
}
