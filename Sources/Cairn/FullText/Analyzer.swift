import CStemmer

/// How a text index turns text into terms: the same at index time and at
/// query time, so a query finds what was indexed.
struct AnalyzerOptions: Hashable {
    enum Stopwords: Hashable {
        case none
        /// The language's Snowball list (StopwordLists).
        case language
        case custom([String])
    }

    /// A Snowball algorithm's name ("english", "french", ...; also the ISO
    /// codes libstemmer knows, such as "en"), or "none": no stemming and no
    /// stopwords, as MongoDB's "none".
    var language = "english"
    var stemming = true
    var stopwords = Stopwords.language
    /// Shorter tokens (in Unicode scalars) are not indexed.
    var minTokenLength = 1

    static let maxCustomStopwords = 10_000

    static func language(_ value: MutableValue, at path: String) throws -> String {
        guard case .string(let utf8) = value, !utf8.isEmpty, utf8.count <= 32 else {
            throw CairnError.invalidArgument("\(path) must be a language name such as \"english\"")
        }
        let name = String(decoding: utf8, as: UTF8.self).lowercased()
        guard name == "none" || Stemmer.isKnown(name) else {
            throw CairnError.invalidArgument("\(path): unknown language '\(name)' (known: none, \(Stemmer.languages.joined(separator: ", ")))")
        }
        return name
    }

    mutating func parse(_ value: MutableValue, at path: String) throws {
        guard case .object(let members) = value else { throw CairnError.invalidArgument("\(path) must be an object") }
        for (key, option) in members {
            switch (key, option) {
            case ("language", _):
                language = try AnalyzerOptions.language(option, at: "\(path).language")
            case ("stemming", .bool(let on)):
                stemming = on
            case ("stopwords", .bool(let on)):
                stopwords = on ? .language : .none
            case ("stopwords", .array(let words)):
                guard words.count <= AnalyzerOptions.maxCustomStopwords else {
                    throw CairnError.invalidArgument("\(path).stopwords: at most \(AnalyzerOptions.maxCustomStopwords) words")
                }
                stopwords = .custom(try words.map { word in
                    guard case .string(let utf8) = word, !utf8.isEmpty, utf8.count <= Analyzer.maxTermBytes else {
                        throw CairnError.invalidArgument("\(path).stopwords must hold non-empty strings")
                    }
                    return String(decoding: utf8, as: UTF8.self)
                })
            case ("min_token_length", let n):
                guard let length = n.number, length >= 1, length <= 255, length == length.rounded() else {
                    throw CairnError.invalidArgument("\(path).min_token_length must be an integer in [1, 255]")
                }
                minTokenLength = Int(length)
            default:
                throw CairnError.invalidArgument("\(path).\(key): unknown option or wrong type (known: language, stemming (bool), stopwords (bool or array of words), min_token_length)")
            }
        }
    }

    var value: MutableValue {
        let words: MutableValue
        switch stopwords {
        case .none: words = .bool(false)
        case .language: words = .bool(true)
        case .custom(let list): words = .array(list.map { .string(Array($0.utf8)) })
        }
        return .object([("language", .string(Array(language.utf8))), ("stemming", .bool(stemming)), ("stopwords", words),
                        ("min_token_length", .int(Int64(minTokenLength)))])
    }
}

/// An analyzer built from its options: a tokenizer that splits text into
/// runs of letters, digits and marks of any script, folds case, drops
/// short tokens and stopwords, and stems with Snowball.
///
/// Positions count every token, stopped ones too, as Lucene's position
/// increments do: so "king of england" holds "king" at 0 and "england" at
/// 2, and a phrase query analyzed the same way matches it.
final class Analyzer: @unchecked Sendable {
    let options: AnalyzerOptions
    private let stopwords: Set<[UInt8]>
    private let stemmerLanguage: String?

    /// Longer tokens are skipped (Lucene's limit is 255 characters).
    static let maxTermBytes = 255

    init(_ options: AnalyzerOptions) {
        self.options = options
        let words: [String]
        switch options.stopwords {
        case .none: words = []
        case .language: words = options.language == "none" ? [] : StopwordLists.words(for: options.language)
        case .custom(let list): words = list
        }
        stopwords = Set(words.map { Array($0.lowercased().utf8) })
        stemmerLanguage = options.stemming && options.language != "none" ? options.language : nil
    }

    /// One token: its term (folded and stemmed), its position, and the
    /// byte range of its original text (for highlights).
    struct Token {
        var term: [UInt8]
        var position: Int
        var start: Int
        var end: Int
    }

