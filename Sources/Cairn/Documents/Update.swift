/// A parsed MongoDB update: operators (`{"$set": {...}, "$inc": {...}}`)
/// or a replacement document. Parsing validates everything first: an
/// unknown operator, a malformed operand, two operators on the same or
/// overlapping paths, or a change to `_id` is INVALID_ARGUMENT naming the
/// path, before any document is touched. Applying to a document that makes
/// an operator fail (`$inc` on a string) throws and leaves the document as
/// it was: the caller writes the result only when everything succeeded.
///
/// A path component that starts with '$' is one of the array update
/// operators, never a field name:
///  - `$`: the element of the array that the query matched (the filter
///    must have a condition on that array);
///  - `$[]`: every element;
///  - `$[id]`: the elements that the array filter for `id` matches
///    (`array_filters` in the update options).
struct Update {
    enum Kind {
        case operators([Operation])
        case replacement(MutableValue)
        /// An aggregation pipeline of $set/$addFields, $unset, $project,
        /// $replaceRoot and $replaceWith (MongoDB 4.2+ updates).
        case pipeline(Pipeline)
    }

    struct Operation {
        let op: Operator
        let path: [String]
        let operand: MutableValue
    }

    enum Operator: String {
        case set = "$set", unset = "$unset", inc = "$inc", mul = "$mul", min = "$min", max = "$max"
        case rename = "$rename", currentDate = "$currentDate", push = "$push", pull = "$pull"
        case pullAll = "$pullAll", addToSet = "$addToSet", pop = "$pop", setOnInsert = "$setOnInsert", bit = "$bit"
    }

    let kind: Kind
    /// The array filters by identifier, each over documents `{id: element}`.
    var arrayFilters: [String: Filter] = [:]

    static func parse(json: UnsafeRawBufferPointer, arrayFilters: [(id: String, filter: Filter)] = []) throws -> Update {
        let document = try DocumentBuilder.value(fromJSON: json, what: "update")
        return try document.withUnsafeBytes { raw in
            let value = DocumentValue(raw)
            if value.tag == .array {
                guard arrayFilters.isEmpty else {
                    throw CairnError.invalidArgument("update options.array_filters: a pipeline update takes no array filters")
                }
                return Update(kind: .pipeline(try Pipeline.parseUpdate(try MutableValue(value), at: "update")))
            }
            return try parse(document: value, arrayFilters: arrayFilters)
        }
    }

