/// $setWindowFields: for each document, output fields computed over a
/// window of the documents of its partition, in sortBy order.
///
///     {partitionBy: expression, sortBy: {field: 1},
///      output: {name: {<function>: argument, window: {documents: [lo, hi]}}}}
///
/// Functions: the accumulators ($sum $avg $min $max $count $first $last
/// $push $addToSet) over a window ({documents: [lo, hi]} by position,
/// {range: [lo, hi], unit} by the sortBy value; bounds "unbounded",
/// "current" or numbers; the whole partition without one), and $rank,
/// $denseRank, $documentNumber and $shift {output, by, default}.
///
/// The stage gathers its input (under the MemoryBudget, which also counts
/// the output values), sorts it by partition then sortBy (as MongoDB
/// does), and emits it in that order. Windows that start at the
/// partition's start are accumulated incrementally; sliding windows are
/// recomputed per document, with a cap on the total work so that a huge
/// window over a huge partition is INVALID_ARGUMENT instead of hours.
struct WindowFields {
    var partitionBy: Expression?
    var sortBy: [(path: [String], direction: Int)]
    var outputs: [Output]

    struct Output {
        var path: [String]
        var function: Function
        var window: Window
    }

    enum Function {
        case accumulate(Accumulator)
        case rank, denseRank, documentNumber
        case shift(output: Expression, by: Int64, otherwise: Expression)
    }

    enum Bound {
        case unbounded, current
        case offset(Int64)
        case amount(Double)
    }

    struct Window {
        var byRange = false
        var lower = Bound.unbounded
        var upper = Bound.unbounded
        /// Milliseconds per unit of a range over dates; 1 for numbers.
        var unit: Int64?
    }

    /// Accumulator steps one stage may take over all its sliding windows.
    static let maxWindowSteps = 50_000_000

    init(_ spec: MutableValue, at here: String, scope: Expression.Scope) throws {
        guard case .object(let members) = spec else { throw CairnError.invalidArgument("\(here) must be an object") }
        sortBy = []
        outputs = []
        var outputMembers: [(key: String, value: MutableValue)]?
        for (key, value) in members {
            switch key {
            case "partitionBy": partitionBy = try Expression.parse(value, at: "\(here).partitionBy", scope: scope)
            case "sortBy":
                let encoded = value.encoded()
                sortBy = try encoded.withUnsafeBytes { try FindOptions.parseSort(DocumentValue($0), at: "\(here).sortBy") }
            case "output":
                guard case .object(let fields) = value, !fields.isEmpty else { throw CairnError.invalidArgument("\(here).output must be a non-empty object") }
                outputMembers = fields
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown field (known: partitionBy, sortBy, output)")
            }
        }
        guard let outputMembers else { throw CairnError.invalidArgument("\(here) needs output") }
        for (field, value) in outputMembers {
            let at = "\(here).output.\(field)"
            outputs.append(try parseOutput(field, value, at: at, scope: scope))
        }
    }

