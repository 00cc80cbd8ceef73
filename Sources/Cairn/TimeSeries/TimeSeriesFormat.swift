/// The time-series layer's keys (docs/format/timeseries.md). Everything
/// lives behind namespace 0x08 and a one-byte kind. Part of the on-disk
/// format; never change a value:
///
///     0x08 0x01 | series key                       -> series id (u64 BE)
///     0x08 0x02 | series id (u64 BE)               -> series key
///     0x08 0x03 | tag key 0x00 tag value 0x00 | id -> (empty)   inverted index
///     0x08 0x04 | id | bucket (i64 BE, sign bit flipped) | sequence (u64 BE) | form (u8) -> chunk
///     0x08 0x05 | 'm' metric                       -> retention (JSON)
///     0x08 0x05 | 'r' rule name                    -> downsampling rule (JSON)
///     0x08 0x06 | id | bucket | sequence           -> the Gorilla chunk of a form-3 chunk key
///
/// A series key is the metric and the tags sorted by tag key, each followed
/// by a 0x00 byte: `metric 0x00 key1 0x00 value1 0x00 key2 ...` (so names
/// hold no NUL byte). The metric is indexed as the tag `__name__`.
///
/// A series id is `(number << 1) | isInteger`: numbers count from 1 in
/// creation order, and the low bit says whether the series holds int64
/// values (1) or float64 values (0), so a write by id needs no lookup.
///
/// Points are kept in chunks per series and per two-hour bucket of time
/// (`bucketMillis`), so a range read scans the few chunk keys of its
/// buckets. Each write batch adds one chunk per (series, bucket) it touches,
/// keyed by the batch's commit sequence, which the engine stamps into the
/// key at commit (WriteBatch.putStamped): chunks of one bucket sort in
/// commit order, and at equal timestamps the later chunk wins. Forms:
///
///     0 written chunk:  commit time (u64 BE, stamped) | Gorilla chunk
///     1 packed chunk:   Gorilla chunk (the merge of a bucket's chunks,
///                       keyed by the newest sequence it merged)
///     2 deletion:       commit time (u64 BE, stamped) | varint zigzag start | varint zigzag end
///                       hides the points of older chunks in [start, end)
///     3 packed apart:   varint (last time - bucket) | last value (u64 LE):
///                       a packed chunk whose Gorilla chunk is kept under
///                       0x08 0x06 with the same id, bucket and sequence, so
///                       that the chunk keys stay small and "latest" reads
///                       walk them without loading the points
///
/// Packing (TimeSeriesLayer+Packing.swift) merges a bucket's chunks into one
/// packed chunk in the background, dropping deletions and replaced points.
enum TimeSeriesFormat {
    static let seriesByKey: UInt8 = 0x01
    static let seriesByID: UInt8 = 0x02
    static let tagIndex: UInt8 = 0x03
    static let chunks: UInt8 = 0x04
    static let settings: UInt8 = 0x05
    static let bodies: UInt8 = 0x06

    static let written: UInt8 = 0
    static let packed: UInt8 = 1
    static let deletion: UInt8 = 2
    static let packedApart: UInt8 = 3

    /// The width of a chunk's bucket: two hours, as Gorilla's and
    /// Prometheus's blocks. Part of the on-disk format.
    static let bucketMillis: Int64 = 7_200_000

    /// Timestamps are int64 milliseconds since the Unix epoch in
    /// [minTime, maxTime]: about +-146 million years, and far enough from
    /// the ends of Int64 that bucket and window arithmetic cannot overflow.
    static let minTime: Int64 = -(1 << 62)
    static let maxTime: Int64 = (1 << 62) - 1

    /// The tag name the metric is indexed under.
    static let metricTag = "__name__"

    /// The length of a chunk key, namespace byte included.
    static let chunkKeyLength = 27
    /// Where the stamped sequence sits in a chunk's engine key.
    static let sequenceOffset = 18

    static func checkTime(_ t: Int64, _ what: String = "timestamp") throws {
        guard t >= minTime && t <= maxTime else {
            throw CairnError.invalidArgument("\(what) \(t) is out of range (timestamps are milliseconds in [-2^62, 2^62))")
        }
    }

    /// The start of the bucket holding `t`. REQUIRES: t in [minTime, maxTime].
    @inline(__always)
    static func bucket(of t: Int64) -> Int64 {
        // Safe: |t| < 2^62, so the floored remainder and the difference fit.
        let r = t % bucketMillis
        return r < 0 ? t - r - bucketMillis : t - r
    }

