/// Executes a QueryPlan: yields the candidate documents (binary) of a
/// collection one at a time, reading through a transaction's reader, and
/// counts the index keys and documents it examined (for explain).
final class DocumentSource {
    private let reader: TransactionReader
    private let collection: CollectionInfo
    let plan: QueryPlan
    private var scan: TransactionScan?
    private var rangeIndex = 0
    private var pointIndex = 0
    /// Primary keys already returned by a multikey index scan, where one
    /// document can have several entries in range.
    private var seen: Set<[UInt8]>?
    private let current = ByteBuffer()
    /// 0x03 | collection id: index entries hold only the rest of a document key.
    private let documentPrefix: [UInt8]
    private(set) var keysExamined = 0
    private(set) var documentsExamined = 0
    /// Expired documents are skipped (Expiry.swift); nil when the
    /// collection has no TTL index, or for the purge, which deletes them.
    private let expiry: DocumentExpiry?
    /// An index scan's parts, taken out of `plan` once: matching the plan's
    /// enum on every step copied the index definition and the ranges (a
    /// retain and release of each of their arrays and strings) per
    /// document.
    private let scanIndex: IndexDefinition?
    private let scanRanges: [(lower: [UInt8], upper: [UInt8])]
    private let scanReverse: Bool
    private let scanExact: Bool
    private let scanUnique: Bool
    /// The key of the document an index entry names, rebuilt in place.
    private var documentKey: [UInt8] = []

    init(reader: TransactionReader, collection: CollectionInfo, plan: QueryPlan, includeExpired: Bool = false) throws {
        self.reader = reader
        self.collection = collection
        self.plan = plan
        expiry = includeExpired ? nil : DocumentExpiry(collection, now: reader.engine.env.nowMillis())
        documentPrefix = CollectionInfo.documentPrefix(collection.id)
        if case .indexScan(let index, let ranges, let reverse, let exact) = plan.source {
            (scanIndex, scanRanges, scanReverse, scanExact, scanUnique) = (index, ranges, reverse, exact, index.unique)
        } else {
            (scanIndex, scanRanges, scanReverse, scanExact, scanUnique) = (nil, [], false, false, false)
        }
        switch plan.source {
        case .collectionScan(let reverse):
            let (lower, upper) = collection.documentRange
            scan = try reader.scan(lower: lower, upper: upper, reverse: reverse)
        case .indexScan(let index, _, _, _):
            if index.multikey { seen = [] }
        case .primaryKey, .text:
            break
        }
    }

    /// The text score of the last candidate of a `.text` source.
    var score: Double? {
        guard case .text(let matches) = plan.source, pointIndex > 0 else { return nil }
        return matches.scores[pointIndex - 1]
    }

    /// A unique index bound on every field: each range's start is the whole
    /// entry key, so a point read (with bloom filters) replaces a scan.
    private func nextByUniqueEntry(_ index: IndexDefinition, _ ranges: [(lower: [UInt8], upper: [UInt8])]) throws -> DocumentValue? {
        while rangeIndex < ranges.count {
            let entryKey = ranges[rangeIndex].lower
            rangeIndex += 1
            keysExamined += 1
            var documentKey: [UInt8]?
            _ = try reader.read(entryKey) { value in documentKey = documentPrefix + Array(value) }
            guard let documentKey else { continue }
            if seen != nil, !seen!.insert(documentKey).inserted { continue }
            if try reader.read(documentKey, { current.set($0) }) {
                documentsExamined += 1
                return DocumentValue(current.bytes)
            }
            throw CairnError.corruption("index '\(index.name)' of collection '\(collection.name)' has an entry without a document")
        }
        return nil
    }

    /// The next candidate, valid until the next call; nil at the end.
    func next() throws -> DocumentValue? {
        guard let expiry else { return try nextStored() }
        while let document = try nextStored() {
            if try !expiry.hides(document) { return document }
        }
        return nil
    }

    /// The next document the plan reaches, expired or not.
    private func nextStored() throws -> DocumentValue? {
        if scanIndex != nil, !(scanExact && scanUnique) { return try nextFromIndexScan() }
        switch plan.source {
        case .collectionScan:
            guard try scan!.next() else { return nil }
            documentsExamined += 1
            return DocumentValue(scan!.value)
        case .text(let matches):
            // Every key has its document: the index is written with them.
            while pointIndex < matches.docnums.count {
                let key = try matches.documentKey(pointIndex)
                pointIndex += 1
                keysExamined += 1
                guard try reader.read(key, { current.set($0) }) else {
                    throw CairnError.corruption("text index '\(matches.index.name)' of collection '\(collection.name)' names a document that does not exist")
                }
                documentsExamined += 1
                return DocumentValue(current.bytes)
            }
            return nil
        case .primaryKey(let keys):
            while pointIndex < keys.count {
                let key = keys[pointIndex]
                pointIndex += 1
                keysExamined += 1
                if try reader.read(key, { current.set($0) }) {
                    documentsExamined += 1
                    return DocumentValue(current.bytes)
                }
            }
            return nil
        case .indexScan(let index, let ranges, _, let exact):
            // Only the unique exact case comes here (see the top).
            precondition(exact && index.unique, "index scans go through nextFromIndexScan")
            return try nextByUniqueEntry(index, ranges)
        }
    }

    /// The next document of an index scan (every case but a unique index
    /// bound on all its fields): the entries of each range in turn, each
    /// followed by a point read of the document it names.
    private func nextFromIndexScan() throws -> DocumentValue? {
        let ranges = scanRanges
        while true {
            if scan == nil {
                guard rangeIndex < ranges.count else { return nil }
                let range = ranges[scanReverse ? ranges.count - 1 - rangeIndex : rangeIndex]
                rangeIndex += 1
                scan = try reader.scan(lower: range.lower, upper: range.upper, reverse: scanReverse, bloomPrefix: scanExact ? range.lower : nil)
            }
            guard try scan!.next() else {
                scan = nil
                continue
            }
            keysExamined += 1
            let primaryKey: UnsafeRawBufferPointer
            if scanUnique {
                primaryKey = scan!.value
            } else {
                primaryKey = try scanIndex!.primaryKey(entryKey: scan!.key, value: scan!.value)
            }
            documentKey.removeAll(keepingCapacity: true)
            documentKey.append(contentsOf: documentPrefix)
            if let base = primaryKey.baseAddress {
                documentKey.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: primaryKey.count))
            }
            if seen != nil, !seen!.insert(documentKey).inserted { continue }
            if try reader.read(documentKey, { current.set($0) }) {
                documentsExamined += 1
                return DocumentValue(current.bytes)
            }
            // An entry without its document cannot happen: they are
            // written together. Report it rather than hide it.
            throw CairnError.corruption("index '\(scanIndex!.name)' of collection '\(collection.name)' has an entry without a document")
        }
    }
}
