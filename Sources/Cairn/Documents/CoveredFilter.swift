/// A filter that an index answers by itself: the primary keys of its
/// matches come from the index entries, with no document read.
///
/// A find reads every candidate's document to apply the filter, since a
/// plan may return a superset (QueryPlan). Some callers only need to know
/// which documents match: a full-text search that runs a selective filter
/// first wants the matches' primary keys, and one that runs the text first
/// wants to test each hit against the filter. When the plan binds every
/// field of an ordered index by equality points and the filter says
/// nothing else, each entry in the plan's ranges is a match, so the
/// entries alone give the answer, at the cost of a sequential scan of the
/// index instead of a random document read per match.
///
/// Deliberately narrow, so that "covered" never means "approximately":
/// only `{field: scalar}` and `{field: {$in: [scalars]}}` on the index's
/// own fields, joined by `$and` or a plain object, each field once. Null,
/// arrays, objects, NaN and positional paths ("a.0") are left to the find,
/// whose rules for them (a missing field, whole-array equality, element
/// positions) an entry cannot show.
enum CoveredFilter {
    enum Answer {
        /// The filter needs the documents.
        case notCovered
        /// More than the cap match.
        case tooMany
        /// The document keys of the matches (each once, in index order).
        case documentKeys([[UInt8]])
    }

    /// The matches of `filter` from an index alone, up to `cap` of them.
    static func documentKeys(_ filter: Filter, collection: CollectionInfo, reader: TransactionReader, cap: Int) throws -> Answer {
        guard let paths = coveredPaths(filter) else { return .notCovered }
        let plan = try QueryPlan.choose(filter: filter, sort: [], collection: collection)
        guard case .indexScan(let index, let ranges, _, exact: true) = plan.source, index.kind.isOrdered,
              Set(index.fields.map(\.path)) == paths, index.fields.count == paths.count else { return .notCovered }
        let documentPrefix = CollectionInfo.documentPrefix(collection.id)
        var keys: [[UInt8]] = []
        var seen: Set<[UInt8]>? = index.multikey ? [] : nil
        func add(_ primaryKey: UnsafeRawBufferPointer) -> Bool {
            var key = documentPrefix
            key.append(contentsOf: primaryKey)
            if seen != nil, !seen!.insert(key).inserted { return true }
            keys.append(key)
            return keys.count <= cap
        }
        let interrupts = reader.engine.interrupts, ticket = interrupts.ticket
        for range in ranges {
            try interrupts.check(ticket)
            if index.unique {
                // A unique index bound on every field: the range's start is the
                // whole entry key, whose value is the primary key.
                var more = true
                _ = try reader.read(range.lower) { value in more = add(value) }
                if !more { return .tooMany }
                continue
            }
            let scan = try reader.scan(lower: range.lower, upper: range.upper, bloomPrefix: range.lower)
            while try scan.next() {
                guard add(try index.primaryKey(entryKey: scan.key, value: scan.value)) else { return .tooMany }
            }
        }
        return .documentKeys(keys)
    }

    /// The fields a coverable filter names, or nil.
    private static func coveredPaths(_ filter: Filter) -> Set<String>? {
        var paths = Set<String>()
        func visit(_ filter: Filter) -> Bool {
            switch filter {
            case .all(let parts):
                return parts.allSatisfy(visit)
            case .field(let path, let predicate):
                guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty && Int($0) == nil }), isPoints(predicate) else { return false }
                return paths.insert(path.joined(separator: ".")).inserted
            default:
                return false
            }
        }
        guard visit(filter), !paths.isEmpty else { return nil }
        return paths
    }

    private static func isPoints(_ predicate: Filter.Predicate) -> Bool {
        switch predicate {
        case .equals(let operand): return isScalar(operand)
        case .isIn(let operands): return !operands.isEmpty && operands.allSatisfy(isScalar)
        default: return false
        }
    }

    /// A value whose equality an index entry decides: one that compares
    /// equal exactly to the values that encode to the same IndexKey.
    private static func isScalar(_ operand: Filter.Operand) -> Bool {
        operand.withValue { value in
            switch try? value.kind() {
            case .bool, .int, .string, .binary, .date: return true
            case .double(let d): return !d.isNaN
            default: return false
            }
        }
    }
}