    static func parse(document: DocumentValue, arrayFilters: [(id: String, filter: Filter)] = []) throws -> Update {
        guard document.tag == .object else { throw CairnError.invalidArgument("update must be a JSON object or an array of pipeline stages") }
        let members = try document.members()
        let operatorCount = members.filter { $0.0.hasPrefix("$") }.count
        if operatorCount == 0 {
            guard arrayFilters.isEmpty else { throw CairnError.invalidArgument("update options.array_filters: a replacement takes no array filters") }
            return Update(kind: .replacement(try MutableValue(document)))
        }
        guard operatorCount == members.count else {
            throw CairnError.invalidArgument("update: mixes operators and plain fields; use $set or a replacement document")
        }
        var operations: [Operation] = []
        var claimed: [[String]] = []
        var usedIdentifiers = Set<String>()
        func claim(_ path: [String], _ where_: String) throws {
            for other in claimed where other.starts(with: path) || path.starts(with: other) {
                throw CairnError.invalidArgument("update.\(where_): conflicts with another operator on '\(other.joined(separator: "."))'")
            }
            claimed.append(path)
        }
        for (name, fields) in members {
            guard let op = Operator(rawValue: name) else { throw CairnError.invalidArgument("update.\(name): unknown operator") }
            guard fields.tag == .object else { throw CairnError.invalidArgument("update.\(name) must be an object of fields") }
            for (field, operandValue) in try fields.members() {
                let here = "\(name).\(field)"
                try Filter.validateFieldPath(field, at: "update.\(here)")
                let path = field.split(separator: ".").map(String.init)
                guard path.first != "_id" else { throw CairnError.invalidArgument("update.\(here): _id is immutable") }
                for component in path {
                    if let id = try arrayOperator(component, at: "update.\(here)", allowed: op != .rename) { usedIdentifiers.insert(id) }
                }
                let operand = try MutableValue(operandValue)
                try validate(op, operand, at: here)
                try claim(path, here)
                if op == .rename {
                    guard case .string(let target) = operand else { throw CairnError.invalidArgument("update.\(here) needs a target field name") }
                    let targetName = String(decoding: target, as: UTF8.self)
                    try Filter.validateFieldPath(targetName, at: "update.\(here)")
                    let targetPath = targetName.split(separator: ".").map(String.init)
                    guard targetPath.first != "_id" else { throw CairnError.invalidArgument("update.\(here): _id is immutable") }
                    for component in targetPath { _ = try arrayOperator(component, at: "update.\(here)", allowed: false) }
                    try claim(targetPath, here)
                }
                operations.append(Operation(op: op, path: path, operand: operand))
            }
        }
        var filters: [String: Filter] = [:]
        for (id, filter) in arrayFilters {
            guard filters.updateValue(filter, forKey: id) == nil else {
                throw CairnError.invalidArgument("update options.array_filters: more than one filter for identifier '\(id)'")
            }
            guard usedIdentifiers.contains(id) else {
                throw CairnError.invalidArgument("update options.array_filters: the filter for identifier '\(id)' is not used by the update")
            }
        }
        for id in usedIdentifiers where filters[id] == nil && !id.isEmpty {
            throw CairnError.invalidArgument("update: no array filter for identifier '\(id)' (give it in options.array_filters)")
        }
        return Update(kind: .operators(operations), arrayFilters: filters)
    }

    /// Checks a path component that starts with '$': `$`, `$[]` or
    /// `$[id]` (returns "" for the first two, the id for the last), where
    /// the operator allows them; anything else is refused, never stored as
    /// a field name.
    private static func arrayOperator(_ component: String, at here: String, allowed: Bool) throws -> String? {
        guard component.hasPrefix("$") else { return nil }
        guard allowed else { throw CairnError.invalidArgument("\(here): $rename cannot use the array operator '\(component)'") }
        if component == "$" || component == "$[]" { return "" }
        if component.hasPrefix("$["), component.hasSuffix("]"), component.count > 3 {
            let id = String(component.dropFirst(2).dropLast())
            try checkIdentifier(id, at: here)
            return id
        }
        throw CairnError.invalidArgument("\(here): '\(component)' is not a field name (a field name cannot start with '$') nor an array operator ($, $[], $[id])")
    }

