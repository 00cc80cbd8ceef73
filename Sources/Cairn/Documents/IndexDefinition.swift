/// A secondary index of a collection and the entries it keeps.
///
/// Entry layout (namespace 0x04; see docs/format/documents.md):
///
///     unique      0x04 | collection id (u32 BE) | index id (u32 BE)
///                 | IndexKey of each field's value (complemented when
///                 descending)
///                 value: IndexKey of the primary key (the document key's
///                 suffix)
///     non-unique  0x04 | collection id | index id with its top bit set
///                 | IndexKey of each field's value
///                 | IndexKey of the primary key | its length (u16 BE)
///                 value: empty
///
/// The length at the end lets the storage engine find the part before the
/// primary key and put it in table bloom filters, so an equality lookup on
/// every field of a non-unique index skips the tables that cannot hold it
/// (Namespace.bloomPrefixLength).
///
/// A unique index leaves the primary key out of the key, so two documents
/// with equal values write the same engine key: the uniqueness check is a
/// point read, and two concurrent transactions inserting the same value
/// conflict on that key.
struct IndexDefinition {
    struct Field {
        let path: String
        let components: [String]
        let descending: Bool
    }

    let name: String
    let id: UInt32
    let fields: [Field]
    let unique: Bool
    let sparse: Bool
    /// Ordered entries, or a search structure (IndexKind).
    var kind = IndexKind.ordered
    /// Some document had an array in an indexed field. A multikey index
    /// cannot bound one field from both sides (the two bounds may be met by
    /// different elements) and cannot give a sort order.
    var multikey = false
    /// The backfill has not finished (a crash interrupted it): writes keep
    /// the entries current, but queries do not use it.
    var building = false
    /// A TTL index (MongoDB's): documents whose date in the indexed field
    /// is older than this many seconds have expired (Documents/Expiry.swift).
    var expireAfterSeconds: Int64?

    /// MongoDB's bound: a 32-bit signed count of seconds.
    static let maxExpireAfterSeconds: Int64 = 2_147_483_647

    static let maxFields = 32

