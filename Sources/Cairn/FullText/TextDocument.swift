/// A document as a text index sees it: for each term, its posting (the
/// fields it occurs in, their lengths and its positions), and each field's
/// length in tokens. Built by analyzing the indexed fields' strings.
struct TextDocument: Equatable {
    /// term → the posting's value (TextIndexFormat).
    var postings: [[UInt8]: [UInt8]] = [:]
    /// term → the fields it occurs in (bit i: field i).
    var fieldsOfTerm: [[UInt8]: UInt32] = [:]
    /// Per field: its length in tokens (0: no text in the field).
    var lengths: [Int]

    /// Between two strings of an array: phrases never match across them
    /// (Lucene's position increment gap).
    static let positionGap = 100

    /// Nil when no indexed field holds a term: the document is left out
    /// of the index, as a sparse index leaves documents out.
    init?(_ document: DocumentValue, fields: [IndexDefinition.Field], analyzer: Analyzer) throws {
        lengths = Array(repeating: 0, count: fields.count)
        var positionsOfTerm: [[UInt8]: [[UInt32]]] = [:]
        var any = false
        for (field, definition) in fields.enumerated() {
            var values: [DocumentValue] = []
            var sawArray = false
            try IndexDefinition.collectValues(at: definition.components[...], in: document, into: &values, sawArray: &sawArray)
            var next = 0
            var tokens = 0
            for value in values {
                guard case .string(let text) = try value.kind() else { continue }
                var last = next - 1
                try analyzer.analyze(text, startPosition: next) { token in
                    guard token.position <= Int(UInt32.max) else {
                        throw CairnError.invalidArgument("text index: field '\(definition.path)' has too many words to index")
                    }
                    positionsOfTerm[token.term, default: Array(repeating: [], count: fields.count)][field].append(UInt32(token.position))
                    tokens += 1
                    last = token.position
                }
                // The next string starts after a gap, whether or not this one had terms.
                next = max(last + 1, next) + TextDocument.positionGap
            }
            lengths[field] = tokens
            if tokens > 0 { any = true }
        }
        guard any else { return nil }
        postings.reserveCapacity(positionsOfTerm.count)
        for (term, perField) in positionsOfTerm {
            var value: [UInt8] = []
            var mask: UInt32 = 0
            for (field, positions) in perField.enumerated() where !positions.isEmpty {
                TextIndexFormat.appendOccurrence(field: field, length: lengths[field], positions: positions, to: &value)
                mask |= 1 << UInt32(field)
            }
            postings[term] = value
            fieldsOfTerm[term] = mask
        }
    }
}
