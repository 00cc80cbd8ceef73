import CCairn
import Cairn

// Full-text search: cairn_search. The search itself is in
// Sources/Cairn/FullText; this converts arguments and maps errors.

@c @implementation
public func cairn_search(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                         _ query: UnsafePointer<CChar>!, _ queryLength: Int,
                         _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                         _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                         _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let database = try scope(db)
        let cursor = try database.search(collection: try text(collection, collectionLength, "collection name"),
                                         query: try bytes(query, queryLength, "query"),
                                         optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}
