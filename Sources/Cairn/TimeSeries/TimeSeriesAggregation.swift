/// Windowed aggregation: the points of the series a query selects, in
/// [start, end), cut into tumbling windows of `every` milliseconds aligned
/// to the epoch (a window starts at a multiple of `every`, as InfluxDB's
/// GROUP BY time() and TimescaleDB's time_bucket align them), grouped by
/// tag values, one row per group and window.
///
/// Streaming: the series of a group are read together, merged by time
/// through a heap of SeriesReaders (each holding one bucket), and a window
/// is finished, turned into a row and handed to the cursor before the next
/// is read; memory holds a bucket per series of the group, plus the values
/// of the current window when a percentile is asked for.
///
/// Aggregates: count, sum, min, max, avg, first, last, stddev (population,
/// as Prometheus's stddev_over_time), pNN (exact percentile NN in (0, 100],
/// interpolated linearly between the closest ranks, numpy's default; "median"
/// is p50), increase and rate (per series, summed over the group: the rise
/// between each point and the one before it, a drop counted as a counter
/// reset from zero; rate is increase per second of window). NaN values
/// propagate through sum, avg and stddev; min and max skip them unless every
/// value is NaN.
struct AggregateQuery {
    enum Kind: Equatable {
        case count, sum, min, max, avg, first, last, stddev, rate, increase
        case percentile(Double)
    }
    enum Fill: String { case none, previous, linear }

    var selector: SeriesSelector
    var start: Int64
    var end: Int64
    var every: Int64
    var aggregates: [(name: String, kind: Kind)]
    var groupBy: [String]
    var fill: Fill

    static let known = "count, sum, min, max, avg, first, last, stddev, median, pNN (0 < NN <= 100), rate, increase"

    static func kind(_ name: String) throws -> Kind {
        switch name {
        case "count": return .count
        case "sum": return .sum
        case "min": return .min
        case "max": return .max
        case "avg", "mean": return .avg
        case "first": return .first
        case "last": return .last
        case "stddev": return .stddev
        case "rate": return .rate
        case "increase": return .increase
        case "median": return .percentile(50)
        default:
            if name.hasPrefix("p"), let p = Double(name.dropFirst()), p > 0, p <= 100 { return .percentile(p) }
            throw CairnError.invalidArgument("unknown aggregate '\(name)' (known: \(known))")
        }
    }

    /// The longest window (or rule delay, or retention): 2^60 ms, about 36
    /// million years, so that window arithmetic over timestamps in
    /// [-2^62, 2^62) stays far from the ends of Int64.
    static let maxDuration: Int64 = 1 << 60

    static func duration(_ value: JSONValue, _ what: String) throws -> Int64 {
        let ms: Int64
        switch value {
        case .int(let given):
            guard given > 0 else { throw CairnError.invalidArgument("'\(what)' must be a positive number of milliseconds") }
            ms = given
        case .string(let text):
            ms = try Duration.milliseconds(in: text)
        default:
            throw CairnError.invalidArgument("'\(what)' must be milliseconds or a duration such as \"5m\"")
        }
        guard ms <= maxDuration else { throw CairnError.invalidArgument("'\(what)' is \(ms) ms; the limit is 2^60 ms") }
        return ms
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> AggregateQuery {
        let members = try Database.queryMembers(bytes, what: "aggregation", known: ["start", "end", "every", "aggregates", "group_by", "fill"])
        var query = AggregateQuery(selector: try SeriesSelector.parse(members),
                                   start: try Database.timeMember(members, "start", default: TimeSeriesFormat.minTime),
                                   end: try Database.timeMember(members, "end", default: TimeSeriesFormat.maxTime + 1),
                                   every: 0, aggregates: [], groupBy: [], fill: .none)
        for (key, value) in members {
            switch key {
            case "every": query.every = try duration(value, "every")
            case "aggregates":
                guard case .array(let names) = value, !names.isEmpty else { throw CairnError.invalidArgument("'aggregates' must be a non-empty array of names") }
                for name in names {
                    guard case .string(let text) = name else { throw CairnError.invalidArgument("'aggregates' must be a non-empty array of names") }
                    query.aggregates.append((text, try kind(text)))
                }
            case "group_by":
                guard case .array(let names) = value else { throw CairnError.invalidArgument("'group_by' must be an array of tag names") }
                query.groupBy = try names.map { name in
                    guard case .string(let text) = name else { throw CairnError.invalidArgument("'group_by' must be an array of tag names") }
                    return text == "metric" ? TimeSeriesFormat.metricTag : text
                }
            case "fill":
                guard case .string(let text) = value, let fill = Fill(rawValue: text) else {
                    throw CairnError.invalidArgument("'fill' must be \"none\", \"previous\" or \"linear\"")
                }
                query.fill = fill
            default: break
            }
        }
        guard query.every > 0 else { throw CairnError.invalidArgument("the aggregation has no 'every' (the window width)") }
        guard !query.aggregates.isEmpty else { throw CairnError.invalidArgument("the aggregation has no 'aggregates'") }
        if query.fill != .none && query.start < query.end {
            guard query.start > TimeSeriesFormat.minTime && query.end <= TimeSeriesFormat.maxTime else {
                throw CairnError.invalidArgument("gap filling needs a bounded 'start' and 'end'")
            }
            // In Double: the span of two timestamps may not fit an Int64.
            let windows = ((Double(query.end) - Double(query.start)) / Double(query.every)).rounded(.up) + 1
            guard windows <= 10_000_000 else { throw CairnError.invalidArgument("gap filling over \(Int64(windows)) windows; the limit is 10,000,000") }
        }
        return query
    }
}

/// One aggregate's result in a row.
enum AggregateValue {
    case null
    case int(Int64)
    case double(Double)

