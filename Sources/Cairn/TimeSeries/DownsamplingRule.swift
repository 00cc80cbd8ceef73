/// Continuous downsampling and retention.
///
/// A rule rolls a metric up into windows of `every` for each of its
/// aggregates, writing the float64 series `<metric>:<rule name>:<aggregate>`
/// with the source series' tags, which queries target like any metric:
///
///     {"name": "1m", "metric": "cpu.usage", "every": "1m",
///      "aggregates": ["avg", "min", "max", "count"], "delay": "0",
///      "retention": "30d"}
///
/// Maintenance (in the background every `maintenance_interval`, with the
/// wall clock, or when called with a time) rolls up each window that ended
/// at least `delay` before now and after the rule's watermark, then moves
/// the watermark (kept with the rule), so each window is written once;
/// points that arrive later for a window already rolled up are not added
/// to it. A rule's "retention" becomes the retention of its rollup metrics.
///
/// Retention per metric drops, through range deletions of chunk keys, every
/// bucket of two hours that ended before `now - retention`: whole buckets,
/// so points up to two hours older than the cutoff may remain; nothing live
/// is rewritten. Part of the on-disk format (0x08 0x05, TimeSeriesFormat).
struct DownsamplingRule {
    var name: String
    var metric: String
    var every: Int64
    var aggregates: [String]
    var delay: Int64
    var retention: Int64
    /// Windows before this are rolled up.
    var watermark: Int64

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> DownsamplingRule {
        let value = try JSONValue.parse(bytes, what: "downsampling rule")
        return try parse(value, stored: false)
    }

    static func parse(_ value: JSONValue, stored: Bool) throws -> DownsamplingRule {
        guard case .object(let members) = value else { throw CairnError.invalidArgument("a downsampling rule must be a JSON object") }
        var rule = DownsamplingRule(name: "", metric: "", every: 0, aggregates: [], delay: 0, retention: 0, watermark: TimeSeriesFormat.minTime)
        for (key, member) in members {
            switch key {
            case "name", "metric":
                guard case .string(let text) = member else { throw CairnError.invalidArgument("rule '\(key)' must be a string") }
                try SeriesKey.checkName(text, "rule \(key)")
                guard key == "metric" || !text.contains(":") else { throw CairnError.invalidArgument("a rule name may not contain ':'") }
                if key == "name" { rule.name = text } else { rule.metric = text }
            case "every": rule.every = try AggregateQuery.duration(member, "every")
                guard !stored || rule.every <= AggregateQuery.maxDuration else { throw CairnError.corruption("time-series rule: bad width") }
            case "delay", "retention":
                let ms: Int64
                if case .int(0) = member { ms = 0 } else if case .string("0") = member { ms = 0 } else { ms = try AggregateQuery.duration(member, key) }
                if key == "delay" { rule.delay = ms } else { rule.retention = ms }
            case "aggregates":
                guard case .array(let names) = member, !names.isEmpty else { throw CairnError.invalidArgument("rule 'aggregates' must be a non-empty array") }
                rule.aggregates = try names.map { name in
                    guard case .string(let text) = name else { throw CairnError.invalidArgument("rule 'aggregates' must hold names") }
                    _ = try AggregateQuery.kind(text)
                    return text
                }
            case "watermark" where stored:
                guard case .int(let t) = member else { throw CairnError.corruption("time-series rule: bad watermark") }
                rule.watermark = t
            default:
                throw CairnError.invalidArgument("unknown rule field '\(key)' (known: name, metric, every, aggregates, delay, retention)")
            }
        }
        guard !rule.name.isEmpty, !rule.metric.isEmpty, rule.every > 0, !rule.aggregates.isEmpty else {
            throw CairnError.invalidArgument("a downsampling rule needs 'name', 'metric', 'every' and 'aggregates'")
        }
        return rule
    }

    var json: JSONValue {
        .object([("name", .string(name)), ("metric", .string(metric)), ("every", .int(every)),
                 ("aggregates", .array(aggregates.map { .string($0) })), ("delay", .int(delay)), ("retention", .int(retention)),
                 ("watermark", .int(watermark))])
    }

    func rollupMetric(_ aggregate: String) -> String { "\(metric):\(name):\(aggregate)" }

    static func key(_ name: String) -> [UInt8] { [Namespace.timeSeries.rawValue, TimeSeriesFormat.settings, UInt8(ascii: "r")] + Array(name.utf8) }
    static func retentionKey(_ metric: String) -> [UInt8] { [Namespace.timeSeries.rawValue, TimeSeriesFormat.settings, UInt8(ascii: "m")] + Array(metric.utf8) }
}

