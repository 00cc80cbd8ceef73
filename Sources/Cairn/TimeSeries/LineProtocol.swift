/// InfluxDB's line protocol, for bulk loads:
///
///     measurement[,tag=value...] field=value[,field=value...] [timestamp]
///
/// Each field becomes a series of its own: the metric is
/// `measurement.field` and the tags are the line's (one value per series,
/// as Prometheus stores InfluxDB's fields: queries, aggregates and
/// downsampling then work on any field alike). Values: `1.5`, `-2e3`, `1`
/// (float64); `1i` (int64); `1u` (unsigned, int64 when it fits); `t`,
/// `true`, `f`, `false` and their capitalised forms (int64 1 and 0).
/// Strings are refused. Escapes: `\,` and `\ ` in measurements, also `\=`
/// in tag and field keys and tag values. Empty lines and lines starting
/// with `#` are skipped; a missing timestamp means now. The timestamp's
/// unit is the import's "precision": "ns" (the default, as InfluxDB), "us",
/// "ms" or "s"; it is floored to milliseconds.
///
/// A malformed line is INVALID_ARGUMENT naming its line number, and the
/// whole text is checked before anything is written. The points are then
/// written in batches of up to 65,536 (each atomic; a crash during an
/// import keeps a prefix of its batches).
struct LineProtocolParser {
    enum Precision: String { case ns, us, ms, s }

    struct Field {
        var name: UnsafeRawBufferPointer
        var bits: UInt64
        var isInteger: Bool
    }

    let precision: Precision
    let now: Int64