    /// MongoDB's rule for array filter identifiers: a lowercase letter,
    /// then letters and digits.
    static func checkIdentifier(_ id: String, at here: String) throws {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z"),
              bytes.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                                  || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }) else {
            throw CairnError.invalidArgument("\(here): '\(id)' is not an array filter identifier (a lowercase letter, then letters and digits)")
        }
    }

    /// Parses `array_filters`: each a filter whose fields all start with
    /// one identifier (`{"x.grade": {"$gte": 85}}` is the filter for `x`).
    static func parseArrayFilters(_ value: DocumentValue, at here: String) throws -> [(id: String, filter: Filter)] {
        guard value.tag == .array else { throw CairnError.invalidArgument("\(here) must be an array of filters") }
        return try value.elements().enumerated().map { position, element in
            let path = "\(here).\(position)"
            let filter = try Filter.parse(document: element, path: path)
            var ids = Set<String>()
            func collect(_ filter: Filter) {
                switch filter {
                case .all(let parts), .any(let parts), .none(let parts): parts.forEach(collect)
                case .field(let fieldPath, _): ids.insert(fieldPath[0])
                case .expression, .schema, .text: ids.insert("")
                }
            }
            collect(filter)
            guard ids.count == 1, let id = ids.first, !id.isEmpty else {
                throw CairnError.invalidArgument("\(path) must name exactly one identifier (as in {\"x.grade\": {\"$gte\": 85}})")
            }
            try checkIdentifier(id, at: path)
            return (id, filter)
        }
    }

    private static func validate(_ op: Operator, _ operand: MutableValue, at here: String) throws {
        switch op {
        case .inc, .mul:
            switch operand {
            case .int, .double: break
            default: throw CairnError.invalidArgument("update.\(here) needs a number")
            }
        case .pop:
            guard case .int(let n) = operand, n == 1 || n == -1 else { throw CairnError.invalidArgument("update.\(here) needs 1 or -1") }
        case .pullAll:
            guard case .array = operand else { throw CairnError.invalidArgument("update.\(here) needs an array") }
        case .bit:
            guard case .object(let members) = operand, !members.isEmpty else {
                throw CairnError.invalidArgument("update.\(here) needs {\"and\" | \"or\" | \"xor\": integer}")
            }
            for member in members {
                guard ["and", "or", "xor"].contains(member.key) else { throw CairnError.invalidArgument("update.\(here).\(member.key): unknown bitwise operation (known: and, or, xor)") }
                guard case .int = member.value else { throw CairnError.invalidArgument("update.\(here).\(member.key) needs an integer") }
            }
        case .currentDate:
            switch operand {
            case .bool(true): break
            case .object(let members) where members.count == 1 && members[0].key == "$type":
                guard case .string(let type) = members[0].value, String(decoding: type, as: UTF8.self) == "date" else {
                    throw CairnError.invalidArgument("update.\(here) supports {\"$type\": \"date\"}")
                }
            default: throw CairnError.invalidArgument("update.\(here) needs true or {\"$type\": \"date\"}")
            }
        case .push, .addToSet:
            if case .object(let members) = operand, members.contains(where: { $0.key.hasPrefix("$") }) {
                let allowed: Set<String> = op == .push ? ["$each", "$slice", "$sort", "$position"] : ["$each"]
                for member in members where !allowed.contains(member.key) {
                    throw CairnError.invalidArgument("update.\(here).\(member.key): unknown modifier")
                }
                guard let each = members.first(where: { $0.key == "$each" }), case .array = each.value else {
                    throw CairnError.invalidArgument("update.\(here) needs $each with an array")
                }
                for member in members where member.key == "$slice" || member.key == "$position" {
                    guard case .int = member.value else { throw CairnError.invalidArgument("update.\(here).\(member.key) needs an integer") }
                }
            }
        case .set, .unset, .min, .max, .rename, .pull, .setOnInsert:
            break
        }
    }
}

// MARK: - Applying

extension Update {
    /// Applies the update to `document` (an object) and returns the new
    /// document. `now` is the time $currentDate writes; `query` is the
    /// filter that matched it (for `$`), and `inserting` says whether this
    /// builds an upsert's document (for $setOnInsert).
    func apply(to document: MutableValue, now: Int64, query: Filter = .all([]), inserting: Bool = false) throws -> MutableValue {
        switch kind {
        case .replacement(let replacement):
            guard case .object(var members) = replacement, case .object(let original) = document else {
                throw CairnError.invalidArgument("update: a replacement must be a document")
            }
            let originalID = original.first { $0.key == "_id" }
            if let newID = members.first(where: { $0.key == "_id" }) {
                guard let originalID, try newID.value.compare(originalID.value) == 0 else {
                    throw CairnError.invalidArgument("update: _id is immutable")
                }
            } else if let originalID {
                members.insert(originalID, at: 0)
            }
            return .object(members)
        case .pipeline(let pipeline):
            // The stages may not change _id (a missing one is put back,
            // first, as MongoDB does).
            guard case .object(let result) = try pipeline.applyToDocument(document, now: now) else {
                throw CairnError.invalidArgument("update: the pipeline must leave a document")
            }
            var members = result
            let originalID = document.value(at: ["_id"])
            if let newID = members.first(where: { $0.key == "_id" })?.value {
                if let originalID, try newID.compare(originalID) != 0 { throw CairnError.invalidArgument("update: _id is immutable") }
            } else if let originalID {
                members.insert(("_id", originalID), at: 0)
            }
            return .object(members)
        case .operators(let operations):
            var result = document
            var matchedDocument: [UInt8]?  // for `$`, encoded once
            for operation in operations {
                if operation.op == .setOnInsert && !inserting { continue }
                let where_ = "\(operation.op.rawValue).\(operation.path.joined(separator: "."))"
                let paths: [[String]]
                if operation.path.contains(where: { $0.hasPrefix("$") }) {
                    if matchedDocument == nil { matchedDocument = document.encoded() }
                    paths = try expand(operation.path[...], prefix: [], in: result, query: query, matched: matchedDocument!, at: where_)
                } else {
                    paths = [operation.path]
                }
                for path in paths { try Update.apply(operation, at: path, to: &result, now: now, where_: where_) }
            }
            return result
        }
    }

