import CCairn
import Cairn

// Links between keys and documents, and inserts that expire.

@c @implementation
public func cairn_insert_one_with_ttl(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                      _ documentJSON: UnsafePointer<CChar>!, _ documentLength: Int, _ ttlMs: Int64,
                                      _ idJSON: TextOut!, _ idLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(idJSON, idLength, required: nil, errmsg) {
        try scope(db).insertOne(into: try text(collection, collectionLength, "collection name"),
                                json: try bytes(documentJSON, documentLength, "document_json"), ttlMillis: ttlMs)
    }
}

@c @implementation
public func cairn_link(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                       _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                       _ idJSON: UnsafePointer<CChar>!, _ idLength: Int,
                       _ metadataJSON: UnsafePointer<CChar>!, _ metadataLength: Int, _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        let metadata = metadataLength == 0 ? nil : try bytes(metadataJSON, metadataLength, "metadata_json")
        try scope(db).link(key: try bytes(key, keyLength, "key"), collection: try text(collection, collectionLength, "collection name"),
                           idJSON: try bytes(idJSON, idLength, "id_json"), metadataJSON: metadata)
        return .ok
    }
}

@c @implementation
public func cairn_unlink(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                         _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                         _ idJSON: UnsafePointer<CChar>!, _ idLength: Int,
                         _ removed: UnsafeMutablePointer<Int32>!, _ errmsg: TextOut!) -> Int32 {
    removed?.pointee = 0
    return reportingStatus(errmsg) {
        let existed = try scope(db).unlink(key: try bytes(key, keyLength, "key"),
                                           collection: try text(collection, collectionLength, "collection name"),
                                           idJSON: try bytes(idJSON, idLength, "id_json"))
        removed?.pointee = existed ? 1 : 0
        return .ok
    }
}

@c @implementation
public func cairn_unlink_all(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                             _ removed: UnsafeMutablePointer<Int>!, _ errmsg: TextOut!) -> Int32 {
    removed?.pointee = 0
    return reportingStatus(errmsg) {
        let count = try scope(db).unlinkAll(key: try bytes(key, keyLength, "key"))
        removed?.pointee = count
        return .ok
    }
}

@c @implementation
public func cairn_key_links(_ db: OpaquePointer!, _ key: UnsafePointer<UInt8>!, _ keyLength: Int,
                            _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        String(decoding: try scope(db).links(ofKey: try bytes(key, keyLength, "key")), as: UTF8.self)
    }
}

@c @implementation
public func cairn_document_links(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                 _ idJSON: UnsafePointer<CChar>!, _ idLength: Int,
                                 _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        String(decoding: try scope(db).links(ofDocumentIn: try text(collection, collectionLength, "collection name"),
                                             idJSON: try bytes(idJSON, idLength, "id_json")), as: UTF8.self)
    }
}