extension Database {
    func loadTimeSeriesSettings() throws {
        let view = try engine.readView()
        var rules: [String: DownsamplingRule] = [:]
        var retention: [String: Int64] = [:]
        try forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.settings], view: view) { key, value in
            guard key.count > 3 else { throw CairnError.corruption("time-series settings: a short key") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: key[3...]), as: UTF8.self)
            if key[2] == UInt8(ascii: "r") {
                rules[name] = try DownsamplingRule.parse(try JSONValue.parse(value, what: "stored rule"), stored: true)
            } else if key[2] == UInt8(ascii: "m"), case .int(let ms) = try JSONValue.parse(value, what: "stored retention") {
                retention[name] = ms
            }
        }
        timeSeries.state.withLock {
            timeSeries.rules = rules
            timeSeries.retention = retention
        }
    }

    private func putSetting(_ key: [UInt8], _ value: JSONValue?) throws {
        var batch = WriteBatch()
        key.withUnsafeBytes { k in
            if let value {
                Array(value.serialized.utf8).withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) }
            } else {
                batch.delete(k)
            }
        }
        try engine.write(batch)
    }

    /// Keeps `metric`'s points for `millis` (0: forever).
    public func setRetention(metric: String, millis: Int64) throws {
        guard !isClosed else { throw CairnError.closed }
        try SeriesKey.checkName(metric, "metric name")
        guard millis >= 0 else { throw CairnError.invalidArgument("retention must not be negative") }
        try timeSeries.packLock.withLock {
            try putSetting(DownsamplingRule.retentionKey(metric), millis == 0 ? nil : .int(millis))
            timeSeries.state.withLock { timeSeries.retention[metric] = millis == 0 ? nil : millis }
        }
    }

    /// Creates or replaces a downsampling rule (a replaced rule keeps its
    /// watermark when its metric and width stay the same).
    public func createRule(json: UnsafeRawBufferPointer) throws {
        guard !isClosed else { throw CairnError.closed }
        var rule = try DownsamplingRule.parse(json)
        try timeSeries.packLock.withLock {
            if let old = timeSeries.state.withLock({ timeSeries.rules[rule.name] }), old.metric == rule.metric, old.every == rule.every {
                rule.watermark = old.watermark
            }
            try putSetting(DownsamplingRule.key(rule.name), rule.json)
            timeSeries.state.withLock { timeSeries.rules[rule.name] = rule }
            for aggregate in rule.aggregates {
                let metric = rule.rollupMetric(aggregate)
                try putSetting(DownsamplingRule.retentionKey(metric), rule.retention == 0 ? nil : .int(rule.retention))
                timeSeries.state.withLock { timeSeries.retention[metric] = rule.retention == 0 ? nil : rule.retention }
            }
        }
    }

    /// Drops a rule (its rollup series stay). NOT_FOUND when there is none.
    public func dropRule(name: String) throws {
        guard !isClosed else { throw CairnError.closed }
        try timeSeries.packLock.withLock {
            guard timeSeries.state.withLock({ timeSeries.rules[name] }) != nil else { throw CairnError(.notFound, "no downsampling rule '\(name)'") }
            try putSetting(DownsamplingRule.key(name), nil)
            timeSeries.state.withLock { timeSeries.rules[name] = nil }
        }
    }

    /// The rules and retentions as JSON: {"rules": [...], "retention": {metric: ms}}.
    public func timeSeriesSettings() -> String {
        let (rules, retention) = timeSeries.state.withLock { (timeSeries.rules, timeSeries.retention) }
        let ruleList = rules.values.sorted { $0.name < $1.name }.map(\.json)
        let retentionList = retention.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.int($0.value)) }
        return JSONValue.object([("rules", .array(ruleList)), ("retention", .object(retentionList))]).serialized
    }

    /// Sets how often background maintenance runs (0: never).
    public func setMaintenanceInterval(millis: Int64) throws {
        guard millis >= 0 else { throw CairnError.invalidArgument("the maintenance interval must not be negative") }
        timeSeries.worker.withLock { timeSeries.maintenanceIntervalMillis = millis }
    }

    /// Runs the downsampling rules and retention as of `now` (ms), packs
    /// nothing else. Returns {"rolled_up": points written, "series_trimmed": n}.
    @discardableResult
    public func maintainTimeSeries(now: Int64, background: Bool = false) throws -> String {
        guard !isClosed else { throw CairnError.closed }
        try TimeSeriesFormat.checkTime(now, "maintenance time")
        var rolledUp = 0
        let rules = timeSeries.state.withLock { timeSeries.rules.values.sorted { $0.name < $1.name } }
        for var rule in rules {
            // Safe: |now| < 2^62 and delay, every <= 2^60 (AggregateQuery.duration).
            let upTo = TimeSeriesFormat.floor(now - rule.delay, rule.every)
            guard upTo > rule.watermark else { continue }
            var query = "{\"metric\":"
            var bytes: [UInt8] = []
            JSONValue.writeString(rule.metric, to: &bytes)
            query += String(decoding: bytes, as: UTF8.self)
            query += ",\"start\":\(rule.watermark),\"end\":\(upTo),\"every\":\(rule.every),\"aggregates\":["
            query += rule.aggregates.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
            let parsed = try Array(query.utf8).withUnsafeBytes { try AggregateQuery.parse($0) }
            let view = try engine.readView()
            let ids = try parsed.selector.ids(in: self, view: view)
            for id in ids {
                guard let key = try seriesKey(of: id, view: view) else { continue }
                var rollupIDs: [UInt64] = []
                for aggregate in rule.aggregates {
                    let rollup = try SeriesKey(metric: rule.rollupMetric(aggregate), tags: key.tags)
                    rollupIDs.append(try seriesID(for: rollup, create: true, isInteger: false)!)
                }
                let reader = try SeriesReader(database: self, view: view, id: id, start: parsed.start, end: parsed.end)
                let aggregator = GroupAggregator(query: parsed, readers: [reader])
                var ids: [UInt64] = [], times: [Int64] = [], values: [UInt64] = []
                while let row = try aggregator.nextRow() {
                    for (index, value) in row.values.enumerated() {
                        guard let d = value.asDouble else { continue }
                        ids.append(rollupIDs[index])
                        times.append(row.t)
                        values.append(d.bitPattern)
                    }
                    if ids.count >= 65_536 {
                        try writeMixed(ids: ids, times: times, values: values)
                        rolledUp += ids.count
                        ids = []; times = []; values = []
                    }
                }
                if !ids.isEmpty {
                    try writeMixed(ids: ids, times: times, values: values)
                    rolledUp += ids.count
                }
            }
            rule.watermark = upTo
            try timeSeries.packLock.withLock {
                // Unless dropped or replaced meanwhile.
                guard let current = timeSeries.state.withLock({ timeSeries.rules[rule.name] }), current.metric == rule.metric,
                      current.every == rule.every, current.aggregates == rule.aggregates else { return }
                try putSetting(DownsamplingRule.key(rule.name), rule.json)
                timeSeries.state.withLock { timeSeries.rules[rule.name]?.watermark = upTo }
            }
        }
        // Retention.
        var trimmed = 0
        let retention = timeSeries.state.withLock { timeSeries.retention }
        for (metric, keep) in retention.sorted(by: { $0.key < $1.key }) {
            let (cutoff, overflow) = now.subtractingReportingOverflow(keep)
            guard !overflow, cutoff > TimeSeriesFormat.minTime else { continue }
            let cutoffBucket = TimeSeriesFormat.bucket(of: cutoff)
            // Each cutoff bucket once: the range deletions are not repeated
            // every run.
            if timeSeries.state.withLock({ timeSeries.retentionApplied[metric] }) == cutoffBucket { continue }
            try timeSeries.packLock.withLock {
                let view = try engine.readView()
                let ids = try tagIDs(TimeSeriesFormat.metricTag, metric, view: view)
                var batch = WriteBatch()
                for id in ids {
                    let lower = TimeSeriesFormat.bucketPrefix(id, TimeSeriesFormat.bucket(of: TimeSeriesFormat.minTime))
                    let upper = TimeSeriesFormat.bucketPrefix(id, cutoffBucket)
                    lower.withUnsafeBytes { l in upper.withUnsafeBytes { batch.deleteRange(l, $0) } }
                    // And the bodies of form-3 chunks there.
                    let bodyLower = TimeSeriesFormat.bodyPrefix(id, TimeSeriesFormat.bucket(of: TimeSeriesFormat.minTime))
                    let bodyUpper = TimeSeriesFormat.bodyPrefix(id, cutoffBucket)
                    bodyLower.withUnsafeBytes { l in bodyUpper.withUnsafeBytes { batch.deleteRange(l, $0) } }
                }
                try engine.write(batch)
                trimmed += ids.count
                timeSeries.state.withLock { timeSeries.retentionApplied[metric] = cutoffBucket }
            }
        }
        return "{\"rolled_up\":\(rolledUp),\"series_trimmed\":\(trimmed)}"
    }
}
