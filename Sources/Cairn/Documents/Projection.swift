/// Which fields a find result keeps, as MongoDB's find projections say:
///
///  - inclusion (`{"name": 1, "items.sku": 1}`): only these, plus _id
///    unless `"_id": 0`; exclusion (`{"secret": 0}`): all but these. Only
///    _id may differ from the others;
///  - a dotted path goes through arrays: `{"items.sku": 1}` keeps each
///    element's `sku` (elements that are not documents are dropped), and
///    `{"items.qty": 0}` removes `qty` from each element;
///  - the nested form `{"items": {"sku": 1}}` is the same as the dotted one;
///  - `{"tags": {"$slice": n}}` (or `[skip, limit]`, negative from the end)
///    keeps part of an array, in either mode (alone, every other field
///    stays);
///  - `{"items": {"$elemMatch": {...}}}` keeps only the first element that
///    matches, and counts as an inclusion.
///
/// Results keep the document's field order. A malformed projection is
/// INVALID_ARGUMENT naming `<what>.<path>`.
struct Projection {
    let tree: ProjectionTree
    let including: Bool
    let keepID: Bool
    /// Top-level fields set to the `$text` score: {"score": {"$meta": "textScore"}}.
    var textScoreFields: [String] = []

    /// `{"_id": 1}`: a result keeps only `_id` (which a caller may then
    /// give without reading the document).
    var keepsOnlyID: Bool { including && keepID && tree.isEmpty && textScoreFields.isEmpty }

    static func parse(_ value: DocumentValue, what: String = "find options.projection") throws -> Projection {
        guard value.tag == .object else { throw CairnError.invalidArgument("\(what) must be an object") }
        var tree = ProjectionTree()
        var mode: Bool?
        var keepID = true
        var idMentioned = false
        var textScoreFields: [String] = []
        func setMode(_ on: Bool, at here: String) throws {
            if let mode, mode != on {
                throw CairnError.invalidArgument("\(here): the projection mixes inclusion and exclusion (only _id may differ)")
            }
            mode = on
        }
        for (field, path, spec) in try flattened(value, prefix: [], what: what) {
            let here = "\(what).\(field)"
            let action: ProjectionTree.Action
            switch try spec.kind() {
            case .int(let n): action = n != 0 ? .include : .exclude
            case .bool(let b): action = b ? .include : .exclude
            case .double(let d): action = d != 0 ? .include : .exclude
            case .object:
                let members = try spec.members()
                guard members.count == 1 else { throw CairnError.invalidArgument("\(here) must be 0, 1, {\"$slice\": ...} or {\"$elemMatch\": ...}") }
                switch members[0].0 {
                case "$meta":
                    guard case .string(let utf8) = try members[0].1.kind(), MetaField(rawValue: String(decoding: utf8, as: UTF8.self)) == .textScore,
                          path.count == 1 else {
                        throw CairnError.invalidArgument("\(here): a find projection takes {\"$meta\": \"textScore\"} on a top-level field")
                    }
                    textScoreFields.append(field)
                    continue
                case "$slice":
                    action = .slice(try sliceBounds(members[0].1, at: "\(here).$slice"))
                case "$elemMatch":
                    guard path.count == 1 else { throw CairnError.invalidArgument("\(here).$elemMatch: only a top-level field can take $elemMatch") }
                    action = .firstMatch(try Filter.elementMatch(members[0].1, path: "\(here).$elemMatch"))
                    try setMode(true, at: here)
                default:
                    throw CairnError.invalidArgument("\(here).\(members[0].0): unknown projection operator (known: $slice, $elemMatch)")
                }
            default:
                throw CairnError.invalidArgument("\(here) must be 0, 1, {\"$slice\": ...} or {\"$elemMatch\": ...}")
            }
            if path == ["_id"], case .include = action { keepID = true; idMentioned = true; continue }
            if path == ["_id"], case .exclude = action { keepID = false; idMentioned = true; continue }
            switch action {
            case .include: try setMode(true, at: here)
            case .exclude: try setMode(false, at: here)
            default: break
            }
            try tree.insert(path[...], action, at: here)
        }
        // {"_id": 1} alone includes just _id; {"_id": 0} alone excludes it;
        // $slice alone keeps every other field.
        let including = mode ?? (idMentioned && keepID && tree.isEmpty)
        return Projection(tree: tree, including: including, keepID: keepID, textScoreFields: textScoreFields)
    }

