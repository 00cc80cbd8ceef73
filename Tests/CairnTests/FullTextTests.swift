import Foundation
import XCTest
@testable import Cairn

/// Full-text search through the Swift core: the analyzer, the query
/// syntax, BM25 against a reference implementation of Lucene's formula,
/// and the index staying equal to its documents under every kind of write.
final class FullTextTests: XCTestCase {
    private func insert(_ db: Database, _ collection: String, _ json: String) throws {
        _ = try Array(json.utf8).withUnsafeBytes { try db.insertOne(into: collection, json: $0) }
    }

    private func createIndex(_ db: Database, _ collection: String, _ spec: String) throws {
        _ = try Array(spec.utf8).withUnsafeBytes { try db.createIndex(collection: collection, specJSON: $0) }
    }

    /// The hits' (_id, score) in order.
    private func search(_ db: Scope, _ collection: String, _ query: String, _ options: String = "") throws -> [(id: String, score: Double)] {
        let cursor = try Array(query.utf8).withUnsafeBytes { q in
            try Array(options.utf8).withUnsafeBytes { o in try db.search(collection: collection, query: q, optionsJSON: o) }
        }
        var out: [(String, Double)] = []
        while try cursor.next() {
            let hit = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as! [String: Any]
            let document = hit["document"] as! [String: Any]
            out.append(("\(document["_id"]!)", hit["score"] as! Double))
        }
        return out
    }

    private func ids(_ db: Scope, _ collection: String, _ query: String, _ options: String = "") throws -> [String] {
        try search(db, collection, query, options).map(\.id)
    }

    func testAnalyzerFoldsUnicodeStemsAndDropsStopwords() {
        let english = Analyzer(AnalyzerOptions())
        XCTAssertEqual(english.terms("The Running dogs, RAN!").map { String(decoding: $0.term, as: UTF8.self) }, ["run", "dog", "ran"])
        XCTAssertEqual(english.terms("The Running dogs").map(\.position), [1, 2], "stopwords keep their position")
        let plain = Analyzer(AnalyzerOptions(language: "none", stemming: false, stopwords: .none, minTokenLength: 1))
        XCTAssertEqual(plain.terms("Ünïcode STRASSE café 東京 x42 e\u{301}t").map { String(decoding: $0.term, as: UTF8.self) },
                       ["ünïcode", "strasse", "café", "東京", "x42", "e\u{301}t"])
        let german = Analyzer(AnalyzerOptions(language: "de", stemming: true, stopwords: .language, minTokenLength: 1))
        XCTAssertEqual(german.terms("Die Häuser und der Garten").map { String(decoding: $0.term, as: UTF8.self) }, ["haus", "gart"])
        let short = Analyzer(AnalyzerOptions(language: "none", stemming: false, stopwords: .custom(["foo"]), minTokenLength: 3))
        XCTAssertEqual(short.terms("a ab abc foo food").map { String(decoding: $0.term, as: UTF8.self) }, ["abc", "food"])
    }

