/// The results of a find or an aggregation, one JSON document at a time.
/// Results stream from the plan's source as the cursor moves (a query over
/// a million documents never holds them all), except where a sort or a
/// $group must see every input first. Used by one caller at a time.
public final class DocumentCursor {
    private let database: Database
    /// Appends the next result's JSON; false at the end.
    private let produce: (inout [UInt8]) throws -> Bool
    private var currentJSON: [UInt8] = []
    private let current = ByteBuffer()

    init(database: Database, produce: @escaping (inout [UInt8]) throws -> Bool) {
        self.database = database
        self.produce = produce
    }

    /// A cursor over no documents (a missing collection).
    static func empty(_ database: Database) -> DocumentCursor { DocumentCursor(database: database) { _ in false } }

    /// Moves to the next result; false at the end. Throws CLOSED after the
    /// database closed, CORRUPTION for a damaged document.
    public func next() throws -> Bool {
        guard !database.isClosed else { throw CairnError.closed }
        currentJSON.removeAll(keepingCapacity: true)
        guard try produce(&currentJSON) else { return false }
        currentJSON.withUnsafeBytes { current.set($0) }
        current.append(byte: 0)  // C callers get a NUL-terminated string
        return true
    }

    /// The current document as JSON text, valid until the next call; a NUL
    /// byte follows it in memory.
    public var json: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: current.bytes.dropLast()) }

    /// The current document as a String.
    public var jsonString: String { String(decoding: json, as: UTF8.self) }
}
