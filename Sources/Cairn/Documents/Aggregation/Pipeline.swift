/// An aggregation pipeline: stages parsed and validated up front (an
/// unknown stage or a malformed one is INVALID_ARGUMENT naming
/// "pipeline.<n>.<stage>"), then run as a chain of pulls, so that streaming
/// stages hold one document at a time and only $group, $sort and $count
/// gather their input.
struct Pipeline {
    enum Stage {
        case match(Filter)
        case project(ComputedProjection)
        case addFields([(path: [String], value: Expression)])
        case unset([[String]])
        case group(id: Expression, accumulators: [(name: String, accumulator: Accumulator)])
        case sort([(path: [String], direction: Int)])
        case skip(Int)
        case limit(Int)
        case unwind(path: [String], preserveEmpty: Bool)
        case count(String)
        case lookup(from: String, localField: [String], foreignField: [String], as: [String])
        case sortByCount(Expression)
    }

    var stages: [Stage]

    static func parse(json: UnsafeRawBufferPointer) throws -> Pipeline {
        let binary = try DocumentBuilder.value(fromJSON: json, what: "pipeline")
        guard case .array(let list) = try binary.withUnsafeBytes({ try MutableValue(DocumentValue($0)) }) else {
            throw CairnError.invalidArgument("pipeline must be a JSON array of stages")
        }
        var stages: [Stage] = []
        for (position, element) in list.enumerated() {
            guard case .object(let members) = element, members.count == 1 else {
                throw CairnError.invalidArgument("pipeline.\(position) must be an object with exactly one stage")
            }
            let (name, spec) = members[0]
            stages.append(try parseStage(name, spec, at: "pipeline.\(position).\(name)"))
        }
        return Pipeline(stages: stages)
    }

    private static func path(_ text: String, at here: String) throws -> [String] {
        try Filter.validateFieldPath(text, at: here)
        return text.split(separator: ".").map(String.init)
    }

    private static func fieldReference(_ value: MutableValue, at here: String) throws -> [String] {
        guard case .string(let utf8) = value, utf8.first == UInt8(ascii: "$") else {
            throw CairnError.invalidArgument("\(here) must be a field path such as \"$tags\"")
        }
        return try path(String(decoding: utf8.dropFirst(), as: UTF8.self), at: here)
    }

    private static func nonNegative(_ value: MutableValue, at here: String) throws -> Int {
        switch value {
        case .int(let n) where n >= 0: return Int(n)
        case .double(let d) where d >= 0 && d.rounded() == d && d < 9e18: return Int(d)
        default: throw CairnError.invalidArgument("\(here) must be a non-negative integer")
        }
    }