    func testQuerySyntaxAndItsErrors() throws {
        let query = try TextQuery.parse(#"+must -not "a phrase" pre* fuzz~1 title:word word~"#)
        XCTAssertEqual(query.clauses, [
            .init(occur: .must, field: nil, kind: .word("must")), .init(occur: .mustNot, field: nil, kind: .word("not")),
            .init(occur: .should, field: nil, kind: .phrase("a phrase")), .init(occur: .should, field: nil, kind: .prefix("pre")),
            .init(occur: .should, field: nil, kind: .fuzzy("fuzz", maxEdits: 1)), .init(occur: .should, field: "title", kind: .word("word")),
            .init(occur: .should, field: nil, kind: .fuzzy("word", maxEdits: 2)),
        ])
        for (text, position) in [(#"ok "open"#, 3), ("ok + x", 3), ("-", 0), ("title:", 5), ("*", 0), ("a*b", 1), ("w~3", 1), ("  ", -1)] {
            XCTAssertThrowsError(try TextQuery.parse(text), text) { error in
                let error = error as! CairnError
                XCTAssertEqual(error.code, .invalidArgument)
                if position >= 0 { XCTAssertTrue(error.message.hasSuffix("at position \(position)"), "\(text): \(error.message)") }
            }
        }
    }

    func testFuzzyExpansionAgreesWithBruteForce() {
        var random = SeededRandom(seed: 7)
        let alphabet: [Character] = Array("abcde")
        var words = Set<String>()
        for _ in 0..<3000 { words.insert(String((0..<Int.random(in: 1...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! } as [Character])) }
        var terms = PackedTerms()
        for word in words.sorted() { terms.append(Array(word.utf8)) }
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in 0...a.count { d[i][0] = i }
            for j in 0...b.count { d[0][j] = j }
            for i in stride(from: 1, through: a.count, by: 1) {
                for j in stride(from: 1, through: b.count, by: 1) {
                    d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
                }
            }
            return d[a.count][b.count]
        }
        for _ in 0..<50 {
            let query = String((0..<Int.random(in: 1...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! } as [Character])
            for edits in 1...2 {
                let found = Set(terms.within(edits, of: Array(query.utf8), limit: .max).map { String(decoding: $0.term, as: UTF8.self) })
                let expected = Set(words.filter { distance(Array($0), Array(query)) <= edits })
                XCTAssertEqual(found, expected, "\(query) within \(edits)")
            }
        }
    }

    /// With stemming and stopwords off, scores equal Lucene's BM25 computed
    /// here from the raw text, within 1e-4 relative.
    func testScoresEqualLuceneBM25Reference() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var random = SeededRandom(seed: 42)
        let vocabulary = (0..<40).map { "w\($0)" }
        var documents: [(title: [String], body: [String])] = []
        for id in 0..<300 {
            func text(_ n: Int) -> [String] { (0..<n).map { _ in vocabulary[min(Int(Double(vocabulary.count) * pow(Double.random(in: 0..<1, using: &random), 2)), vocabulary.count - 1)] } }
            let title = text(Int.random(in: 0...5, using: &random)), body = text(Int.random(in: 1...30, using: &random))
            documents.append((title, body))
            try insert(db, "docs", #"{"_id":\#(id),"title":"\#(title.joined(separator: " "))","body":"\#(body.joined(separator: " "))"}"#)
        }
        try createIndex(db, "docs", #"{"keys":{"title":"text","body":"text"},"weights":{"title":2.5},"analyzer":{"stemming":false,"stopwords":false},"k1":1.1,"b":0.7}"#)
        let fields: [(Int) -> [String]] = [{ documents[$0].title }, { documents[$0].body }]
        let weights = [2.5, 1.0]
        func reference(_ words: [String]) -> [Int: Double] {
            var scores: [Int: Double] = [:]
            for (f, field) in fields.enumerated() {
                let withField = documents.indices.filter { !field($0).isEmpty }
                let average = Double(withField.reduce(0) { $0 + field($1).count }) / Double(withField.count)
                for word in words {
                    let n = Double(withField.filter { field($0).contains(word) }.count)
                    guard n > 0 else { continue }
                    let idf = log(1 + (Double(withField.count) - n + 0.5) / (n + 0.5))
                    for d in withField {
                        let frequency = Double(field(d).filter { $0 == word }.count)
                        guard frequency > 0 else { continue }
                        let tf = frequency / (frequency + 1.1 * (1 - 0.7 + 0.7 * Double(field(d).count) / average))
                        scores[d, default: 0] += weights[f] * idf * tf
                    }
                }
            }
            return scores
        }
        for words in [["w0"], ["w3", "w17"], ["w39"], ["w1", "w2", "w5"]] {
            let hits = try search(db, "docs", words.joined(separator: " "), #"{"limit":1000}"#)
            let expected = reference(words)
            XCTAssertEqual(hits.count, expected.count, "\(words)")
            for hit in hits {
                let want = expected[Int(hit.id)!]!
                XCTAssertLessThan(abs(hit.score - want) / want, 1e-4, "\(words) doc \(hit.id): \(hit.score) vs \(want)")
            }
            XCTAssertEqual(hits.map(\.score), hits.map(\.score).sorted(by: >), "best first")
        }
    }

    func testQueryFormsFieldsFiltersAndHighlights() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try insert(db, "a", #"{"_id":1,"title":"Quick brown fox","body":"The fox jumps over the lazy dog","n":1}"#)
        try insert(db, "a", #"{"_id":2,"title":"Lazy afternoon","body":"A brown dog sleeps","n":2}"#)
        try insert(db, "a", #"{"_id":3,"title":"Foxes","body":"Quick foxes are quick; brown is their colour","n":3}"#)
        try insert(db, "a", #"{"_id":4,"title":"Nothing","body":"quack","n":4}"#)
        try createIndex(db, "a", #"{"keys":{"title":"text","body":"text"},"weights":{"title":3}}"#)
        try createIndex(db, "a", #"{"keys":{"n":1}}"#)
        XCTAssertEqual(Set(try ids(db, "a", "fox")), ["1", "3"], "stemmed: foxes matches fox")
        XCTAssertEqual(Set(try ids(db, "a", "+brown +dog")), ["1", "2"])
        XCTAssertEqual(Set(try ids(db, "a", "brown -dog")), ["3"])
        XCTAssertEqual(try ids(db, "a", #""lazy dog""#), ["1"])
        XCTAssertEqual(try ids(db, "a", #""dog lazy""#), [])
        XCTAssertEqual(try ids(db, "a", "title:lazy"), ["2"])
        XCTAssertEqual(Set(try ids(db, "a", "laz*")), ["1", "2"])
        XCTAssertEqual(try ids(db, "a", "the of and"), [], "stopwords only")
        // Fuzzy: "quack" is one edit from "quick"; the exact match ranks first.
        let fuzzy = try search(db, "a", "quick~1")
        XCTAssertEqual(Set(fuzzy.map(\.id)), ["1", "3", "4"])
        XCTAssertEqual(fuzzy.last?.id, "4")
        XCTAssertEqual(Set(try ids(db, "a", "quick", #"{"fields":["body"]}"#)), ["3"])
        // Filters, both strategies (the n index serves a selective one).
        XCTAssertEqual(Set(try ids(db, "a", "brown", #"{"filter":{"n":{"$gte":2}}}"#)), ["2", "3"])
        XCTAssertEqual(Set(try ids(db, "a", "brown", #"{"filter":{"title":{"$ne":"Foxes"}}}"#)), ["1", "2"])
        XCTAssertEqual(try ids(db, "a", "brown", #"{"limit":1,"skip":1}"#).count, 1)
        let cursor = try Array("lazy".utf8).withUnsafeBytes { q in
            try Array(#"{"highlight":{"pre":"[","post":"]"},"filter":{"n":1}}"#.utf8).withUnsafeBytes { try db.search(collection: "a", query: q, optionsJSON: $0) }
        }
        XCTAssertTrue(try cursor.next())
        let hit = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as! [String: Any]
        XCTAssertEqual(hit["highlights"] as? [String: String], ["body": "The fox jumps over the [lazy] dog"])
        XCTAssertEqual(hit["snippet"] as? String, "The fox jumps over the [lazy] dog")
        // Errors.
        XCTAssertEqual(status { _ = try self.ids(db, "a", #"say "hi"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try self.ids(db, "a", "nope:word") }, .invalidArgument)
        XCTAssertEqual(status { _ = try self.ids(db, "a", "x", #"{"limit":-1}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try self.ids(db, "a", "x", #"{"index":"none"}"#) }, .notFound)
        try insert(db, "plain", #"{"_id":1}"#)
        XCTAssertEqual(status { _ = try self.ids(db, "plain", "x") }, .notFound)
        XCTAssertEqual(try ids(db, "missing", "x"), [])
    }

    /// Whatever strategy a filter makes the search take (filter first from
    /// the index entries alone, text first testing keys, text first reading
    /// documents, filter first through a find), the hits are the unfiltered
    /// hits that pass the filter, with the same scores, in the same order.
    func testFilteredSearchesEqualTheUnfilteredHitsThatPass() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try createIndex(db, "f", #"{"keys":{"body":"text"},"analyzer":{"stemming":false,"stopwords":false}}"#)
        try createIndex(db, "f", #"{"keys":{"bucket":1}}"#)
        var random = SeededRandom(seed: 1_402)
        // Word i appears with probability about 1/(i+1): frequent and rare words.
        let words = (0..<60).map { "w\($0)" }
        var buckets: [Int: Int] = [:]
        var batch: [String] = []
        for id in 0..<3000 {
            var body: [String] = []
            for _ in 0..<(3 + Int(random.next() % 12)) {
                let rank = Int(random.next() % 1000)
                body.append(words[min(words.count - 1, 60 * rank / 1000 * rank / 1000)])
            }
            let bucket = Int(random.next() % 100)
            buckets[id] = bucket
            batch.append(#"{"_id":\#(id),"body":"\#(body.joined(separator: " "))","bucket":\#(bucket)}"#)
            if batch.count == 500 || id == 2999 {
                _ = try Array("[\(batch.joined(separator: ","))]".utf8).withUnsafeBytes { try db.insertMany(into: "f", arrayJSON: $0) }
                batch = []
            }
            if id == 1500 { try db.flush() }
        }
        let filters: [(json: String, passes: (Int) -> Bool)] = [
            (#"{"bucket":7}"#, { $0 == 7 }),                                  // covered, 1%
            (#"{"bucket":{"$in":[3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]}}"#,
             { (3...30).contains($0) }),                                        // covered, 28%
            (#"{"bucket":{"$lt":2}}"#, { $0 < 2 }),                            // a range: through a find
            (#"{"$or":[{"bucket":5},{"bucket":{"$gt":98}}]}"#, { $0 == 5 || $0 > 98 }),  // no index: documents tested
            (#"{"bucket":1000}"#, { _ in false }),                             // covered, no match
        ]
        let queries = ["w0", "w1", "w5", "w30", "w59", "w0 w40", "+w2 +w9", "+w0 -w3", #""w0 w1""#, "w4*", "w33~1"]
        for query in queries {
            let all = try search(db, "f", query, #"{"limit":100000}"#)
            for filter in filters {
                for (skip, limit) in [(0, 10), (3, 5), (0, 100000)] {
                    let expected = all.filter { filter.passes(buckets[Int($0.id)!]!) }.dropFirst(skip).prefix(limit)
                    let got = try search(db, "f", query, #"{"filter":\#(filter.json),"skip":\#(skip),"limit":\#(limit)}"#)
                    XCTAssertEqual(got.map(\.id), expected.map(\.id), "\(query) \(filter.json) skip \(skip) limit \(limit)")
                    XCTAssertEqual(got.map(\.score), expected.map(\.score), "\(query) \(filter.json)")
                }
            }
        }
    }

    /// A model: after random inserts, updates, deletes, a rollback, a
    /// reopen and a compaction, a search for each word returns exactly the
    /// documents holding it, and the statistics equal a recount.
    func testIndexStaysEqualToItsDocuments() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path, options: .smallTables)
        try createIndex(db, "m", #"{"keys":{"t":"text"},"analyzer":{"stemming":false,"stopwords":false}}"#)
        var random = SeededRandom(seed: 3)
        let words = (0..<30).map { "v\($0)" }
        var model: [Int: Set<String>] = [:]
        for step in 0..<1500 {
            let id = Int.random(in: 0..<200, using: &random)
            let text = (0..<Int.random(in: 0...6, using: &random)).map { _ in words.randomElement(using: &random)! }
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:
                let json = #"{"_id":\#(id),"t":"\#(text.joined(separator: " "))"}"#
                _ = try Array(#"{"_id":\#(id)}"#.utf8).withUnsafeBytes { f in
                    try Array(json.utf8).withUnsafeBytes { r in
                        try Array(#"{"upsert":true}"#.utf8).withUnsafeBytes { o in
                            try db.update(collection: "m", filterJSON: f, updateJSON: r, mode: .replaceOne, optionsJSON: o)
                        }
                    }
                }
                model[id] = Set(text)
            case 6..<9:
                _ = try Array(#"{"_id":\#(id)}"#.utf8).withUnsafeBytes { try db.delete(collection: "m", filterJSON: $0, many: false) }
                model[id] = nil
            default:
                let transaction = try db.beginTransaction()
                try Array(#"{"_id":1000,"t":"v1 v2"}"#.utf8).withUnsafeBytes { _ = try transaction.insertOne(into: "m", json: $0) }
                transaction.rollback()
            }
            if step == 700 {
                try db.close()
                db = try Database.open(path: dir.path, options: .smallTables)
            }
            if step == 1100 { try db.compactRange() }
        }
        defer { try? db.close() }
        for word in words {
            let expected = Set(model.filter { $0.value.contains(word) }.map { "\($0.key)" })
            XCTAssertEqual(Set(try ids(db, "m", word, #"{"limit":1000}"#)), expected, word)
        }
        // Statistics: the stripes sum to the model's counts.
        let transaction = try Transaction(database: db, readOnly: true, explicit: false)
        let info = try XCTUnwrap(try transaction.collection("m"))
        let search = try TextSearch(reader: transaction.reader, collection: info, index: info.indexes[0], spec: TextIndexSpec(weights: [1], analyzer: AnalyzerOptions()),
                                    fields: nil, weights: [:])
        let scored = try search.scores(TextQuery.parse(words.joined(separator: " ")))
        XCTAssertEqual(scored.count, model.filter { !$0.value.isEmpty }.count)
    }

    func testSearchInsideATransactionSeesItsWrites() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try createIndex(db, "t", #"{"keys":{"s":"text"}}"#)
        try insert(db, "t", #"{"_id":1,"s":"alpha beta"}"#)
        let transaction = try db.beginTransaction()
        _ = try Array(#"{"_id":2,"s":"beta gamma"}"#.utf8).withUnsafeBytes { try transaction.insertOne(into: "t", json: $0) }
        XCTAssertEqual(Set(try ids(transaction, "t", "beta")), ["1", "2"])
        XCTAssertEqual(try ids(db, "t", "gamma"), [], "not committed yet")
        try transaction.commit()
        XCTAssertEqual(try ids(db, "t", "gamma"), ["2"])
    }

    private func find(_ db: Database, _ collection: String, _ filter: String, _ options: String = "") throws -> [String] {
        let cursor = try Array(filter.utf8).withUnsafeBytes { f in try Array(options.utf8).withUnsafeBytes { o in
            try db.find(collection: collection, filterJSON: f, optionsJSON: o) } }
        var out: [String] = []
        while try cursor.next() { out.append(cursor.jsonString) }
        return out
    }

    private func aggregate(_ db: Database, _ collection: String, _ pipeline: String) throws -> [String] {
        let cursor = try Array(pipeline.utf8).withUnsafeBytes { try db.aggregate(collection: collection, pipelineJSON: $0) }
        var out: [String] = []
        while try cursor.next() { out.append(cursor.jsonString) }
        return out
    }

    func testTextFilterMetaScoreAndSearchStage() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try insert(db, "b", #"{"_id":1,"t":"coffee and cake","k":"x"}"#)
        try insert(db, "b", #"{"_id":2,"t":"Coffee coffee shop","k":"y"}"#)
        try insert(db, "b", #"{"_id":3,"t":"tea shop","k":"x"}"#)
        XCTAssertEqual(status { _ = try self.find(db, "b", #"{"$text":{"$search":"coffee"}}"#) }, .notFound, "no text index")
        try createIndex(db, "b", #"{"keys":{"t":"text"}}"#)
        XCTAssertEqual(try find(db, "b", #"{"$text":{"$search":"coffee"}}"#, #"{"projection":{"_id":1}}"#), [#"{"_id":2}"#, #"{"_id":1}"#])
        XCTAssertEqual(try find(db, "b", #"{"$text":{"$search":"coffee"},"k":"x"}"#, #"{"projection":{"_id":1}}"#), [#"{"_id":1}"#])
        XCTAssertEqual(try find(db, "b", #"{"$text":{"$search":"shop -tea"}}"#, #"{"projection":{"_id":1}}"#), [#"{"_id":2}"#])
        XCTAssertEqual(try find(db, "b", #"{"$text":{"$search":"\"coffee shop\""}}"#, #"{"projection":{"_id":1}}"#), [#"{"_id":2}"#])
        XCTAssertEqual(try find(db, "b", #"{"$text":{"$search":"Coffee","$caseSensitive":true}}"#, #"{"projection":{"_id":1}}"#), [#"{"_id":2}"#])
        // $meta in projection and sort; the hidden field never shows.
        let scored = try find(db, "b", #"{"$text":{"$search":"coffee shop"}}"#,
                              #"{"projection":{"s":{"$meta":"textScore"},"t":0},"sort":{"k":1,"s":{"$meta":"textScore"}}}"#)
        XCTAssertEqual(scored.count, 3)
        XCTAssertFalse(scored.contains { $0.contains("$textScore") })
        let first = try JSONSerialization.jsonObject(with: Data(scored[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["k"] as? String, "x")
        XCTAssertNotNil(first["s"] as? Double)
        XCTAssertEqual(try Array(#"{"$text":{"$search":"shop"}}"#.utf8).withUnsafeBytes { try db.count(collection: "b", filterJSON: $0) }, 2)
        XCTAssertEqual(status { _ = try self.find(db, "b", #"{"$or":[{"$text":{"$search":"x"}},{"k":"x"}]}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try self.find(db, "b", #"{}"#, #"{"sort":{"s":{"$meta":"textScore"}}}"#) }, .invalidArgument)
        // Updates by $text.
        _ = try Array(#"{"$text":{"$search":"tea"}}"#.utf8).withUnsafeBytes { f in
            try Array(#"{"$set":{"hot":true}}"#.utf8).withUnsafeBytes { u in try db.update(collection: "b", filterJSON: f, updateJSON: u, many: true) }
        }
        XCTAssertEqual(try find(db, "b", #"{"hot":true}"#, #"{"projection":{"_id":1}}"#), [#"{"_id":3}"#])
        // Aggregation: $match with $text and $meta, and $search.
        let grouped = try aggregate(db, "b", #"[{"$match":{"$text":{"$search":"shop"}}},{"$group":{"_id":"$k","n":{"$sum":1}}},{"$sort":{"_id":1}}]"#)
        XCTAssertEqual(grouped, [#"{"_id":"x","n":1}"#, #"{"_id":"y","n":1}"#])
        let searched = try aggregate(db, "b", #"[{"$search":{"text":{"query":"cofee","path":"t","fuzzy":{"maxEdits":1}},"highlight":{"path":"t"}}},{"$project":{"_id":1,"score":{"$meta":"searchScore"},"h":{"$meta":"searchHighlights"}}}]"#)
        XCTAssertEqual(searched.count, 2)
        let top = try JSONSerialization.jsonObject(with: Data(searched[0].utf8)) as! [String: Any]
        XCTAssertEqual(top["_id"] as? Int, 2)
        XCTAssertEqual(top["h"] as? [String: String], ["t": "<em>Coffee</em> <em>coffee</em> shop"])
        XCTAssertEqual(try aggregate(db, "b", #"[{"$search":{"phrase":{"query":"coffee shop","path":{"wildcard":"*"}}}},{"$project":{"_id":1}}]"#), [#"{"_id":2}"#])
        XCTAssertFalse(try aggregate(db, "b", #"[{"$search":{"text":{"query":"tea","path":"t"}}}]"#)[0].contains("$searchScore"))
        XCTAssertEqual(status { _ = try self.aggregate(db, "b", #"[{"$match":{}},{"$search":{"text":{"query":"x","path":"t"}}}]"#) }, .invalidArgument)
        // explain describes the text plan.
        let plan = try Array(#"{"$text":{"$search":"coffee"}}"#.utf8).withUnsafeBytes { f in
            try db.explain(collection: "b", filterJSON: f, optionsJSON: UnsafeRawBufferPointer(start: nil, count: 0)) }
        XCTAssertTrue(plan.contains(#""plan":"text""#) && plan.contains(#""index":"t_text""#), plan)
    }
}