    var asDouble: Double? {
        switch self {
        case .null: return nil
        case .int(let v): return Double(v)
        case .double(let v): return v
        }
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .int(let v): JSONValue.writeInteger(v, to: &out)
        case .double(let v): Database.writeDouble(v, to: &out)
        }
    }
}

/// The aggregates of one group over its windows (see AggregateQuery).
final class GroupAggregator {
    private let query: AggregateQuery
    private var readers: [SeriesReader]
    private var positions: [Int]
    /// Reader indices ordered by their current point's time.
    private var heap: [Int] = []
    private var started = false
    /// Per series: the previous value (for increase and rate).
    private var previous: [Double?]
    private let wantsValues: Bool
    /// Which running values the aggregates need (the rest are not kept).
    private let wantsSpread: Bool, wantsExtremes: Bool, wantsEnds: Bool, wantsIncrease: Bool

    // The current window.
    private var window: Int64?
    private var count = 0
    private var sum = 0.0
    private var intSum: Int64 = 0
    private var intSumExact = true
    private var minimum: (d: Double, bits: UInt64, isInteger: Bool)?
    private var maximum: (d: Double, bits: UInt64, isInteger: Bool)?
    private var first: (bits: UInt64, isInteger: Bool)?
    private var last: (bits: UInt64, isInteger: Bool)?
    private var mean = 0.0
    private var m2 = 0.0
    private var increase = 0.0
    private var values: [Double] = []

    // Finished rows waiting for the cursor, and gap filling's state.
    private(set) var rows: [(t: Int64, values: [AggregateValue])] = []
    private var rowIndex = 0
    private var lastEmitted: Int64
    private var lastRow: [AggregateValue]?
    private var finished = false

    init(query: AggregateQuery, readers: [SeriesReader]) {
        self.query = query
        self.readers = readers
        positions = Array(repeating: 0, count: readers.count)
        previous = Array(repeating: nil, count: readers.count)
        wantsValues = query.aggregates.contains { if case .percentile = $0.kind { return true } else { return false } }
        let kinds = query.aggregates.map(\.kind)
        wantsSpread = kinds.contains(.stddev)
        wantsExtremes = kinds.contains(.min) || kinds.contains(.max)
        wantsEnds = kinds.contains(.first) || kinds.contains(.last)
        wantsIncrease = kinds.contains(.increase) || kinds.contains(.rate)
        lastEmitted = TimeSeriesFormat.floor(max(query.start, TimeSeriesFormat.minTime), query.every) - query.every
    }

    /// The next row; nil at the end.
    func nextRow() throws -> (t: Int64, values: [AggregateValue])? {
        while rowIndex >= rows.count {
            rows.removeAll(keepingCapacity: true)
            rowIndex = 0
            if finished { return nil }
            try advance()
        }
        defer { rowIndex += 1 }
        return rows[rowIndex]
    }

    private func time(_ reader: Int) -> Int64 { readers[reader].times[positions[reader]] }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && time(heap[l]) < time(heap[smallest]) { smallest = l }
            if r < heap.count && time(heap[r]) < time(heap[smallest]) { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }

