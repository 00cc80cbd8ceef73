import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// The document functions on cairn_db, and cairn_cursor handles.

@c @implementation
public func cairn_collection_create(_ db: OpaquePointer!, _ name: UnsafePointer<CChar>!, _ nameLength: Int,
                                    _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                    _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try scope(db)
        try database.createCollection(try text(name, nameLength, "collection name"), optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        return .ok
    }
}

@c @implementation
public func cairn_collection_drop(_ db: OpaquePointer!, _ name: UnsafePointer<CChar>!, _ nameLength: Int,
                                  _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let database = try databaseOnly(db)
        try database.dropCollection(try text(name, nameLength, "collection name"))
        return .ok
    }
}

@c @implementation
public func cairn_collection_list(_ db: OpaquePointer!, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!,
                                  _ jsonLength: UnsafeMutablePointer<Int>!,
                                  _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(json, jsonLength, errmsg) {
        let names = try scope(db).collectionNames()
        return JSONValue.array(names.map { .string($0) }).serialized
    }
}

@c @implementation
public func cairn_insert_one(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ documentJSON: UnsafePointer<CChar>!, _ documentLength: Int,
                             _ idJSON: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ idLength: UnsafeMutablePointer<Int>!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    returningText(idJSON, idLength, required: nil, errmsg) {
        try scope(db).insertOne(into: try text(collection, collectionLength, "collection name"),
                                json: try bytes(documentJSON, documentLength, "document_json"))
    }
}

@c @implementation
public func cairn_insert_many(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                              _ documentsJSON: UnsafePointer<CChar>!, _ documentsLength: Int,
                              _ idsJSON: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ idsLength: UnsafeMutablePointer<Int>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    runInsertMany(db, collection, collectionLength, documentsJSON, documentsLength, options: nil, idsJSON, idsLength, errmsg)
}

@c @implementation
public func cairn_insert_many_with_options(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                                           _ documentsJSON: UnsafePointer<CChar>!, _ documentsLength: Int,
                                           _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                                           _ resultJSON: TextOut!, _ resultLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    runInsertMany(db, collection, collectionLength, documentsJSON, documentsLength, options: (optionsJSON, optionsLength),
                  resultJSON, resultLength, errmsg)
}

/// The one body of cairn_insert_many_with_options and of its alias
/// cairn_insert_many (`options` nil): the all-or-nothing form, which
/// returns only the array of ids and reports its first failure as the
/// call's status (the header lists how it differs from {"atomic": true}).
/// *result is NULL after every failure of the alias, and after a call
/// with options that was refused as a whole.
private func runInsertMany(_ db: OpaquePointer?, _ collection: UnsafePointer<CChar>?, _ collectionLength: Int,
                           _ documentsJSON: UnsafePointer<CChar>?, _ documentsLength: Int,
                           options: (json: UnsafePointer<CChar>?, length: Int)?,
                           _ result: TextOut?, _ resultLength: LengthOut?, _ errmsg: ErrorMessageOut) -> Int32 {
    result?.pointee = nil
    return reportingStatus(errmsg) {
        let target = try scope(db)
        let name = try text(collection, collectionLength, "collection name")
        let documents = try bytes(documentsJSON, documentsLength, "documents_json")
        var reserved = try ReservedResult(wanted: result != nil)
        guard let options else {
            let ids = try target.insertMany(into: name, arrayJSON: documents)
            try giveString("[" + ids.joined(separator: ",") + "]", result, resultLength, reserved: &reserved)
            return .ok
        }
        let outcome = try target.insertMany(into: name, arrayJSON: documents,
                                            optionsJSON: try bytes(options.json, options.length, "options_json"))
        try giveString(outcome.json, result, resultLength, reserved: &reserved)
        if let first = outcome.errors.first { throw first.error }
        return .ok
    }
}

@c @implementation
public func cairn_find(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                       _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                       _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                       _ outCursor: UnsafeMutablePointer<OpaquePointer?>!,
                       _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let database = try scope(db)
        let cursor = try database.find(collection: try text(collection, collectionLength, "collection name"),
                                       filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                       optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}

@c @implementation
public func cairn_cursor_next(_ cursor: OpaquePointer!, _ json: UnsafeMutablePointer<UnsafePointer<CChar>?>!,
                              _ jsonLength: UnsafeMutablePointer<Int>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let out = try required(json, "json")
        let documents = try HandleTable.shared.object(cursor, as: DocumentCursor.self, "cursor")
        guard try documents.next() else {
            out.pointee = nil
            jsonLength?.pointee = 0
            return .done
        }
        let text = documents.json
        out.pointee = text.baseAddress?.assumingMemoryBound(to: CChar.self)
        jsonLength?.pointee = text.count
        return .ok
    }
}

@c @implementation
public func cairn_cursor_close(_ cursor: OpaquePointer!) -> Int32 {
    _ = HandleTable.shared.remove(cursor, as: DocumentCursor.self)
    return StatusCode.ok.rawValue
}

@c @implementation
public func cairn_count(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                        _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int, _ count: UnsafeMutablePointer<UInt64>!,
                        _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let out = try required(count, "count")
        let database = try scope(db)
        out.pointee = UInt64(try database.count(collection: try text(collection, collectionLength, "collection name"),
                                                filterJSON: try bytes(filterJSON, filterLength, "filter_json")))
        return .ok
    }
}

