/// The public entry points of the time-series layer that take columns of
/// points (the fast path of cairn_ts_write_float and cairn_ts_write_int).
/// Every time-series operation runs on the database itself: a call is one
/// atomic write, and there is no transaction scope (time-series writes are
/// not recorded in the change feed either).
extension Database {
    /// Writes `count` float64 points: ids[i] at times[i] (milliseconds) with
    /// values[i]. NaN and infinities are values like any other. A series
    /// holding int64 values refuses them (INVALID_ARGUMENT).
    public func writeFloatPoints(ids: UnsafePointer<UInt64>?, times: UnsafePointer<Int64>?, values: UnsafePointer<Double>?, count: Int) throws {
        guard count > 0 else { return }
        guard let ids, let times, let values else { throw CairnError.invalidArgument("ids, times and values must not be NULL when count is \(count)") }
        try values.withMemoryRebound(to: UInt64.self, capacity: count) { bits in
            try writePoints(ids: ids, times: times, values: bits, count: count, kind: .float)
        }
    }

    /// Writes `count` int64 points; a float64 series stores them converted.
    public func writeIntPoints(ids: UnsafePointer<UInt64>?, times: UnsafePointer<Int64>?, values: UnsafePointer<Int64>?, count: Int) throws {
        guard count > 0 else { return }
        guard let ids, let times, let values else { throw CairnError.invalidArgument("ids, times and values must not be NULL when count is \(count)") }
        try values.withMemoryRebound(to: UInt64.self, capacity: count) { bits in
            try writePoints(ids: ids, times: times, values: bits, count: count, kind: .int)
        }
    }
}

extension Database {
    /// The database's clock, in milliseconds since the epoch.
    public var nowMillis: Int64 { engine.env.nowMillis() }
}
