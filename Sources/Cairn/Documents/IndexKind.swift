/// The kinds of index a collection can have.
///
/// An **ordered** index keeps one sorted entry per indexed value in the
/// index-entry namespace (0x04), and the query planner uses it for filters
/// and sorts. A **search** index keeps a structure of its own in its own
/// namespace (full-text postings in 0x06), which only its own query forms
/// read (`search`, `$text`, `$search`), and which the planner never picks.
///
/// Every kind is maintained in the same transaction as the documents
/// (Transaction.writeDocument), backfilled by the same index build, listed
/// and dropped by the same calls. A new kind adds:
///   - a case here, with its spec type (its options, parsed from the index
///     spec and kept in the catalog);
///   - the value its fields take in `spec.keys` ("text"), in
///     IndexDefinition.parse;
///   - its maintenance, called by Transaction.writeDocument and by the
///     backfill (Transaction.updateSearchIndex);
///   - its storage prefix, which dropping the index or its collection
///     deletes (IndexDefinition.storagePrefix).
enum IndexKind {
    case ordered
    /// A BM25 text index (FullText/).
    case text(TextIndexSpec)
    /// An HNSW vector index (Vector/).
    case vector(VectorIndexSpec)

    var isOrdered: Bool {
        if case .ordered = self { return true }
        return false
    }

    /// The value of each field in `spec.keys` for this kind.
    var keyValue: MutableValue? {
        switch self {
        case .ordered: return nil
        case .text: return .string(Array("text".utf8))
        case .vector: return .string(Array("vector".utf8))
        }
    }
}
