/// Splits a shell line into words: whitespace separates them; '...' and
/// "..." quote (the quotes are dropped); a word that starts with { or [
/// runs to its balanced closing bracket, spaces, quotes and line breaks
/// included, so JSON needs no quoting: `find users {"age": {"$gt": 30}}`.
enum ShellWords {
    static func split(_ line: String) throws -> [String] {
        let chars = Array(line)
        var words: [String] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            var word = ""
            if c == "{" || c == "[" {
                var balance = BracketBalance()
                while i < chars.count {
                    word.append(chars[i])
                    balance.feed(String(chars[i]).utf8)
                    i += 1
                    if !balance.isOpen { break }
                }
                if balance.isOpen { throw ShellError("unbalanced brackets in \(word.prefix(40))") }
                words.append(word)
                continue
            }
            while i < chars.count && !chars[i].isWhitespace {
                let q = chars[i]
                if q == "'" || q == "\"" {
                    i += 1
                    while i < chars.count && chars[i] != q {
                        if q == "\"" && chars[i] == "\\" && i + 1 < chars.count { i += 1 }
                        word.append(chars[i])
                        i += 1
                    }
                    guard i < chars.count else { throw ShellError("unterminated quote") }
                    i += 1
                } else {
                    word.append(q)
                    i += 1
                }
            }
            words.append(word)
        }
        return words
    }
}

struct ShellError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