    /// Parses a user's spec: {"keys": {"a": 1, "b": -1}, "name", "unique",
    /// "sparse"}; or a search index's: {"keys": {"title": "text"}, ...}
    /// with its kind's options (TextIndexSpec).
    static func parse(spec: DocumentValue, id: UInt32) throws -> IndexDefinition {
        guard spec.tag == .object else { throw CairnError.invalidArgument("index spec must be a JSON object") }
        var fields: [Field] = []
        var name: String?
        var unique = false, sparse = false
        var expireAfterSeconds: Int64?
        var textFields = 0
        var vectorFields = 0
        var kindOptions: [(key: String, value: MutableValue)] = []
        for (key, value) in try spec.members() {
            switch key {
            case "keys":
                guard value.tag == .object else { throw CairnError.invalidArgument("index spec.keys must be an object like {\"age\": 1}") }
                for (path, direction) in try value.members() {
                    let d: Int64
                    switch try direction.kind() {
                    case .int(let n): d = n
                    case .double(let x) where x == 1 || x == -1: d = Int64(x)
                    case .string(let utf8) where utf8.elementsEqual("text".utf8):
                        d = 1
                        textFields += 1
                    case .string(let utf8) where utf8.elementsEqual("vector".utf8):
                        d = 1
                        vectorFields += 1
                    default: d = 0
                    }
                    guard d == 1 || d == -1 else { throw CairnError.invalidArgument("index spec.keys.\(path) must be 1, -1, \"text\" or \"vector\"") }
                    try Filter.validateFieldPath(path, at: "index spec.keys.\(path)")
                    guard !fields.contains(where: { $0.path == path }) else {
                        throw CairnError.invalidArgument("index spec.keys.\(path) appears twice")
                    }
                    fields.append(Field(path: path, components: path.split(separator: ".").map(String.init), descending: d < 0))
                }
            case "name":
                guard case .string(let utf8) = try value.kind(), utf8.count > 0, utf8.count <= 255 else {
                    throw CairnError.invalidArgument("index spec.name must be a string of 1 to 255 bytes")
                }
                // A NUL would cut the name short in every C caller's hands.
                guard !utf8.contains(0) else { throw CairnError.invalidArgument("index spec.name contains a NUL byte") }
                name = String(decoding: utf8, as: UTF8.self)
            case "unique", "sparse":
                guard case .bool(let flag) = try value.kind() else { throw CairnError.invalidArgument("index spec.\(key) must be true or false") }
                if key == "unique" { unique = flag } else { sparse = flag }
            case "expireAfterSeconds":
                let seconds: Int64?
                switch try value.kind() {
                case .int(let n): seconds = n
                case .double(let x): seconds = Int64(exactly: x)
                default: seconds = nil
                }
                guard let seconds, seconds >= 0, seconds <= maxExpireAfterSeconds else {
                    throw CairnError.invalidArgument("index spec.expireAfterSeconds must be a whole number of seconds from 0 to \(maxExpireAfterSeconds)")
                }
                expireAfterSeconds = seconds
            default:
                // A search kind's own options; refused below for an ordered index.
                kindOptions.append((key, try MutableValue(value)))
            }
        }
        guard !fields.isEmpty else { throw CairnError.invalidArgument("index spec.keys must name at least one field") }
        guard fields.count <= maxFields else { throw CairnError.invalidArgument("index spec.keys: at most \(maxFields) fields") }
        if expireAfterSeconds != nil {
            guard textFields == 0 && vectorFields == 0 && fields.count == 1 else {
                throw CairnError.invalidArgument("index spec.expireAfterSeconds: a TTL index is an ordered index on one date field, like {\"keys\": {\"expiresAt\": 1}, \"expireAfterSeconds\": 0}")
            }
        }
        if vectorFields > 0 {
            guard vectorFields == 1, fields.count == 1 else {
                throw CairnError.invalidArgument("index spec.keys: a vector index takes exactly one field, {\"embedding\": \"vector\"}")
            }
            guard !unique else { throw CairnError.invalidArgument("index spec.unique: a vector index cannot be unique") }
            var index = IndexDefinition(name: name ?? "\(fields[0].path)_vector", id: id, fields: fields, unique: false, sparse: sparse)
            index.kind = .vector(try VectorIndexSpec.parse(options: kindOptions))
            return index
        }
        if textFields > 0 {
            guard textFields == fields.count else {
                throw CairnError.invalidArgument("index spec.keys: a text index takes \"text\" for every field (a text index and an ordered index are separate indexes)")
            }
            guard !unique else { throw CairnError.invalidArgument("index spec.unique: a text index cannot be unique") }
            let paths = fields.map(\.path)
            var index = IndexDefinition(name: name ?? paths.map { "\($0)_text" }.joined(separator: "_"), id: id, fields: fields,
                                        unique: false, sparse: sparse)
            index.kind = .text(try TextIndexSpec.parse(fields: paths, options: kindOptions))
            return index
        }
        if let unknown = kindOptions.first {
            throw CairnError.invalidArgument("index spec.\(unknown.key): unknown field (known: keys, name, unique, sparse, expireAfterSeconds)")
        }
        let defaultName = fields.map { "\($0.path)_\($0.descending ? -1 : 1)" }.joined(separator: "_")
        var index = IndexDefinition(name: name ?? defaultName, id: id, fields: fields, unique: unique, sparse: sparse)
        index.expireAfterSeconds = expireAfterSeconds
        return index
    }

    /// {"age": 1, "name": -1}, or {"title": "text"}
    var keysValue: MutableValue {
        if let value = kind.keyValue { return .object(fields.map { ($0.path, value) }) }
        return .object(fields.map { ($0.path, .int($0.descending ? -1 : 1)) })
    }

    /// A search kind's options, as its spec gives them; a TTL index's bound.
    private var kindOptions: [(key: String, value: MutableValue)] {
        switch kind {
        case .ordered: return expireAfterSeconds.map { [("expireAfterSeconds", .int($0))] } ?? []
        case .text(let spec): return spec.options(fields: fields.map(\.path))
        case .vector(let spec): return spec.options
        }
    }

