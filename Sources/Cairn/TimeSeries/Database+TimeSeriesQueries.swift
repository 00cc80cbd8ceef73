/// The time-series reads, each a cursor of JSON rows read at one snapshot
/// (DocumentCursor, so cairn_cursor_next and cairn_cursor_next_batch serve
/// them): points of series in [start, end), the newest point of each
/// series at or before a time, and the series a tag query selects.
extension Database {
    /// Parses a query object, refusing members outside `known` (the
    /// selector's members are always known).
    static func queryMembers(_ bytes: UnsafeRawBufferPointer, what: String, known: [String]) throws -> [(key: String, value: JSONValue)] {
        let value = try JSONValue.parse(bytes, what: what)
        guard case .object(let members) = value else { throw CairnError.invalidArgument("\(what) must be a JSON object, not \(value.typeName)") }
        for (key, _) in members where !SeriesSelector.keys.contains(key) && !known.contains(key) {
            throw CairnError.invalidArgument("unknown \(what) field '\(key)' (known: \((["id", "metric", "tags", "where"] + known).joined(separator: ", ")))")
        }
        return members
    }

    static func timeMember(_ members: [(key: String, value: JSONValue)], _ name: String, default fallback: Int64) throws -> Int64 {
        guard let value = members.first(where: { $0.key == name })?.value else { return fallback }
        guard case .int(let t) = value else { throw CairnError.invalidArgument("'\(name)' must be an integer (milliseconds)") }
        // Bounds clamp to the range of timestamps.
        return min(max(t, TimeSeriesFormat.minTime), TimeSeriesFormat.maxTime + 1)
    }

    /// Writes a value: an integer, a float (shortest round-trip form) or
    /// "NaN" / "Infinity" / "-Infinity" as JSON strings.
    static func writeValue(_ bits: UInt64, isInteger: Bool, to out: inout [UInt8]) {
        if isInteger {
            JSONValue.writeInteger(Int64(bitPattern: bits), to: &out)
        } else {
            writeDouble(Double(bitPattern: bits), to: &out)
        }
    }

