/// A series' identity: a metric name and a set of tags
/// (`cpu.usage{host="a",region="eu"}`), in the canonical byte form the
/// catalog stores (TimeSeriesFormat): the metric, then the tags sorted by
/// name, each part followed by 0x00.
public struct SeriesKey: Hashable, Sendable {
    public let metric: String
    /// Sorted by name; names are unique.
    public let tags: [(name: String, value: String)]

    /// The longest series key in bytes.
    static let maxBytes = 16 << 10

    public init(metric: String, tags: [(name: String, value: String)]) throws {
        try SeriesKey.checkName(metric, "metric name")
        var sorted = tags
        sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for (index, tag) in sorted.enumerated() {
            try SeriesKey.checkName(tag.name, "tag name")
            guard tag.name != TimeSeriesFormat.metricTag else {
                throw CairnError.invalidArgument("the tag name '\(TimeSeriesFormat.metricTag)' is reserved for the metric")
            }
            try SeriesKey.checkName(tag.value, "value of tag '\(tag.name)'")
            if index > 0 && sorted[index - 1].name == tag.name {
                throw CairnError.invalidArgument("tag '\(tag.name)' appears twice in series \(metric)")
            }
        }
        self.metric = metric
        self.tags = sorted
        guard bytes.count <= SeriesKey.maxBytes else {
            throw CairnError.invalidArgument("series key of \(metric) is \(bytes.count) bytes; the limit is \(SeriesKey.maxBytes)")
        }
    }

    private init(trusted metric: String, tags: [(name: String, value: String)]) {
        self.metric = metric
        self.tags = tags
    }

    static func checkName(_ name: String, _ what: String) throws {
        guard !name.isEmpty else { throw CairnError.invalidArgument("\(what) is empty") }
        guard !name.utf8.contains(0) else { throw CairnError.invalidArgument("\(what) contains a NUL byte") }
    }

    /// The canonical bytes (see the type's comment).
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: metric.utf8)
        out.append(0)
        for tag in tags {
            out.append(contentsOf: tag.name.utf8)
            out.append(0)
            out.append(contentsOf: tag.value.utf8)
            out.append(0)
        }
        return out
    }

    /// Decodes canonical bytes read from the catalog.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> SeriesKey {
        var parts: [String] = []
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 0 {
            parts.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
            start = i + 1
        }
        guard start == bytes.count, parts.count % 2 == 1 else { throw CairnError.corruption("time-series catalog: a malformed series key") }
        var tags: [(name: String, value: String)] = []
        var i = 1
        while i < parts.count {
            tags.append((parts[i], parts[i + 1]))
            i += 2
        }
        return SeriesKey(trusted: parts[0], tags: tags)
    }

    public func value(ofTag name: String) -> String? { tags.first { $0.name == name }?.value }

    /// `metric{name="value",...}`, as Prometheus writes a series.
    public var description: String {
        guard !tags.isEmpty else { return metric }
        return metric + "{" + tags.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    public static func == (a: SeriesKey, b: SeriesKey) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    /// Writes the members of canonical bytes read from the catalog as
    /// `writeJSONMembers` does: a plain key (RowWriter.members) with one
    /// copy, any other through `decode`, which repairs bad UTF-8, and
    /// `writeString`. Nothing is written when the key is malformed.
    static func writeJSONMembers(bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) throws {
        // No reserveCapacity here: `out` is a cursor's whole batch, and an
        // exact reservation per row reallocates (and copies) the batch
        // every row, where appending grows it geometrically.
        let done = try RowWriter.append(capacity: RowWriter.membersCapacity(bytes.count), to: &out) { row in
            try row.members(bytes)
        }
        if !done { try decode(bytes).writeJSONMembers(to: &out) }
    }

    /// Writes `"metric":"...","tags":{...}` (no braces) into `out`.
    func writeJSONMembers(to out: inout [UInt8]) {
        out.append(contentsOf: "\"metric\":".utf8)
        JSONValue.writeString(metric, to: &out)
        out.append(contentsOf: ",\"tags\":{".utf8)
        for (i, tag) in tags.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(tag.name, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONValue.writeString(tag.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Parses `"tags": {"name": "value", ...}`.
    static func parseTags(_ value: JSONValue?, _ what: String) throws -> [(name: String, value: String)] {
        guard let value else { return [] }
        guard case .object(let members) = value else { throw CairnError.invalidArgument("\(what) must be a JSON object, not \(value.typeName)") }
        return try members.map { member in
            guard case .string(let text) = member.value else {
                throw CairnError.invalidArgument("tag '\(member.key)' must be a string, not \(member.value.typeName)")
            }
            return (member.key, text)
        }
    }
}

/// A 128-bit fingerprint of a series key: the key of the in-memory cache of
/// series ids, 16 bytes a series instead of the whole key. Two 64-bit hashes
/// with independent seeds: for two different keys to share one, both must
/// collide (about 2^-128 a pair; at 10^9 series, 10^-21 for any pair).
struct SeriesFingerprint: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ bytes: UnsafeRawBufferPointer) {
        high = Hash64.hash(bytes, seed: 0x7153_5E81_E5A1_D0C1)
        low = Hash64.hash(bytes, seed: 0x2545_F491_4F6C_DD1D)
    }

    init(_ bytes: [UInt8]) { self = bytes.withUnsafeBytes { SeriesFingerprint($0) } }
}

/// Series ids: `(number << 1) | isInteger` (TimeSeriesFormat).
enum SeriesID {
    @inline(__always) static func isInteger(_ id: UInt64) -> Bool { id & 1 == 1 }
    @inline(__always) static func number(_ id: UInt64) -> UInt64 { id >> 1 }
    static func make(number: UInt64, isInteger: Bool) -> UInt64 { number << 1 | (isInteger ? 1 : 0) }
}
