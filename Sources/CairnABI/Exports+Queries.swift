import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Collection management, single-document queries, find-and-modify,
// aggregation, explain and indexes.

@c @implementation
public func cairn_collection_rename(_ db: OpaquePointer!, _ from: UnsafePointer<CChar>!, _ fromLength: Int,
                                    _ to: UnsafePointer<CChar>!, _ toLength: Int, _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        try databaseOnly(db).renameCollection(try text(from, fromLength, "from"), to: try text(to, toLength, "to"))
        return .ok
    }
}

@c @implementation
public func cairn_collection_stats(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                   _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        try databaseOnly(db).collectionStats(try text(collection, collectionLength, "collection name"))
    }
}

@c @implementation
public func cairn_find_one(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                           _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                           _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                           _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        guard let found = try scope(db).findOne(collection: try text(collection, collectionLength, "collection name"),
                                                filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                                optionsJSON: try bytes(optionsJSON, optionsLength, "options_json")) else {
            throw CairnError(.notFound, "no document matches the filter")
        }
        return found
    }
}

@c @implementation
public func cairn_find_by_id(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ idJSON: UnsafePointer<CChar>!, _ idLength: Int,
                             _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        let id = try bytes(idJSON, idLength, "id_json")
        guard id.count > 0 else { throw CairnError(.invalidArgument, "id_json is empty") }
        guard let found = try scope(db).findByID(collection: try text(collection, collectionLength, "collection name"), idJSON: id) else {
            throw CairnError(.notFound, "no document has this id")
        }
        return found
    }
}

@c @implementation
public func cairn_distinct(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                           _ field: UnsafePointer<CChar>!, _ fieldLength: Int,
                           _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                           _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        try scope(db).distinct(collection: try text(collection, collectionLength, "collection name"),
                               field: try text(field, fieldLength, "field"),
                               filterJSON: try bytes(filterJSON, filterLength, "filter_json"))
    }
}

@c @implementation
public func cairn_find_one_and_update(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                      _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                                      _ updateJSON: UnsafePointer<CChar>!, _ updateLength: Int,
                                      _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                      _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        let result = try scope(db).findOneAndUpdate(collection: try text(collection, collectionLength, "collection name"),
                                                    filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                                    updateJSON: try bytes(updateJSON, updateLength, "update_json"),
                                                    optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        guard result.found else { throw CairnError(.notFound, "no document matches the filter") }
        return result.json ?? "null"
    }
}

@c @implementation
public func cairn_find_one_and_replace(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                       _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                                       _ replacementJSON: UnsafePointer<CChar>!, _ replacementLength: Int,
                                       _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                       _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        let result = try scope(db).findOneAndReplace(collection: try text(collection, collectionLength, "collection name"),
                                                     filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                                     replacementJSON: try bytes(replacementJSON, replacementLength, "replacement_json"),
                                                     optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        guard result.found else { throw CairnError(.notFound, "no document matches the filter") }
        return result.json ?? "null"
    }
}

@c @implementation
public func cairn_find_one_and_delete(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                      _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                                      _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                      _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        guard let deleted = try scope(db).findOneAndDelete(collection: try text(collection, collectionLength, "collection name"),
                                                           filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                                           optionsJSON: try bytes(optionsJSON, optionsLength, "options_json")) else {
            throw CairnError(.notFound, "no document matches the filter")
        }
        return deleted
    }
}

@c @implementation
public func cairn_count_with_options(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                     _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                                     _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                     _ count: UnsafeMutablePointer<UInt64>!, _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        let out = try required(count, "count")
        out.pointee = UInt64(try scope(db).count(collection: try text(collection, collectionLength, "collection name"),
                                                         filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                                         optionsJSON: try bytes(optionsJSON, optionsLength, "options_json")))
        return .ok
    }
}

@c @implementation
public func cairn_aggregate(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                            _ pipelineJSON: UnsafePointer<CChar>!, _ pipelineLength: Int,
                            _ outCursor: UnsafeMutablePointer<OpaquePointer?>!, _ errmsg: TextOut!) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let cursor = try scope(db).aggregate(collection: try text(collection, collectionLength, "collection name"),
                                                     pipelineJSON: try bytes(pipelineJSON, pipelineLength, "pipeline_json"))
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}

@c @implementation
public func cairn_explain(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                          _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                          _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                          _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        try scope(db).explain(collection: try text(collection, collectionLength, "collection name"),
                              filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                              optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
    }
}

// MARK: Indexes

@c @implementation
public func cairn_index_create(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                               _ specJSON: UnsafePointer<CChar>!, _ specLength: Int,
                               _ name: TextOut!, _ nameLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(name, nameLength, required: nil, errmsg) {
        try databaseOnly(db).createIndex(collection: try text(collection, collectionLength, "collection name"),
                                         specJSON: try bytes(specJSON, specLength, "spec_json"))
    }
}

@c @implementation
public func cairn_index_drop(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ name: UnsafePointer<CChar>!, _ nameLength: Int, _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        try databaseOnly(db).dropIndex(collection: try text(collection, collectionLength, "collection name"),
                                       index: try text(name, nameLength, "index name"))
        return .ok
    }
}

@c @implementation
public func cairn_index_list(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        try databaseOnly(db).listIndexes(collection: try text(collection, collectionLength, "collection name"))
    }
}
