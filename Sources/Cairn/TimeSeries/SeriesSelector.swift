/// Which series a query reads, from the members of its JSON object:
///
///     "id":     a series id
///     "metric": the metric name
///     "tags":   {"name": "value", ...}: with "metric", exactly that series
///     "where":  a tag query: {"name": "value"} (equal), {"name": {"$eq": v}},
///               {"$ne": v} (different or absent), {"$regex": "pattern"}
///               (PCRE2, unanchored; absent tags never match), {"$in": [v, ...]},
///               several names and operators together (AND), and
///               {"$and": [query, ...]}
///
/// Answered from the inverted tag index (0x08 0x03): each positive term
/// (metric, $eq, $in, $regex) scans the index entries of its tag into a
/// sorted list of ids, the lists are intersected, and $ne terms subtract
/// theirs; with no positive term, every series is the start.
struct SeriesSelector {
    enum Term {
        case equal(String, String)
        case notEqual(String, String)
        case regex(String, RegexPattern)
        case oneOf(String, [String])
    }

    var id: UInt64?
    var exact: SeriesKey?
    var metric: String?
    var terms: [Term] = []

    static let keys: Set<String> = ["id", "metric", "tags", "where"]

    /// Reads the selector's members of `object`, ignoring the others.
    static func parse(_ object: [(key: String, value: JSONValue)]) throws -> SeriesSelector {
        var selector = SeriesSelector()
        var tags: [(name: String, value: String)]?
        for (key, value) in object {
            switch key {
            case "id":
                guard case .int(let number) = value, number > 0 else { throw CairnError.invalidArgument("'id' must be a positive integer") }
                selector.id = UInt64(number)
            case "metric":
                guard case .string(let name) = value else { throw CairnError.invalidArgument("'metric' must be a string, not \(value.typeName)") }
                try SeriesKey.checkName(name, "metric name")
                selector.metric = name
            case "tags":
                tags = try SeriesKey.parseTags(value, "'tags'")
            case "where":
                try selector.parseWhere(value)
            default: break
            }
        }
        if let tags {
            guard let metric = selector.metric else { throw CairnError.invalidArgument("'tags' names one series and needs 'metric'") }
            selector.exact = try SeriesKey(metric: metric, tags: tags)
        }
        return selector
    }

    private mutating func parseWhere(_ value: JSONValue) throws {
        guard case .object(let members) = value else { throw CairnError.invalidArgument("'where' must be a JSON object, not \(value.typeName)") }
        for (name, condition) in members {
            if name == "$and" {
                guard case .array(let parts) = condition else { throw CairnError.invalidArgument("$and takes an array of tag queries") }
                for part in parts { try parseWhere(part) }
                continue
            }
            guard !name.hasPrefix("$") else { throw CairnError.invalidArgument("unknown tag query operator '\(name)' (known: $and)") }
            let tag = name == "metric" ? TimeSeriesFormat.metricTag : name
            switch condition {
            case .string(let text): terms.append(.equal(tag, text))
            case .object(let operators):
                for (op, operand) in operators {
                    switch op {
                    case "$eq", "$ne":
                        guard case .string(let text) = operand else { throw CairnError.invalidArgument("\(op) on tag '\(name)' takes a string") }
                        terms.append(op == "$eq" ? .equal(tag, text) : .notEqual(tag, text))
                    case "$regex":
                        guard case .string(let pattern) = operand else { throw CairnError.invalidArgument("$regex on tag '\(name)' takes a string") }
                        terms.append(.regex(tag, try RegexPattern(pattern: pattern, options: "", path: "where.\(name)")))
                    case "$in":
                        guard case .array(let items) = operand else { throw CairnError.invalidArgument("$in on tag '\(name)' takes an array of strings") }
                        terms.append(.oneOf(tag, try items.map { item in
                            guard case .string(let text) = item else { throw CairnError.invalidArgument("$in on tag '\(name)' takes an array of strings") }
                            return text
                        }))
                    default:
                        throw CairnError.invalidArgument("unknown tag query operator '\(op)' on tag '\(name)' (known: $eq, $ne, $regex, $in)")
                    }
                }
            default:
                throw CairnError.invalidArgument("tag '\(name)' in 'where' takes a string or an operator object, not \(condition.typeName)")
            }
        }
    }

    /// Whether the selector selects every series (no member given).
    var selectsAll: Bool { id == nil && exact == nil && metric == nil && terms.isEmpty }

    /// Whether the selector names at most one series by itself.
    var isSingle: Bool { id != nil || exact != nil }