    private static func parseStage(_ name: String, _ spec: MutableValue, at here: String) throws -> Stage {
        switch name {
        case "$match":
            let encoded = spec.encoded()
            return .match(try encoded.withUnsafeBytes { try Filter.parse(document: DocumentValue($0), path: here) })
        case "$project":
            return .project(try ComputedProjection(spec, at: here))
        case "$addFields", "$set":
            guard case .object(let members) = spec, !members.isEmpty else { throw CairnError.invalidArgument("\(here) must be a non-empty object") }
            return .addFields(try members.map { (try path($0.key, at: "\(here).\($0.key)"), try Expression.parse($0.value, at: "\(here).\($0.key)")) })
        case "$unset":
            var names: [MutableValue]
            if case .array(let list) = spec { names = list } else { names = [spec] }
            return .unset(try names.map { name in
                guard case .string(let utf8) = name else { throw CairnError.invalidArgument("\(here) must be a field name or an array of them") }
                return try path(String(decoding: utf8, as: UTF8.self), at: here)
            })
        case "$group":
            guard case .object(let members) = spec, let id = members.first(where: { $0.key == "_id" }) else {
                throw CairnError.invalidArgument("\(here) needs an _id (a field path, an object of expressions, or null)")
            }
            var accumulators: [(String, Accumulator)] = []
            for (field, value) in members where field != "_id" {
                guard !field.contains("."), !field.hasPrefix("$") else { throw CairnError.invalidArgument("\(here).\(field): invalid output field name") }
                accumulators.append((field, try Accumulator(value, at: "\(here).\(field)")))
            }
            return .group(id: try Expression.parse(id.value, at: "\(here)._id"), accumulators: accumulators)
        case "$sort":
            let encoded = spec.encoded()
            let sort = try encoded.withUnsafeBytes { try FindOptions.parseSort(DocumentValue($0), at: here) }
            guard !sort.isEmpty else { throw CairnError.invalidArgument("\(here) must name at least one field") }
            return .sort(sort)
        case "$skip":
            return .skip(try nonNegative(spec, at: here))
        case "$limit":
            let n = try nonNegative(spec, at: here)
            guard n > 0 else { throw CairnError.invalidArgument("\(here) must be positive") }
            return .limit(n)
        case "$unwind":
            if case .object(let members) = spec {
                var fieldPath: [String]?
                var preserve = false
                for (key, value) in members {
                    switch (key, value) {
                    case ("path", _): fieldPath = try fieldReference(value, at: "\(here).path")
                    case ("preserveNullAndEmptyArrays", .bool(let flag)): preserve = flag
                    default: throw CairnError.invalidArgument("\(here).\(key): unknown or malformed option (known: path, preserveNullAndEmptyArrays)")
                    }
                }
                guard let fieldPath else { throw CairnError.invalidArgument("\(here) needs a path") }
                return .unwind(path: fieldPath, preserveEmpty: preserve)
            }
            return .unwind(path: try fieldReference(spec, at: here), preserveEmpty: false)
        case "$count":
            guard case .string(let utf8) = spec, !utf8.isEmpty, utf8.first != UInt8(ascii: "$"), !utf8.contains(UInt8(ascii: ".")) else {
                throw CairnError.invalidArgument("\(here) must be a field name")
            }
            return .count(String(decoding: utf8, as: UTF8.self))
        case "$lookup":
            guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
            var fields: [String: String] = [:]
            for (key, value) in members {
                guard ["from", "localField", "foreignField", "as"].contains(key) else {
                    throw CairnError.invalidArgument("\(here).\(key): unknown field (known: from, localField, foreignField, as)")
                }
                guard case .string(let utf8) = value else { throw CairnError.invalidArgument("\(here).\(key) must be a string") }
                fields[key] = String(decoding: utf8, as: UTF8.self)
            }
            guard let from = fields["from"], let local = fields["localField"], let foreign = fields["foreignField"], let target = fields["as"] else {
                throw CairnError.invalidArgument("\(here) needs from, localField, foreignField and as")
            }
            try CollectionInfo.validate(name: from)
            return .lookup(from: from, localField: try path(local, at: "\(here).localField"),
                           foreignField: try path(foreign, at: "\(here).foreignField"), as: try path(target, at: "\(here).as"))
        case "$sortByCount":
            return .sortByCount(try Expression.parse(spec, at: here))
        default:
            throw CairnError.invalidArgument("\(here): unknown stage")
        }
    }
}

/// A $project: fields kept (1), dropped (0) or computed (an expression).
struct ComputedProjection {
    var including: Bool
    var keepID = true
    var paths: [[String]] = []
    var computed: [(path: [String], value: Expression)] = []

    init(_ spec: MutableValue, at here: String) throws {
        guard case .object(let members) = spec, !members.isEmpty else { throw CairnError.invalidArgument("\(here) must be a non-empty object") }
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
                paths.append(components)
            } else {
                if mode == false { throw CairnError.invalidArgument("\(here): computed fields cannot be mixed with exclusion") }
                mode = true
                computed.append((components, try Expression.parse(value, at: "\(here).\(field)")))
            }
        }
        // Only _id mentioned: {_id: 1} keeps just it, {_id: 0} drops it.
        including = mode ?? keepID
    }

    func apply(to row: PipelineRow) throws -> MutableValue {
        let document = try row.tree()
        if !including {
            var result = document
            for path in paths { _ = try MutableValue.remove(&result, path: path[...]) }
            if !keepID { _ = try MutableValue.remove(&result, path: ["_id"]) }
            return result
        }
        var result = MutableValue.object([])
        if keepID, let id = document.value(at: ["_id"]) {
            try MutableValue.modify(&result, path: ["_id"], create: true, at: "$project") { $0 = id }
        }
        for path in paths {
            if let value = Expression.resolve(path[...], in: document) {
                try MutableValue.modify(&result, path: path[...], create: true, at: "$project") { $0 = value }
            }
        }
        for (path, expression) in computed {
            if let value = try expression.evaluate(document) {
                try MutableValue.modify(&result, path: path[...], create: true, at: "$project") { $0 = value }
            }
        }
        return result
    }
}