    /// The concrete paths an update path stands for in `value`: `$`
    /// becomes the index the query matched, `$[]` every index, `$[id]` the
    /// indexes whose elements the array filter matches.
    private func expand(_ path: ArraySlice<String>, prefix: [String], in value: MutableValue?, query: Filter,
                        matched: [UInt8], at where_: String) throws -> [[String]] {
        guard let component = path.first else { return [prefix] }
        let rest = path.dropFirst()
        guard component.hasPrefix("$") else {
            return try expand(rest, prefix: prefix + [component], in: value?.value(at: [component]), query: query, matched: matched, at: where_)
        }
        let here = prefix.joined(separator: ".")
        guard case .array(let elements)? = value else {
            let what = value.map { "is a \($0.typeName), not an array" } ?? "must exist in the document"
            throw CairnError.invalidArgument("update.\(where_): the path '\(here)' \(what) to apply the array operator \(component)")
        }
        if component == "$" {
            let index = try matched.withUnsafeBytes { try Update.positionalIndex(of: prefix, query: query, in: DocumentValue($0), at: where_) }
            let element = elements.indices.contains(index) ? elements[index] : nil
            return try expand(rest, prefix: prefix + [String(index)], in: element, query: query, matched: matched, at: where_)
        }
        var paths: [[String]] = []
        let id = component == "$[]" ? nil : String(component.dropFirst(2).dropLast())
        for (index, element) in elements.enumerated() {
            if let id, let filter = arrayFilters[id] {
                let wrapped = MutableValue.object([(id, element)]).encoded()
                guard try wrapped.withUnsafeBytes({ try filter.matches(DocumentValue($0)) }) else { continue }
            }
            paths += try expand(rest, prefix: prefix + [String(index)], in: element, query: query, matched: matched, at: where_)
        }
        return paths
    }

    /// The index, in the array at `prefix`, of the first element that
    /// satisfies every condition of the query on that array (MongoDB's `$`).
    static func positionalIndex(of prefix: [String], query: Filter, in document: DocumentValue, at where_: String) throws -> Int {
        var conditions: [(rest: ArraySlice<String>, predicate: Filter.Predicate)] = []
        func collect(_ filter: Filter) {
            switch filter {
            case .all(let parts): parts.forEach(collect)
            case .field(let path, let predicate) where path.starts(with: prefix):
                conditions.append((path.dropFirst(prefix.count), predicate))
            default: break
            }
        }
        collect(query)
        let failure = CairnError.invalidArgument("update.\(where_): the positional operator $ needs the filter to match an element of '\(prefix.joined(separator: "."))'")
        guard !conditions.isEmpty, let array = try document.value(atPath: prefix.joined(separator: ".")), array.tag == .array else { throw failure }
        var index = 0
        var found: Int?
        _ = try array.forEachChildUntil { _, element in
            var all = true
            for condition in conditions {
                let satisfied: Bool
                if condition.rest.isEmpty, case .elementMatches(let match) = condition.predicate {
                    switch match {
                    case .document(let filter): satisfied = element.tag == .object ? try filter.matches(element) : false
                    case .value(let predicate): satisfied = try predicate.matches(Filter.Reached(element))
                    }
                } else {
                    satisfied = try condition.predicate.matches(try Filter.reach(condition.rest, in: element))
                }
                if !satisfied { all = false; break }
            }
            if all { found = index; return false }
            index += 1
            return true
        }
        guard let found else { throw failure }
        return found
    }

