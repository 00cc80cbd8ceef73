import CCairn
import Cairn

// Time series: argument conversion only; the layer is Sources/Cairn/TimeSeries.
// Every function takes a database handle only (a transaction handle is
// INVALID_ARGUMENT).

private func query(_ pointer: UnsafePointer<CChar>?, _ length: Int, _ what: String) throws -> UnsafeRawBufferPointer {
    let view = try bytes(pointer, length, what)
    guard view.count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return view
}

/// An empty query reads as {}.
private func withQuery<T>(_ pointer: UnsafePointer<CChar>?, _ length: Int, _ what: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
    let view = try query(pointer, length, what)
    if view.count == 0 { return try Array("{}".utf8).withUnsafeBytes { try body($0) } }
    return try body(view)
}

@c @implementation
public func cairn_ts_series_id(_ db: OpaquePointer!, _ seriesJSON: UnsafePointer<CChar>!, _ seriesLength: Int,
                               _ id: UnsafeMutablePointer<UInt64>!, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    id?.pointee = 0
    return reportingStatus(errmsg) {
        let out = try required(id, "id")
        let database = try databaseOnly(db)
        out.pointee = try database.timeSeriesID(seriesJSON: try bytes(seriesJSON, seriesLength, "series_json"))!
        return .ok
    }
}

@c @implementation
public func cairn_ts_write(_ db: OpaquePointer!, _ pointsJSON: UnsafePointer<CChar>!, _ pointsLength: Int,
                           _ written: UnsafeMutablePointer<Int>!, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    written?.pointee = 0
    return reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        let count = try database.writePoints(json: try bytes(pointsJSON, pointsLength, "points_json"))
        written?.pointee = count
        return .ok
    }
}

@c @implementation
public func cairn_ts_write_float(_ db: OpaquePointer!, _ ids: UnsafePointer<UInt64>!, _ times: UnsafePointer<Int64>!,
                                 _ values: UnsafePointer<Double>!, _ count: Int,
                                 _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        guard count >= 0 else { throw CairnError(.invalidArgument, "count is negative") }
        try database.writeFloatPoints(ids: ids, times: times, values: values, count: count)
        return .ok
    }
}

@c @implementation
public func cairn_ts_write_int(_ db: OpaquePointer!, _ ids: UnsafePointer<UInt64>!, _ times: UnsafePointer<Int64>!,
                               _ values: UnsafePointer<Int64>!, _ count: Int,
                               _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        guard count >= 0 else { throw CairnError(.invalidArgument, "count is negative") }
        try database.writeIntPoints(ids: ids, times: times, values: values, count: count)
        return .ok
    }
}

@c @implementation
public func cairn_ts_import(_ db: OpaquePointer!, _ lines: UnsafePointer<CChar>!, _ linesLength: Int,
                            _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int, _ written: UnsafeMutablePointer<Int>!,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    written?.pointee = 0
    return reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        let count = try database.importLines(try bytes(lines, linesLength, "lines"),
                                             optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        written?.pointee = count
        return .ok
    }
}

@c @implementation
public func cairn_ts_delete(_ db: OpaquePointer!, _ queryJSON: UnsafePointer<CChar>!, _ queryLength: Int,
                            _ series: UnsafeMutablePointer<Int>!, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    series?.pointee = 0
    return reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        let count = try withQuery(queryJSON, queryLength, "query_json") { try database.deletePoints(queryJSON: $0) }
        series?.pointee = count
        return .ok
    }
}

private func openCursor(_ db: OpaquePointer?, _ queryJSON: UnsafePointer<CChar>?, _ queryLength: Int,
                        _ outCursor: UnsafeMutablePointer<OpaquePointer?>?, _ errmsg: ErrorMessageOut,
                        _ make: (Database, UnsafeRawBufferPointer) throws -> DocumentCursor) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let database = try databaseOnly(db)
        let cursor = try withQuery(queryJSON, queryLength, "query_json") { try make(database, $0) }
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}

@c @implementation
public func cairn_ts_range(_ db: OpaquePointer!, _ queryJSON: UnsafePointer<CChar>!, _ queryLength: Int,
                           _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                           _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    openCursor(db, queryJSON, queryLength, outCursor, errmsg) { try $0.timeSeriesRange(queryJSON: $1) }
}

@c @implementation
public func cairn_ts_last(_ db: OpaquePointer!, _ queryJSON: UnsafePointer<CChar>!, _ queryLength: Int,
                          _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                          _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    openCursor(db, queryJSON, queryLength, outCursor, errmsg) { try $0.timeSeriesLast(queryJSON: $1) }
}

@c @implementation
public func cairn_ts_series(_ db: OpaquePointer!, _ queryJSON: UnsafePointer<CChar>!, _ queryLength: Int,
                            _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    openCursor(db, queryJSON, queryLength, outCursor, errmsg) { try $0.timeSeriesSeries(queryJSON: $1) }
}

@c @implementation
public func cairn_ts_aggregate(_ db: OpaquePointer!, _ queryJSON: UnsafePointer<CChar>!, _ queryLength: Int,
                               _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                               _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    openCursor(db, queryJSON, queryLength, outCursor, errmsg) { try $0.timeSeriesAggregate(queryJSON: $1) }
}

@c @implementation
public func cairn_ts_set_retention(_ db: OpaquePointer!, _ metric: UnsafePointer<CChar>!, _ metricLength: Int, _ keepMs: Int64,
                                   _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.setRetention(metric: try text(metric, metricLength, "metric"), millis: keepMs)
        return .ok
    }
}

@c @implementation
public func cairn_ts_create_rule(_ db: OpaquePointer!, _ ruleJSON: UnsafePointer<CChar>!, _ ruleLength: Int,
                                 _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.createRule(json: try bytes(ruleJSON, ruleLength, "rule_json"))
        return .ok
    }
}

@c @implementation
public func cairn_ts_drop_rule(_ db: OpaquePointer!, _ name: UnsafePointer<CChar>!, _ nameLength: Int,
                               _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.dropRule(name: try text(name, nameLength, "name"))
        return .ok
    }
}

@c @implementation
public func cairn_ts_settings(_ db: OpaquePointer!, _ json: TextOut!, _ jsonLength: LengthOut!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        let database = try databaseOnly(db)
        guard !database.isClosed else { throw CairnError(.closed, "the database is closed") }
        return database.timeSeriesSettings()
    }
}

@c @implementation
public func cairn_ts_set_maintenance_interval(_ db: OpaquePointer!, _ intervalMs: Int64,
                                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.setMaintenanceInterval(millis: intervalMs)
        return .ok
    }
}

@c @implementation
public func cairn_ts_maintain(_ db: OpaquePointer!, _ nowMs: Int64, _ reportJSON: TextOut!, _ reportLength: LengthOut!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(reportJSON, reportLength, required: nil, errmsg) {
        let database = try databaseOnly(db)
        return try database.maintainTimeSeries(now: nowMs == Int64.min ? database.nowMillis : nowMs)
    }
}

@c @implementation
public func cairn_ts_compact(_ db: OpaquePointer!, _ packed: UnsafeMutablePointer<Int>!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    packed?.pointee = 0
    return reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        let count = try database.compactTimeSeries()
        packed?.pointee = count
        return .ok
    }
}