    /// Calls `body` for each term of `text` (UTF-8), in order; with
    /// `includingDropped`, also for the words too short or stopped, with
    /// an empty term (highlights count every word).
    func analyze(_ text: UnsafeRawBufferPointer, startPosition: Int = 0, includingDropped: Bool = false,
                 _ body: (inout Token) throws -> Void) rethrows {
        try Stemmer.withStemmer(stemmerLanguage) { stemmer in
            var token = Token(term: [], position: startPosition - 1, start: 0, end: 0)
            var folded: [UInt8] = []
            folded.reserveCapacity(32)
            var scalars = 0
            var start = -1
            var offset = 0
            func finish(_ end: Int) throws {
                defer { folded.removeAll(keepingCapacity: true); scalars = 0; start = -1 }
                token.position += 1
                token.start = start
                token.end = end
                guard scalars >= options.minTokenLength, folded.count <= Analyzer.maxTermBytes, !stopwords.contains(folded) else {
                    if includingDropped {
                        token.term = []
                        try body(&token)
                    }
                    return
                }
                if let stemmer {
                    let stemmed = folded.withUnsafeBufferPointer { buffer -> [UInt8] in
                        guard let out = sb_stemmer_stem(stemmer, buffer.baseAddress, Int32(buffer.count)) else { return Array(buffer) }
                        return Array(UnsafeBufferPointer(start: out, count: Int(sb_stemmer_length(stemmer))))
                    }
                    token.term = stemmed.isEmpty ? folded : stemmed
                } else {
                    token.term = folded
                }
                try body(&token)
            }
            while offset < text.count {
                let byte = text[offset]
                if byte < 0x80 {
                    // ASCII: a table lookup, no decoding.
                    if Analyzer.isASCIIWordByte(byte) {
                        if start < 0 { start = offset }
                        folded.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
                        scalars += 1
                    } else if start >= 0 {
                        try finish(offset)
                    }
                    offset += 1
                    continue
                }
                let (scalar, length) = Analyzer.decode(text, at: offset)
                if let scalar, Analyzer.isWordScalar(scalar, inWord: start >= 0) {
                    if start < 0 { start = offset }
                    let lower = scalar.properties.lowercaseMapping
                    folded.append(contentsOf: lower.utf8)
                    scalars += 1
                } else if start >= 0 {
                    try finish(offset)
                }
                offset += length
            }
            if start >= 0 { try finish(offset) }
        }
    }

    /// The terms of a text, in order (for queries).
    func terms(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var copy = text
        copy.withUTF8 { utf8 in analyze(UnsafeRawBufferPointer(utf8)) { tokens.append($0) } }
        return tokens
    }

    private static let asciiWord: [Bool] = (0..<128).map { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    @inline(__always)
    static func isASCIIWordByte(_ byte: UInt8) -> Bool { asciiWord[Int(byte)] }

    /// Letters and digits of any script; combining marks inside a word
    /// (accents written as separate scalars) belong to it.
    static func isWordScalar(_ scalar: Unicode.Scalar, inWord: Bool) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic { return true }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        case .nonspacingMark, .spacingMark, .enclosingMark: return inWord
        default: return false
        }
    }

    /// Decodes the UTF-8 scalar at `offset`; nil (and a length of 1) for a
    /// malformed sequence, which then separates words.
    static func decode(_ text: UnsafeRawBufferPointer, at offset: Int) -> (Unicode.Scalar?, Int) {
        let lead = text[offset]
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return (nil, 1)
        }
        guard offset + length <= text.count else { return (nil, 1) }
        for i in 1..<length {
            let next = text[offset + i]
            guard next & 0xC0 == 0x80 else { return (nil, 1) }
            value = value << 6 | UInt32(next & 0x3F)
        }
        return (Unicode.Scalar(value), length)
    }
}

extension StopwordLists {
    /// The list of `language` (a Snowball name or an ISO code), or none.
    static func words(for language: String) -> [String] {
        let name = Stemmer.canonicalName(language) ?? language
        return byLanguage[name].map { $0.split(separator: " ").map(String.init) } ?? []
    }
}

/// Snowball stemmers from libstemmer. A stemmer object is not thread-safe,
/// so each language keeps a pool: an analysis borrows one and gives it
/// back. The pool's lock is a leaf (docs/architecture.md, "Locks").
enum Stemmer {
    private final class Pool: @unchecked Sendable {
        let lock = Lock()
        var idle: [String: [OpaquePointer]] = [:]
    }

    private static let pool = Pool()

    /// The algorithms libstemmer ships.
    static let languages: [String] = {
        var names: [String] = []
        guard var list = sb_stemmer_list() else { return names }
        while let name = list.pointee {
            let text = String(cString: name)
            if text != "porter" { names.append(text) }
            list += 1
        }
        return names.sorted()
    }()

    /// ISO 639 codes of the languages, as libstemmer also accepts them.
    private static let codes: [String: String] = [
        "ar": "arabic", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
        "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
        "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian", "pt": "portuguese",
        "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil",
        "tr": "turkish", "yi": "yiddish", "hy": "armenian",
    ]

    static func canonicalName(_ language: String) -> String? {
        if languages.contains(language) || language == "porter" { return language }
        if let name = codes[language], languages.contains(name) { return name }
        return nil
    }

    static func isKnown(_ language: String) -> Bool { canonicalName(language) != nil }

    /// Runs `body` with a stemmer for `language` (nil: no stemming).
    static func withStemmer<T>(_ language: String?, _ body: (OpaquePointer?) throws -> T) rethrows -> T {
        guard let language, let name = canonicalName(language) else { return try body(nil) }
        let borrowed = pool.lock.withLock { pool.idle[name]?.popLast() } ?? name.withCString { sb_stemmer_new($0, "UTF_8") }
        defer { if let borrowed { pool.lock.withLock { pool.idle[name, default: []].append(borrowed) } } }
        return try body(borrowed)
    }
}
