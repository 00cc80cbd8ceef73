import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// The key-value functions on cairn_db.

@c @implementation
public func cairn_put(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                      _ value: UnsafePointer<UInt8>!, _ valueLength: Int, _ ttlMs: Int64,
                      _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try scope(db)
        try database.put(key: try bytes(key, keyLength, "key"), value: try bytes(value, valueLength, "value"), ttlMillis: ttlMs)
        return .ok
    }
}

@c @implementation
public func cairn_get(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                      _ value: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>!, _ valueLength: UnsafeMutablePointer<Int>!,
                      _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    value?.pointee = nil
    valueLength?.pointee = 0
    return reportingStatus(errmsg) {
        let outValue = try required(value, "value")
        let outLength = try required(valueLength, "value_len")
        let database = try scope(db)
        var failure: Error?
        let found = try database.withValue(forKey: try bytes(key, keyLength, "key")) { stored in
            do {
                outValue.pointee = try mallocCopy(stored)
                outLength.pointee = stored.count
            } catch { failure = error }
        }
        if let failure { throw failure }
        guard found else { throw CairnError(.notFound, "key not found") }
        return .ok
    }
}

@c @implementation
public func cairn_delete(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                         _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try scope(db)
        try database.delete(key: try bytes(key, keyLength, "key"))
        return .ok
    }
}

@c @implementation
public func cairn_delete_range(_ db: OpaquePointer!, _ start: UnsafePointer<UInt8>!, _ startLength: Int,
                               _ end: UnsafePointer<UInt8>!, _ endLength: Int,
                               _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.deleteRange(start: try bytes(start, startLength, "start"), end: try bytes(end, endLength, "end"))
        return .ok
    }
}

@c @implementation
public func cairn_get_many(_ db: OpaquePointer!, _ keys: UnsafePointer<UInt8>!, _ keysLength: Int,
                           _ values: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>!, _ valuesLength: UnsafeMutablePointer<Int>!,
                           _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    values?.pointee = nil
    valuesLength?.pointee = 0
    return reportingStatus(errmsg) {
        let outValues = try required(values, "values")
        let outLength = try required(valuesLength, "values_len")
        let database = try scope(db)
        let packed = try database.getMany(packedKeys: try bytes(keys, keysLength, "keys"))
        outValues.pointee = try packed.withUnsafeBytes { try mallocCopy($0) }
        outLength.pointee = packed.count
        return .ok
    }
}

@c @implementation
public func cairn_keys(_ db: OpaquePointer!, _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                       _ keys: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>!, _ keysLength: UnsafeMutablePointer<Int>!,
                       _ count: UnsafeMutablePointer<Int>!,
                       _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    keys?.pointee = nil
    keysLength?.pointee = 0
    count?.pointee = 0
    return reportingStatus(errmsg) {
        let outKeys = try required(keys, "keys")
        let outLength = try required(keysLength, "keys_len")
        let database = try databaseOnly(db)
        let listing = try database.listKeys(optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        outKeys.pointee = try listing.packed.withUnsafeBytes { try mallocCopy($0) }
        outLength.pointee = listing.packed.count
        count?.pointee = listing.count
        return .ok
    }
}

@c @implementation
public func cairn_get_into(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                           _ buffer: UnsafeMutablePointer<UInt8>!, _ capacity: Int, _ valueLength: UnsafeMutablePointer<Int>!,
                           _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    valueLength?.pointee = 0
    return reportingStatus(errmsg) {
        let outLength = try required(valueLength, "value_len")
        guard capacity >= 0 else { throw CairnError(.invalidArgument, "buf_cap is negative") }
        guard buffer != nil || capacity == 0 else { throw CairnError(.invalidArgument, "buf is NULL but buf_cap is \(capacity)") }
        let database = try scope(db)
        // One copy, from the engine's block or memtable straight into the
        // caller's buffer; a value that does not fit is only measured.
        let found = try database.withValue(forKey: try bytes(key, keyLength, "key")) { stored in
            outLength.pointee = stored.count
            if stored.count <= capacity, stored.count > 0 {
                UnsafeMutableRawPointer(buffer!).copyMemory(from: stored.baseAddress!, byteCount: stored.count)
            }
        }
        // A miss is an answer, not a failure: no message is made for it.
        return found ? .ok : .notFound
    }
}

@c @implementation
public func cairn_put_if_absent(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                                _ value: UnsafePointer<UInt8>!, _ valueLength: Int, _ ttlMs: Int64,
                                _ stored: UnsafeMutablePointer<Int32>!,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    stored?.pointee = 0
    return reportingStatus(errmsg) {
        let database = try scope(db)
        let done = try database.putIfAbsent(key: try bytes(key, keyLength, "key"), value: try bytes(value, valueLength, "value"),
                                            ttlMillis: ttlMs)
        stored?.pointee = done ? 1 : 0
        return .ok
    }
}

@c @implementation
public func cairn_get_ttl(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                          _ ttlMs: UnsafeMutablePointer<Int64>!,
                          _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    ttlMs?.pointee = 0
    return reportingStatus(errmsg) {
        let out = try required(ttlMs, "ttl_ms")
        let database = try scope(db)
        guard let remaining = try database.remainingTTL(forKey: try bytes(key, keyLength, "key")) else {
            throw CairnError(.notFound, "key not found")
        }
        out.pointee = remaining
        return .ok
    }
}

@c @implementation
public func cairn_touch(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int, _ ttlMs: Int64,
                        _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try scope(db)
        guard try database.touch(key: try bytes(key, keyLength, "key"), ttlMillis: ttlMs) else {
            throw CairnError(.notFound, "key not found")
        }
        return .ok
    }
}
