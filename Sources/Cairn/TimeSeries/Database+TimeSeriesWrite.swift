/// Writing points: a call's points, across any number of series, become one
/// write batch (one log record, so all or nothing, also across a crash)
/// holding one Gorilla chunk per (series, bucket) it touches, keyed by the
/// batch's commit sequence (TimeSeriesFormat). Concurrent writers never
/// touch each other's keys, so they need no lock and share group commits.
/// Points at the same timestamp replace each other: later in a call wins
/// within the call, a later call wins across calls.
extension Database {
    /// How the values of a write are given.
    enum PointValues {
        /// Double bit patterns; an int series refuses them (INVALID_ARGUMENT).
        case float
        /// Int64 bit patterns; a float series converts them.
        case int
        /// Each in its series' own type already.
        case native
    }

    /// Writes `count` points given as columns; `values` are bit patterns
    /// as `kind` says.
    func writePoints(ids: UnsafePointer<UInt64>, times: UnsafePointer<Int64>, values: UnsafePointer<UInt64>, count: Int, kind: PointValues) throws {
        guard !isClosed else { throw CairnError.closed }
        guard count > 0 else { return }
        guard count <= Int(Int32.max) else { throw CairnError.invalidArgument("\(count) points in one call; the limit is \(Int32.max)") }
        let layer = timeSeries
        let limit = layer.state.withLock { layer.nextNumber }
        for i in 0..<count {
            try checkSeriesID(ids[i], limit: limit, i)
            let t = times[i]
            guard t >= TimeSeriesFormat.minTime && t <= TimeSeriesFormat.maxTime else {
                throw CairnError.invalidArgument("point \(i): timestamp \(t) is out of range (timestamps are milliseconds in [-2^62, 2^62))")
            }
            if kind == .float && SeriesID.isInteger(ids[i]) {
                throw CairnError.invalidArgument("point \(i): series \(ids[i]) holds int64 values, not float64")
            }
        }
        // The points in (series, time, position) order: each run of one
        // series and bucket becomes a chunk; the last of equal timestamps wins.
        var order = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(truncatingIfNeeded: i) }
            initialized = count
        }
        var sorted = true
        for i in 1..<count where ids[i] < ids[i - 1] || (ids[i] == ids[i - 1] && times[i] < times[i - 1]) {
            sorted = false
            break
        }
        if !sorted {
            order.sort { a, b in
                let ia = Int(a), ib = Int(b)
                if ids[ia] != ids[ib] { return ids[ia] < ids[ib] }
                if times[ia] != times[ib] { return times[ia] < times[ib] }
                return a < b
            }
        }
        var batch = WriteBatch(reservingCapacity: count * 3 + 64)
        var targets: [TimeSeriesLayer.Target] = []
        var runTimes: [Int64] = []
        var runValues: [UInt64] = []
        var value: [UInt8] = []
        var key = [UInt8](repeating: 0, count: TimeSeriesFormat.chunkKeyLength - 1)
        key[0] = TimeSeriesFormat.chunks
        key[key.count - 1] = TimeSeriesFormat.written
        var start = 0
        while start < count {
            let first = Int(order[start])
            let id = ids[first]
            let bucket = TimeSeriesFormat.bucket(of: times[first])
            let bucketEnd = bucket + TimeSeriesFormat.bucketMillis
            runTimes.removeAll(keepingCapacity: true)
            runValues.removeAll(keepingCapacity: true)
            var end = start
            while end < count {
                let i = Int(order[end])
                guard ids[i] == id, times[i] < bucketEnd else { break }
                var bits = values[i]
                if kind == .int && !SeriesID.isInteger(id) { bits = Double(Int64(bitPattern: bits)).bitPattern }
                if let last = runTimes.last, last == times[i] {
                    runValues[runValues.count - 1] = bits
                } else {
                    runTimes.append(times[i])
                    runValues.append(bits)
                }
                end += 1
            }
            value.removeAll(keepingCapacity: true)
            value.append(contentsOf: repeatElement(0, count: 8))  // the commit time, stamped
            runTimes.withUnsafeBufferPointer { t in
                runValues.withUnsafeBufferPointer { v in
                    GorillaChunk.encodeWritten(times: t.baseAddress!, values: v.baseAddress!, count: t.count, isInteger: SeriesID.isInteger(id),
                                               bucket: bucket, into: &value)
                }
            }
            key.withUnsafeMutableBytes { k in
                k.storeBytes(of: id.bigEndian, toByteOffset: 1, as: UInt64.self)
                k.storeBytes(of: TimeSeriesFormat.sortable(bucket).bigEndian, toByteOffset: 9, as: UInt64.self)
            }
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { batch.putStamped(k, $0, sequenceOffset: TimeSeriesFormat.sequenceOffset, namespace: .timeSeries) }
            }
            targets.append(TimeSeriesLayer.Target(id: id, bucket: bucket))
            start = end
        }
        try engine.write(batch)
        EngineStats.bump(engine.stats.puts, by: UInt64(count))
        layer.noteWritten(targets, database: self)
    }

    /// Writes points given as a JSON array of
    /// `{"metric": m, "tags": {...}, "t": ms, "v": number, "type": "float"|"int"}`
    /// ("id" may replace metric and tags; "type" applies when the write
    /// creates the series; "v" may be "NaN", "Infinity" or "-Infinity").
    public func writePoints(json bytes: UnsafeRawBufferPointer) throws -> Int {
        let value = try JSONValue.parse(bytes, what: "points")
        guard case .array(let points) = value else { throw CairnError.invalidArgument("points must be a JSON array, not \(value.typeName)") }
        var ids: [UInt64] = [], times: [Int64] = [], values: [UInt64] = []
        ids.reserveCapacity(points.count)
        times.reserveCapacity(points.count)
        values.reserveCapacity(points.count)
        var resolved: [[UInt8]: UInt64] = [:]
        for (position, point) in points.enumerated() {
            guard case .object(let members) = point else { throw CairnError.invalidArgument("point \(position) must be a JSON object") }
            var metric: String?, tags: JSONValue?, time: Int64?, v: JSONValue?, wantsInteger: Bool?, givenID: UInt64?
            for (key, member) in members {
                switch key {
                case "metric":
                    guard case .string(let text) = member else { throw CairnError.invalidArgument("point \(position): 'metric' must be a string") }
                    metric = text
                case "tags": tags = member
                case "t":
                    guard case .int(let number) = member else { throw CairnError.invalidArgument("point \(position): 't' must be an integer (milliseconds)") }
                    time = number
                case "v": v = member
                case "id":
                    guard case .int(let number) = member, number > 0 else { throw CairnError.invalidArgument("point \(position): 'id' must be a positive integer") }
                    givenID = UInt64(number)
                case "type":
                    guard case .string(let text) = member, text == "float" || text == "int" else {
                        throw CairnError.invalidArgument("point \(position): 'type' must be \"float\" or \"int\"")
                    }
                    wantsInteger = text == "int"
                default:
                    throw CairnError.invalidArgument("point \(position): unknown field '\(key)' (known: metric, tags, id, t, v, type)")
                }
            }
            guard let time else { throw CairnError.invalidArgument("point \(position) has no 't'") }
            try TimeSeriesFormat.checkTime(time, "point \(position): timestamp")
            guard let v else { throw CairnError.invalidArgument("point \(position) has no 'v'") }
            let id: UInt64
            if let givenID {
                id = givenID
            } else {
                guard let metric else { throw CairnError.invalidArgument("point \(position) has neither 'metric' nor 'id'") }
                let key = try SeriesKey(metric: metric, tags: try SeriesKey.parseTags(tags, "point \(position): 'tags'"))
                let bytes = key.bytes
                if let known = resolved[bytes] {
                    id = known
                } else {
                    id = try seriesID(bytes: bytes, create: key, isInteger: wantsInteger ?? false)!
                    resolved[bytes] = id
                }
            }
            if let wantsInteger, wantsInteger != SeriesID.isInteger(id) {
                throw CairnError.invalidArgument("point \(position): the series holds \(SeriesID.isInteger(id) ? "int64" : "float64") values, not \(wantsInteger ? "int64" : "float64")")
            }
            ids.append(id)
            times.append(time)
            values.append(try Database.pointValue(v, isInteger: SeriesID.isInteger(id), "point \(position)"))
        }
        guard !ids.isEmpty else { return 0 }
        try writeMixed(ids: ids, times: times, values: values)
        return ids.count
    }

    /// Writes points whose values already have their series' types.
    func writeMixed(ids: [UInt64], times: [Int64], values: [UInt64]) throws {
        try ids.withUnsafeBufferPointer { i in try times.withUnsafeBufferPointer { t in try values.withUnsafeBufferPointer { v in
            try writePoints(ids: i.baseAddress!, times: t.baseAddress!, values: v.baseAddress!, count: i.count, kind: .native)
        } } }
    }

    /// A value as its series stores it: a JSON number, or "NaN",
    /// "Infinity", "-Infinity" for float series.
    static func pointValue(_ v: JSONValue, isInteger: Bool, _ what: String) throws -> UInt64 {
        switch v {
        case .int(let number):
            return isInteger ? UInt64(bitPattern: number) : Double(number).bitPattern
        case .double(let number):
            guard !isInteger else { throw CairnError.invalidArgument("\(what): the series holds int64 values; \(number) is not an integer") }
            return number.bitPattern
        case .string(let text) where !isInteger:
            switch text {
            case "NaN": return Double.nan.bitPattern
            case "Infinity", "+Infinity", "Inf": return Double.infinity.bitPattern
            case "-Infinity", "-Inf": return (-Double.infinity).bitPattern
            default: throw CairnError.invalidArgument("\(what): 'v' must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
        default:
            throw CairnError.invalidArgument("\(what): 'v' must be a number\(isInteger ? "" : ", \"NaN\", \"Infinity\" or \"-Infinity\"")")
        }
    }
}