    private func parseOutput(_ field: String, _ value: MutableValue, at here: String, scope: Expression.Scope) throws -> Output {
        let path = try Pipeline.path(field, at: here)
        guard case .object(let members) = value else { throw CairnError.invalidArgument("\(here) must be {<function>: ..., window: ...}") }
        var window = Window()
        var sawWindow = false
        var function: Function?
        for (key, operand) in members {
            let at = "\(here).\(key)"
            if key == "window" {
                window = try parseWindow(operand, at: at)
                sawWindow = true
                continue
            }
            guard function == nil else { throw CairnError.invalidArgument("\(at): one window function per output field") }
            switch key {
            case "$rank", "$denseRank", "$documentNumber":
                guard case .object(let empty) = operand, empty.isEmpty else { throw CairnError.invalidArgument("\(at) takes {}") }
                function = key == "$rank" ? .rank : key == "$denseRank" ? .denseRank : .documentNumber
            case "$shift":
                let parts = try Expression.parseNamed(operand, names: ["output", "by", "default"], required: 2, at: at, scope: scope)
                guard case .literal(let byValue) = parts[1], let by: Int64 = {
                    switch byValue {
                    case .int(let n): return n
                    case .double(let d): return Int64(exactly: d)
                    default: return nil
                    }
                }() else {
                    throw CairnError.invalidArgument("\(at).by must be an integer")
                }
                function = .shift(output: parts[0], by: by, otherwise: parts[2])
            default:
                guard let kind = Accumulator.Kind(rawValue: key) else {
                    throw CairnError.invalidArgument("\(at): unknown window function (known: $sum $avg $min $max $count $first $last $push $addToSet $rank $denseRank $documentNumber $shift)")
                }
                function = .accumulate(try Accumulator(kind, operand, at: at, scope: scope))
            }
        }
        guard let function else { throw CairnError.invalidArgument("\(here) needs a window function") }
        switch function {
        case .accumulate:
            let bounded: Bool
            switch (window.lower, window.upper) {
            case (.unbounded, .unbounded): bounded = false
            default: bounded = true
            }
            if bounded, sortBy.isEmpty { throw CairnError.invalidArgument("\(here): a bounded window needs sortBy") }
            if window.byRange, sortBy.count != 1 { throw CairnError.invalidArgument("\(here): a range window needs exactly one sortBy field") }
        default:
            guard !sawWindow else { throw CairnError.invalidArgument("\(here): this function takes no window") }
            guard !sortBy.isEmpty else { throw CairnError.invalidArgument("\(here): this function needs sortBy") }
        }
        return Output(path: path, function: function, window: window)
    }

    private func parseWindow(_ value: MutableValue, at here: String) throws -> Window {
        guard case .object(let members) = value else { throw CairnError.invalidArgument("\(here) must be {documents: [lo, hi]} or {range: [lo, hi]}") }
        var window = Window()
        var bounds: [MutableValue]?
        for (key, operand) in members {
            switch key {
            case "documents", "range":
                guard bounds == nil, case .array(let pair) = operand, pair.count == 2 else {
                    throw CairnError.invalidArgument("\(here).\(key) must be [lower, upper], and only one of documents and range")
                }
                bounds = pair
                window.byRange = key == "range"
            case "unit":
                let name = try Pipeline.string(operand, at: "\(here).unit")
                guard let unit = Expression.DateUnit(rawValue: name), let length = unit.milliseconds else {
                    throw CairnError.invalidArgument("\(here).unit must be week, day, hour, minute, second or millisecond")
                }
                window.unit = length
            default:
                throw CairnError.invalidArgument("\(here).\(key): unknown field (known: documents, range, unit)")
            }
        }
        guard let bounds else { throw CairnError.invalidArgument("\(here) needs documents or range") }
        if window.unit != nil, !window.byRange { throw CairnError.invalidArgument("\(here).unit needs a range window") }
        func bound(_ value: MutableValue, _ at: String) throws -> Bound {
            switch value {
            case .string(let utf8) where utf8 == Array("unbounded".utf8): return .unbounded
            case .string(let utf8) where utf8 == Array("current".utf8): return .current
            case .int(let n): return window.byRange ? .amount(Double(n)) : .offset(n)
            case .double(let d) where window.byRange && d.isFinite: return .amount(d)
            case .double(let d):
                guard let n = Int64(exactly: d) else { throw CairnError.invalidArgument("\(at) must be an integer, \"current\" or \"unbounded\"") }
                return .offset(n)
            default: throw CairnError.invalidArgument("\(at) must be a number, \"current\" or \"unbounded\"")
            }
        }
        window.lower = try bound(bounds[0], "\(here).lower")
        window.upper = try bound(bounds[1], "\(here).upper")
        if case .unbounded = window.upper, case .unbounded = window.lower {} else if case .unbounded = window.upper {} else if case .unbounded = window.lower {} else {
            // Both finite: lower must not be above upper.
            func number(_ b: Bound) -> Double {
                switch b {
                case .offset(let n): return Double(n)
                case .amount(let d): return d
                default: return 0
                }
            }
            guard number(window.lower) <= number(window.upper) else { throw CairnError.invalidArgument("\(here): the lower bound is above the upper bound") }
        }
        return window
    }
}

