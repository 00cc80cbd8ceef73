/// Key listing: the keys in order, filtered by prefix, suffix and substring,
/// then paged by offset and limit. Options arrive as a JSON object.
extension Database {
    public struct KeyListing: Sendable {
        public var prefix: [UInt8] = []
        public var suffix: [UInt8] = []
        public var contains: [UInt8] = []
        public var offset = 0
        public var limit: Int?

        public init() {}

        static func parse(json bytes: UnsafeRawBufferPointer) throws -> KeyListing {
            var listing = KeyListing()
            guard bytes.count > 0 else { return listing }
            let value = try JSONValue.parse(bytes, what: "key listing options")
            guard case .object(let members) = value else {
                throw CairnError.invalidArgument("key listing options must be a JSON object, not \(value.typeName)")
            }
            for (key, value) in members {
                switch key {
                case "prefix", "suffix", "contains":
                    guard case .string(let text) = value else {
                        throw CairnError.invalidArgument("key listing option '\(key)' must be a string, not \(value.typeName)")
                    }
                    let bytes = Array(text.utf8)
                    if key == "prefix" { listing.prefix = bytes } else if key == "suffix" { listing.suffix = bytes } else { listing.contains = bytes }
                case "offset", "limit":
                    guard case .int(let number) = value, number >= 0 else {
                        throw CairnError.invalidArgument("key listing option '\(key)' must be a non-negative integer")
                    }
                    if key == "offset" { listing.offset = Int(clamping: number) } else { listing.limit = Int(clamping: number) }
                default:
                    throw CairnError.invalidArgument("unknown key listing option '\(key)' (known: prefix, suffix, contains, offset, limit)")
                }
            }
            return listing
        }
    }

    /// Lists keys as a packed list; returns the list and its item count.
    public func listKeys(optionsJSON: UnsafeRawBufferPointer) throws -> (packed: [UInt8], count: Int) {
        let listing = try KeyListing.parse(json: optionsJSON)
        var packed: [UInt8] = []
        var count = 0
        try listKeys(listing) { key in
            PackedList.append(key, to: &packed)
            count += 1
        }
        return (packed, count)
    }

    /// Calls `body` with each listed key, borrowed for the call.
    public func listKeys(_ listing: KeyListing, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if listing.limit == 0 {
            guard !isClosed else { throw CairnError.closed }
            return
        }
        let iterator = try listing.prefix.withUnsafeBytes { try makeIterator(prefix: $0) }
        var skipped = 0
        var emitted = 0
        while try iterator.next() {
            let key = iterator.key
            if !listing.suffix.isEmpty && !key.hasSuffix(listing.suffix) { continue }
            if !listing.contains.isEmpty && !key.containsBytes(listing.contains) { continue }
            if skipped < listing.offset {
                skipped += 1
                continue
            }
            try body(key)
            emitted += 1
            if let limit = listing.limit, emitted >= limit { break }
        }
    }
}

extension UnsafeRawBufferPointer {
    func hasSuffix(_ suffix: [UInt8]) -> Bool {
        guard suffix.count <= count else { return false }
        return suffix.withUnsafeBytes { compareBytes(UnsafeRawBufferPointer(rebasing: self[(count - suffix.count)...]), $0) == 0 }
    }

    func containsBytes(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        guard let first = needle.first else { return true }
        return needle.withUnsafeBytes { n in
            var i = 0
            while i + needle.count <= count {
                if self[i] == first && compareBytes(UnsafeRawBufferPointer(rebasing: self[i..<(i + needle.count)]), n) == 0 { return true }
                i += 1
            }
            return false
        }
    }
}
