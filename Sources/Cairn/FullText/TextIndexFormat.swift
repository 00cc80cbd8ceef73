/// The keys and values of a text index (namespace 0x06; also in
/// docs/format/fulltext.md). Every key starts with the index's prefix:
///
///     P = 0x06 | collection id (u32 BE) | index id (u32 BE)
///
///     P | 0x00 | stripe (u8)                    statistics of one stripe
///         value: varint documents, varint next local number, then per
///                field varint documents with the field, varint total
///                length (tokens) of the field
///     P | 0x01 | term | 0x00 | docnum (u32 BE)  a posting
///         value: per field the term occurs in: varint field, varint
///                frequency, varint field length (tokens), then the
///                positions, each a varint delta from the previous
///     P | 0x02 | term | 0x00 | field (u8) | stripe (u8)
///         value: varint documents of the stripe whose field holds term
///     P | 0x03 | docnum (u32 BE)                the document's primary key
///         value: IndexKey of the primary key
///     P | 0x04 | IndexKey of the primary key    its docnum
///         value: docnum (u32 BE)
///
/// A document's **stripe** is chosen when it is numbered: a hash of its
/// primary key, or for the documents one run numbers (an insert_many, a
/// chunk of a build) the first one's; its **docnum** (a dense number that
/// postings sort by) is stripe + stripes × the stripe's next local number,
/// so from then on its stripe is docnum mod stripes. Statistics and document frequencies are
/// kept per stripe, so two transactions writing different documents
/// rarely write the same counter (which would make one retry), and a
/// query sums the stripes: every count stays exact under inserts, updates
/// and deletes, in the same atomic batch as the document. Terms hold no
/// NUL (the analyzer keeps letters, digits and marks), so 0x00 ends a term
/// and a term's postings sort by docnum.
enum TextIndexFormat {
    static let stripes = 16

    enum Tag: UInt8 {
        case stats = 0x00
        case posting = 0x01
        case documentFrequency = 0x02
        case primaryKey = 0x03
        case docnum = 0x04
    }

    static func prefix(collection: UInt32, index: UInt32) -> [UInt8] {
        var key = [Namespace.fullText.rawValue]
        key.reserveCapacity(48)
        key.appendUInt32BE(collection)
        key.appendUInt32BE(index)
        return key
    }

    static func stripe(of primaryKey: [UInt8]) -> Int {
        primaryKey.withUnsafeBytes { Int(Hash64.hash($0) % UInt64(stripes)) }
    }

    static func stripe(ofDocnum docnum: UInt32) -> Int {
        Int(docnum % UInt32(stripes))
    }

    static func statsKey(_ prefix: [UInt8], stripe: Int) -> [UInt8] {
        prefix + [Tag.stats.rawValue, UInt8(stripe)]
    }

    /// P | 0x01 | term | 0x00: the prefix of a term's postings.
    static func postingsPrefix(_ prefix: [UInt8], term: [UInt8]) -> [UInt8] {
        var key = prefix
        key.append(Tag.posting.rawValue)
        key.append(contentsOf: term)
        key.append(0)
        return key
    }

    static func postingKey(_ prefix: [UInt8], term: [UInt8], docnum: UInt32) -> [UInt8] {
        var key = postingsPrefix(prefix, term: term)
        key.appendUInt32BE(docnum)
        return key
    }

    /// P | 0x02 | term | 0x00 | field: the prefix of one field's stripes.
    static func frequencyPrefix(_ prefix: [UInt8], term: [UInt8], field: Int) -> [UInt8] {
        var key = prefix
        key.append(Tag.documentFrequency.rawValue)
        key.append(contentsOf: term)
        key.append(0)
        key.append(UInt8(field))
        return key
    }

    static func primaryKeyKey(_ prefix: [UInt8], docnum: UInt32) -> [UInt8] {
        var key = prefix
        key.append(Tag.primaryKey.rawValue)
        key.appendUInt32BE(docnum)
        return key
    }

    static func docnumKey(_ prefix: [UInt8], primaryKey: [UInt8]) -> [UInt8] {
        prefix + [Tag.docnum.rawValue] + primaryKey
    }

    /// The docnum at the end of a posting key.
    static func docnum(ofPosting key: UnsafeRawBufferPointer) -> UInt32 {
        guard key.count >= 4 else { return 0 }
        return UInt32(key[key.count - 4]) << 24 | UInt32(key[key.count - 3]) << 16 | UInt32(key[key.count - 2]) << 8 | UInt32(key[key.count - 1])
    }