    /// The spec that creates this index again (cairn_index_create's
    /// argument; a replica's createIndexes event).
    var specValue: MutableValue {
        .object([("name", .string(Array(name.utf8))), ("keys", keysValue), ("unique", .bool(unique)), ("sparse", .bool(sparse))] + kindOptions)
    }

    /// What cairn_index_list shows: "state" is "building" until every
    /// existing document is indexed (queries ignore the index until then),
    /// then "ready".
    var publicDescription: MutableValue {
        .object([("name", .string(Array(name.utf8))), ("keys", keysValue), ("unique", .bool(unique)), ("sparse", .bool(sparse))]
                + kindOptions + [("state", .string(Array((building ? "building" : "ready").utf8)))])
    }

    var catalogValue: MutableValue {
        var members: [(key: String, value: MutableValue)] = [
            ("name", .string(Array(name.utf8))), ("id", .int(Int64(id))), ("keys", keysValue), ("unique", .bool(unique)),
            ("sparse", .bool(sparse)), ("multikey", .bool(multikey)), ("building", .bool(building))]
        if !kindOptions.isEmpty { members.append(("options", .object(kindOptions))) }
        return .object(members)
    }

    init(name: String, id: UInt32, fields: [Field], unique: Bool, sparse: Bool) {
        self.name = name
        self.id = id
        self.fields = fields
        self.unique = unique
        self.sparse = sparse
    }

    init(catalogValue: MutableValue) throws {
        let damaged = CairnError.corruption("catalog: damaged index definition")
        guard case .object(let members) = catalogValue else { throw damaged }
        var name: String?, id: UInt32?, fields: [Field] = []
        var unique = false, sparse = false, multikey = false, building = false
        var isText = false, isVector = false
        var options: MutableValue?
        for (key, value) in members {
            switch (key, value) {
            case ("name", .string(let utf8)): name = String(decoding: utf8, as: UTF8.self)
            case ("id", .int(let n)): id = UInt32(truncatingIfNeeded: n)
            case ("keys", .object(let keys)):
                fields = keys.map { Field(path: $0.key, components: $0.key.split(separator: ".").map(String.init),
                                          descending: { if case .int(-1) = $0 { return true } else { return false } }($0.value)) }
                isText = keys.contains { if case .string = $0.value { return true } else { return false } }
                isVector = keys.contains { if case .string(let utf8) = $0.value { return utf8 == Array("vector".utf8) } else { return false } }
            case ("options", .object): options = value
            case ("unique", .bool(let flag)): unique = flag
            case ("sparse", .bool(let flag)): sparse = flag
            case ("multikey", .bool(let flag)): multikey = flag
            case ("building", .bool(let flag)): building = flag
            default: throw damaged
            }
        }
        guard let name, let id, !fields.isEmpty else { throw damaged }
        self.init(name: name, id: id, fields: fields, unique: unique, sparse: sparse)
        self.multikey = multikey
        self.building = building
        if isVector {
            guard let options else { throw damaged }
            kind = .vector(try VectorIndexSpec(catalogValue: options))
        } else if isText {
            guard let options else { throw damaged }
            kind = .text(try TextIndexSpec(catalogValue: options, fields: fields.map(\.path)))
        } else if case .object(let members)? = options {
            for (key, value) in members {
                guard key == "expireAfterSeconds", case .int(let seconds) = value, seconds >= 0 else { throw damaged }
                expireAfterSeconds = seconds
            }
        }
    }

    func sameKeys(as other: IndexDefinition) -> Bool {
        guard fields.map(\.path) == other.fields.map(\.path) && fields.map(\.descending) == other.fields.map(\.descending)
            && unique == other.unique && sparse == other.sparse && expireAfterSeconds == other.expireAfterSeconds else { return false }
        switch (kind, other.kind) {
        case (.ordered, .ordered): return true
        case (.text(let a), .text(let b)): return a == b
        case (.vector(let a), .vector(let b)): return a == b
        default: return false
        }
    }