    /// Floors `t` to a multiple of `width` (> 0). REQUIRES: |t| < 2^62.
    @inline(__always)
    static func floor(_ t: Int64, _ width: Int64) -> Int64 {
        let r = t % width
        return r < 0 ? t - r - width : t - r
    }

    @inline(__always)
    static func sortable(_ t: Int64) -> UInt64 { UInt64(bitPattern: t) ^ (1 << 63) }

    @inline(__always)
    static func unsortable(_ u: UInt64) -> Int64 { Int64(bitPattern: u ^ (1 << 63)) }

    static func appendBE(_ v: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }

    static func loadBE(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// 0x08 0x04 | id | bucket, the prefix of a bucket's chunks (19 bytes).
    static func bucketPrefix(_ id: UInt64, _ bucket: Int64) -> [UInt8] {
        var key: [UInt8] = [Namespace.timeSeries.rawValue, chunks]
        key.reserveCapacity(chunkKeyLength)
        appendBE(id, to: &key)
        appendBE(sortable(bucket), to: &key)
        return key
    }

    /// A chunk's full engine key.
    static func chunkKey(_ id: UInt64, _ bucket: Int64, sequence: UInt64, form: UInt8) -> [UInt8] {
        var key = bucketPrefix(id, bucket)
        appendBE(sequence, to: &key)
        key.append(form)
        return key
    }

    /// 0x08 0x06 | id | bucket, the prefix of a bucket's chunk bodies.
    static func bodyPrefix(_ id: UInt64, _ bucket: Int64) -> [UInt8] {
        var key = bucketPrefix(id, bucket)
        key[1] = bodies
        return key
    }

    /// The engine key of a form-3 chunk's body (26 bytes).
    static func bodyKey(_ id: UInt64, _ bucket: Int64, sequence: UInt64) -> [UInt8] {
        var key = bodyPrefix(id, bucket)
        appendBE(sequence, to: &key)
        return key
    }

    /// A form-3 chunk key's value: its chunk's last point.
    static func packedApartValue(lastTime: Int64, lastBits: UInt64, bucket: Int64) -> [UInt8] {
        var value: [UInt8] = []
        // Safe: the last time lies in [bucket, bucket + bucketMillis).
        Varint.append(UInt64(lastTime - bucket), to: &value)
        value.appendUInt64LE(lastBits)
        return value
    }

    /// The last point a form-3 chunk key's value holds; CORRUPTION when it
    /// is malformed or outside the bucket.
    static func parsePackedApartValue(_ value: UnsafeRawBufferPointer, bucket: Int64) throws -> (t: Int64, v: UInt64) {
        var reader = ByteReader(value, what: "time-series chunk")
        let offset = try reader.readVarint()
        guard offset < UInt64(bucketMillis) else { throw CairnError.corruption("time-series chunk: last timestamp outside its bucket") }
        let bits = try reader.readUInt64LE()
        guard reader.isAtEnd else { throw CairnError.corruption("time-series chunk: bytes after a packed chunk's last point") }
        return (bucket + Int64(offset), bits)
    }

    /// The parts of a chunk's engine key; nil when it is not one.
    static func parseChunkKey(_ key: UnsafeRawBufferPointer) -> (id: UInt64, bucket: Int64, sequence: UInt64, form: UInt8)? {
        guard key.count == chunkKeyLength, key[0] == Namespace.timeSeries.rawValue, key[1] == chunks else { return nil }
        return (loadBE(key, 2), unsortable(loadBE(key, 10)), loadBE(key, 18), key[26])
    }

    static func seriesKeyKey(_ seriesKey: [UInt8]) -> [UInt8] {
        [Namespace.timeSeries.rawValue, seriesByKey] + seriesKey
    }

    static func seriesIDKey(_ id: UInt64) -> [UInt8] {
        var key: [UInt8] = [Namespace.timeSeries.rawValue, seriesByID]
        appendBE(id, to: &key)
        return key
    }

    /// 0x08 0x03 | name 0x00 value 0x00 (the prefix of one tag value's
    /// entries); with `value` nil, 0x08 0x03 | name 0x00 (every value).
    static func tagPrefix(_ name: [UInt8], _ value: [UInt8]?) -> [UInt8] {
        var key: [UInt8] = [Namespace.timeSeries.rawValue, tagIndex]
        key.append(contentsOf: name)
        key.append(0)
        if let value {
            key.append(contentsOf: value)
            key.append(0)
        }
        return key
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}
