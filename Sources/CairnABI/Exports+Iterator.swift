import CCairn
import Cairn

// Iterators (cairn_iter handles).

private func iteratorFlags(_ flags: Int32) throws -> Bool {
    guard flags & ~CAIRN_ITER_REVERSE == 0 else {
        throw CairnError(.invalidArgument, "unknown iterator flags 0x\(String(flags, radix: 16))")
    }
    return flags & CAIRN_ITER_REVERSE != 0
}

@c @implementation
public func cairn_iter_open(_ db: OpaquePointer!, _ start: UnsafePointer<UInt8>!, _ startLength: Int,
                            _ end: UnsafePointer<UInt8>!, _ endLength: Int, _ flags: Int32,
                            _ outIter: UnsafeMutablePointer<OpaquePointer?>!,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outIter?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outIter, "out_iter")
        let database = try databaseOnly(db)
        let reverse = try iteratorFlags(flags)
        let lower = try bytes(start, startLength, "start")
        let upper = try bytes(end, endLength, "end")
        let iterator = try database.makeIterator(start: lower.count > 0 ? lower : nil, end: upper.count > 0 ? upper : nil,
                                                 reverse: reverse)
        out.pointee = try HandleTable.shared.register(IteratorBox(iterator))
        return .ok
    }
}

@c @implementation
public func cairn_iter_open_prefix(_ db: OpaquePointer!, _ prefix: UnsafePointer<UInt8>!, _ prefixLength: Int, _ flags: Int32,
                                   _ outIter: UnsafeMutablePointer<OpaquePointer?>!,
                                   _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outIter?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outIter, "out_iter")
        let database = try databaseOnly(db)
        let reverse = try iteratorFlags(flags)
        let iterator = try database.makeIterator(prefix: try bytes(prefix, prefixLength, "prefix"), reverse: reverse)
        out.pointee = try HandleTable.shared.register(IteratorBox(iterator))
        return .ok
    }
}

@c @implementation
public func cairn_iter_seek(_ iter: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let box = try HandleTable.shared.object(iter, as: IteratorBox.self, "iterator")
        try box.iterator.seek(try bytes(key, keyLength, "key"))
        return .ok
    }
}

@c @implementation
public func cairn_iter_next(_ iter: OpaquePointer!, _ key: UnsafeMutablePointer<UnsafePointer<UInt8>?>!,
                            _ keyLength: UnsafeMutablePointer<Int>!, _ value: UnsafeMutablePointer<UnsafePointer<UInt8>?>!,
                            _ valueLength: UnsafeMutablePointer<Int>!,
                            _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let outKey = try required(key, "key")
        let outKeyLength = try required(keyLength, "key_len")
        let box = try HandleTable.shared.object(iter, as: IteratorBox.self, "iterator")
        guard try box.iterator.next() else {
            outKey.pointee = nil
            outKeyLength.pointee = 0
            value?.pointee = nil
            valueLength?.pointee = 0
            return .done
        }
        let k = box.iterator.key
        let v = box.iterator.value
        outKey.pointee = k.baseAddress?.assumingMemoryBound(to: UInt8.self)
        outKeyLength.pointee = k.count
        value?.pointee = v.count > 0 ? v.baseAddress?.assumingMemoryBound(to: UInt8.self) : nil
        valueLength?.pointee = v.count
        return .ok
    }
}

@c @implementation
public func cairn_iter_close(_ iter: OpaquePointer!) -> Int32 {
    _ = HandleTable.shared.remove(iter, as: IteratorBox.self)
    return StatusCode.ok.rawValue
}

@c @implementation
public func cairn_iter_next_batch(_ iter: OpaquePointer!, _ maxItems: Int, _ maxBytes: Int, _ flags: Int32,
                                  _ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>!, _ dataLength: UnsafeMutablePointer<Int>!,
                                  _ lengths: UnsafeMutablePointer<UnsafePointer<UInt32>?>!, _ count: UnsafeMutablePointer<Int>!,
                                  _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    data?.pointee = nil
    dataLength?.pointee = 0
    lengths?.pointee = nil
    count?.pointee = 0
    return reportingStatus(errmsg) {
        let outData = try required(data, "data")
        let outDataLength = try required(dataLength, "data_len")
        let outLengths = try required(lengths, "lengths")
        let outCount = try required(count, "count")
        guard flags & ~CAIRN_BATCH_KEYS_ONLY == 0 else {
            throw CairnError(.invalidArgument, "unknown batch flags 0x\(String(flags, radix: 16))")
        }
        let box = try HandleTable.shared.object(iter, as: IteratorBox.self, "iterator")
        let iterator = box.iterator
        // A size_t above Int.max (SIZE_MAX for "no limit") arrives negative.
        let items = try iterator.nextBatch(keysOnly: flags & CAIRN_BATCH_KEYS_ONLY != 0, maxItems: maxItems < 0 ? Int.max : maxItems,
                                           maxBytes: maxBytes < 0 ? Int.max : maxBytes)
        guard items > 0 else { return .done }
        let batch = iterator.batch
        outData.pointee = batch.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        outDataLength.pointee = batch.bytes.count
        outLengths.pointee = batch.lengths.baseAddress?.assumingMemoryBound(to: UInt32.self)
        outCount.pointee = items
        return .ok
    }
}