    /// The projection's fields as dotted paths, the nested form
    /// (`{"items": {"sku": 1}}`) opened up.
    private static func flattened(_ value: DocumentValue, prefix: [String], what: String) throws
        -> [(field: String, path: [String], spec: DocumentValue)] {
        var out: [(String, [String], DocumentValue)] = []
        for (field, spec) in try value.members() {
            let dotted = (prefix + [field]).joined(separator: ".")
            try Filter.validateFieldPath(field, at: "\(what).\(dotted)")
            guard !field.hasPrefix("$") else { throw CairnError.invalidArgument("\(what).\(dotted): a field name cannot start with '$'") }
            let path = prefix + field.split(separator: ".").map(String.init)
            if spec.tag == .object, let first = try spec.members().first, !first.0.hasPrefix("$") {
                out += try flattened(spec, prefix: path, what: what)
            } else if spec.tag == .object, try spec.members().isEmpty {
                throw CairnError.invalidArgument("\(what).\(dotted) is an empty object")
            } else {
                out.append((dotted, path, spec))
            }
        }
        return out
    }

    private static func sliceBounds(_ value: DocumentValue, at here: String) throws -> (skip: Int64?, limit: Int64) {
        func integer(_ value: DocumentValue) throws -> Int64? {
            switch try value.kind() {
            case .int(let n): return n
            case .double(let d): return Int64(exactly: d)
            default: return nil
            }
        }
        if value.tag == .array {
            let parts = try value.elements()
            guard parts.count == 2, let skip = try integer(parts[0]), let limit = try integer(parts[1]), limit > 0 else {
                throw CairnError.invalidArgument("\(here) needs n or [skip, limit] with a positive limit")
            }
            return (skip, limit)
        }
        guard let n = try integer(value) else { throw CairnError.invalidArgument("\(here) needs n or [skip, limit]") }
        return (nil, n)
    }

    func apply(to document: MutableValue) throws -> MutableValue {
        guard case .object(let members) = document else { return document }
        if including {
            var out: [(key: String, value: MutableValue)] = []
            for member in members {
                if member.key == "_id" && tree.child("_id") == nil {
                    if keepID { out.append(member) }
                    continue
                }
                guard let node = tree.child(member.key), let kept = try node.include(member.value) else { continue }
                out.append((member.key, kept))
            }
            return .object(out)
        }
        var out: [(key: String, value: MutableValue)] = []
        for member in members {
            if member.key == "_id" && !keepID { continue }
            guard let node = tree.child(member.key) else { out.append(member); continue }
            if let kept = try node.exclude(member.value) { out.append((member.key, kept)) }
        }
        return .object(out)
    }
}

/// The paths of a projection as a tree: each node is a field, with what to
/// do at it (a leaf) or its children.
struct ProjectionTree {
    enum Action {
        case include
        case exclude
        case slice((skip: Int64?, limit: Int64))
        case firstMatch(Filter.ElementMatch)
    }

    var action: Action?
    var children: [(name: String, node: ProjectionTree)] = []

    var isEmpty: Bool { children.isEmpty }

    func child(_ name: String) -> ProjectionTree? { children.first { $0.name == name }?.node }