extension PipelineEnvironment {
    func windowFieldsStage(_ fields: WindowFields, after upstream: @escaping PipelinePull) -> PipelinePull {
        let memoryLimit = self.memoryLimit, bindings = self.bindings
        return PipelineEnvironment.emitting {
            var entries: [(partition: [UInt8], sort: [UInt8], row: MutableValue)] = []
            var budget = MemoryBudget(stage: "$setWindowFields", limit: memoryLimit)
            while let row = try upstream() {
                let tree = try row.tree()
                let partition = try fields.partitionBy.map { try PipelineEnvironment.key(of: try $0.evaluate(in: bindings.context(.tree(tree))) ?? .null) } ?? []
                let sort = fields.sortBy.isEmpty ? [] : try PipelineEnvironment.sortKey(of: .tree(tree), by: fields.sortBy)
                try budget.charge(PipelineEnvironment.rowBytes(tree) + partition.count + sort.count + 128)
                entries.append((partition, sort, tree))
            }
            entries.sort { a, b in
                if a.partition != b.partition { return a.partition.lexicographicallyPrecedes(b.partition) }
                return a.sort.lexicographicallyPrecedes(b.sort)
            }
            var steps = 0
            var start = 0
            while start < entries.count {
                var end = start + 1
                while end < entries.count, entries[end].partition == entries[start].partition { end += 1 }
                let rows = entries[start..<end].map(\.row)
                let sortKeys = entries[start..<end].map(\.sort)
                var results: [[MutableValue?]] = []
                for output in fields.outputs {
                    let values = try PipelineEnvironment.window(output, fields: fields, rows: rows, sortKeys: sortKeys, bindings: bindings, steps: &steps)
                    for value in values { try budget.charge(value?.memorySize ?? 0) }
                    results.append(values)
                }
                for position in 0..<rows.count {
                    var document = rows[position]
                    for (index, output) in fields.outputs.enumerated() {
                        let value = results[index][position]
                        try MutableValue.modify(&document, path: output.path[...], create: true, at: "$setWindowFields") { $0 = value ?? .null }
                    }
                    entries[start + position].row = document
                }
                start = end
            }
            return entries.map(\.row)
        }
    }

    /// The values of one output field for the rows of one partition.
    private static func window(_ output: WindowFields.Output, fields: WindowFields, rows: [MutableValue], sortKeys: [[UInt8]],
                               bindings: Bindings, steps: inout Int) throws -> [MutableValue?] {
        let n = rows.count
        switch output.function {
        case .documentNumber:
            return (0..<n).map { .int(Int64($0 + 1)) }
        case .rank, .denseRank:
            var out: [MutableValue?] = []
            var rank = 0
            for index in 0..<n {
                if index == 0 || sortKeys[index] != sortKeys[index - 1] {
                    if case .rank = output.function { rank = index + 1 } else { rank += 1 }
                }
                out.append(.int(Int64(rank)))
            }
            return out
        case .shift(let expression, let by, let otherwise):
            return try (0..<n).map { index in
                let (target, overflow) = Int64(index).addingReportingOverflow(by)
                if !overflow, target >= 0, target < Int64(n) {
                    return try expression.evaluate(in: bindings.context(.tree(rows[Int(target)]))) ?? .null
                }
                return try otherwise.evaluate(in: bindings.context(.tree(rows[index]))) ?? .null
            }
        case .accumulate(let accumulator):
            let arguments = try rows.map { try accumulator.argument.evaluate(in: bindings.context(.tree($0))) }
            let ranges = try windowRanges(output.window, fields: fields, rows: rows)
            var out: [MutableValue?] = []
            out.reserveCapacity(n)
            if case .unbounded = output.window.lower, case .unbounded = output.window.upper {
                var state = Accumulator.State()
                for argument in arguments { try accumulator.add(value: argument, to: &state) }
                let result = accumulator.result(state)
                return Array(repeating: result, count: n)
            }
            if case .unbounded = output.window.lower {
                // Every window starts at 0 and the ends never decrease:
                // one running state for the partition.
                var state = Accumulator.State()
                var added = 0
                for range in ranges {
                    while added < range.upperBound {
                        try accumulator.add(value: arguments[added], to: &state)
                        added += 1
                    }
                    out.append(accumulator.result(state))
                }
                return out
            }
            for range in ranges {
                steps += range.count
                guard steps <= WindowFields.maxWindowSteps else {
                    throw CairnError.invalidArgument("$setWindowFields: the windows need more than \(WindowFields.maxWindowSteps) steps; use smaller windows or partitions")
                }
                var state = Accumulator.State()
                for index in range { try accumulator.add(value: arguments[index], to: &state) }
                out.append(accumulator.result(state))
            }
            return out
        }
    }

