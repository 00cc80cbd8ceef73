/// One change as a layer records it, before its commit gives it a sequence:
/// the operation and what a watcher needs to hear about it. Stored as the
/// binary document of an event's value (ChangeFeedFormat), with short
/// field names (this is written for every change):
///
///     "op"    the operationType: insert update replace delete create drop
///             rename createIndexes dropIndexes (documents), put delete
///             deleteRange (key-value)
///     "c"     the collection (document events)
///     "k"     the documentKey object (document events), or the key (binary)
///     "d"     the full document: inserted or replacing; an update's post-image
///     "b"     the pre-image (update, replace, delete) of a collection with
///             pre- and post-images on
///     "u"     the updateDescription {"updatedFields", "removedFields"}
///     "to"    a rename's new name; "i" an index's spec {name, keys, unique,
///             sparse}; "o" a create's non-default collection options
///     "v"     a put's value (binary); "t" its TTL in ms; "e" a range's end
///
/// TTL expiry is not an event: the engine expires keys lazily (reads skip
/// them, compaction drops them), so there is no moment at which a key
/// expires to report. A consumer that mirrors values gets the TTL with the
/// put and can expire them itself.
struct ChangeEvent {
    var fields: [(key: String, value: MutableValue)]
    /// The binary form when built directly (puts).
    var prebuilt: [UInt8]?

    init(_ operation: String, _ fields: [(key: String, value: MutableValue)]) {
        self.fields = [("op", .string(Array(operation.utf8)))] + fields
    }

    init(prebuilt: [UInt8]) {
        fields = []
        self.prebuilt = prebuilt
    }

    func encoded() -> [UInt8] { prebuilt ?? MutableValue.object(fields).encoded() }

    // MARK: Key-value events

    /// Built straight into the binary form: this runs for every put while
    /// the feed is on, so it copies the key and the value once each.
    static func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttlMillis: Int64) -> ChangeEvent {
        var builder = DocumentBuilder(reservingCapacity: key.count + value.count + 48)
        func name(_ text: StaticString) { text.withUTF8Buffer { builder.key(UnsafeRawBufferPointer($0)) } }
        builder.beginObject()
        name("op")
        ("put" as StaticString).withUTF8Buffer { builder.string(UnsafeRawBufferPointer($0)) }
        name("k")
        builder.binary(key, subtype: 0)
        name("v")
        builder.binary(value, subtype: 0)
        if ttlMillis > 0 {
            name("t")
            builder.int(ttlMillis)
        }
        builder.closeObject(count: ttlMillis > 0 ? 4 : 3)
        return ChangeEvent(prebuilt: builder.bytes)
    }

    static func delete(key: UnsafeRawBufferPointer) -> ChangeEvent {
        ChangeEvent("delete", [("k", .binary(Array(key), subtype: 0))])
    }

    static func deleteRange(start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer) -> ChangeEvent {
        ChangeEvent("deleteRange", [("k", .binary(Array(start), subtype: 0)), ("e", .binary(Array(end), subtype: 0))])
    }

    /// The events of a key-value batch, one per operation in order (the
    /// batch's keys carry the key-value namespace byte, dropped here).
    static func events(of batch: WriteBatch) throws -> [ChangeEvent] {
        var events: [ChangeEvent] = []
        try batch.forEachOperation { operation in
            let key = UnsafeRawBufferPointer(rebasing: operation.key.dropFirst())
            switch operation.kind {
            case .put: events.append(.put(key: key, value: operation.value, ttlMillis: 0))
            case .putWithExpiry: events.append(.put(key: key, value: operation.value, ttlMillis: operation.expiresAt))
            case .delete: events.append(.delete(key: key))
            case .deleteRange: events.append(.deleteRange(start: key, end: UnsafeRawBufferPointer(rebasing: operation.value.dropFirst())))
            }
        }
        return events
    }

    // MARK: Document events

    static func documentKey(_ info: CollectionInfo, _ id: DocumentValue) throws -> MutableValue {
        .object([(info.primaryKey, try MutableValue(id))])
    }

    static func insert(_ info: CollectionInfo, key: MutableValue, document: [UInt8]) throws -> ChangeEvent {
        let full = try document.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
        return ChangeEvent("insert", [("c", .string(Array(info.name.utf8))), ("k", key), ("d", full)])
    }

    static func update(_ info: CollectionInfo, key: MutableValue, before: MutableValue, after: MutableValue, replacement: Bool) -> ChangeEvent {
        var fields: [(key: String, value: MutableValue)] = [("c", .string(Array(info.name.utf8))), ("k", key)]
        if replacement {
            fields.append(("d", after))
        } else {
            fields.append(("u", UpdateDescription.between(before, after)))
            if info.preAndPostImages { fields.append(("d", after)) }
        }
        if info.preAndPostImages { fields.append(("b", before)) }
        return ChangeEvent(replacement ? "replace" : "update", fields)
    }

    static func delete(_ info: CollectionInfo, key: MutableValue, before: DocumentValue) throws -> ChangeEvent {
        var fields: [(key: String, value: MutableValue)] = [("c", .string(Array(info.name.utf8))), ("k", key)]
        if info.preAndPostImages { fields.append(("b", try MutableValue(before))) }
        return ChangeEvent("delete", fields)
    }

    static func collection(_ operation: String, _ name: String, _ extra: [(key: String, value: MutableValue)] = []) -> ChangeEvent {
        ChangeEvent(operation, [("c", .string(Array(name.utf8)))] + extra)
    }
}

/// MongoDB's updateDescription, computed from the document before and
/// after: `updatedFields` maps each changed path (dotted, as deep as both
/// sides are objects) to its new value, `removedFields` lists the paths
/// that are gone. Arrays count as values: a changed array is set whole
/// (MongoDB may instead report element paths or truncatedArrays; the
/// resulting document is the same).
enum UpdateDescription {
    static func between(_ before: MutableValue, _ after: MutableValue) -> MutableValue {
        var updated: [(key: String, value: MutableValue)] = []
        var removed: [MutableValue] = []
        diff(before, after, prefix: "", updated: &updated, removed: &removed)
        return .object([("updatedFields", .object(updated)), ("removedFields", .array(removed))])
    }

    private static func diff(_ before: MutableValue, _ after: MutableValue, prefix: String,
                             updated: inout [(key: String, value: MutableValue)], removed: inout [MutableValue]) {
        guard case .object(let old) = before, case .object(let new) = after else { return }
        var oldByKey: [String: MutableValue] = [:]
        for member in old { oldByKey[member.key] = member.value }
        var newKeys = Set<String>()
        for (key, value) in new {
            newKeys.insert(key)
            let path = prefix + key
            guard let previous = oldByKey[key] else {
                updated.append((path, value))
                continue
            }
            if case .object = previous, case .object = value {
                diff(previous, value, prefix: path + ".", updated: &updated, removed: &removed)
            } else if previous.encoded() != value.encoded() {
                updated.append((path, value))
            }
        }
        for (key, _) in old where !newKeys.contains(key) { removed.append(.string(Array((prefix + key).utf8))) }
    }
}