    private static func apply(_ operation: Operation, at path: [String], to document: inout MutableValue, now: Int64, where_: String) throws {
        let path = path[...]
        switch operation.op {
        case .set, .setOnInsert:
            try MutableValue.modify(&document, path: path, create: true, at: "update." + where_) { $0 = operation.operand }
        case .unset:
            try MutableValue.remove(&document, path: path)
        case .inc, .mul:
            try MutableValue.modify(&document, path: path, create: true, at: "update." + where_) { current in
                let isInc = operation.op == .inc
                guard let existing = current else {
                    current = isInc ? operation.operand : (operation.operand.isDouble ? .double(0) : .int(0))
                    return
                }
                current = try arithmetic(existing, operation.operand, add: isInc, at: where_)
            }
        case .bit:
            try MutableValue.modify(&document, path: path, create: true, at: "update." + where_) { current in
                var value: Int64
                switch current {
                case nil: value = 0
                case .int(let n)?: value = n
                case let other?: throw CairnError.invalidArgument("update.\(where_): the field is a \(other.typeName), not an integer")
                }
                guard case .object(let members) = operation.operand else { return }
                for member in members {
                    guard case .int(let n) = member.value else { continue }
                    switch member.key {
                    case "and": value &= n
                    case "or": value |= n
                    default: value ^= n
                    }
                }
                current = .int(value)
            }
        case .min, .max:
            try MutableValue.modify(&document, path: path, create: true, at: "update." + where_) { current in
                guard let existing = current else { current = operation.operand; return }
                let c = try operation.operand.compare(existing)
                if (operation.op == .min && c < 0) || (operation.op == .max && c > 0) { current = operation.operand }
            }
        case .currentDate:
            try MutableValue.modify(&document, path: path, create: true, at: "update." + where_) { $0 = .date(now) }
        case .rename:
            guard case .string(let target) = operation.operand else { return }
            let targetPath = String(decoding: target, as: UTF8.self).split(separator: ".").map(String.init)
            // As MongoDB: neither end may pass through an array element.
            try refuseArrays(on: path, in: document, at: where_, what: "source")
            try refuseArrays(on: targetPath[...], in: document, at: where_, what: "target")
            guard let moved = try MutableValue.remove(&document, path: path) else { return }
            try MutableValue.modify(&document, path: targetPath[...], create: true, at: "update." + where_) { $0 = moved }
        case .push, .addToSet:
            try MutableValue.modify(&document, path: path, create: true, at: "update." + where_) { current in
                var elements: [MutableValue]
                switch current {
                case nil: elements = []
                case .array(let existing)?: elements = existing
                case let other?: throw CairnError.invalidArgument("update.\(where_): the field is a \(other.typeName), not an array")
                }
                try pushOrAdd(operation, into: &elements, at: where_)
                current = .array(elements)
            }
        case .pull, .pullAll:
            try MutableValue.modify(&document, path: path, create: false, at: "update." + where_) { current in
                guard let existing = current else { return }
                guard case .array(let elements) = existing else {
                    throw CairnError.invalidArgument("update.\(where_): the field is a \(existing.typeName), not an array")
                }
                current = .array(try elements.filter { try !shouldPull($0, operation) })
            }
        case .pop:
            try MutableValue.modify(&document, path: path, create: false, at: "update." + where_) { current in
                guard let existing = current else { return }
                guard case .array(var elements) = existing else {
                    throw CairnError.invalidArgument("update.\(where_): the field is a \(existing.typeName), not an array")
                }
                if !elements.isEmpty {
                    if case .int(1) = operation.operand { elements.removeLast() } else { elements.removeFirst() }
                }
                current = .array(elements)
            }
        }
    }

