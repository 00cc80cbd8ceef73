// Full-text search: the input is tried as a search query (TextQuery's
// syntax), as search options, as a $search stage and as a $text filter,
// run against a small collection with a text index in a real database in a
// temporary directory; and as text for the analyzer and the fuzzy matcher.
#if canImport(Glibc)
import Glibc
#endif
@testable import Cairn
import FuzzSupport

let database: Database? = {
    var template = Array("/tmp/cairn-fuzz-search-XXXXXX".utf8CString)
    guard let path = template.withUnsafeMutableBufferPointer({ buffer -> String? in
        guard let base = buffer.baseAddress, let made = mkdtemp(base) else { return nil }
        return String(cString: made) + "/db"
    }) else { return nil }
    var options = DatabaseOptions()
    options.sync = .never
    guard let db = try? Database.open(path: path, options: options) else { return nil }
    let notes = #"[{"_id": 1, "title": "Quick brown fox", "body": "The fox jumps over the lazy dog", "n": 1},"#
        + #"{"_id": 2, "title": "Straße café", "body": ["東京 and Zürich", "e\u0301t\u00e9"], "n": 2},"#
        + #"{"_id": 3, "title": "", "body": "running runners ran", "n": 3}, {"_id": 4, "n": 4}]"#
    _ = try? Array(notes.utf8).withUnsafeBytes { try db.insertMany(into: "notes", arrayJSON: $0) }
    _ = try? Array(#"{"keys": {"title": "text", "body": "text"}, "weights": {"title": 2}}"#.utf8).withUnsafeBytes {
        try db.createIndex(collection: "notes", specJSON: $0)
    }
    _ = try? Array(#"{"keys": {"n": 1}}"#.utf8).withUnsafeBytes { try db.createIndex(collection: "notes", specJSON: $0) }
    return db
}()

let dictionary: PackedTerms = {
    var terms = PackedTerms()
    for word in ["brown", "café", "dog", "fox", "jump", "lazi", "quick", "run", "runner", "straße", "zürich", "東京"] {
        terms.append(Array(word.utf8))
    }
    return terms
}()

func drain(_ cursor: DocumentCursor?) {
    guard let cursor else { return }
    var rows = 0
    while rows < 100, (try? cursor.next()) == true { rows += 1 }
}

@_cdecl("FuzzSearch_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let text = input(data, size)
        guard let database else { return 0 }
        let options = Array(#"{"highlight": true, "filter": {"n": {"$gte": 1}}, "limit": 3}"#.utf8)
        drain(options.withUnsafeBytes { try? database.search(collection: "notes", query: text, optionsJSON: $0) })
        drain(Array("fox".utf8).withUnsafeBytes { try? database.search(collection: "notes", query: $0, optionsJSON: text) })
        drain(try? database.aggregate(collection: "notes", pipelineJSON: text))
        drain(try? database.find(collection: "notes", filterJSON: text))
        if let word = String(validating: text, as: UTF8.self) {
            _ = Analyzer(AnalyzerOptions()).terms(word)
            _ = dictionary.within(2, of: Array(word.utf8.prefix(64)), limit: 50)
        }
        return 0
    }
}