    /// Calls `body` with each point of `text`: the line number, the series
    /// prefix (measurement and tags as written), the parsed measurement and
    /// tags (unescaped), the field, and the timestamp in milliseconds.
    func parse(_ text: UnsafeRawBufferPointer,
               _ body: (_ line: Int, _ seriesText: UnsafeRawBufferPointer, _ measurement: String, _ tags: [(name: String, value: String)],
                        _ fields: [Field], _ time: Int64) throws -> Void) throws {
        var lineStart = 0
        var lineNumber = 0
        var fields: [Field] = []
        while lineStart < text.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < text.count && text[lineEnd] != 0x0A { lineEnd += 1 }
            var stop = lineEnd
            if stop > lineStart && text[stop - 1] == 0x0D { stop -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: text[lineStart..<stop])
            lineStart = lineEnd + 1
            var first = 0
            while first < line.count && (line[first] == 0x20 || line[first] == 0x09) { first += 1 }
            if first == line.count || line[first] == UInt8(ascii: "#") { continue }
            fields.removeAll(keepingCapacity: true)
            try parseLine(UnsafeRawBufferPointer(rebasing: line[first...]), lineNumber, &fields, body)
        }
    }

    private func fail(_ line: Int, _ message: String) -> CairnError {
        CairnError.invalidArgument("line protocol, line \(line): \(message)")
    }

    /// Scans to the first unescaped byte of `stops`; returns its index.
    private func scan(_ line: UnsafeRawBufferPointer, from start: Int, stops: (UInt8) -> Bool) -> Int {
        var i = start
        while i < line.count {
            let byte = line[i]
            if byte == UInt8(ascii: "\\") && i + 1 < line.count { i += 2; continue }
            if stops(byte) { return i }
            i += 1
        }
        return i
    }

    private func unescape(_ bytes: UnsafeRawBufferPointer, _ line: Int, _ what: String) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\\") && i + 1 < bytes.count {
                let next = bytes[i + 1]
                if next == UInt8(ascii: ",") || next == UInt8(ascii: " ") || next == UInt8(ascii: "=") || next == UInt8(ascii: "\\") {
                    out.append(next)
                    i += 2
                    continue
                }
            }
            out.append(byte)
            i += 1
        }
        guard !out.isEmpty else { throw fail(line, "empty \(what)") }
        guard !out.contains(0) else { throw fail(line, "\(what) contains a NUL byte") }
        guard let text = String(validating: out, as: UTF8.self) else { throw fail(line, "\(what) is not valid UTF-8") }
        return text
    }

    private func parseLine(_ line: UnsafeRawBufferPointer, _ number: Int, _ fields: inout [Field],
                           _ body: (Int, UnsafeRawBufferPointer, String, [(name: String, value: String)], [Field], Int64) throws -> Void) throws {
        let space = UInt8(ascii: " "), comma = UInt8(ascii: ","), equals = UInt8(ascii: "=")
        let measurementEnd = scan(line, from: 0) { $0 == comma || $0 == space }
        let measurement = try unescape(UnsafeRawBufferPointer(rebasing: line[0..<measurementEnd]), number, "measurement")
        var tags: [(name: String, value: String)] = []
        var i = measurementEnd
        while i < line.count && line[i] == comma {
            let keyEnd = scan(line, from: i + 1) { $0 == equals || $0 == comma || $0 == space }
            guard keyEnd < line.count, line[keyEnd] == equals else { throw fail(number, "tag without '=' at byte \(i + 1)") }
            let valueEnd = scan(line, from: keyEnd + 1) { $0 == comma || $0 == space || $0 == equals }
            guard valueEnd == line.count || line[valueEnd] != equals else { throw fail(number, "unescaped '=' in a tag value at byte \(valueEnd)") }
            tags.append((try unescape(UnsafeRawBufferPointer(rebasing: line[(i + 1)..<keyEnd]), number, "tag key"),
                         try unescape(UnsafeRawBufferPointer(rebasing: line[(keyEnd + 1)..<valueEnd]), number, "tag value")))
            i = valueEnd
        }
        let seriesText = UnsafeRawBufferPointer(rebasing: line[0..<i])
        guard i < line.count, line[i] == space else { throw fail(number, "no fields (expected a space after the measurement and tags)") }
        while i < line.count && line[i] == space { i += 1 }
        // Fields.
        while true {
            let keyEnd = scan(line, from: i) { $0 == equals || $0 == comma || $0 == space }
            guard keyEnd < line.count, line[keyEnd] == equals, keyEnd > i else { throw fail(number, "a field without 'name=value' at byte \(i)") }
            let name = UnsafeRawBufferPointer(rebasing: line[i..<keyEnd])
            var valueEnd = keyEnd + 1
            if valueEnd < line.count && line[valueEnd] == UInt8(ascii: "\"") {
                throw fail(number, "field '\(String(decoding: name, as: UTF8.self))' is a string; only numbers and booleans are stored")
            }
            while valueEnd < line.count && line[valueEnd] != comma && line[valueEnd] != space { valueEnd += 1 }
            let text = UnsafeRawBufferPointer(rebasing: line[(keyEnd + 1)..<valueEnd])
            fields.append(try fieldValue(text, name: name, number))
            i = valueEnd
            if i < line.count && line[i] == comma { i += 1; continue }
            break
        }
        while i < line.count && line[i] == space { i += 1 }
        var time = now
        if i < line.count {
            var end = line.count
            while end > i && (line[end - 1] == space || line[end - 1] == 0x09) { end -= 1 }
            let digits = String(decoding: UnsafeRawBufferPointer(rebasing: line[i..<end]), as: UTF8.self)
            guard let raw = Int64(digits) else { throw fail(number, "bad timestamp '\(digits)'") }
            switch precision {
            case .ns: time = floorDivide(raw, 1_000_000)
            case .us: time = floorDivide(raw, 1000)
            case .ms: time = raw
            case .s:
                let (ms, overflow) = raw.multipliedReportingOverflow(by: 1000)
                guard !overflow else { throw fail(number, "timestamp \(raw) s is out of range") }
                time = ms
            }
            guard time >= TimeSeriesFormat.minTime && time <= TimeSeriesFormat.maxTime else { throw fail(number, "timestamp \(raw) is out of range") }
        }
        try body(number, seriesText, measurement, tags, fields, time)
    }

    private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        // Safe: b > 1, so neither the quotient nor the correction overflows.
        let q = a / b
        return (a % b != 0 && a < 0) ? q - 1 : q
    }

    private func fieldValue(_ text: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, _ number: Int) throws -> Field {
        let string = String(decoding: text, as: UTF8.self)
        let fieldName = String(decoding: name, as: UTF8.self)
        guard let last = text.last else { throw fail(number, "field '\(fieldName)' has no value") }
        switch string {
        case "t", "T", "true", "True", "TRUE": return Field(name: name, bits: 1, isInteger: true)
        case "f", "F", "false", "False", "FALSE": return Field(name: name, bits: 0, isInteger: true)
        default: break
        }
        if last == UInt8(ascii: "i") {
            guard let v = Int64(string.dropLast()) else { throw fail(number, "field '\(fieldName)': bad integer '\(string)'") }
            return Field(name: name, bits: UInt64(bitPattern: v), isInteger: true)
        }
        if last == UInt8(ascii: "u") {
            guard let v = UInt64(string.dropLast()), let signed = Int64(exactly: v) else {
                throw fail(number, "field '\(fieldName)': bad or too large unsigned integer '\(string)'")
            }
            return Field(name: name, bits: UInt64(bitPattern: signed), isInteger: true)
        }
        guard let v = Double(string), string.first != "+" || string.count > 1 else {
            throw fail(number, "field '\(fieldName)': bad number '\(string)'")
        }
        let lower = string.lowercased()
        guard !lower.contains("nan") && !lower.contains("inf") else { throw fail(number, "field '\(fieldName)': bad number '\(string)'") }
        return Field(name: name, bits: v.bitPattern, isInteger: false)
    }
}

