/// Options of find: `{"sort": {"age": -1, "name": 1}, "skip": 10,
/// "limit": 20, "projection": {"name": 1, "address.city": 1}}`.
struct FindOptions {
    var sort: [(path: [String], direction: Int)] = []
    var skip = 0
    var limit: Int?
    var projection: Projection?
    /// Reads expired documents too: only the TTL purge, which deletes them.
    var includeExpired = false

    static func parse(json: UnsafeRawBufferPointer, allowing allowed: [String] = ["sort", "skip", "limit", "projection"],
                      what: String = "find options") throws -> FindOptions {
        var options = FindOptions()
        guard json.count > 0 else { return options }
        let document = try DocumentBuilder.document(fromJSON: json, what: what)
        try document.withUnsafeBytes { raw in
            for (key, value) in try DocumentValue(raw).members() {
                guard allowed.contains(key) else {
                    throw CairnError.invalidArgument("\(what).\(key): unknown option (known: \(allowed.joined(separator: ", ")))")
                }
                switch key {
                case "sort":
                    options.sort = try parseSort(value, at: "find options.sort")
                case "skip", "limit":
                    guard case .int(let n) = try value.kind(), n >= 0 else {
                        throw CairnError.invalidArgument("\(what).\(key) must be a non-negative integer")
                    }
                    if key == "skip" { options.skip = Int(n) } else { options.limit = n == 0 ? nil : Int(n) }
                case "projection":
                    options.projection = try Projection.parse(value)
                default:
                    break  // refused above
                }
            }
        }
        return options
    }

    /// {"age": -1, "name": 1} as paths and directions.
    static func parseSort(_ value: DocumentValue, at path: String) throws -> [(path: [String], direction: Int)] {
        guard value.tag == .object else { throw CairnError.invalidArgument("\(path) must be an object") }
        var sort: [(path: [String], direction: Int)] = []
        for (field, direction) in try value.members() {
            if direction.tag == .object {
                // {"score": {"$meta": "textScore"}}: by score, best first.
                let meta = try MutableValue(direction)
                guard case .object(let members) = meta, members.count == 1, members[0].key == "$meta",
                      case .string(let utf8) = members[0].value, let hidden = MetaField(rawValue: String(decoding: utf8, as: UTF8.self)) else {
                    throw CairnError.invalidArgument("\(path).\(field) must be 1, -1 or {\"$meta\": \"textScore\"}")
                }
                sort.append(([hidden.hiddenField], -1))
                continue
            }
            guard case .int(let d) = try direction.kind(), d == 1 || d == -1 else {
                throw CairnError.invalidArgument("\(path).\(field) must be 1 or -1")
            }
            try Filter.validateFieldPath(field, at: "\(path).\(field)")
            sort.append((field.split(separator: ".").map(String.init), Int(d)))
        }
        return sort
    }

    /// A document's sort key as bytes: for each sort field, the IndexKey of
    /// its value (complemented when descending), so comparing keys bytewise
    /// orders documents. An array sorts by its smallest element ascending and
    /// its largest descending; a missing field as null.
    static func sortKey(of document: DocumentValue, by keys: [(path: [String], direction: Int)]) throws -> [UInt8] {
        var out: [UInt8] = []
        for key in keys {
            let descending = key.direction < 0
            if let value = try document.value(atPath: key.path.joined(separator: ".")) {
                try IndexKey.append(try sortValue(value, descending: descending), descending: descending, to: &out)
            } else {
                try [DocumentTag.null.rawValue].withUnsafeBytes { try IndexKey.append(DocumentValue($0), descending: descending, to: &out) }
            }
        }
        return out
    }

    private static func sortValue(_ value: DocumentValue, descending: Bool) throws -> DocumentValue {
        guard value.tag == .array else { return value }
        var best: DocumentValue?
        try value.forEachChild { _, element in
            if let current = best {
                let c = try ValueOrder.compare(element, current)
                if descending ? c > 0 : c < 0 { best = element }
            } else {
                best = element
            }
        }
        return best ?? value
    }
}