    static func writeDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isFinite {
            let short = try? RowWriter.append(capacity: RowWriter.decimalCapacity, to: &out) { $0.decimal(d) }
            if short != true { out.append(contentsOf: d.description.utf8) }
        } else if d.isNaN {
            out.append(contentsOf: "\"NaN\"".utf8)
        } else {
            out.append(contentsOf: (d > 0 ? "\"Infinity\"" : "\"-Infinity\"").utf8)
        }
    }

    /// Points of the selected series in [start, end), oldest first, series
    /// by series (ascending id). Rows: {"t": ms, "v": value}, with the
    /// series' "metric" and "tags" first unless the query names one series
    /// ("id", or "metric" with "tags").
    public func timeSeriesRange(queryJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        guard !isClosed else { throw CairnError.closed }
        let members = try Database.queryMembers(queryJSON, what: "range query", known: ["start", "end"])
        let selector = try SeriesSelector.parse(members)
        let start = try Database.timeMember(members, "start", default: TimeSeriesFormat.minTime)
        let end = try Database.timeMember(members, "end", default: TimeSeriesFormat.maxTime + 1)
        let view = try engine.readView()
        let pin = engine.pin(view)
        let ids = start < end ? try selector.ids(in: self, view: view) : []
        let labelled = !selector.isSingle
        let ticket = engine.interrupts.ticket
        var next = 0
        var reader: SeriesReader?
        var label: [UInt8] = []
        var index = 0
        return DocumentCursor(database: self) { [self] out in
            _ = pin
            while true {
                if let current = reader, index < current.times.count {
                    out.append(UInt8(ascii: "{"))
                    if labelled { out.append(contentsOf: label) }
                    out.append(contentsOf: "\"t\":".utf8)
                    JSONValue.writeInteger(current.times[index], to: &out)
                    out.append(contentsOf: ",\"v\":".utf8)
                    Database.writeValue(current.values[index], isInteger: current.isInteger, to: &out)
                    out.append(UInt8(ascii: "}"))
                    index += 1
                    return true
                }
                try engine.interrupts.check(ticket)
                index = 0
                if let current = reader, try current.nextBucket() { continue }
                guard next < ids.count else { return false }
                let id = ids[next]
                next += 1
                if labelled {
                    label.removeAll()
                    if let key = try seriesKey(of: id, view: view) { key.writeJSONMembers(to: &label) }
                    label.append(UInt8(ascii: ","))
                }
                reader = try SeriesReader(database: self, view: view, id: id, start: start, end: end)
            }
        }
    }

    /// The newest point at or before "as_of" (default: the latest) of each
    /// selected series; a series without one is left out. Rows:
    /// {"id", "metric", "tags", "t", "v"}.
    public func timeSeriesLast(queryJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        guard !isClosed else { throw CairnError.closed }
        let members = try Database.queryMembers(queryJSON, what: "last query", known: ["as_of"])
        let selector = try SeriesSelector.parse(members)
        let asOf = min(try Database.timeMember(members, "as_of", default: TimeSeriesFormat.maxTime), TimeSeriesFormat.maxTime)
        let view = try engine.readView()
        let pin = engine.pin(view)
        // Every series: the catalog is walked once, giving each id and its
        // key, rather than listed first and then read again by id.
        let all = selector.selectsAll
        let ids = all ? [] : try selector.ids(in: self, view: view)
        let finder = try NewestPointFinder(database: self, view: view)
        let catalog = try SeriesKeyReader(database: self, view: view)
        let scratch = RowWriter.Scratch()
        let ticket = engine.interrupts.ticket
        var next = 0
        return DocumentCursor(database: self) { [self] out in
            _ = pin
            while true {
                let id: UInt64
                if all {
                    guard let walked = try catalog.next() else { return false }
                    id = walked
                } else {
                    guard next < ids.count else { return false }
                    id = ids[next]
                }
                next += 1
                if next & 255 == 0 { try engine.interrupts.check(ticket) }
                guard let point = try finder.newest(id: id, asOf: asOf) else { continue }
                let isInteger = SeriesID.isInteger(id)
                // The row in one piece when the key and the value allow
                // (RowWriter), else member by member.
                let written = try catalog.withKey(of: id) { key -> Bool in
                    let capacity = 6 + RowWriter.integerCapacity + RowWriter.membersCapacity(key.count) + 5 + RowWriter.integerCapacity
                        + 5 + RowWriter.decimalCapacity + 1
                    if try RowWriter.append(capacity: capacity, scratch: scratch, to: &out, { row in
                        row.text(RowWriter.Text.openID)
                        row.integer(Int64(bitPattern: id))
                        row.text(UInt64(UInt8(ascii: ",")), 1)
                        guard try row.members(key) else { return false }
                        row.text(RowWriter.Text.time)
                        row.integer(point.t)
                        row.text(RowWriter.Text.value)
                        if isInteger {
                            row.integer(Int64(bitPattern: point.v))
                        } else {
                            guard Double(bitPattern: point.v).isFinite, row.decimal(Double(bitPattern: point.v)) else { return false }
                        }
                        row.text(RowWriter.Text.close)
                        return true
                    }) { return true }
                    out.appendText("{\"id\":")
                    JSONValue.writeInteger(Int64(bitPattern: id), to: &out)
                    out.append(UInt8(ascii: ","))
                    try SeriesKey.writeJSONMembers(bytes: key, to: &out)
                    out.appendText(",\"t\":")
                    JSONValue.writeInteger(point.t, to: &out)
                    out.appendText(",\"v\":")
                    Database.writeValue(point.v, isInteger: isInteger, to: &out)
                    out.append(UInt8(ascii: "}"))
                    return true
                }
                // A series the catalog does not hold is left out.
                guard written != nil else { continue }
                return true
            }
        }
    }

    /// The selected series: rows {"id", "metric", "tags", "type"}.
    public func timeSeriesSeries(queryJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        guard !isClosed else { throw CairnError.closed }
        let members = try Database.queryMembers(queryJSON, what: "series query", known: [])
        let selector = try SeriesSelector.parse(members)
        let view = try engine.readView()
        let pin = engine.pin(view)
        let ids = try selector.ids(in: self, view: view)
        var next = 0
        return DocumentCursor(database: self) { [self] out in
            _ = pin
            while next < ids.count {
                let id = ids[next]
                next += 1
                guard let key = try seriesKey(of: id, view: view) else { continue }
                out.append(contentsOf: "{\"id\":".utf8)
                JSONValue.writeInteger(Int64(bitPattern: id), to: &out)
                out.append(UInt8(ascii: ","))
                key.writeJSONMembers(to: &out)
                out.append(contentsOf: (SeriesID.isInteger(id) ? ",\"type\":\"int\"}" : ",\"type\":\"float\"}").utf8)
                return true
            }
            return false
        }
    }

    /// The id of a series given as {"metric", "tags", "type"}, created when
    /// missing ("type": "float" (default) or "int" applies then; an
    /// existing series of the other type is INVALID_ARGUMENT).
    public func timeSeriesID(seriesJSON: UnsafeRawBufferPointer, create: Bool = true) throws -> UInt64? {
        let value = try JSONValue.parse(seriesJSON, what: "series")
        guard case .object(let members) = value else { throw CairnError.invalidArgument("series must be a JSON object, not \(value.typeName)") }
        var metric: String?, tags: JSONValue?, wantsInteger: Bool?
        for (key, member) in members {
            switch key {
            case "metric":
                guard case .string(let text) = member else { throw CairnError.invalidArgument("'metric' must be a string") }
                metric = text
            case "tags": tags = member
            case "type":
                guard case .string(let text) = member, text == "float" || text == "int" else {
                    throw CairnError.invalidArgument("'type' must be \"float\" or \"int\"")
                }
                wantsInteger = text == "int"
            default: throw CairnError.invalidArgument("unknown series field '\(key)' (known: metric, tags, type)")
            }
        }
        guard let metric else { throw CairnError.invalidArgument("the series has no 'metric'") }
        let key = try SeriesKey(metric: metric, tags: try SeriesKey.parseTags(tags, "'tags'"))
        guard let id = try seriesID(for: key, create: create, isInteger: wantsInteger ?? false) else { return nil }
        if let wantsInteger, wantsInteger != SeriesID.isInteger(id) {
            throw CairnError.invalidArgument("series \(key.description) holds \(SeriesID.isInteger(id) ? "int64" : "float64") values")
        }
        return id
    }

    /// Deletes the points in [start, end) of every selected series, in one
    /// atomic write: whole buckets by range deletion, the buckets at the
    /// edges by a deletion chunk (TimeSeriesFormat). Returns how many series
    /// it touched.
    public func deletePoints(queryJSON: UnsafeRawBufferPointer) throws -> Int {
        guard !isClosed else { throw CairnError.closed }
        let members = try Database.queryMembers(queryJSON, what: "delete", known: ["start", "end"])
        let selector = try SeriesSelector.parse(members)
        let start = try Database.timeMember(members, "start", default: TimeSeriesFormat.minTime)
        let end = try Database.timeMember(members, "end", default: TimeSeriesFormat.maxTime + 1)
        guard start < end else { return 0 }
        return try timeSeries.packLock.withLock {
            let view = try engine.readView()
            let ids = try selector.ids(in: self, view: view)
            var batch = WriteBatch()
            let width = TimeSeriesFormat.bucketMillis
            for id in ids {
                let firstBucket = TimeSeriesFormat.bucket(of: start)
                let lastBucket = TimeSeriesFormat.bucket(of: end - 1)
                let fullStart = firstBucket == start ? start : firstBucket + width
                let fullEnd = TimeSeriesFormat.bucket(of: end) == end ? end : lastBucket
                if fullStart < fullEnd {
                    let lower = TimeSeriesFormat.bucketPrefix(id, fullStart)
                    let upper = TimeSeriesFormat.bucketPrefix(id, fullEnd)
                    lower.withUnsafeBytes { l in upper.withUnsafeBytes { batch.deleteRange(l, $0) } }
                    // And the bodies of form-3 chunks there.
                    let bodyLower = TimeSeriesFormat.bodyPrefix(id, fullStart)
                    let bodyUpper = TimeSeriesFormat.bodyPrefix(id, fullEnd)
                    bodyLower.withUnsafeBytes { l in bodyUpper.withUnsafeBytes { batch.deleteRange(l, $0) } }
                }
                var edges: [Int64] = []
                if firstBucket != start { edges.append(firstBucket) }
                if TimeSeriesFormat.bucket(of: end) != end && lastBucket != firstBucket { edges.append(lastBucket) }
                if TimeSeriesFormat.bucket(of: end) != end && lastBucket == firstBucket && firstBucket == start { edges.append(lastBucket) }
                for bucket in edges {
                    var key = TimeSeriesFormat.bucketPrefix(id, bucket)
                    key.removeFirst()
                    key.append(contentsOf: repeatElement(0, count: 8))
                    key.append(TimeSeriesFormat.deletion)
                    var value = [UInt8](repeating: 0, count: 8)
                    Varint.append(TimeSeriesFormat.zigzag(max(start, bucket)), to: &value)
                    Varint.append(TimeSeriesFormat.zigzag(min(end, bucket + width)), to: &value)
                    key.withUnsafeBytes { k in value.withUnsafeBytes { batch.putStamped(k, $0, sequenceOffset: TimeSeriesFormat.sequenceOffset, namespace: .timeSeries) } }
                }
            }
            try engine.write(batch)
            for id in ids {
                // The edge buckets now hold a deletion: pack them.
                timeSeries.noteWritten([TimeSeriesLayer.Target(id: id, bucket: TimeSeriesFormat.bucket(of: start))], database: self)
            }
            return ids.count
        }
    }
}
