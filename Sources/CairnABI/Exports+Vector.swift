import CCairn
import Cairn

// Vector search (include/cairn.h, "Vector search").

@c @implementation
public func cairn_vector_search(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let database = try scope(db)
        let cursor = try database.vectorSearch(collection: try text(collection, collectionLength, "collection name"),
                                               optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}

@c @implementation
public func cairn_hybrid_search(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                                _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let database = try scope(db)
        let cursor = try database.hybridSearch(collection: try text(collection, collectionLength, "collection name"),
                                               optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}
