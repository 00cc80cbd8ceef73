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

    func testIndexPlansReturnWhatACollectionScanReturns() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var random = SeededRandom(seed: 20_261_206)
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
}
