/// An aggregation pipeline: stages parsed and validated up front (an
/// unknown stage or a malformed one is INVALID_ARGUMENT naming
/// "pipeline.<n>.<stage>"), then run as a chain of pulls, so that streaming
/// stages hold one document at a time and only the gathering stages
/// ($group $sort $count $facet $bucket $bucketAuto $sample
/// $setWindowFields) hold their input, each under a MemoryBudget.
///
/// Sub-pipelines ($facet, $lookup with a pipeline, $unionWith) are
/// Pipelines too. A $lookup's `let` names are added to the scope its
/// pipeline is parsed in, so "$$name" there resolves at parse time (see
/// Expression's scope invariant); at run time the values are appended to
/// the bindings in the same order.
struct Pipeline {
    enum Stage {
        case match(Filter)
        /// {"$match": {"$expr": ...}}: an aggregation expression as a
        /// filter, evaluated with the pipeline's variables (a $lookup's let).
        case matchExpression(Expression)
        case project(ComputedProjection)
        case addFields([(path: [String], value: Expression)])
        case unset([[String]])
        case group(id: Expression, accumulators: [(name: String, accumulator: Accumulator)])
        case sort([(path: [String], direction: Int)])
        case skip(Int)
        case limit(Int)
        /// indexField: includeArrayIndex, where each output gets its
        /// element's position (null when the value was not an array).
        case unwind(path: [String], preserveEmpty: Bool, indexField: [String]?)
        case count(String)
        case lookup(from: String, localField: [String], foreignField: [String], as: [String])
        case lookupPipeline(LookupPipeline)
        /// MongoDB's $graphLookup (Graph/GraphLookupStage.swift).
        case graphLookup(GraphLookupStage)
        case sortByCount(Expression)
        /// $replaceRoot {newRoot} and $replaceWith.
        case replaceRoot(Expression, stage: String)
        case facet([(name: String, pipeline: Pipeline)])
        case bucket(Bucket)
        case bucketAuto(BucketAuto)
        case unionWith(collection: String, pipeline: Pipeline)
        case sample(Int)
        case setWindowFields(WindowFields)
        /// Atlas Search's $search (FullText/SearchStage.swift): first only.
        case search(SearchStage)
        /// Atlas's $vectorSearch (Vector/VectorSearchStage.swift); first only.
        case vectorSearch(VectorSearchStage)
    }

    var stages: [Stage]

    /// Where a pipeline is parsed: the variables in scope, and whether it
    /// is the pipeline of a $facet (which may not hold another $facet).
    struct Place {
        var scope = Expression.Scope()
        var inFacet = false
    }

    static func parse(json: UnsafeRawBufferPointer) throws -> Pipeline {
        let binary = try DocumentBuilder.value(fromJSON: json, what: "pipeline")
        let value = try binary.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
        guard case .array = value else { throw CairnError.invalidArgument("pipeline must be a JSON array of stages") }
        return try parse(value, at: "pipeline", place: Place())
    }

    static func parse(_ value: MutableValue, at here: String, place: Place) throws -> Pipeline {
        guard case .array(let list) = value else { throw CairnError.invalidArgument("\(here) must be an array of stages") }
        var stages: [Stage] = []
        for (position, element) in list.enumerated() {
            guard case .object(let members) = element, members.count == 1 else {
                throw CairnError.invalidArgument("\(here).\(position) must be an object with exactly one stage")
            }
            let (name, spec) = members[0]
            if name == "$search" && position != 0 {
                throw CairnError.invalidArgument("\(here).\(position).$search: $search must be the first stage")
            }
            stages.append(contentsOf: try parseStage(name, spec, at: "\(here).\(position).\(name)", place: place))
        }
        return Pipeline(stages: stages)
    }

    static func path(_ text: String, at here: String) throws -> [String] {
        try Filter.validateFieldPath(text, at: here)
        return text.split(separator: ".").map(String.init)
    }

    private static func fieldReference(_ value: MutableValue, at here: String) throws -> [String] {
        guard case .string(let utf8) = value, utf8.first == UInt8(ascii: "$") else {
            throw CairnError.invalidArgument("\(here) must be a field path such as \"$tags\"")
        }
        return try path(String(decoding: utf8.dropFirst(), as: UTF8.self), at: here)
    }

    static func nonNegative(_ value: MutableValue, at here: String) throws -> Int {
        switch value {
        case .int(let n) where n >= 0: return Int(n)
        case .double(let d) where d >= 0 && d.rounded() == d && d < 9e18: return Int(d)
        default: throw CairnError.invalidArgument("\(here) must be a non-negative integer")
        }
    }

