/// Documents that expire: MongoDB's TTL indexes, and inserts with a TTL.
///
/// A TTL index is an ordered index on one field with `expireAfterSeconds`.
/// A document has expired once the earliest date in that field (a date, or
/// an array holding dates) plus the bound is at or before now; a document
/// whose field holds no date never expires. An insert with a TTL stores its
/// expiry as a date in the reserved field `_expiresAt`, which a TTL index
/// `{"_expiresAt": 1}` with bound 0 governs (Scope.insertMany(ttlMillis:)).
///
/// Reads never return an expired document: every candidate of a query
/// passes DocumentExpiry.hides (DocumentSource), and the point reads of
/// search hits and primary keys check it too. A background purge
/// (ExpiryPurge.swift) deletes expired documents later, in batches, through
/// the ordinary delete path: index entries go in the same atomic write, and
/// the change feed records each expiry as a delete. Until it runs, an
/// expired document still takes space, still counts in text-index
/// statistics, and its primary key and unique values are taken over by the
/// write that reuses them (Transaction.removeIfExpired).
struct ExpiryRule {
    let components: [String]
    let afterMillis: Int64
    let indexName: String

    /// The TTL indexes of `collection`, as rules.
    static func rules(of collection: CollectionInfo) -> [ExpiryRule] {
        collection.indexes.compactMap { index in
            guard let seconds = index.expireAfterSeconds, index.kind.isOrdered, let field = index.fields.first else { return nil }
            // At most 2^31 seconds (IndexDefinition), so never overflows.
            return ExpiryRule(components: field.components, afterMillis: seconds * 1000, indexName: index.name)
        }
    }

    /// The instant `document` expires under this rule, or nil if never.
    func expiry(of document: DocumentValue) throws -> Int64? {
        var values: [DocumentValue] = []
        var sawArray = false
        try IndexDefinition.collectValues(at: components[...], in: document, into: &values, sawArray: &sawArray)
        var earliest: Int64?
        for value in values {
            if case .date(let millis) = try value.kind() { earliest = min(earliest ?? millis, millis) }
        }
        guard let earliest else { return nil }
        // A date near the end of time expires never rather than trapping.
        let (at, overflow) = earliest.addingReportingOverflow(afterMillis)
        return overflow ? nil : at
    }

    /// The latest date a document may hold in this field and be expired at
    /// `now` (the purge's bound); nil before the start of time.
    func cutoff(now: Int64) -> Int64? {
        let (cutoff, overflow) = now.subtractingReportingOverflow(afterMillis)
        return overflow ? nil : cutoff
    }
}

/// The expiry check of one read: the collection's rules and the clock read
/// once, when the read began, so one query sees one instant.
struct DocumentExpiry {
    let rules: [ExpiryRule]
    let now: Int64

    /// Nil when `collection` has no TTL index (the common case costs one
    /// branch per document).
    init?(_ collection: CollectionInfo, now: Int64) {
        let rules = ExpiryRule.rules(of: collection)
        guard !rules.isEmpty else { return nil }
        self.rules = rules
        self.now = now
    }

    /// Whether `document` has expired and must not be read.
    func hides(_ document: DocumentValue) throws -> Bool {
        for rule in rules {
            if let at = try rule.expiry(of: document), at <= now { return true }
        }
        return false
    }

    /// `hides` on a stored (binary) document.
    func hides(_ binary: UnsafeRawBufferPointer) throws -> Bool {
        try hides(DocumentValue(binary))
    }
}

extension DocumentExpiry {
    /// The reserved field where an insert with a TTL keeps its expiry.
    static let field = "_expiresAt"

    /// The TTL index that governs `_expiresAt`, as cairn_index_create takes it.
    static let indexSpecJSON = Array(#"{"keys": {"_expiresAt": 1}, "name": "_expiresAt_ttl", "expireAfterSeconds": 0}"#.utf8)

    /// `document` (binary) with `_expiresAt` set to `expiresAt`, replacing
    /// any value it had.
    static func stamp(_ document: [UInt8], expiresAt: Int64) throws -> [UInt8] {
        guard case .object(var members) = try document.withUnsafeBytes({ try MutableValue(DocumentValue($0)) }) else {
            throw CairnError.invalidArgument("document must be a JSON object")
        }
        members.removeAll { $0.key == field }
        members.append((field, .date(expiresAt)))
        return MutableValue.object(members).encoded()
    }

    /// Whether `collection` has the TTL index on `_expiresAt` with bound 0.
    static func governsTTLField(_ collection: CollectionInfo) -> Bool {
        collection.indexes.contains { $0.expireAfterSeconds == 0 && $0.fields.count == 1 && $0.fields[0].path == field }
    }
}
