/// A search query as a user types it, parsed:
///
///     word            matches documents with the word (OR with the others)
///     +word -word     must match / must not match
///     "two words"     a phrase: the words next to each other, in order
///     pre*            a prefix: any word that starts so
///     word~ word~1    a fuzzy word: within 2 (or the given 0 to 2) edits
///     title:word      a word, phrase or prefix in one field only
///
/// Malformed input (an unbalanced quote, a '+' or '-' or field with
/// nothing after it, a lone '*', a bad edit distance) is INVALID_ARGUMENT
/// naming the character position (counted in Unicode scalars from 0).
struct TextQuery: Equatable {
    enum Occur: Equatable { case should, must, mustNot }

    enum Kind: Equatable {
        case word(String)
        case phrase(String)
        case prefix(String)
        case fuzzy(String, maxEdits: Int)
    }

    struct Clause: Equatable {
        var occur: Occur
        var field: String?
        var kind: Kind
    }

    var clauses: [Clause]

    static let maxClauses = 256
    static let maxBytes = 64 * 1024

    /// `phrasesMust`: MongoDB's $text, where a quoted phrase must match.
    static func parse(_ text: String, phrasesMust: Bool = false) throws -> TextQuery {
        guard text.utf8.count <= maxBytes else { throw CairnError.invalidArgument("search query is over \(maxBytes) bytes") }
        let scalars = Array(text.unicodeScalars)
        var clauses: [Clause] = []
        var i = 0
        func fail(_ message: String, at position: Int) -> CairnError {
            CairnError.invalidArgument("search query: \(message) at position \(position)")
        }
        func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }
        while i < scalars.count {
            if isSpace(scalars[i]) {
                i += 1
                continue
            }
            let start = i
            var occur = Occur.should
            if scalars[i] == "+" || scalars[i] == "-" {
                occur = scalars[i] == "+" ? .must : .mustNot
                i += 1
                guard i < scalars.count, !isSpace(scalars[i]), scalars[i] != "+", scalars[i] != "-" else {
                    throw fail("'\(scalars[start])' with nothing after it", at: start)
                }
            }
            // A field name: letters, digits, '_' and '.', then ':'.
            var field: String?
            var j = i
            while j < scalars.count, scalars[j].properties.isAlphabetic || ("0"..."9").contains(scalars[j]) || scalars[j] == "_" || scalars[j] == "." {
                j += 1
            }
            if j > i, j < scalars.count, scalars[j] == ":" {
                field = String(String.UnicodeScalarView(scalars[i..<j]))
                i = j + 1
                guard i < scalars.count, !isSpace(scalars[i]) else { throw fail("field '\(field!):' with nothing after it", at: j) }
            }
            if scalars[i] == "\"" {
                let open = i
                i += 1
                let from = i
                while i < scalars.count, scalars[i] != "\"" { i += 1 }
                guard i < scalars.count else { throw fail("unbalanced quote", at: open) }
                let phrase = String(String.UnicodeScalarView(scalars[from..<i]))
                i += 1
                if phrasesMust && occur == .should { occur = .must }
                clauses.append(Clause(occur: occur, field: field, kind: .phrase(phrase)))
            } else {
                let from = i
                while i < scalars.count, !isSpace(scalars[i]), scalars[i] != "\"" { i += 1 }
                var word = Array(scalars[from..<i])
                var kind: Kind
                if let tilde = word.firstIndex(of: "~") {
                    let digits = word[(tilde + 1)...]
                    let edits: Int
                    if digits.isEmpty {
                        edits = 2
                    } else if digits.count == 1, let d = Int(String(Character(digits.first!))), d >= 0, d <= 2 {
                        edits = d
                    } else {
                        throw fail("a fuzzy word takes '~', '~0', '~1' or '~2'", at: from + tilde)
                    }
                    word = Array(word[..<tilde])
                    guard !word.isEmpty, !word.contains("*") else { throw fail("'~' needs a word before it", at: from + tilde) }
                    kind = .fuzzy(String(String.UnicodeScalarView(word)), maxEdits: edits)
                } else if let star = word.firstIndex(of: "*") {
                    guard star == word.count - 1, star > 0 else { throw fail("'*' must end a word, as in pre*", at: from + star) }
                    kind = .prefix(String(String.UnicodeScalarView(word[..<star])))
                } else {
                    kind = .word(String(String.UnicodeScalarView(word)))
                }
                clauses.append(Clause(occur: occur, field: field, kind: kind))
            }
            guard clauses.count <= maxClauses else { throw fail("more than \(maxClauses) clauses", at: start) }
            // A clause ends at a space (or a quote that starts the next one).
            if i < scalars.count, !isSpace(scalars[i]), scalars[i] != "\"" { throw fail("unexpected '\(scalars[i])'", at: i) }
        }
        guard !clauses.isEmpty else { throw CairnError.invalidArgument("search query is empty") }
        return TextQuery(clauses: clauses)
    }
}
