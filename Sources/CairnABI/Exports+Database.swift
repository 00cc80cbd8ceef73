import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Opening, closing and inspecting a database (cairn_db handles).

@c @implementation
public func cairn_open(_ path: UnsafePointer<CChar>!, _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                       _ outDB: UnsafeMutablePointer<OpaquePointer?>!,
                       _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outDB?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outDB, "out_db")
        guard let path else { throw CairnError(.invalidArgument, "the database path is NULL") }
        let options = try bytes(optionsJSON, optionsLength, "options_json")
        let database = try Database.open(path: String(cString: path), optionsJSON: options)
        do {
            out.pointee = try HandleTable.shared.register(database)
        } catch {
            try? database.close()
            throw error
        }
        return .ok
    }
}

@c @implementation
public func cairn_repair(_ path: UnsafePointer<CChar>!, _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                         _ report: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ reportLength: UnsafeMutablePointer<Int>!,
                         _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(report, reportLength, required: nil, errmsg) {
        guard let path else { throw CairnError(.invalidArgument, "the database path is NULL") }
        return try Database.repair(path: String(cString: path), optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
    }
}

@c @implementation
public func cairn_close(_ db: OpaquePointer!, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        if (try? HandleTable.shared.object(db, as: Transaction.self, "transaction")) != nil {
            throw CairnError(.invalidArgument, "cairn_close does not take a transaction handle; use cairn_txn_commit or cairn_txn_rollback")
        }
        guard let database = HandleTable.shared.remove(db, as: Database.self) else { return .ok }
        try database.close()
        return .ok
    }
}

@c @implementation
public func cairn_interrupt(_ db: OpaquePointer!) -> Int32 {
    reportingStatus(nil) {
        try scope(db).database.interrupt()
        return .ok
    }
}

@c @implementation
public func cairn_stats(_ db: OpaquePointer!, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!,
                        _ jsonLength: UnsafeMutablePointer<Int>!,
                        _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        try databaseOnly(db).statsJSON()
    }
}

@c @implementation
public func cairn_metrics(_ db: OpaquePointer!, _ text: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!,
                          _ textLength: UnsafeMutablePointer<Int>!,
                          _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(text, textLength, required: "text", errmsg) {
        try databaseOnly(db).prometheusMetrics()
    }
}

@c @implementation
public func cairn_flush(_ db: OpaquePointer!, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.flush()
        return .ok
    }
}

@c @implementation
public func cairn_compact_range(_ db: OpaquePointer!, _ start: UnsafePointer<UInt8>!, _ startLength: Int,
                                _ end: UnsafePointer<UInt8>!, _ endLength: Int,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        let lower = try bytes(start, startLength, "start")
        let upper = try bytes(end, endLength, "end")
        try database.compactRange(start: lower.count > 0 ? Array(lower) : nil, end: upper.count > 0 ? Array(upper) : nil)
        return .ok
    }
}
