/// The stages that turn one document into one document: $project,
/// $addFields/$set, $unset, $replaceRoot/$replaceWith. They need no
/// collection and no transaction, so update pipelines run them too
/// (Pipeline+Update).
extension Pipeline {
    static func reshape(_ stage: Stage, _ row: PipelineRow, bindings: Bindings) throws -> MutableValue {
        switch stage {
        case .project(let projection):
            return try projection.apply(to: row, bindings: bindings)
        case .addFields(let fields):
            // Every expression sees the input document, not the fields
            // added before it, as in MongoDB.
            let input = try row.tree()
            let context = bindings.context(.tree(input))
            var document = input
            for (path, expression) in fields {
                if let value = try expression.evaluate(in: context) {
                    try MutableValue.modify(&document, path: path[...], create: true, at: "$addFields") { $0 = value }
                } else {
                    // A missing result ("$$REMOVE", "$absent") removes the field.
                    _ = try MutableValue.remove(&document, path: path[...])
                }
            }
            return document
        case .unset(let paths):
            var document = try row.tree()
            for path in paths { _ = try MutableValue.remove(&document, path: path[...]) }
            return document
        case .replaceRoot(let expression, let name):
            let value = try expression.evaluate(in: bindings.context(row))
            guard case .object? = value else {
                throw CairnError.invalidArgument("\(name): the new root must be an object, not \(value?.typeName ?? "missing")")
            }
            return value ?? .object([])
        default:
            throw CairnError(.internal, "not a reshaping stage")
        }
    }
}