    static func string(_ value: MutableValue, at here: String) throws -> String {
        guard case .string(let utf8) = value else { throw CairnError.invalidArgument("\(here) must be a string") }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The output fields of $group, $bucket and $bucketAuto: name to
    /// accumulator.
    static func accumulators(_ members: [(key: String, value: MutableValue)], at here: String, scope: Expression.Scope)
        throws -> [(name: String, accumulator: Accumulator)] {
        try members.map { field, value in
            guard !field.contains("."), !field.hasPrefix("$"), !field.isEmpty else {
                throw CairnError.invalidArgument("\(here).\(field): invalid output field name")
            }
            return (field, try Accumulator(value, at: "\(here).\(field)", scope: scope))
        }
    }

    static func parseStage(_ name: String, _ spec: MutableValue, at here: String, place: Place) throws -> [Stage] {
        let scope = place.scope
        switch name {
        case "$match":
            // $expr is split off and evaluated as an aggregation expression,
            // so that it sees the variables of a $lookup's let.
            var members: [(key: String, value: MutableValue)] = []
            if case .object(let all) = spec { members = all }
            let expression = try members.first(where: { $0.key == "$expr" }).map {
                try Expression.parse($0.value, at: "\(here).$expr", scope: scope)
            }
            var stages: [Stage] = []
            let rest = MutableValue.object(members.filter { $0.key != "$expr" })
            if expression == nil || !members.filter({ $0.key != "$expr" }).isEmpty {
                let encoded = (expression == nil ? spec : rest).encoded()
                stages.append(.match(try encoded.withUnsafeBytes { try Filter.parse(document: DocumentValue($0), path: here) }))
            }
            if let expression { stages.append(.matchExpression(expression)) }
            return stages
        case "$project":
            return [.project(try ComputedProjection(spec, at: here, scope: scope))]
        case "$addFields", "$set":
            guard case .object(let members) = spec, !members.isEmpty else { throw CairnError.invalidArgument("\(here) must be a non-empty object") }
            return [.addFields(try members.map {
                (try path($0.key, at: "\(here).\($0.key)"), try Expression.parse($0.value, at: "\(here).\($0.key)", scope: scope))
            })]
        case "$unset":
            var names: [MutableValue]
            if case .array(let list) = spec { names = list } else { names = [spec] }
            guard !names.isEmpty else { throw CairnError.invalidArgument("\(here) must name at least one field") }
            return [.unset(try names.map { name in
                guard case .string(let utf8) = name else { throw CairnError.invalidArgument("\(here) must be a field name or an array of them") }
                return try path(String(decoding: utf8, as: UTF8.self), at: here)
            })]
        case "$group":
            guard case .object(let members) = spec, let id = members.first(where: { $0.key == "_id" }) else {
                throw CairnError.invalidArgument("\(here) needs an _id (a field path, an object of expressions, or null)")
            }
            return [.group(id: try Expression.parse(id.value, at: "\(here)._id", scope: scope),
                           accumulators: try accumulators(members.filter { $0.key != "_id" }, at: here, scope: scope))]
        case "$sort":
            let encoded = spec.encoded()
            let sort = try encoded.withUnsafeBytes { try FindOptions.parseSort(DocumentValue($0), at: here) }
            guard !sort.isEmpty else { throw CairnError.invalidArgument("\(here) must name at least one field") }
            return [.sort(sort)]
        case "$skip":
            return [.skip(try nonNegative(spec, at: here))]
        case "$limit":
            let n = try nonNegative(spec, at: here)
            guard n > 0 else { throw CairnError.invalidArgument("\(here) must be positive") }
            return [.limit(n)]
        case "$unwind":
            if case .object(let members) = spec {
                var fieldPath: [String]?
                var preserve = false
                var indexField: [String]?
                for (key, value) in members {
                    switch (key, value) {
                    case ("path", _): fieldPath = try fieldReference(value, at: "\(here).path")
                    case ("preserveNullAndEmptyArrays", .bool(let flag)): preserve = flag
                    case ("includeArrayIndex", .string(let utf8)) where utf8.first != UInt8(ascii: "$"):
                        indexField = try path(String(decoding: utf8, as: UTF8.self), at: "\(here).includeArrayIndex")
                    default:
                        throw CairnError.invalidArgument("\(here).\(key): unknown or malformed option (known: path, preserveNullAndEmptyArrays, includeArrayIndex)")
                    }
                }
                guard let fieldPath else { throw CairnError.invalidArgument("\(here) needs a path") }
                return [.unwind(path: fieldPath, preserveEmpty: preserve, indexField: indexField)]
            }
            return [.unwind(path: try fieldReference(spec, at: here), preserveEmpty: false, indexField: nil)]
        case "$count":
            guard case .string(let utf8) = spec, !utf8.isEmpty, utf8.first != UInt8(ascii: "$"), !utf8.contains(UInt8(ascii: ".")) else {
                throw CairnError.invalidArgument("\(here) must be a field name")
            }
            return [.count(String(decoding: utf8, as: UTF8.self))]
        case "$lookup":
            return [try parseLookup(spec, at: here, place: place)]
        case "$graphLookup":
            return [.graphLookup(try GraphLookupStage.parse(spec, at: here, scope: scope))]
        case "$search":
            return [.search(try SearchStage.parse(spec, at: here))]
        case "$sortByCount":
            return [.sortByCount(try Expression.parse(spec, at: here, scope: scope))]
        case "$replaceRoot":
            guard case .object(let members) = spec, members.count == 1, members[0].key == "newRoot" else {
                throw CairnError.invalidArgument("\(here) takes {newRoot: expression}")
            }
            return [.replaceRoot(try Expression.parse(members[0].value, at: "\(here).newRoot", scope: scope), stage: name)]
        case "$replaceWith":
            return [.replaceRoot(try Expression.parse(spec, at: here, scope: scope), stage: name)]
        case "$facet":
            return [try parseFacet(spec, at: here, place: place)]
        case "$bucket":
            return [.bucket(try Bucket(spec, at: here, scope: scope))]
        case "$bucketAuto":
            return [.bucketAuto(try BucketAuto(spec, at: here, scope: scope))]
        case "$unionWith":
            return [try parseUnionWith(spec, at: here, place: place)]
        case "$sample":
            guard case .object(let members) = spec, members.count == 1, members[0].key == "size" else {
                throw CairnError.invalidArgument("\(here) takes {size: n}")
            }
            return [.sample(try nonNegative(members[0].value, at: "\(here).size"))]
        case "$setWindowFields":
            return [.setWindowFields(try WindowFields(spec, at: here, scope: scope))]
        case "$vectorSearch":
            return [.vectorSearch(try VectorSearchStage.parse(spec, at: here))]
        default:
            throw CairnError.invalidArgument("\(here): unknown stage")
        }
    }
}

/// A $project: fields kept (1), dropped (0) or computed (an expression).
struct ComputedProjection {
    var including: Bool
    var keepID = true
    /// The fields kept (1) or dropped (0), which reach through arrays as
    /// in find (Projection).
    var tree = ProjectionTree()
    var computed: [(path: [String], value: Expression)] = []