    /// The window of each row as a range of positions in the partition
    /// (empty when the bounds select nothing). Document offsets are
    /// clamped with checked arithmetic; range bounds are found by binary
    /// search over the sorted values.
    private static func windowRanges(_ window: WindowFields.Window, fields: WindowFields, rows: [MutableValue]) throws -> [Range<Int>] {
        let n = rows.count
        if !window.byRange {
            func position(_ bound: WindowFields.Bound, _ index: Int, lower: Bool) -> Int {
                switch bound {
                case .unbounded: return lower ? 0 : n
                case .current: return lower ? index : index + 1
                case .offset(let k):
                    // The bound's position, clamped to -1...n (overflow only
                    // for k near ±2^63, which is past either end).
                    let (p, overflow) = Int64(index).addingReportingOverflow(k)
                    let at: Int64 = overflow ? (k < 0 ? -1 : Int64(n)) : Swift.min(Swift.max(p, -1), Int64(n))
                    return lower ? Int(Swift.max(at, 0)) : Int(Swift.min(at + 1, Int64(n)))
                case .amount: return lower ? 0 : n
                }
            }
            return (0..<n).map { index in
                let low = position(window.lower, index, lower: true), high = position(window.upper, index, lower: false)
                return low < high ? low..<high : low..<low
            }
        }
        // Range windows: numeric (or date) sortBy values.
        let path = fields.sortBy[0].path, descending = fields.sortBy[0].direction < 0
        let values: [Double] = try rows.map { row in
            switch Expression.resolve(path[...], in: row) {
            case .int(let v)?: return Double(v)
            case .double(let v)?: return v
            case .date(let ms)? where window.unit != nil: return Double(ms)
            case let other: throw CairnError.invalidArgument("$setWindowFields: a range window needs \(window.unit == nil ? "numeric" : "date") sortBy values, not \(other?.typeName ?? "missing")")
            }
        }
        let scale = Double(window.unit ?? 1)
        func offset(_ bound: WindowFields.Bound) -> Double? {
            switch bound {
            case .unbounded: return nil
            case .current: return 0
            case .offset(let k): return Double(k) * scale
            case .amount(let d): return d * scale
            }
        }
        let lowerOffset = offset(window.lower), upperOffset = offset(window.upper)
        // Positions are sorted by value (ascending, or descending); the first
        // position whose value passes `isPast` by binary search.
        func firstPosition(_ isPast: (Double) -> Bool) -> Int {
            var low = 0, high = n
            while low < high {
                let middle = (low + high) / 2
                if isPast(values[middle]) { high = middle } else { low = middle + 1 }
            }
            return low
        }
        return (0..<n).map { index in
            let v = values[index]
            // In descending order a negative bound still means "before":
            // values above the current one.
            let lowPosition: Int, highPosition: Int
            if descending {
                lowPosition = lowerOffset.map { o in firstPosition { $0 <= v - o } } ?? 0
                highPosition = upperOffset.map { o in firstPosition { $0 < v - o } } ?? n
            } else {
                lowPosition = lowerOffset.map { o in firstPosition { $0 >= v + o } } ?? 0
                highPosition = upperOffset.map { o in firstPosition { $0 > v + o } } ?? n
            }
            return lowPosition < highPosition ? lowPosition..<highPosition : lowPosition..<lowPosition
        }
    }
}
