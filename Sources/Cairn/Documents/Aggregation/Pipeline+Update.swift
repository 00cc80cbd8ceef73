/// Updates given as a pipeline (MongoDB's "updates with an aggregation
/// pipeline"): only the stages that turn one document into one document
/// are allowed, and they run on one document at a time without a
/// transaction, so the update code can apply them to each matched document.
extension Pipeline {
    static let updateStages: Set<String> = ["$addFields", "$set", "$project", "$unset", "$replaceRoot", "$replaceWith"]

    /// Parses `stages` (an array of stage objects); any stage but $addFields,
    /// $set, $project, $unset, $replaceRoot and $replaceWith is
    /// INVALID_ARGUMENT naming "<at>.<n>.<stage>".
    static func parseUpdate(_ stages: MutableValue, at here: String) throws -> Pipeline {
        guard case .array(let list) = stages else { throw CairnError.invalidArgument("\(here) must be an array of stages") }
        var parsed: [Stage] = []
        for (position, element) in list.enumerated() {
            guard case .object(let members) = element, members.count == 1 else {
                throw CairnError.invalidArgument("\(here).\(position) must be an object with exactly one stage")
            }
            let (name, spec) = members[0]
            let at = "\(here).\(position).\(name)"
            guard updateStages.contains(name) else {
                throw CairnError.invalidArgument("\(at): update pipeline supports only $addFields, $set, $project, $unset, $replaceRoot and $replaceWith")
            }
            parsed.append(contentsOf: try parseStage(name, spec, at: at, place: Place()))
        }
        return Pipeline(stages: parsed)
    }

    /// The document after every stage; $$NOW is the time of the call.
    /// REQUIRES: a pipeline from parseUpdate (other stages throw).
    func applyToDocument(_ document: MutableValue, now: Int64) throws -> MutableValue {
        let bindings = Bindings(now: now)
        var current = document
        for stage in stages { current = try Pipeline.reshape(stage, .tree(current), bindings: bindings) }
        return current
    }
}
