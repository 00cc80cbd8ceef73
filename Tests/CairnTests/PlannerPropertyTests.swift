import XCTest
@testable import Cairn

/// The query planner never changes an answer: for random filters over
/// documents of mixed types (nulls, numbers of both kinds, strings, arrays,
/// nested objects, missing fields), a find that the planner serves from an
/// index returns exactly what a collection scan of the same filter returns.
///
/// Wrapping a filter as {"$or": [filter, {"zz": 1}]} keeps its meaning (no
/// document has "zz") but leaves the planner nothing to use, so it scans.
final class PlannerPropertyTests: XCTestCase {
    private static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .int(0), .int(1), .int(-1), .double(2.5), .double(-0.0), .double(1e300),
        .string("x"), .string(""), .string("ab"), .array([]), .array([.int(1), .int(2)]), .array([.array([.int(1)])]),
        .object([]), .object([("c", .int(1))]), .object([("c", .array([.int(1), .string("x")]))]),
        .int(1 << 62), .int(.min),
    ]
    private static let operators = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type", "$size",
                                    "$all", "$elemMatch", "$mod", "$not"]
    private static let fields = ["a", "b", "b.c", "t", "u", "_id", "a.0", "b.c.0"]

    private func operand(_ random: inout SeededRandom, depth: Int) -> JSONValue {
        if depth > 1 || random.next() % 10 < 7 { return Self.values.randomElement(using: &random)! }
        return .array((0..<Int(random.next() % 3)).map { _ in operand(&random, depth: depth + 1) })
    }

    private func filter(_ random: inout SeededRandom, depth: Int = 0) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for _ in 0..<(1 + Int(random.next() % 2)) {
            let roll = random.next() % 10
            if roll < 2 && depth < 2 {
                let clauses = (0..<(1 + Int(random.next() % 2))).map { _ in filter(&random, depth: depth + 1) }
                members.append((["$and", "$or", "$nor"].randomElement(using: &random)!, .array(clauses)))
            } else if roll < 6 {
                members.append((Self.fields.randomElement(using: &random)!, Self.values.randomElement(using: &random)!))
            } else {
                let op = Self.operators.randomElement(using: &random)!
                members.append((Self.fields.randomElement(using: &random)!, .object([(op, operand(&random, depth: depth))])))
            }
        }
        return .object(members)
    }

    private func ids(_ db: Database, _ filter: String) throws -> [String] {
        let cursor = try Array(filter.utf8).withUnsafeBytes { f in
            try Array(#"{"projection": {"_id": 1}}"#.utf8).withUnsafeBytes { try db.find(collection: "c", filterJSON: f, optionsJSON: $0) }
        }
        var found: [String] = []
        while try cursor.next() { found.append(cursor.jsonString) }
        return found.sorted()
    }

    /// Collection "c": four indexes (compound, sparse, unique) and 300
    /// documents of mixed values, _id 0 to 299, part in a table and part in
    /// the memtable, some rewritten.
    private func fill(_ db: Database, _ random: inout SeededRandom) throws {
        for spec in [#"{"keys": {"a": 1}}"#, #"{"keys": {"b.c": -1, "a": 1}}"#, #"{"keys": {"t": 1}, "sparse": true}"#,
                     #"{"keys": {"u": 1}, "unique": true, "sparse": true}"#] {
            _ = try Array(spec.utf8).withUnsafeBytes { try db.createIndex(collection: "c", specJSON: $0) }
        }
        var documents: [JSONValue] = []
        for i in 0..<300 {
            var members: [(key: String, value: JSONValue)] = [("_id", .int(Int64(i)))]
            for field in ["a", "b", "t"] where random.next() % 10 < 8 {
                members.append((field, Self.values.randomElement(using: &random)!))
            }
            if random.next() % 2 == 0 { members.append(("u", .int(Int64(i * 7)))) }
            documents.append(.object(members))
        }
        // Unordered: documents with parallel arrays in the compound index fail alone.
        let result = try Array(JSONValue.array(documents).serialized.utf8).withUnsafeBytes { docs in
            try Array(#"{"ordered": false}"#.utf8).withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: docs, optionsJSON: $0) }
        }
        XCTAssert(result.errors.allSatisfy { $0.error.code == .invalidArgument }, "\(result.errors)")
        try db.flush()  // part of the entries in a table, part in the memtable
        _ = try Array(#"{"a": 1}"#.utf8).withUnsafeBytes { f in
            try Array(#"{"$set": {"a": "moved"}}"#.utf8).withUnsafeBytes { try db.update(collection: "c", filterJSON: f, updateJSON: $0, many: true) }
        }
    }

    func testIndexPlansReturnWhatACollectionScanReturns() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var random = SeededRandom(seed: 20_261_206)
        try fill(db, &random)

        var compared = 0, throughIndex = 0
        for _ in 0..<800 {
            let query = filter(&random).serialized
            let planned: [String]
            do {
                planned = try ids(db, query)
            } catch let error as CairnError where error.code == .invalidArgument {
                continue  // an operand the operator refuses, such as $size: "x"
            }
            let scanned = try ids(db, #"{"$or": [\#(query), {"zz": 1}]}"#)
            XCTAssertEqual(planned, scanned, query)
            compared += 1
            let plan = try Array(query.utf8).withUnsafeBytes { try db.explain(collection: "c", filterJSON: $0, optionsJSON: UnsafeRawBufferPointer(start: nil, count: 0)) }
            if !plan.contains(#""plan":"collection_scan""#) { throughIndex += 1 }
        }
        XCTAssertGreaterThan(compared, 300)
        XCTAssertGreaterThan(throughIndex, 100)
    }

    /// A filter that CoveredFilter says an index answers alone gets from
    /// the entries exactly the documents a find returns; any other filter
    /// is refused, never answered approximately.
    func testCoveredFiltersAnswerWhatAFindAnswers() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var random = SeededRandom(seed: 14_2026)
        try fill(db, &random)
        let transaction = try Transaction(database: db, readOnly: true, explicit: false)
        let info = try XCTUnwrap(try transaction.collection("c"))
        let prefix = CollectionInfo.documentPrefix(info.id)
        // Each document's primary key, as index entries and document keys hold it.
        var idOfKey: [[UInt8]: String] = [:]
        for i in 0..<300 {
            var encoded: [UInt8] = []
            try MutableValue.int(Int64(i)).encoded().withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &encoded) }
            idOfKey[encoded] = #"{"_id":\#(i)}"#
        }
        let scalars: [JSONValue] = Self.values.filter { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
        var covered = 0, refused = 0
        for round in 0..<600 {
            // Half the filters have the covered shape; the rest are anything.
            let query: String
            if round % 2 == 0 {
                var members: [(key: String, value: JSONValue)] = []
                for field in [["a"], ["b.c", "a"], ["t"], ["u"], ["a", "t"]].randomElement(using: &random)! {
                    let value = scalars.randomElement(using: &random)!
                    members.append((field, random.next() % 3 == 0 ? .object([("$in", .array([value, scalars.randomElement(using: &random)!]))]) : value))
                }
                query = JSONValue.object(members).serialized
            } else {
                query = filter(&random).serialized
            }
            let parsed: Filter
            do {
                parsed = try Array(query.utf8).withUnsafeBytes { try Filter.parse(json: $0) }
                _ = try ids(db, query)
            } catch let error as CairnError where error.code == .invalidArgument {
                continue
            }
            switch try CoveredFilter.documentKeys(parsed, collection: info, reader: transaction.reader, cap: 1000) {
            case .documentKeys(let keys):
                covered += 1
                let found = try ids(db, query)
                let fromEntries = keys.map { idOfKey[Array($0[prefix.count...])] ?? "?" }
                XCTAssertEqual(fromEntries.sorted(), found, query)
                XCTAssertEqual(Set(keys).count, keys.count, "each document once: \(query)")
            case .tooMany:
                XCTFail("300 documents exceed no cap of 1000: \(query)")
            case .notCovered:
                refused += 1
            }
        }
        XCTAssertGreaterThan(covered, 150)
        XCTAssertGreaterThan(refused, 150)
    }
}