    init(_ spec: MutableValue, at here: String, scope: Expression.Scope = Expression.Scope()) throws {
        guard case .object(let specMembers) = spec, !specMembers.isEmpty else { throw CairnError.invalidArgument("\(here) must be a non-empty object") }
        let members = try ComputedProjection.flattened(specMembers, prefix: "", at: here)
        var mode: Bool?
        for (field, value) in members {
            try Filter.validateFieldPath(field, at: "\(here).\(field)")
            let components = field.split(separator: ".").map(String.init)
            let flag: Bool?
            switch value {
            case .int(let n): flag = n != 0
            case .double(let d): flag = d != 0
            case .bool(let b): flag = b
            default: flag = nil
            }
            if field == "_id", let flag {
                keepID = flag
                continue
            }
            if let flag {
                if let mode, mode != flag { throw CairnError.invalidArgument("\(here) mixes inclusion and exclusion (only _id may differ)") }
                mode = flag
                try tree.insert(components[...], flag ? .include : .exclude, at: "\(here).\(field)")
            } else {
                if mode == false { throw CairnError.invalidArgument("\(here): computed fields cannot be mixed with exclusion") }
                mode = true
                computed.append((components, try Expression.parse(value, at: "\(here).\(field)", scope: scope)))
            }
        }
        // Only _id mentioned: {_id: 1} keeps just it, {_id: 0} drops it.
        including = mode ?? keepID
    }

    /// A nested specification, {"a": {"b": 1, "c": "$x"}}, is the dotted
    /// one, {"a.b": 1, "a.c": "$x"}, as in MongoDB; an object whose key
    /// starts with '$' is an expression instead.
    private static func flattened(_ members: [(key: String, value: MutableValue)], prefix: String, at here: String)
        throws -> [(key: String, value: MutableValue)] {
        var out: [(key: String, value: MutableValue)] = []
        for (key, value) in members {
            let field = prefix + key
            if case .object(let inner) = value, !inner.contains(where: { $0.key.hasPrefix("$") }) {
                guard !inner.isEmpty else { throw CairnError.invalidArgument("\(here).\(field): an empty object is not a valid projection") }
                out.append(contentsOf: try flattened(inner, prefix: field + ".", at: here))
            } else {
                out.append((field, value))
            }
        }
        return out
    }

    func apply(to row: PipelineRow) throws -> MutableValue {
        try apply(to: row, bindings: Bindings(now: currentTimeMillis()))
    }

    func apply(to row: PipelineRow, bindings: Bindings) throws -> MutableValue {
        let document = try row.tree()
        // Kept and dropped fields: through arrays of documents, in the
        // document's order ({"items.sku": 1} keeps each element's sku).
        var result = try Projection(tree: tree, including: including, keepID: keepID).apply(to: document)
        guard including else { return result }
        let context = bindings.context(.tree(document))
        for (path, expression) in computed {
            if let value = try expression.evaluate(in: context) {
                try MutableValue.modify(&result, path: path[...], create: true, at: "$project") { $0 = value }
            }
        }
        return result
    }
}

/// The values of a pipeline's variables during one run: those bound by
/// $lookup's let (in the order of the scope the stages were parsed in),
/// and $$NOW, fixed when the run starts.
struct Bindings {
    var variables: [MutableValue?] = []
    let now: Int64

    func context(_ row: PipelineRow) -> Expression.Context {
        Expression.Context(root: row, variables: variables, now: now)
    }
}
