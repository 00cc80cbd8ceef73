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
    private var sorted: [MutableValue]?
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
            var matches: [MutableValue] = []
            while let document = try nextMatch() { matches.append(try MutableValue(document)) }
            var failure: Error?
            matches.sort { a, b in
                do { return try FindOptions.compare(a, b, by: options.sort) < 0 } catch { failure = error; return false }
            }
            if let failure { throw failure }
            sorted = matches
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
            let document: MutableValue
            if let sorted {
                guard sortedIndex < sorted.count else { return false }
                document = sorted[sortedIndex]
                sortedIndex += 1
            } else {
                guard let match = try nextMatch() else { return false }
                if skipped < options.skip {
                    skipped += 1
                    continue
                }
                document = try MutableValue(match)
            }
            if sorted != nil && skipped < options.skip {
                skipped += 1
                continue
            }
            let projected = try options.projection.map { try $0.apply(to: document) } ?? document
            let bytes = projected.encoded()
            currentJSON.removeAll(keepingCapacity: true)
            try bytes.withUnsafeBytes { try DocumentValue($0).appendJSON(to: &currentJSON) }
            currentJSON.withUnsafeBytes { current.set($0) }
            current.append(byte: 0)  // C callers get a NUL-terminated string
            returned += 1
            return true
        }
    }

    /// The current document as JSON text, valid until the next call.
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