    /// Every key the index keeps starts with this prefix: dropping the
    /// index deletes the range it starts.
    func storagePrefix(collection: UInt32) -> [UInt8] {
        switch kind {
        case .ordered: return entryPrefix(collection: collection)
        case .text: return TextIndexFormat.prefix(collection: collection, index: id)
        case .vector: return VectorIndexFormat.prefix(collection: collection, index: id)
        }
    }

    // MARK: Entries

    /// The value stored with an entry (see the layout above).
    func entryValue(primaryKey: [UInt8]) -> [UInt8] {
        unique ? primaryKey : []
    }

    /// The primary key suffix of a document key, from an entry.
    func primaryKey(entryKey: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        if unique { return value }
        guard entryKey.count >= 11 else { throw CairnError.corruption("index '\(name)': damaged entry") }
        let length = Int(entryKey[entryKey.count - 2]) << 8 | Int(entryKey[entryKey.count - 1])
        guard length + 11 <= entryKey.count else { throw CairnError.corruption("index '\(name)': damaged entry") }
        return UnsafeRawBufferPointer(rebasing: entryKey[(entryKey.count - 2 - length)..<(entryKey.count - 2)])
    }

    /// Ends a non-unique entry key: the primary key and its length.
    private func appendPrimaryKey(_ primaryKey: [UInt8], to key: inout [UInt8]) throws {
        guard primaryKey.count <= 0xFFFF else { throw CairnError.invalidArgument("index '\(name)': the primary key is too long to index") }
        key.append(contentsOf: primaryKey)
        key.append(UInt8(primaryKey.count >> 8))
        key.append(UInt8(primaryKey.count & 0xFF))
    }

    /// The bytes of `entryPrefix`.
    static let entryPrefixLength = 9

    /// 0x04 | collection id | index id: every entry of this index starts so.
    func entryPrefix(collection: UInt32) -> [UInt8] {
        var prefix: [UInt8] = []
        prefix.reserveCapacity(9)  // one allocation, not one per append
        prefix.append(Namespace.indexEntries.rawValue)
        prefix.appendUInt32BE(collection)
        prefix.appendUInt32BE(unique ? id : id | 0x8000_0000)
        return prefix
    }

    /// The entry keys of `document` (whose primary key encodes as
    /// `primaryKey`), and whether an indexed field held an array.
    /// Throws INVALID_ARGUMENT when two fields hold arrays (MongoDB's
    /// "cannot index parallel arrays").
    func entryKeys(of document: DocumentValue, collection: UInt32, primaryKey: [UInt8]) throws -> (keys: [[UInt8]], multikey: Bool) {
        if let single = try singleEntryKey(of: document, collection: collection, primaryKey: primaryKey) { return ([single], false) }
        var perField: [[[UInt8]]] = []
        var sawArray = false
        var allMissing = true
        var arrayFields = 0
        for field in fields {
            var values: [DocumentValue] = []
            var isArray = false
            try IndexDefinition.collectValues(at: field.components[...], in: document, into: &values, sawArray: &isArray)
            if isArray {
                sawArray = true
                arrayFields += 1
            }
            var encoded: [[UInt8]] = []
            if values.isEmpty {
                var null: [UInt8] = []
                try [DocumentTag.null.rawValue].withUnsafeBytes { try IndexKey.append(DocumentValue($0), descending: field.descending, to: &null) }
                encoded.append(null)
            } else {
                allMissing = false
                var seen = Set<[UInt8]>()
                for value in values {
                    var bytes: [UInt8] = []
                    try IndexKey.append(value, descending: field.descending, to: &bytes)
                    if seen.insert(bytes).inserted { encoded.append(bytes) }
                }
            }
            perField.append(encoded)
        }
        if sparse && allMissing { return ([], false) }
        if arrayFields > 1 {
            throw CairnError.invalidArgument("index '\(name)': cannot index parallel arrays (\(fields.map(\.path).joined(separator: ", ")))")
        }
        var keys = [entryPrefix(collection: collection)]
        for options in perField {
            if options.count == 1 {
                for i in keys.indices { keys[i].append(contentsOf: options[0]) }
            } else {
                keys = keys.flatMap { key in options.map { key + $0 } }
            }
        }
        if !unique {
            for i in keys.indices { try appendPrimaryKey(primaryKey, to: &keys[i]) }
        }
        return (keys, sawArray)
    }

