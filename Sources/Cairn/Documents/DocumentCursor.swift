/// The results of a find, one document at a time, as JSON. Without a sort,
/// documents stream from a snapshot of the collection as the cursor moves
/// (a query over a million documents never holds them all); a sort has to
/// see every match first, so it collects the matches, sorts them, and then
/// streams those. Used by one caller at a time.
public final class DocumentCursor {
    private let database: Database
    private let filter: Filter
    private let options: FindOptions
    private var iterator: KeyValueIteratorCore?
    /// With a sort: the matches (binary) in order.
    private var sorted: [[UInt8]]?
    private var sortedIndex = 0
    private var skipped = 0
    private var returned = 0
    private var currentJSON: [UInt8] = []
    private let current = ByteBuffer()

    init(database: Database, collection: CollectionInfo?, filter: Filter, options: FindOptions) throws {
        self.database = database
        self.filter = filter
        self.options = options
        guard let collection else { return }  // a missing collection has no documents
        let (lower, upper) = collection.documentRange
        let engineIterator = try lower.withUnsafeBytes { l in
            try upper.withUnsafeBytes { u in try database.engine.makeIterator(lower: l, upper: u, reverse: false) }
        }
        iterator = KeyValueIteratorCore(engineIterator)
        if !options.sort.isEmpty {
            // Each match's sort key is computed once, as order-preserving
            // bytes, so sorting compares bytes instead of decoding values.
            var matches: [(key: [UInt8], document: [UInt8])] = []
            while let document = try nextMatch() {
                matches.append((try FindOptions.sortKey(of: document, by: options.sort), Array(document.bytes)))
            }
            matches.sort { $0.key.lexicographicallyPrecedes($1.key) }
            sorted = matches.map(\.document)
            iterator = nil
        }
    }

    private func nextMatch() throws -> DocumentValue? {
        guard let iterator else { return nil }
        while try iterator.engineIterator.iterator.next() {
            let document = DocumentValue(iterator.engineIterator.iterator.value)
            if try filter.matches(document) { return document }
        }
        return nil
    }

    /// Moves to the next result; false at the end. Throws CLOSED after the
    /// database closed, CORRUPTION for a damaged document.
    public func next() throws -> Bool {
        guard !database.isClosed else { throw CairnError.closed }
        while true {
            if let limit = options.limit, returned >= limit { return false }
            var sortedDocument: [UInt8]?
            var match: DocumentValue?
            if let sorted {
                guard sortedIndex < sorted.count else { return false }
                sortedDocument = sorted[sortedIndex]
                sortedIndex += 1
            } else {
                guard let next = try nextMatch() else { return false }
                match = next
            }
            if skipped < options.skip {
                skipped += 1
                continue
            }
            currentJSON.removeAll(keepingCapacity: true)
            try withDocument(match: match, sorted: sortedDocument) { document in
                // Only a projection needs the document decoded into a tree.
                if let projection = options.projection {
                    let projected = try projection.apply(to: try MutableValue(document)).encoded()
                    try projected.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &currentJSON) }
                } else {
                    try document.appendJSON(to: &currentJSON)
                }
            }
            currentJSON.withUnsafeBytes { current.set($0) }
            current.append(byte: 0)  // C callers get a NUL-terminated string
            returned += 1
            return true
        }
    }

    /// The current document as JSON text, valid until the next call.
    private func withDocument(match: DocumentValue?, sorted: [UInt8]?, _ body: (DocumentValue) throws -> Void) throws {
        if let match { return try body(match) }
        try sorted!.withUnsafeBytes { try body(DocumentValue($0)) }
    }

    /// The current document as JSON text, valid until the next call; a NUL
    /// byte follows it in memory.
    public var json: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: current.bytes.dropLast()) }

    /// The current document as a String.
    public var jsonString: String { String(decoding: json, as: UTF8.self) }
}

/// An engine iterator over one namespace range, kept alive by the cursor.
final class KeyValueIteratorCore {
    let engineIterator: EngineIterator
    init(_ engineIterator: EngineIterator) { self.engineIterator = engineIterator }
}
