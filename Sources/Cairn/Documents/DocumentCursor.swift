/// The results of a find or an aggregation, one JSON document at a time.
/// Results stream from the plan's source as the cursor moves (a query over
/// a million documents never holds them all), except where a sort or a
/// $group must see every input first. Used by one caller at a time.
public final class DocumentCursor {
    private let database: Database
    /// Appends the next result's JSON; false at the end.
    private let produce: (inout [UInt8]) throws -> Bool
    private var currentJSON: [UInt8] = []
    private var current = ByteBuffer()
    /// Where a text producer writes the next document (then swapped).
    private var spare = ByteBuffer()

    /// Writes the next result's JSON into a buffer; false at the end. Set
    /// by a producer that can write text straight into the batch (a find).
    private let produceText: ((ByteBuffer) throws -> Bool)?

    init(database: Database, produce: @escaping (inout [UInt8]) throws -> Bool) {
        self.database = database
        self.produce = produce
        produceText = nil
    }

    /// A cursor whose results are written straight into the buffer the
    /// caller reads (the batch's, or `current`), never through an Array.
    init(database: Database, producingText: @escaping (ByteBuffer) throws -> Bool) {
        self.database = database
        produceText = producingText
        produce = { _ in preconditionFailure("a text cursor appends no Array") }
    }

    /// A cursor over no documents (a missing collection).
    static func empty(_ database: Database) -> DocumentCursor { DocumentCursor(database: database, produce: { _ in false }) }

    /// Moves to the next result; false at the end. Throws CLOSED after the
    /// database closed, CORRUPTION for a damaged document.
    public func next() throws -> Bool {
        guard !database.isClosed else { throw CairnError.closed }
        if let produceText {
            // Written aside, so that at the end `json` still holds the last
            // document, as with an Array producer.
            spare.removeAll()
            guard try produceText(spare) else { return false }
            spare.append(byte: 0)  // C callers get a NUL-terminated string
            swap(&current, &spare)
            return true
        }
        currentJSON.removeAll(keepingCapacity: true)
        guard try produce(&currentJSON) else { return false }
        currentJSON.withUnsafeBytes { current.set($0) }
        current.append(byte: 0)  // C callers get a NUL-terminated string
        return true
    }

    /// The current document as JSON text, valid until the next call; a NUL
    /// byte follows it in memory.
    public var json: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: current.bytes.dropLast()) }

    /// The documents of the last `nextBatch` as one JSON array, with each
    /// document's length; lent until the next call.
    public let batch = ItemBatch()
    private var batchJSON: [UInt8] = []

    /// Moves past up to `maxItems` results (0: the adaptive size, see
    /// ItemBatch) or until `maxBytes` (0: 1 MiB) of JSON are gathered, and
    /// writes them into `batch` as one JSON array, "[doc,doc]" and a NUL, so
    /// that a binding decodes a whole batch with one parser call. Each
    /// document is followed by one byte, ',' or the closing ']'. Returns how
    /// many documents it holds; 0 at the end (no text then).
    public func nextBatch(maxItems: Int, maxBytes: Int) throws -> Int {
        guard !database.isClosed else { throw CairnError.closed }
        let (items, bytes) = try batch.begin(maxItems: maxItems, maxBytes: maxBytes)
        if let produceText {
            // The same array, written in place.
            let text = batch.text
            text.append(byte: UInt8(ascii: "["))
            while batch.count < items && text.count < bytes {
                let start = text.count
                guard try produceText(text) else {
                    text.truncate(to: start)
                    break
                }
                batch.appendLength(text.count - start)
                batch.finishItem()
                text.append(byte: UInt8(ascii: ","))
            }
            guard batch.count > 0 else {
                text.removeAll()
                return 0
            }
            text.truncate(to: text.count - 1)
            text.append(byte: UInt8(ascii: "]"))
            text.append(byte: 0)  // C callers get a NUL-terminated string
            return batch.count
        }
        batchJSON.removeAll(keepingCapacity: true)
        batchJSON.append(UInt8(ascii: "["))
        while batch.count < items && batchJSON.count < bytes {
            let start = batchJSON.count
            guard try produce(&batchJSON) else { break }
            batch.appendLength(batchJSON.count - start)
            batch.finishItem()
            batchJSON.append(UInt8(ascii: ","))
        }
        guard batch.count > 0 else { return 0 }
        batchJSON[batchJSON.count - 1] = UInt8(ascii: "]")
        batchJSON.append(0)  // C callers get a NUL-terminated string
        batchJSON.withUnsafeBytes { batch.setBytes($0) }
        return batch.count
    }

    /// The current document as a String.
    public var jsonString: String { String(decoding: json, as: UTF8.self) }
}