    /// The indexed values behind `entry`, one of `document`'s entry keys,
    /// as a JSON object (`{"email": "a@x.org"}`), for the message of a
    /// unique index violation. Each field's part of the key is the
    /// encoding of one of its values, so the values are found by matching
    /// the encodings in turn.
    func describe(entry: [UInt8], of document: DocumentValue, collection: UInt32) throws -> String {
        var offset = entryPrefix(collection: collection).count
        var parts: [String] = []
        for field in fields {
            var values: [DocumentValue] = []
            var isArray = false
            try IndexDefinition.collectValues(at: field.components[...], in: document, into: &values, sawArray: &isArray)
            var text = "null"
            for value in values {
                var bytes: [UInt8] = []
                try IndexKey.append(value, descending: field.descending, to: &bytes)
                if entry.count - offset >= bytes.count, entry[offset..<(offset + bytes.count)].elementsEqual(bytes) {
                    text = try value.json()
                    offset += bytes.count
                    break
                }
            }
            parts.append(JSONValue.string(field.path).serialized + ": " + text)
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// The one entry of a document whose indexed fields hold no arrays (the
    /// common case), built in one buffer; nil when a field holds an array
    /// or (in a sparse index) every field is missing, which the general
    /// path handles.
    private func singleEntryKey(of document: DocumentValue, collection: UInt32, primaryKey: [UInt8]) throws -> [UInt8]? {
        // Room for the usual key at once (a number's key is 17 bytes), so
        // the appends below do not regrow it two or three times.
        var key: [UInt8] = []
        key.reserveCapacity(9 + 24 * fields.count + primaryKey.count + 2)
        key.append(Namespace.indexEntries.rawValue)
        key.appendUInt32BE(collection)
        key.appendUInt32BE(unique ? id : id | 0x8000_0000)
        var allMissing = true
        for field in fields {
            var current = document
            var found = true
            for component in field.components {
                guard current.tag == .object else {
                    if current.tag == .array { return nil }
                    found = false
                    break
                }
                guard let child = try current.field(component) else {
                    found = false
                    break
                }
                current = child
            }
            if found {
                if current.tag == .array { return nil }
                allMissing = false
                try IndexKey.append(current, descending: field.descending, to: &key)
            } else {
                key.append(field.descending ? ~ValueOrder.typeRank(.null) : ValueOrder.typeRank(.null))
            }
        }
        if sparse && allMissing { return nil }
        if !unique { try appendPrimaryKey(primaryKey, to: &key) }
        return key
    }

    /// The values an index holds for a path: the value itself, or each
    /// element of an array (an empty array stands for itself), following
    /// the path through arrays of objects ("items.sku").
    static func collectValues(at components: ArraySlice<String>, in value: DocumentValue,
                              into out: inout [DocumentValue], sawArray: inout Bool) throws {
        guard let first = components.first else {
            if value.tag == .array {
                sawArray = true
                let before = out.count
                try value.forEachChild { _, element in out.append(element) }
                if out.count == before { out.append(value) }
            } else {
                out.append(value)
            }
            return
        }
        switch value.tag {
        case .object:
            if let child = try value.field(first) {
                try collectValues(at: components.dropFirst(), in: child, into: &out, sawArray: &sawArray)
            }
        case .array:
            sawArray = true
            if let position = Int(first), position >= 0 {
                if let element = try value.value(atPath: first) {
                    try collectValues(at: components.dropFirst(), in: element, into: &out, sawArray: &sawArray)
                }
            } else {
                try value.forEachChild { _, element in
                    if element.tag == .object { try collectValues(at: components, in: element, into: &out, sawArray: &sawArray) }
                }
            }
        default:
            break
        }
    }
}