    private func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            if time(heap[i]) >= time(heap[parent]) { return }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// Reads points until at least one row is ready, or the end.
    private func advance() throws {
        if !started {
            started = true
            for index in readers.indices where try readers[index].nextBucket() {
                heap.append(index)
                siftUp(heap.count - 1)
            }
        }
        if readers.count == 1 {
            // One series: its points in order, no heap.
            let reader = readers[0]
            let isInteger = reader.isInteger
            while !heap.isEmpty {
                let count = reader.times.count
                var i = positions[0]
                while i < count {
                    let t = reader.times[i]
                    let w = TimeSeriesFormat.floor(t, query.every)
                    if let current = window, w != current { finishWindow() }
                    window = w
                    add(t: t, bits: reader.values[i], isInteger: isInteger, series: 0)
                    i += 1
                    if !rows.isEmpty {
                        positions[0] = i
                        if i >= count {
                            positions[0] = 0
                            if try !reader.nextBucket() { heap.removeAll() }
                        }
                        return
                    }
                }
                positions[0] = 0
                if try !reader.nextBucket() { heap.removeAll() }
            }
        }
        var steps = 0
        while let top = heap.first {
            let reader = readers[top]
            let t = reader.times[positions[top]]
            let bits = reader.values[positions[top]]
            let w = TimeSeriesFormat.floor(t, query.every)
            if let current = window, w != current {
                finishWindow()
            }
            window = w
            add(t: t, bits: bits, isInteger: reader.isInteger, series: top)
            positions[top] += 1
            if positions[top] >= reader.times.count {
                positions[top] = 0
                if try !reader.nextBucket() {
                    heap[0] = heap[heap.count - 1]
                    heap.removeLast()
                }
            }
            if !heap.isEmpty { siftDown(0) }
            steps += 1
            if !rows.isEmpty && steps > 0 { return }
        }
        if window != nil { finishWindow() }
        finished = true
        if query.fill != .none && query.start < query.end {
            let lastWindow = TimeSeriesFormat.floor(query.end - 1, query.every)
            emitEmpty(upTo: lastWindow + query.every, next: nil)
        }
    }

    private func add(t: Int64, bits: UInt64, isInteger: Bool, series: Int) {
        let d = isInteger ? Double(Int64(bitPattern: bits)) : Double(bitPattern: bits)
        count += 1
        sum += d
        if intSumExact {
            if isInteger {
                let (s, overflow) = intSum.addingReportingOverflow(Int64(bitPattern: bits))
                if overflow { intSumExact = false } else { intSum = s }
            } else {
                intSumExact = false
            }
        }
        if wantsExtremes {
            if minimum == nil || minimum!.d.isNaN || d < minimum!.d { minimum = (d, bits, isInteger) }
            if maximum == nil || maximum!.d.isNaN || d > maximum!.d { maximum = (d, bits, isInteger) }
        }
        if wantsEnds {
            if first == nil { first = (bits, isInteger) }
            last = (bits, isInteger)
        }
        if wantsSpread {
            let delta = d - mean
            mean += delta / Double(count)
            m2 += delta * (d - mean)
        }
        if wantsIncrease {
            if let before = previous[series] {
                increase += d >= before ? d - before : d
            }
            previous[series] = d
        }
        if wantsValues { values.append(d) }
    }

    private func finishWindow() {
        guard let w = window else { return }
        var row: [AggregateValue] = []
        row.reserveCapacity(query.aggregates.count)
        if wantsValues { values.sort { $0.isNaN ? false : ($1.isNaN ? true : $0 < $1) } }
        for aggregate in query.aggregates {
            switch aggregate.kind {
            case .count: row.append(.int(Int64(count)))
            case .sum: row.append(intSumExact ? .int(intSum) : .double(sum))
            case .avg: row.append(.double(sum / Double(count)))
            case .min: row.append(GroupAggregator.value(minimum.map { ($0.bits, $0.isInteger) }))
            case .max: row.append(GroupAggregator.value(maximum.map { ($0.bits, $0.isInteger) }))
            case .first: row.append(GroupAggregator.value(first))
            case .last: row.append(GroupAggregator.value(last))
            case .stddev: row.append(.double((m2 / Double(count)).squareRoot()))
            case .increase: row.append(.double(increase))
            case .rate: row.append(.double(increase / (Double(query.every) / 1000)))
            case .percentile(let p):
                let rank = p / 100 * Double(values.count - 1)
                let low = Int(rank.rounded(.down))
                let high = Swift.min(low + 1, values.count - 1)
                let fraction = rank - Double(low)
                row.append(.double(values[low] + (values[high] - values[low]) * fraction))
            }
        }
        emitEmpty(upTo: w, next: row)
        rows.append((w, row))
        lastEmitted = w
        lastRow = row
        window = nil
        count = 0
        sum = 0
        intSum = 0
        intSumExact = true
        minimum = nil
        maximum = nil
        first = nil
        last = nil
        mean = 0
        m2 = 0
        increase = 0
        values.removeAll(keepingCapacity: true)
    }