    mutating func insert(_ path: ArraySlice<String>, _ action: Action, at here: String) throws {
        guard let first = path.first else {
            guard self.action == nil, children.isEmpty else { throw CairnError.invalidArgument("\(here): path collision with another projection field") }
            self.action = action
            return
        }
        guard self.action == nil else { throw CairnError.invalidArgument("\(here): path collision with another projection field") }
        if let index = children.firstIndex(where: { $0.name == first }) {
            try children[index].node.insert(path.dropFirst(), action, at: here)
        } else {
            var node = ProjectionTree()
            try node.insert(path.dropFirst(), action, at: here)
            children.append((first, node))
        }
    }

    /// What an inclusion keeps of `value` under this node; nil drops it.
    func include(_ value: MutableValue) throws -> MutableValue? {
        if let action {
            switch action {
            case .include, .exclude: return value
            case .slice(let bounds): return ProjectionTree.slice(value, bounds)
            case .firstMatch(let match): return try ProjectionTree.firstMatch(value, match)
            }
        }
        switch value {
        case .object(let members):
            var out: [(key: String, value: MutableValue)] = []
            for member in members {
                guard let node = child(member.key), let kept = try node.include(member.value) else { continue }
                out.append((member.key, kept))
            }
            return .object(out)
        case .array(let elements):
            // Sub-paths reach into the documents (and nested arrays) of an
            // array; scalar elements have nothing to keep.
            return .array(try elements.compactMap { element in
                switch element {
                case .object, .array: return try include(element)
                default: return nil
                }
            })
        default:
            return nil
        }
    }

    /// What an exclusion keeps of `value` under this node; nil drops it.
    func exclude(_ value: MutableValue) throws -> MutableValue? {
        if let action {
            switch action {
            case .exclude: return nil
            case .include: return value
            case .slice(let bounds): return ProjectionTree.slice(value, bounds)
            case .firstMatch(let match): return try ProjectionTree.firstMatch(value, match)
            }
        }
        switch value {
        case .object(let members):
            var out: [(key: String, value: MutableValue)] = []
            for member in members {
                guard let node = child(member.key) else { out.append(member); continue }
                if let kept = try node.exclude(member.value) { out.append((member.key, kept)) }
            }
            return .object(out)
        case .array(let elements):
            return .array(try elements.map { element in
                switch element {
                case .object, .array: return try exclude(element) ?? element
                default: return element
                }
            })
        default:
            return value
        }
    }

    /// $slice: the first n (last -n) elements, or `limit` from `skip`
    /// (a negative skip counts from the end). Not an array: unchanged.
    static func slice(_ value: MutableValue, _ bounds: (skip: Int64?, limit: Int64)) -> MutableValue {
        guard case .array(let elements) = value else { return value }
        let count = Int64(elements.count)
        let start: Int64, length: Int64
        if let skip = bounds.skip {
            start = skip >= 0 ? min(skip, count) : count - Int64(min(skip.magnitude, UInt64(count)))
            length = min(bounds.limit, count - start)
        } else if bounds.limit >= 0 {
            start = 0
            length = min(bounds.limit, count)
        } else {
            // magnitude, not negation: -Int64.min overflows (and traps).
            length = Int64(min(bounds.limit.magnitude, UInt64(count)))
            start = count - length
        }
        return .array(Array(elements[Int(start)..<Int(start + length)]))
    }

    /// $elemMatch: an array of the first matching element; nil (the
    /// field left out) when none matches or it is not an array.
    static func firstMatch(_ value: MutableValue, _ match: Filter.ElementMatch) throws -> MutableValue? {
        guard case .array(let elements) = value else { return nil }
        for element in elements {
            let bytes = element.encoded()
            let matched = try bytes.withUnsafeBytes { raw -> Bool in
                let candidate = DocumentValue(raw)
                switch match {
                case .document(let filter): return candidate.tag == .object ? try filter.matches(candidate) : false
                case .value(let predicate): return try predicate.matches(Filter.Reached(candidate))
                }
            }
            if matched { return .array([element]) }
        }
        return nil
    }
}
