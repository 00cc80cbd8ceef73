/// How a find reads its candidates: the whole collection, point reads by
/// primary key, or byte ranges of one index. The filter is always applied
/// to every candidate afterwards, so a plan only has to return a superset
/// of the matches; what it saves is reading everything else.
///
/// The planner looks at the filter's top-level conjunction: equality and
/// $in on a field give points, $gt/$gte/$lt/$lte give a range. For each
/// index it takes the longest run of leading fields with points, then at
/// most one range, and scores 2 per point field and 1 for the range; the
/// best score wins. An index (or the primary key order) that returns the
/// documents in the requested sort order lets the cursor skip sorting and
/// stop at the limit.
struct QueryPlan {
    enum Source {
        case collectionScan(reverse: Bool)
        case primaryKey([[UInt8]])
        /// `exact`: every field of the index is bound by points, so each
        /// range holds the entries of one value. A unique index then has
        /// at most one entry per range (a point read); a non-unique one has
        /// the range's start as its bloom prefix.
        case indexScan(IndexDefinition, ranges: [(lower: [UInt8], upper: [UInt8])], reverse: Bool, exact: Bool)
        /// A `$text` filter's matches, from a text index, best first.
        case text(TextMatches)
    }

    var source: Source
    /// The candidates come in the order of the requested sort.
    var sortFromIndex: Bool
    /// For explain: the constraint used on each field.
    var bounds: [(field: String, constraint: FieldConstraint)]

    /// The bounds as text, for explain (built only when asked for).
    func describedBounds() throws -> [(field: String, text: String)] {
        try bounds.map { bound in
            if let points = bound.constraint.points { return (bound.field, try QueryPlan.describe(points: points)) }
            return (bound.field, try QueryPlan.describe(lower: bound.constraint.lower, upper: bound.constraint.upper))
        }
    }

    var name: String {
        switch source {
        case .collectionScan: return "collection_scan"
        case .primaryKey: return "primary_key"
        case .indexScan: return "index_scan"
        case .text: return "text"
        }
    }

    var index: IndexDefinition? {
        if case .indexScan(let index, _, _, _) = source { return index }
        if case .text(let matches) = source { return matches.index }
        return nil
    }

    /// Whether the documents this plan's index range holds are exactly the
    /// filter's matches, so that the filter need not be checked again on
    /// each (a twelfth of a range query in a profile): a range ($gt, $gte,
    /// $lt, $lte with number, string or date bounds) on the one field of an
    /// ordered index that is neither multikey nor sparse, each comparison a
    /// bound of the range, and nothing else in the filter. Index keys order
    /// values as ValueOrder.compare does (IndexKey) and a range stays within
    /// its bounds' type (byteRange), which is what the comparisons ask.
    func selectsExactly(_ filter: Filter) -> Bool {
        guard case .indexScan(let index, let ranges, _, _) = source, ranges.count == 1, index.fields.count == 1,
              index.kind.isOrdered, !index.multikey, !index.sparse, bounds.count == 1 else { return false }
        guard case .field(let path, let predicate) = filter, path.count == 1, path[0] == index.fields[0].path,
              bounds[0].field == path[0] else { return false }
        let bound = bounds[0].constraint
        guard bound.points == nil else { return false }
        var lowers = 0, uppers = 0
        func isBound(_ part: Filter.Predicate) -> Bool {
            guard case .compare(let comparison, let operand) = part,
                  operand.withValue({ [.int, .double, .string, .date].contains($0.tag) }) else { return false }
            switch comparison {
            case .greater, .greaterOrEqual: lowers += 1
            case .less, .lessOrEqual: uppers += 1
            }
            return true
        }
        switch predicate {
        case .compare:
            guard isBound(predicate) else { return false }
        case .both(let parts):
            for part in parts { guard isBound(part) else { return false } }
        default:
            return false
        }
        // A second bound on one side, or an upper bound of another type
        // than the lower (which the planner leaves out), is not in the range.
        return lowers == (bound.lower == nil ? 0 : 1) && uppers == (bound.upper == nil ? 0 : 1)
    }