    /// The ids of the selected series, ascending, read at `view`.
    func ids(in database: Database, view: ReadView) throws -> [UInt64] {
        if let id {
            return try database.seriesKey(of: id, view: view) == nil ? [] : [id]
        }
        if let exact {
            guard let id = try database.seriesID(for: exact, create: false) else { return [] }
            return [id]
        }
        var lists: [[UInt64]] = []
        if let metric { lists.append(try database.tagIDs(TimeSeriesFormat.metricTag, metric, view: view)) }
        var negative: [[UInt64]] = []
        for term in terms {
            switch term {
            case .equal(let name, let value): lists.append(try database.tagIDs(name, value, view: view))
            case .oneOf(let name, let values):
                var union: [UInt64] = []
                for value in values { union.append(contentsOf: try database.tagIDs(name, value, view: view)) }
                union.sort()
                lists.append(union.uniqued())
            case .regex(let name, let pattern): lists.append(try database.tagIDs(name, matching: pattern, view: view))
            case .notEqual(let name, let value): negative.append(try database.tagIDs(name, value, view: view))
            }
        }
        lists.sort { $0.count < $1.count }
        var result: [UInt64]
        if let first = lists.first {
            result = first
            for list in lists.dropFirst() { result = result.intersection(sorted: list) }
        } else {
            result = try database.allSeriesIDs(view: view)
        }
        for list in negative where !list.isEmpty { result = result.subtracting(sorted: list) }
        return result
    }
}

extension Array where Element == UInt64 {
    func uniqued() -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(count)
        for v in self where out.last != v { out.append(v) }
        return out
    }

    func intersection(sorted other: [UInt64]) -> [UInt64] {
        var out: [UInt64] = []
        var i = 0, j = 0
        while i < count && j < other.count {
            if self[i] == other[j] { out.append(self[i]); i += 1; j += 1 } else if self[i] < other[j] { i += 1 } else { j += 1 }
        }
        return out
    }

    func subtracting(sorted other: [UInt64]) -> [UInt64] {
        var out: [UInt64] = []
        var j = 0
        for v in self {
            while j < other.count && other[j] < v { j += 1 }
            if j < other.count && other[j] == v { continue }
            out.append(v)
        }
        return out
    }
}

extension Database {
    /// Every engine key with `prefix`, in order, at `view`.
    func forEachKey(prefix: [UInt8], view: ReadView, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let upper = prefixUpperBound(prefix)
        let iterator = try prefix.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try engine.makeIterator(lower: l, upper: u, reverse: false, view: view) }
        }
        let ticket = engine.interrupts.ticket
        var steps = 0
        while try iterator.iterator.next() {
            steps += 1
            if steps & 1023 == 0 { try engine.interrupts.check(ticket) }
            try body(iterator.iterator.key, iterator.iterator.value)
        }
    }

    /// The ids of the series whose tag `name` is `value`, ascending.
    func tagIDs(_ name: String, _ value: String, view: ReadView) throws -> [UInt64] {
        var ids: [UInt64] = []
        try forEachKey(prefix: TimeSeriesFormat.tagPrefix(Array(name.utf8), Array(value.utf8)), view: view) { key, _ in
            guard key.count >= 10 else { throw CairnError.corruption("time-series tag index: a short entry") }
            ids.append(TimeSeriesFormat.loadBE(key, key.count - 8))
        }
        return ids
    }

    /// The ids of the series whose tag `name` matches `pattern`, ascending.
    func tagIDs(_ name: String, matching pattern: RegexPattern, view: ReadView) throws -> [UInt64] {
        let prefix = TimeSeriesFormat.tagPrefix(Array(name.utf8), nil)
        var ids: [UInt64] = []
        var lastValue: [UInt8] = []
        var lastMatched = false
        try forEachKey(prefix: prefix, view: view) { key, _ in
            guard key.count >= prefix.count + 9 else { throw CairnError.corruption("time-series tag index: a short entry") }
            let value = UnsafeRawBufferPointer(rebasing: key[prefix.count..<(key.count - 9)])
            if !lastValue.elementsEqual(value) {
                lastValue = Array(value)
                lastMatched = try pattern.matches(value)
            }
            if lastMatched { ids.append(TimeSeriesFormat.loadBE(key, key.count - 8)) }
        }
        ids.sort()
        return ids
    }

    /// Every series id, ascending.
    func allSeriesIDs(view: ReadView) throws -> [UInt64] {
        var ids: [UInt64] = []
        try forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.seriesByID], view: view) { key, _ in
            guard key.count == 10 else { throw CairnError.corruption("time-series catalog: a series id key of \(key.count) bytes") }
            ids.append(TimeSeriesFormat.loadBE(key, 2))
        }
        return ids
    }
}