    /// $rename's rule: a path whose parent chain holds an array fails.
    private static func refuseArrays(on path: ArraySlice<String>, in document: MutableValue, at where_: String, what: String) throws {
        var current: MutableValue? = document
        for component in path.dropLast() {
            if case .array? = current {
                throw CairnError.invalidArgument("update.\(where_): the \(what) field cannot be inside an array")
            }
            current = current?.value(at: [component])
        }
        if case .array? = current {
            throw CairnError.invalidArgument("update.\(where_): the \(what) field cannot be inside an array")
        }
    }

    private static func arithmetic(_ a: MutableValue, _ b: MutableValue, add: Bool, at where_: String) throws -> MutableValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (result, overflow) = add ? x.addingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
            guard !overflow else { throw CairnError.invalidArgument("update.\(where_): integer overflow") }
            return .int(result)
        case (.int(let x), .double(let y)): return .double(add ? Double(x) + y : Double(x) * y)
        case (.double(let x), .int(let y)): return .double(add ? x + Double(y) : x * Double(y))
        case (.double(let x), .double(let y)): return .double(add ? x + y : x * y)
        default:
            throw CairnError.invalidArgument("update.\(where_): cannot apply to a \(a.typeName)")
        }
    }

    private static func pushOrAdd(_ operation: Operation, into elements: inout [MutableValue], at where_: String) throws {
        var items = [operation.operand]
        var slice: Int64?, position: Int64?, sort: MutableValue?
        if case .object(let members) = operation.operand, members.contains(where: { $0.key == "$each" }) {
            for member in members {
                switch member.key {
                case "$each": if case .array(let each) = member.value { items = each }
                case "$slice": if case .int(let n) = member.value { slice = n }
                case "$position": if case .int(let n) = member.value { position = n }
                case "$sort": sort = member.value
                default: break
                }
            }
        }
        if operation.op == .addToSet {
            for item in items where try !elements.contains(where: { try $0.compare(item) == 0 }) { elements.append(item) }
            return
        }
        if let position {
            let index = position >= 0 ? min(Int(position), elements.count) : max(0, elements.count + Int(position))
            elements.insert(contentsOf: items, at: index)
        } else {
            elements.append(contentsOf: items)
        }
        if let sort { try sortElements(&elements, by: sort, at: where_) }
        if let slice {
            // magnitude, not negation: -Int64.min overflows (and traps).
            if slice >= 0 { elements = Array(elements.prefix(Int(slice))) } else { elements = Array(elements.suffix(Int(clamping: slice.magnitude))) }
        }
    }

    private static func sortElements(_ elements: inout [MutableValue], by spec: MutableValue, at where_: String) throws {
        var keys: [(path: [String], direction: Int)] = []
        switch spec {
        case .int(let d) where d == 1 || d == -1: keys = [([], Int(d))]
        case .object(let members):
            for member in members {
                guard case .int(let d) = member.value, d == 1 || d == -1 else {
                    throw CairnError.invalidArgument("update.\(where_).$sort: directions are 1 or -1")
                }
                keys.append((member.key.split(separator: ".").map(String.init), Int(d)))
            }
        default:
            throw CairnError.invalidArgument("update.\(where_).$sort needs 1, -1 or {field: 1 or -1}")
        }
        var failure: Error?
        elements.sort { a, b in
            for key in keys {
                let x = a.value(at: key.path[...]) ?? .null, y = b.value(at: key.path[...]) ?? .null
                do {
                    let c = try x.compare(y)
                    if c != 0 { return key.direction > 0 ? c < 0 : c > 0 }
                } catch { failure = error }
            }
            return false
        }
        if let failure { throw failure }
    }

    private static func shouldPull(_ element: MutableValue, _ operation: Operation) throws -> Bool {
        if operation.op == .pullAll {
            guard case .array(let values) = operation.operand else { return false }
            return try values.contains { try $0.compare(element) == 0 }
        }
        // A condition ({"$gte": 5} or {"field": ...}) or a plain value.
        let operandBytes = operation.operand.encoded()
        let elementBytes = element.encoded()
        return try operandBytes.withUnsafeBytes { rawOperand in
            try elementBytes.withUnsafeBytes { rawElement in
                let operand = DocumentValue(rawOperand), value = DocumentValue(rawElement)
                if operand.tag == .object {
                    let keys = try operand.members().map(\.0)
                    if !keys.isEmpty && keys.allSatisfy({ $0.hasPrefix("$") }) {
                        return try Filter.parsePredicate(operand, path: "update").matches(Filter.Reached(value))
                    }
                    if value.tag == .object, !keys.isEmpty {
                        return try Filter.parse(document: operand, path: "update").matches(value)
                    }
                }
                return try ValueOrder.compare(value, operand) == 0
            }
        }
    }
}