/// The shared body of the three update functions.
private func runUpdate(_ db: OpaquePointer?, _ collection: UnsafePointer<CChar>?, _ collectionLength: Int,
                       _ filterJSON: UnsafePointer<CChar>?, _ filterLength: Int,
                       _ updateJSON: UnsafePointer<CChar>?, _ updateLength: Int,
                       _ optionsJSON: UnsafePointer<CChar>?, _ optionsLength: Int, mode: UpdateMode,
                       _ result: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ resultLength: UnsafeMutablePointer<Int>?,
                       _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    returningText(result, resultLength, required: nil, errmsg) {
        let outcome = try scope(db).update(collection: try text(collection, collectionLength, "collection name"),
                                           filterJSON: try bytes(filterJSON, filterLength, "filter_json"),
                                           updateJSON: try bytes(updateJSON, updateLength, "update_json"),
                                           mode: mode, optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        return #"{"matched":\#(outcome.matched),"modified":\#(outcome.modified),"upserted_id":\#(outcome.upsertedID ?? "null")}"#
    }
}

@c @implementation
public func cairn_update_one(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                             _ updateJSON: UnsafePointer<CChar>!, _ updateLength: Int,
                             _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                             _ resultJSON: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ resultLength: UnsafeMutablePointer<Int>!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    runUpdate(db, collection, collectionLength, filterJSON, filterLength, updateJSON, updateLength, optionsJSON, optionsLength,
              mode: .one, resultJSON, resultLength, errmsg)
}

@c @implementation
public func cairn_update_many(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                              _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                              _ updateJSON: UnsafePointer<CChar>!, _ updateLength: Int,
                              _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                              _ resultJSON: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ resultLength: UnsafeMutablePointer<Int>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    runUpdate(db, collection, collectionLength, filterJSON, filterLength, updateJSON, updateLength, optionsJSON, optionsLength,
              mode: .many, resultJSON, resultLength, errmsg)
}

@c @implementation
public func cairn_replace_one(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                              _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int,
                              _ replacementJSON: UnsafePointer<CChar>!, _ replacementLength: Int,
                              _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                              _ resultJSON: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!, _ resultLength: UnsafeMutablePointer<Int>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    runUpdate(db, collection, collectionLength, filterJSON, filterLength, replacementJSON, replacementLength, optionsJSON, optionsLength,
              mode: .replaceOne, resultJSON, resultLength, errmsg)
}

private func runDelete(_ db: OpaquePointer?, _ collection: UnsafePointer<CChar>?, _ collectionLength: Int,
                       _ filterJSON: UnsafePointer<CChar>?, _ filterLength: Int, many: Bool,
                       _ deleted: UnsafeMutablePointer<UInt64>?, _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    reportingStatus(errmsg) {
        let database = try scope(db)
        let count = try database.delete(collection: try text(collection, collectionLength, "collection name"),
                                        filterJSON: try bytes(filterJSON, filterLength, "filter_json"), many: many)
        deleted?.pointee = UInt64(count)
        return .ok
    }
}

@c @implementation
public func cairn_delete_one(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int, _ deleted: UnsafeMutablePointer<UInt64>!,
                             _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    runDelete(db, collection, collectionLength, filterJSON, filterLength, many: false, deleted, errmsg)
}

@c @implementation
public func cairn_delete_many(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                              _ filterJSON: UnsafePointer<CChar>!, _ filterLength: Int, _ deleted: UnsafeMutablePointer<UInt64>!,
                              _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    runDelete(db, collection, collectionLength, filterJSON, filterLength, many: true, deleted, errmsg)
}

@c @implementation
public func cairn_cursor_next_batch(_ cursor: OpaquePointer!, _ maxItems: Int, _ maxBytes: Int,
                                    _ json: UnsafeMutablePointer<UnsafePointer<CChar>?>!, _ jsonLength: UnsafeMutablePointer<Int>!,
                                    _ lengths: UnsafeMutablePointer<UnsafePointer<UInt32>?>!, _ count: UnsafeMutablePointer<Int>!,
                                    _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    json?.pointee = nil
    jsonLength?.pointee = 0
    lengths?.pointee = nil
    count?.pointee = 0
    return reportingStatus(errmsg) {
        let outJSON = try required(json, "json")
        let outCount = try required(count, "count")
        let documents = try HandleTable.shared.object(cursor, as: DocumentCursor.self, "cursor")
        // A size_t above Int.max (SIZE_MAX for "no limit") arrives negative.
        let items = try documents.nextBatch(maxItems: maxItems < 0 ? Int.max : maxItems, maxBytes: maxBytes < 0 ? Int.max : maxBytes)
        guard items > 0 else { return .done }
        let batch = documents.batch
        outJSON.pointee = batch.bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        jsonLength?.pointee = batch.bytes.count - 1  // the NUL is not counted
        lengths?.pointee = batch.lengths.baseAddress?.assumingMemoryBound(to: UInt32.self)
        outCount.pointee = items
        return .ok
    }
}

@c @implementation
public func cairn_bulk_write(_ db: OpaquePointer!, _ collection: UnsafePointer<CChar>!, _ collectionLength: Int,
                             _ operationsJSON: UnsafePointer<CChar>!, _ operationsLength: Int,
                             _ optionsJSON: UnsafePointer<CChar>!, _ optionsLength: Int,
                             _ resultJSON: TextOut!, _ resultLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    resultJSON?.pointee = nil
    return reportingStatus(errmsg) {
        let target = try scope(db)
        var reserved = try ReservedResult(wanted: resultJSON != nil)
        let outcome = try target.bulkWrite(collection: try text(collection, collectionLength, "collection name"),
                                           operationsJSON: try bytes(operationsJSON, operationsLength, "operations_json"),
                                           optionsJSON: try bytes(optionsJSON, optionsLength, "options_json"))
        try giveString(outcome.json, resultJSON, resultLength, reserved: &reserved)
        if let first = outcome.errors.first { throw first.error }
        return .ok
    }
}