/// A $group accumulator and its running state.
struct Accumulator {
    enum Kind: String {
        case sum = "$sum", avg = "$avg", min = "$min", max = "$max", count = "$count"
        case first = "$first", last = "$last", push = "$push", addToSet = "$addToSet"
    }

    let kind: Kind
    let argument: Expression

    init(_ spec: MutableValue, at here: String) throws {
        guard case .object(let members) = spec, members.count == 1, let kind = Kind(rawValue: members[0].key) else {
            throw CairnError.invalidArgument("\(here) must be one accumulator such as {\"$sum\": \"$qty\"}")
        }
        self.kind = kind
        if kind == .count {
            guard case .object(let empty) = members[0].value, empty.isEmpty else { throw CairnError.invalidArgument("\(here).$count takes {}") }
            argument = .literal(.int(1))
        } else {
            argument = try Expression.parse(members[0].value, at: "\(here).\(kind.rawValue)")
        }
    }

    /// The running value of one group.
    struct State {
        var total: MutableValue = .int(0)
        var numbers = 0
        var value: MutableValue?
        var seen = false
        var items: [MutableValue] = []
        var itemKeys = Set<[UInt8]>()
    }

    /// Adds one input to a group's state; returns the bytes the state grew
    /// by ($push and $addToSet keep values), for the stage's memory budget.
    @discardableResult
    func add(_ document: PipelineRow, to state: inout State) throws -> Int {
        var grown = 0
        defer { state.seen = true }
        let value = try argument.evaluate(document)
        switch kind {
        case .sum, .avg, .count:
            switch value {
            case .int(let n)?:
                if case .int(let t) = state.total, case (let r, false) = t.addingReportingOverflow(n) { state.total = .int(r) } else {
                    state.total = .double(Accumulator.double(state.total) + Double(n))
                }
                state.numbers += 1
            case .double(let d)?:
                state.total = .double(Accumulator.double(state.total) + d)
                state.numbers += 1
            default:
                break  // non-numbers are ignored, as in MongoDB
            }
        case .min, .max:
            guard let value, !{ if case .null = value { return true } else { return false } }() else { return 0 }
            if let current = state.value {
                let c = try value.compare(current)
                if kind == .min ? c < 0 : c > 0 { state.value = value }
            } else {
                state.value = value
            }
        case .first:
            if !state.seen { state.value = value ?? .null }
        case .last:
            state.value = value ?? .null
        case .push:
            if let value {
                state.items.append(value)
                grown = value.memorySize
            }
        case .addToSet:
            if let value {
                var key: [UInt8] = []
                let encoded = value.encoded()
                try encoded.withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &key) }
                if state.itemKeys.insert(key).inserted {
                    state.items.append(value)
                    grown = value.memorySize + 48 + key.count + 2 * MemoryLayout<[UInt8]>.stride
                }
            }
        }
        return grown
    }

    func result(_ state: State) -> MutableValue {
        switch kind {
        case .sum, .count: return state.total
        case .avg: return state.numbers == 0 ? .null : .double(Accumulator.double(state.total) / Double(state.numbers))
        case .min, .max, .first, .last: return state.value ?? .null
        case .push, .addToSet: return .array(state.items)
        }
    }

    private static func double(_ value: MutableValue) -> Double {
        switch value {
        case .int(let n): return Double(n)
        case .double(let d): return d
        default: return 0
        }
    }
}
