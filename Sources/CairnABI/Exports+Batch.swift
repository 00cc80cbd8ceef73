import CCairn
import Cairn

// Write batches (cairn_batch handles) and cairn_write.

@c @implementation
public func cairn_batch_new(_ outBatch: UnsafeMutablePointer<OpaquePointer?>!,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outBatch?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outBatch, "out_batch")
        out.pointee = try HandleTable.shared.register(BatchBox())
        return .ok
    }
}

@c @implementation
public func cairn_batch_free(_ batch: OpaquePointer!) -> Int32 {
    _ = HandleTable.shared.remove(batch, as: BatchBox.self)
    return StatusCode.ok.rawValue
}

@c @implementation
public func cairn_batch_put(_ batch: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                            _ value: UnsafePointer<UInt8>!, _ valueLength: Int, _ ttlMs: Int64,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let box = try HandleTable.shared.object(batch, as: BatchBox.self, "batch")
        try box.batch.put(key: try bytes(key, keyLength, "key"), value: try bytes(value, valueLength, "value"), ttlMillis: ttlMs)
        return .ok
    }
}

@c @implementation
public func cairn_batch_delete(_ batch: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                               _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let box = try HandleTable.shared.object(batch, as: BatchBox.self, "batch")
        try box.batch.delete(key: try bytes(key, keyLength, "key"))
        return .ok
    }
}

@c @implementation
public func cairn_batch_delete_range(_ batch: OpaquePointer!, _ start: UnsafePointer<UInt8>!, _ startLength: Int,
                                     _ end: UnsafePointer<UInt8>!, _ endLength: Int,
                                     _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let box = try HandleTable.shared.object(batch, as: BatchBox.self, "batch")
        try box.batch.deleteRange(start: try bytes(start, startLength, "start"), end: try bytes(end, endLength, "end"))
        return .ok
    }
}

@c @implementation
public func cairn_batch_clear(_ batch: OpaquePointer!) -> Int32 {
    reportingStatus(nil) {
        let box = try HandleTable.shared.object(batch, as: BatchBox.self, "batch")
        box.batch.clear()
        return .ok
    }
}

@c @implementation
public func cairn_batch_count(_ batch: OpaquePointer!, _ count: UnsafeMutablePointer<Int>!) -> Int32 {
    reportingStatus(nil) {
        let out = try required(count, "count")
        let box = try HandleTable.shared.object(batch, as: BatchBox.self, "batch")
        out.pointee = box.batch.count
        return .ok
    }
}

@c @implementation
public func cairn_write(_ db: OpaquePointer!, _ batch: OpaquePointer!,
                        _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        let box = try HandleTable.shared.object(batch, as: BatchBox.self, "batch")
        try database.write(box.batch)
        return .ok
    }
}
