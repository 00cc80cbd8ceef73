/// $unionWith (the input, then the documents of another collection through
/// an optional pipeline) and $sample (a uniform random sample of the
/// input, by reservoir sampling, so only `size` documents are held).
extension Pipeline {
    static func parseUnionWith(_ spec: MutableValue, at here: String, place: Place) throws -> Stage {
        switch spec {
        case .string:
            let name = try string(spec, at: here)
            try CollectionInfo.validate(name: name)
            return .unionWith(collection: name, pipeline: Pipeline(stages: []))
        case .object(let members):
            var name: String?
            var pipeline = Pipeline(stages: [])
            for (key, value) in members {
                switch key {
                case "coll": name = try string(value, at: "\(here).coll")
                case "pipeline": pipeline = try parse(value, at: "\(here).pipeline", place: Place(scope: place.scope))
                default: throw CairnError.invalidArgument("\(here).\(key): unknown field (known: coll, pipeline)")
                }
            }
            guard let name else { throw CairnError.invalidArgument("\(here) needs coll") }
            try CollectionInfo.validate(name: name)
            return .unionWith(collection: name, pipeline: pipeline)
        default:
            throw CairnError.invalidArgument("\(here) must be a collection name or {coll, pipeline}")
        }
    }
}

extension PipelineEnvironment {
    func unionWithStage(collection: String, pipeline: Pipeline, after upstream: @escaping PipelinePull) -> PipelinePull {
        let environment = self
        var inputDone = false
        var other: PipelinePull?
        return {
            if !inputDone {
                if let row = try upstream() { return row }
                inputDone = true
            }
            if other == nil { other = try environment.open(collection: collection, stages: pipeline.stages[...], restrict: nil) }
            return try other?()
        }
    }

    func sampleStage(_ size: Int, after upstream: @escaping PipelinePull) -> PipelinePull {
        let memoryLimit = self.memoryLimit
        return PipelineEnvironment.emitting {
            var reservoir: [MutableValue] = []
            // What the reservoir holds now: a replaced document gives its
            // bytes back, so the budget bounds the sample, not the input.
            var held = 0
            func hold(_ bytes: Int) throws {
                held += bytes
                guard held <= memoryLimit else {
                    throw CairnError.invalidArgument("$sample needs more than \(memoryLimit >> 20) MiB of memory; sample fewer documents")
                }
            }
            var generator = SystemRandomNumberGenerator()
            var seen = 0
            while let row = try upstream() {
                seen += 1
                if reservoir.count < size {
                    let tree = try row.tree()
                    try hold(PipelineEnvironment.rowBytes(tree))
                    reservoir.append(tree)
                } else {
                    // Keep the seen-th document with probability size / seen.
                    let slot = Int.random(in: 0..<seen, using: &generator)
                    if slot < size {
                        let tree = try row.tree()
                        try hold(PipelineEnvironment.rowBytes(tree) - PipelineEnvironment.rowBytes(reservoir[slot]))
                        reservoir[slot] = tree
                    }
                }
            }
            reservoir.shuffle(using: &generator)
            return reservoir
        }
    }
}