// MARK: - Paths in mutable trees

extension MutableValue {
    var isDouble: Bool { if case .double = self { return true } else { return false } }

    func value(at path: ArraySlice<String>) -> MutableValue? {
        guard let component = path.first else { return self }
        switch self {
        case .object(let members):
            return members.first { $0.key == component }?.value.value(at: path.dropFirst())
        case .array(let elements):
            guard let index = Int(component), index >= 0, index < elements.count else { return nil }
            return elements[index].value(at: path.dropFirst())
        default:
            return nil
        }
    }

    /// Calls `change` with the value at `path` (nil when absent) and stores
    /// what it leaves (removing nothing: a nil result of an absent value
    /// creates nothing). With `create`, missing objects on the way are made;
    /// a numeric component extends an array with nulls, as MongoDB does.
    static func modify(_ value: inout MutableValue, path: ArraySlice<String>, create: Bool, at where_: String,
                       _ change: (inout MutableValue?) throws -> Void) throws {
        guard let component = path.first else {
            var current: MutableValue? = value
            try change(&current)
            if let current { value = current }
            return
        }
        let rest = path.dropFirst()
        switch value {
        case .object(var members):
            if let index = members.firstIndex(where: { $0.key == component }) {
                if rest.isEmpty {
                    var current: MutableValue? = members[index].value
                    try change(&current)
                    if let current { members[index].value = current } else { members.remove(at: index) }
                } else {
                    try modify(&members[index].value, path: rest, create: create, at: where_, change)
                }
            } else {
                guard create else { return }
                if let created = try created(rest, at: where_, change) { members.append((component, created)) }
            }
            value = .object(members)
        case .array(var elements):
            guard let index = Int(component), index >= 0 else {
                throw CairnError.invalidArgument("\(where_): cannot create field '\(component)' in an array")
            }
            if index >= elements.count {
                guard create else { return }
                guard index < elements.count + 100_000 else { throw CairnError.invalidArgument("\(where_): array index too far past the end") }
                while elements.count < index { elements.append(.null) }
                elements.append(try created(rest, at: where_, change) ?? .null)
            } else if rest.isEmpty {
                var current: MutableValue? = elements[index]
                try change(&current)
                elements[index] = current ?? .null
            } else {
                try modify(&elements[index], path: rest, create: create, at: where_, change)
            }
            value = .array(elements)
        default:
            guard create else { return }
            throw CairnError.invalidArgument("\(where_): cannot create field '\(component)' in a \(value.typeName)")
        }
    }

    /// The value a missing field gets: what `change` makes of nothing, or
    /// (when the path goes deeper) a new object holding it.
    private static func created(_ rest: ArraySlice<String>, at where_: String,
                                _ change: (inout MutableValue?) throws -> Void) throws -> MutableValue? {
        if rest.isEmpty {
            var current: MutableValue? = nil
            try change(&current)
            return current
        }
        var child = MutableValue.object([])
        try modify(&child, path: rest, create: true, at: where_, change)
        return child
    }

    /// Removes the value at `path` and returns it (nil when absent). In an
    /// array, the element becomes null, as MongoDB's $unset does.
    @discardableResult
    static func remove(_ value: inout MutableValue, path: ArraySlice<String>) throws -> MutableValue? {
        var removed: MutableValue?
        try modify(&value, path: path, create: false, at: "") { current in
            removed = current
            current = nil
        }
        return removed
    }
}