    private static func value(_ v: (bits: UInt64, isInteger: Bool)?) -> AggregateValue {
        guard let v else { return .null }
        return v.isInteger ? .int(Int64(bitPattern: v.bits)) : .double(Double(bitPattern: v.bits))
    }

    /// Adds the filled rows of the empty windows after the last row and
    /// before `upTo`; `next` is the row at `upTo` (for linear filling).
    private func emitEmpty(upTo: Int64, next: [AggregateValue]?) {
        guard query.fill != .none else { return }
        let firstWindow = TimeSeriesFormat.floor(query.start, query.every)
        var w = Swift.max(lastEmitted + query.every, firstWindow)
        while w < upTo {
            var row: [AggregateValue] = []
            for index in query.aggregates.indices {
                switch query.fill {
                case .none: break
                case .previous: row.append(lastRow?[index] ?? .null)
                case .linear:
                    if let before = lastRow?[index].asDouble, let after = next?[index].asDouble {
                        // In Double: windows may lie far apart.
                        let fraction = (Double(w) - Double(lastEmitted)) / (Double(upTo) - Double(lastEmitted))
                        row.append(.double(before + (after - before) * fraction))
                    } else {
                        row.append(.null)
                    }
                }
            }
            rows.append((w, row))
            w += query.every
        }
    }
}

extension Database {
    /// Runs an aggregation (AggregateQuery) as a cursor of rows
    /// {"group": {tag: value, ...} (with "group_by" only), "t": window start,
    /// <aggregate name>: value, ...}, groups in order of their tag values.
    public func timeSeriesAggregate(queryJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        guard !isClosed else { throw CairnError.closed }
        let query = try AggregateQuery.parse(queryJSON)
        let view = try engine.readView()
        let pin = engine.pin(view)
        let ids = query.start < query.end ? try query.selector.ids(in: self, view: view) : []
        // The groups, each a list of series, in order of their tag values.
        var groups: [(key: [String?], ids: [UInt64])] = []
        if query.groupBy.isEmpty {
            if !ids.isEmpty { groups = [([], ids)] }
        } else {
            var byKey: [[String?]: [UInt64]] = [:]
            for id in ids {
                guard let key = try seriesKey(of: id, view: view) else { continue }
                let values = query.groupBy.map { $0 == TimeSeriesFormat.metricTag ? key.metric : key.value(ofTag: $0) }
                byKey[values, default: []].append(id)
            }
            groups = byKey.map { ($0.key, $0.value) }.sorted { a, b in
                for (x, y) in zip(a.key, b.key) where x != y {
                    guard let x else { return true }
                    guard let y else { return false }
                    return x < y
                }
                return false
            }
        }
        let ticket = engine.interrupts.ticket
        var groupIndex = 0
        var aggregator: GroupAggregator?
        var groupJSON: [UInt8] = []
        return DocumentCursor(database: self) { [self] out in
            _ = pin
            while true {
                try engine.interrupts.check(ticket)
                if let current = aggregator, let row = try current.nextRow() {
                    out.append(UInt8(ascii: "{"))
                    out.append(contentsOf: groupJSON)
                    out.append(contentsOf: "\"t\":".utf8)
                    JSONValue.writeInteger(row.t, to: &out)
                    for (index, aggregate) in query.aggregates.enumerated() {
                        out.append(UInt8(ascii: ","))
                        JSONValue.writeString(aggregate.name, to: &out)
                        out.append(UInt8(ascii: ":"))
                        row.values[index].write(to: &out)
                    }
                    out.append(UInt8(ascii: "}"))
                    return true
                }
                guard groupIndex < groups.count else { return false }
                let group = groups[groupIndex]
                groupIndex += 1
                groupJSON.removeAll()
                if !query.groupBy.isEmpty {
                    groupJSON.append(contentsOf: "\"group\":{".utf8)
                    for (index, name) in query.groupBy.enumerated() {
                        if index > 0 { groupJSON.append(UInt8(ascii: ",")) }
                        JSONValue.writeString(name == TimeSeriesFormat.metricTag ? "metric" : name, to: &groupJSON)
                        groupJSON.append(UInt8(ascii: ":"))
                        if let value = group.key[index] { JSONValue.writeString(value, to: &groupJSON) } else { groupJSON.append(contentsOf: "null".utf8) }
                    }
                    groupJSON.append(contentsOf: "},".utf8)
                }
                let readers = try group.ids.map { try SeriesReader(database: self, view: view, id: $0, start: query.start, end: query.end) }
                aggregator = GroupAggregator(query: query, readers: readers)
            }
        }
    }
}