    static func decodeDocnum(_ raw: UnsafeRawBufferPointer, what: String) throws -> UInt32 {
        guard raw.count == 4 else { throw CairnError.corruption("\(what): damaged document number") }
        return UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3])
    }

    // MARK: Statistics

    struct Stats: Equatable {
        var documents: UInt64 = 0
        var nextLocal: UInt64 = 0
        /// Per field: documents with the field, and its total length.
        var fieldDocuments: [UInt64]
        var fieldLengths: [UInt64]

        init(fields: Int) {
            fieldDocuments = Array(repeating: 0, count: fields)
            fieldLengths = Array(repeating: 0, count: fields)
        }

        init(_ raw: UnsafeRawBufferPointer, fields: Int, what: String) throws {
            self.init(fields: fields)
            var reader = ByteReader(raw, what: what)
            documents = try reader.readVarint()
            nextLocal = try reader.readVarint()
            for field in 0..<fields where !reader.isAtEnd {
                fieldDocuments[field] = try reader.readVarint()
                fieldLengths[field] = try reader.readVarint()
            }
        }

        var encoded: [UInt8] {
            var out: [UInt8] = []
            Varint.append(documents, to: &out)
            Varint.append(nextLocal, to: &out)
            for field in fieldDocuments.indices {
                Varint.append(fieldDocuments[field], to: &out)
                Varint.append(fieldLengths[field], to: &out)
            }
            return out
        }

        mutating func add(_ other: Stats) {
            documents &+= other.documents
            for field in fieldDocuments.indices where field < other.fieldDocuments.count {
                fieldDocuments[field] &+= other.fieldDocuments[field]
                fieldLengths[field] &+= other.fieldLengths[field]
            }
        }
    }

    // MARK: Postings

    /// One field's part of a posting.
    struct FieldOccurrence {
        var field: Int
        var frequency: Int
        var length: Int
        /// Where the positions start in the posting's value.
        var positionsOffset: Int
    }

    static let maxFields = 32

    /// Appends one field's part of a posting.
    static func appendOccurrence(field: Int, length: Int, positions: [UInt32], to out: inout [UInt8]) {
        Varint.append(UInt64(field), to: &out)
        Varint.append(UInt64(positions.count), to: &out)
        Varint.append(UInt64(length), to: &out)
        var previous: UInt32 = 0
        for position in positions {
            Varint.append(UInt64(position &- previous), to: &out)
            previous = position
        }
    }

    /// Calls `body` for each field part of a posting's value, without the
    /// positions; CORRUPTION when the value does not parse.
    @inline(__always)
    static func forEachOccurrence(_ value: UnsafeRawBufferPointer, fields: Int, _ body: (FieldOccurrence) throws -> Void) throws {
        var reader = ByteReader(value, what: "text index posting")
        while !reader.isAtEnd {
            let field = try reader.readVarint()
            let frequency = try reader.readVarint()
            let length = try reader.readVarint()
            guard field < UInt64(fields), frequency > 0, frequency <= UInt64(reader.remaining), length >= frequency, length <= UInt64(UInt32.max) else {
                throw CairnError.corruption("text index posting: damaged field entry")
            }
            let occurrence = FieldOccurrence(field: Int(field), frequency: Int(frequency), length: Int(length), positionsOffset: reader.offset)
            for _ in 0..<frequency { _ = try reader.readVarint() }
            try body(occurrence)
        }
    }

    /// The positions of one field part (see forEachOccurrence).
    static func positions(_ value: UnsafeRawBufferPointer, _ occurrence: FieldOccurrence) throws -> [UInt32] {
        var out: [UInt32] = []
        try positions(value, occurrence, into: &out)
        return out
    }

    /// The positions of one field part into `out` (emptied first), so a
    /// loop over many postings reuses one array.
    static func positions(_ value: UnsafeRawBufferPointer, _ occurrence: FieldOccurrence, into out: inout [UInt32]) throws {
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: value[occurrence.positionsOffset...]), what: "text index posting")
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(occurrence.frequency)
        var position: UInt64 = 0
        for _ in 0..<occurrence.frequency {
            let (sum, overflow) = position.addingReportingOverflow(try reader.readVarint())
            guard !overflow, sum <= UInt64(UInt32.max) else { throw CairnError.corruption("text index posting: position out of range") }
            position = sum
            out.append(UInt32(position))
        }
    }
}