    /// The constraints of a filter's fields, by field path. A list searched
    /// in order rather than a dictionary: a filter names a few fields, and
    /// comparing short strings costs a fraction of hashing them (the
    /// planner looks a field up about ten times a find). Past 16 fields a
    /// dictionary of positions keeps a filter naming thousands linear.
    struct FieldConstraints {
        private var entries: [(field: String, constraint: FieldConstraint)] = []
        private var positions: [String: Int]?

        private func position(of field: String) -> Int? {
            if let positions { return positions[field] }
            return entries.firstIndex { $0.field == field }
        }

        /// The constraint on `field`; setting one adds or replaces it.
        subscript(field: String) -> FieldConstraint? {
            get { position(of: field).map { entries[$0].constraint } }
            set {
                guard let newValue else { return }  // the planner never removes one
                if let i = position(of: field) {
                    entries[i].constraint = newValue
                    return
                }
                entries.append((field, newValue))
                if positions != nil {
                    positions?[field] = entries.count - 1
                } else if entries.count > 16 {
                    positions = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($0.element.field, $0.offset) })
                }
            }
        }
    }

    /// What the filter says about one field, as far as an index can use it.
    struct FieldConstraint {
        /// Equality or $in operands (binary values), when usable as points.
        var points: [Filter.Operand]?
        var lower: (operand: Filter.Operand, inclusive: Bool)?
        var upper: (operand: Filter.Operand, inclusive: Bool)?
    }

    static func choose(filter: Filter, sort: [(path: [String], direction: Int)], collection: CollectionInfo) throws -> QueryPlan {
        var constraints = FieldConstraints()
        try gather(filter, into: &constraints)
        let sortPaths = sort.map { ($0.path.joined(separator: "."), $0.direction) }

        // A primary key equality is a point read: nothing beats it.
        if let key = constraints[collection.primaryKey], let points = key.points {
            var keys: [[UInt8]] = []
            var seen = Set<[UInt8]>()
            for point in points {
                let documentKey = try point.withValue { try collection.documentKey(for: $0) }
                if seen.insert(documentKey).inserted { keys.append(documentKey) }
            }
            keys.sort { $0.lexicographicallyPrecedes($1) }
            let ordered = sortPaths.isEmpty || (sortPaths.count == 1 && sortPaths[0].0 == collection.primaryKey && sortPaths[0].1 == 1)
            return QueryPlan(source: .primaryKey(keys), sortFromIndex: ordered,
                             bounds: [(collection.primaryKey, FieldConstraint(points: points))])
        }

        var best: (plan: QueryPlan, score: Int)?
        for position in collection.indexes.indices {
            // The first test of `plan`, before the call and before copying
            // the definition: most indexes of a collection serve neither
            // the filter nor the sort.
            guard !collection.indexes[position].building, collection.indexes[position].kind.isOrdered else { continue }
            if let first = collection.indexes[position].fields.first?.path, constraints[first] == nil, sortPaths.first?.0 != first { continue }
            let index = collection.indexes[position]
            guard let candidate = try plan(index, constraints: constraints, sort: sortPaths, collection: collection) else { continue }
            if best == nil || candidate.score > best!.score
                || (candidate.score == best!.score && candidate.plan.sortFromIndex && !best!.plan.sortFromIndex) {
                best = candidate
            }
        }
        if let best, best.score > 0 { return best.plan }

        // Documents are stored in primary key order.
        if sortPaths.count == 1 && sortPaths[0].0 == collection.primaryKey {
            return QueryPlan(source: .collectionScan(reverse: sortPaths[0].1 < 0), sortFromIndex: true, bounds: [])
        }
        if let best, best.plan.sortFromIndex { return best.plan }
        return QueryPlan(source: .collectionScan(reverse: false), sortFromIndex: sortPaths.isEmpty, bounds: [])
    }

    /// The plan for one index and its score; nil when it can serve neither
    /// the filter nor the sort.
    private static func plan(_ index: IndexDefinition, constraints: FieldConstraints,
                             sort: [(String, Int)], collection: CollectionInfo) throws -> (plan: QueryPlan, score: Int)? {
        // An index whose first field the filter does not constrain serves
        // only a sort that starts with that field: decided before building
        // anything, since a find weighs every index of its collection.
        if let first = index.fields.first, constraints[first.path] == nil, sort.first?.0 != first.path { return nil }
        var prefixes = [index.entryPrefix(collection: collection.id)]
        var bounds: [(field: String, constraint: FieldConstraint)] = []
        var pointFields = 0
        var range: (start: [UInt8], end: [UInt8])?
        for field in index.fields {
            guard let constraint = constraints[field.path] else { break }
            if let points = constraint.points {
                // A sparse index has no entry for a missing field, which
                // equality with null must find.
                if index.sparse, points.contains(where: { $0.withValue { $0.tag == .null } }) { break }
                var encoded: [[UInt8]] = []
                for point in points {
                    var bytes: [UInt8] = []
                    try point.withValue { try IndexKey.append($0, descending: field.descending, to: &bytes) }
                    encoded.append(bytes)
                }
                guard prefixes.count * encoded.count <= 4096 else { break }
                if encoded.count == 1 {
                    // One value (an equality): extend each prefix in place.
                    for i in prefixes.indices { prefixes[i].append(contentsOf: encoded[0]) }
                } else {
                    prefixes = prefixes.flatMap { prefix in encoded.map { prefix + $0 } }
                }
                pointFields += 1
                bounds.append((field.path, FieldConstraint(points: points)))
                continue
            }
            let lower = constraint.lower
            var upper = constraint.upper
            if lower == nil && upper == nil { break }
            // Bounds of different types select nothing anyway; and a
            // multikey field may meet each bound with a different element.
            if let l = lower, let u = upper {
                let sameType = l.operand.withValue { a in u.operand.withValue { b in
                    ValueOrder.typeRank(a.tag!) == ValueOrder.typeRank(b.tag!) } }
                if !sameType || index.multikey { upper = nil }
            }
            range = try byteRange(lower: lower, upper: upper, descending: field.descending)
            bounds.append((field.path, FieldConstraint(points: nil, lower: lower, upper: upper)))
            break
        }
        let usedFields = pointFields + (range == nil ? 0 : 1)
        var ranges: [(lower: [UInt8], upper: [UInt8])]
        if let range {
            ranges = prefixes.map { ($0 + range.start, $0 + range.end) }
        } else {
            ranges = prefixes.map { ($0, prefixUpperBound($0)) }
        }
        if ranges.count > 1 { ranges.sort { $0.lower.lexicographicallyPrecedes($1.lower) } }

        // Sort order: the sort fields must follow the point fields, all in
        // the index's directions or all reversed, over one range.
        var sortFromIndex = false, reverse = false
        if !sort.isEmpty && !index.multikey && ranges.count == 1 && (usedFields > 0 || !index.sparse) {
            let rest = index.fields.dropFirst(pointFields)
            if sort.count <= rest.count {
                let pairs = zip(sort, rest)
                let same = pairs.allSatisfy { $0.0.0 == $0.1.path && ($0.0.1 < 0) == $0.1.descending }
                let flipped = pairs.allSatisfy { $0.0.0 == $0.1.path && ($0.0.1 < 0) != $0.1.descending }
                sortFromIndex = same || flipped
                reverse = flipped && !same
            }
        } else if sort.isEmpty {
            sortFromIndex = true
        }
        guard usedFields > 0 || (sortFromIndex && !sort.isEmpty) else { return nil }
        var score = pointFields * 2 + (range == nil ? 0 : 1)
        if index.unique && pointFields == index.fields.count { score += 1 }
        let exact = range == nil && pointFields == index.fields.count
        return (QueryPlan(source: .indexScan(index, ranges: ranges, reverse: reverse, exact: exact), sortFromIndex: sortFromIndex, bounds: bounds), score)
    }

    /// Collects the index-usable constraints of the filter's top-level
    /// conjunction.
    private static func gather(_ filter: Filter, into constraints: inout FieldConstraints) throws {
        switch filter {
        case .all(let parts):
            for part in parts { try gather(part, into: &constraints) }
        case .field(let path, let predicate):
            // null on a dotted path also matches a document where some
            // element of an array lacks the field, which the index keeps
            // under that element's other values, not under null: such a
            // filter is answered by a scan.
            if path.count > 1, predicate.mentionsNull { return }
            let name = path.count == 1 ? path[0] : path.joined(separator: ".")
            var constraint = constraints[name] ?? FieldConstraint()
            try gather(predicate, into: &constraint)
            constraints[name] = constraint
        default:
            break
        }
    }

    private static func gather(_ predicate: Filter.Predicate, into constraint: inout FieldConstraint) throws {
        switch predicate {
        case .both(let parts):
            for part in parts { try gather(part, into: &constraint) }
        case .equals(let operand):
            // An array operand also matches the whole array, which has no entry.
            if operand.withValue({ $0.tag != .array }) { constraint.points = [operand] }
        case .isIn(let operands):
            if operands.allSatisfy({ $0.withValue { $0.tag != .array } }), constraint.points == nil {
                constraint.points = operands
            }
        case .compare(let comparison, let operand):
            guard operand.withValue({ $0.tag != .array && $0.tag != .null }) else { return }
            switch comparison {
            case .greater, .greaterOrEqual:
                if constraint.lower == nil { constraint.lower = (operand, comparison == .greaterOrEqual) }
            case .less, .lessOrEqual:
                if constraint.upper == nil { constraint.upper = (operand, comparison == .lessOrEqual) }
            }
        default:
            break
        }
    }

    /// The byte range, within one field's component, of the values between
    /// the bounds; an open side ends at its operand's type (MongoDB's
    /// comparisons do not cross types).
    private static func byteRange(lower: (operand: Filter.Operand, inclusive: Bool)?, upper: (operand: Filter.Operand, inclusive: Bool)?,
                                  descending: Bool) throws -> (start: [UInt8], end: [UInt8]) {
        let rank = (lower ?? upper)!.operand.withValue { ValueOrder.typeRank($0.tag!) }
        func encode(_ operand: Filter.Operand) throws -> [UInt8] {
            var bytes: [UInt8] = []
            try operand.withValue { try IndexKey.append($0, descending: descending, to: &bytes) }
            return bytes
        }
        // In a descending field the bytes run from the largest value down.
        let (first, last) = descending ? (upper, lower) : (lower, upper)
        let typeStart: [UInt8] = [descending ? ~rank : rank]
        let start = try first.map { $0.inclusive ? try encode($0.operand) : prefixUpperBound(try encode($0.operand)) } ?? typeStart
        let end = try last.map { $0.inclusive ? prefixUpperBound(try encode($0.operand)) : try encode($0.operand) } ?? prefixUpperBound(typeStart)
        return (start, end)
    }

    static func describe(points: [Filter.Operand]) throws -> String {
        let texts = try points.map { try $0.withValue { try $0.json() } }
        return texts.count == 1 ? texts[0] : "$in [" + texts.joined(separator: ", ") + "]"
    }

    static func describe(lower: (operand: Filter.Operand, inclusive: Bool)?,
                                 upper: (operand: Filter.Operand, inclusive: Bool)?) throws -> String {
        let low = try lower.map { ($0.inclusive ? "[" : "(") + (try $0.operand.withValue { try $0.json() }) } ?? "(-inf"
        let high = try upper.map { (try $0.operand.withValue { try $0.json() }) + ($0.inclusive ? "]" : ")") } ?? "+inf)"
        return low + ", " + high
    }
}
extension Filter.Predicate {
    /// Whether an equality, $in or bound of the predicate is null.
    var mentionsNull: Bool {
        func isNull(_ operand: Filter.Operand) -> Bool { operand.withValue { $0.tag == .null } }
        switch self {
        case .equals(let operand), .compare(_, let operand): return isNull(operand)
        case .isIn(let operands): return operands.contains(where: isNull)
        case .both(let parts): return parts.contains { $0.mentionsNull }
        default: return false
        }
    }
}