extension Database {
    /// Imports line protocol text (LineProtocolParser); options JSON:
    /// {"precision": "ns" | "us" | "ms" | "s"}. Returns the points written.
    public func importLines(_ text: UnsafeRawBufferPointer, optionsJSON: UnsafeRawBufferPointer) throws -> Int {
        guard !isClosed else { throw CairnError.closed }
        var precision = LineProtocolParser.Precision.ns
        if optionsJSON.count > 0 {
            let value = try JSONValue.parse(optionsJSON, what: "import options")
            guard case .object(let members) = value else { throw CairnError.invalidArgument("import options must be a JSON object") }
            for (key, member) in members {
                guard key == "precision" else { throw CairnError.invalidArgument("unknown import option '\(key)' (known: precision)") }
                guard case .string(let text) = member, let p = LineProtocolParser.Precision(rawValue: text) else {
                    throw CairnError.invalidArgument("'precision' must be \"ns\", \"us\", \"ms\" or \"s\"")
                }
                precision = p
            }
        }
        let parser = LineProtocolParser(precision: precision, now: engine.env.nowMillis())
        // First the whole text is checked, so a bad line writes nothing.
        try parser.parse(text) { _, _, _, tags, fields, _ in
            _ = try SeriesKey(metric: "m", tags: tags)
            for field in fields { try SeriesKey.checkName(String(decoding: field.name, as: UTF8.self), "field name") }
        }
        var ids: [UInt64] = [], times: [Int64] = [], values: [UInt64] = []
        var resolved: [[UInt8]: UInt64] = [:]
        var total = 0
        let batchSize = 65_536
        var cacheKey: [UInt8] = []
        try parser.parse(text) { line, seriesText, measurement, tags, fields, time in
            for field in fields {
                cacheKey.removeAll(keepingCapacity: true)
                cacheKey.append(contentsOf: seriesText)
                cacheKey.append(0)
                cacheKey.append(contentsOf: field.name)
                cacheKey.append(field.isInteger ? 1 : 0)
                let id: UInt64
                if let known = resolved[cacheKey] {
                    id = known
                } else {
                    let name = String(decoding: field.name, as: UTF8.self)
                    let key = try SeriesKey(metric: measurement + "." + name, tags: tags)
                    id = try seriesID(for: key, create: true, isInteger: field.isInteger)!
                    if !field.isInteger && SeriesID.isInteger(id) {
                        throw CairnError.invalidArgument("line protocol, line \(line): series \(key.description) holds int64 values; field '\(name)' is a float")
                    }
                    resolved[cacheKey] = id
                }
                ids.append(id)
                times.append(time)
                values.append(field.isInteger && !SeriesID.isInteger(id) ? Double(Int64(bitPattern: field.bits)).bitPattern : field.bits)
            }
            if ids.count >= batchSize {
                try writeMixed(ids: ids, times: times, values: values)
                total += ids.count
                ids.removeAll(keepingCapacity: true)
                times.removeAll(keepingCapacity: true)
                values.removeAll(keepingCapacity: true)
            }
        }
        if !ids.isEmpty {
            try writeMixed(ids: ids, times: times, values: values)
            total += ids.count
        }
        return total
    }
}
