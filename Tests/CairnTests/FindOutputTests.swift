import XCTest
@testable import Cairn

/// A find's cursor writes each document's JSON straight into the buffer
/// the caller reads (the batch's, or the current document's), through a
/// text writer of its own, and an index scan reuses one buffer for the
/// document keys it reads. These tests hold both to the Array writer and
/// to a model of the documents, and check the cursor after its end and
/// after its database closed.
final class FindOutputTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Strings with an escape at every position of an 8-byte word, around
    /// word boundaries, of every length up to 40: the text writer (which
    /// skips clean words whole) writes what the Array writer writes, and
    /// the text parses back to the string.
    func testTheTextWriterEscapesAsTheArrayWriter() throws {
        var random = SeededRandom(seed: 12)
        let specials: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x20, 0x7F, 0x21, 0x5B, 0x5D]
        let plain: [UInt8] = Array("abcXYZ019 .,é".utf8)
        for length in 0...40 {
            for _ in 0..<40 {
                var text: [UInt8] = []
                while text.count < length {
                    if random.next() % 5 == 0 {
                        text.append(specials[Int(random.next() % UInt64(specials.count))])
                    } else {
                        text.append(plain[Int(random.next() % UInt64(plain.count - 1))])  // ASCII only: no cut UTF-8
                    }
                }
                var expected: [UInt8] = []
                text.withUnsafeBytes { JSONValue.writeString(utf8: $0, to: &expected) }
                let buffer = ByteBuffer(capacity: 16)
                buffer.append(byte: UInt8(ascii: "x"))  // not at the start of the buffer
                text.withUnsafeBytes { JSONValue.writeString(utf8: $0, to: buffer) }
                XCTAssertEqual(Array(buffer.bytes.dropFirst()), expected, "\(text)")
                let parsed = try JSONValue.parse(String(decoding: expected, as: UTF8.self))
                XCTAssertEqual(parsed, .string(String(decoding: text, as: UTF8.self)))
            }
        }
        // One escape at each byte of a 24-byte string.
        for position in 0..<24 {
            for special in specials {
                var text = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                text[position] = special
                var expected: [UInt8] = []
                text.withUnsafeBytes { JSONValue.writeString(utf8: $0, to: &expected) }
                let buffer = ByteBuffer()
                text.withUnsafeBytes { JSONValue.writeString(utf8: $0, to: buffer) }
                XCTAssertEqual(Array(buffer.bytes), expected, "escape \(special) at \(position)")
            }
        }
    }

    /// A random document with every JSON type, escapes in keys and strings,
    /// nesting, doubles and the indexed fields "g" (a group) and "n".
    private func document(_ id: Int, _ random: inout SeededRandom) -> JSONValue {
        func text(_ random: inout SeededRandom) -> String {
            let pieces = ["a", "b\"q", "c\\d", "\n", "\t", "é", "\u{1}", "long enough to pass a word ", "x"]
            return (0..<Int(random.next() % 6)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
        }
        var members: [(String, JSONValue)] = [("_id", .int(Int64(id))), ("g", .int(Int64(random.next() % 7))), ("n", .int(Int64(id % 97)))]
        members.append(("s", .string(text(&random))))
        members.append(("d", .double(Double(Int64(random.next() % 20_000) - 10_000) / 8)))
        members.append(("k\"e\\y\n", .bool(random.next() % 2 == 0)))
        members.append(("z", .null))
        members.append(("list", .array([.int(Int64(random.next() % 100)), .string(text(&random)), .object([("in", .string(text(&random)))])])))
        if random.next() % 3 == 0 { members.append(("whole", .double(Double(random.next() % 50)))) }  // 3.0 is written "3.0"
        return .object(members)
    }

    private func serialized(_ value: JSONValue) -> String { value.serialized }

    /// Reads a cursor both ways (one document at a time, and in batches of
    /// a given size) and checks that they agree.
    private func readAll(_ scope: some Scope, _ filter: String, _ options: String, batch: Int) throws -> [JSONValue] {
        func open() throws -> DocumentCursor {
            try bytes(filter).withUnsafeBytes { f in try bytes(options).withUnsafeBytes { o in
                try scope.find(collection: "docs", filterJSON: f, optionsJSON: o) } }
        }
        let single = try open()
        var one: [String] = []
        while try single.next() {
            one.append(single.jsonString)
            // The current document is NUL-terminated for C callers.
            XCTAssertEqual(single.json.baseAddress?.load(fromByteOffset: single.json.count, as: UInt8.self), 0)
        }
        XCTAssertFalse(try single.next(), "a cursor at its end stays there")
        let batched = try open()
        var many: [String] = []
        while true {
            let count = try batched.nextBatch(maxItems: batch, maxBytes: 0)
            if count == 0 { break }
            let text = batched.batch.bytes
            XCTAssertEqual(text.last, 0, "the batch is NUL-terminated")
            let array = try JSONValue.parse(String(decoding: text.dropLast(), as: UTF8.self))
            guard case .array(let items) = array else { return [] }
            XCTAssertEqual(items.count, count)
            var offset = 1
            for index in 0..<count {
                let length = Int(batched.batch.lengths.load(fromByteOffset: index * 4, as: UInt32.self))
                many.append(String(decoding: text[offset..<(offset + length)], as: UTF8.self))
                offset += length + 1
                XCTAssertEqual(try JSONValue.parse(many.last!), items[index])
            }
        }
        XCTAssertEqual(try batched.nextBatch(maxItems: batch, maxBytes: 0), 0, "a batch cursor at its end stays there")
        XCTAssertEqual(one, many, "\(filter) \(options): one at a time and in batches of \(batch)")
        return try one.map { try JSONValue.parse($0) }
    }

    /// Finds through the indexes (equality, ranges, sort, limit, skip,
    /// projection) and scans return exactly the model's documents, written
    /// as the Array writer writes them; in an explicit transaction too,
    /// where pending writes merge into the index scans.
    func testFindsMatchAModelOfTheDocuments() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        let db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        for spec in [#"{"keys": {"g": 1}}"#, #"{"keys": {"n": 1}}"#] {
            _ = try bytes(spec).withUnsafeBytes { try db.createIndex(collection: "docs", specJSON: $0) }
        }
        var random = SeededRandom(seed: 99)
        var model: [Int: JSONValue] = [:]
        let count = 600
        for start in stride(from: 0, to: count, by: 100) {
            let batch = (start..<(start + 100)).map { id -> JSONValue in
                let doc = document(id, &random)
                model[id] = doc
                return doc
            }
            _ = try bytes(serialized(.array(batch))).withUnsafeBytes { try db.insertMany(into: "docs", arrayJSON: $0) }
        }
        func field(_ doc: JSONValue, _ name: String) -> Int64 {
            guard case .int(let value) = doc[name] else { return -1 }
            return value
        }
        func check(_ scope: some Scope, _ model: [Int: JSONValue]) throws {
            let sortedByID = model.keys.sorted().map { model[$0]! }
            for g in 0..<7 {
                let expected = sortedByID.filter { field($0, "g") == Int64(g) }
                for batch in [0, 1, 3] {
                    XCTAssertEqual(try readAll(scope, #"{"g": \#(g)}"#, "", batch: batch), expected)
                }
            }
            for low in [0, 10, 50, 90] {
                // By n, then by _id within an n (the index's order).
                let matches = sortedByID.filter { field($0, "n") >= Int64(low) && field($0, "n") < Int64(low + 5) }
                let ordered = matches.sorted { (field($0, "n"), field($0, "_id")) < (field($1, "n"), field($1, "_id")) }
                XCTAssertEqual(try readAll(scope, #"{"n": {"$gte": \#(low), "$lt": \#(low + 5)}}"#, #"{"sort": {"n": 1}, "limit": 20}"#, batch: 0),
                               Array(ordered.prefix(20)))
                XCTAssertEqual(try readAll(scope, #"{"n": {"$gte": \#(low), "$lt": \#(low + 5)}}"#, #"{"sort": {"n": 1}, "skip": 3, "limit": 7}"#, batch: 2),
                               Array(ordered.dropFirst(3).prefix(7)))
                let projected = try readAll(scope, #"{"n": {"$gte": \#(low), "$lt": \#(low + 5)}}"#, #"{"sort": {"n": 1}, "projection": {"s": 1}}"#, batch: 0)
                XCTAssertEqual(projected, ordered.map { .object([("_id", $0["_id"]!), ("s", $0["s"]!)]) })
            }
            // A collection scan with a filter the indexes cannot serve.
            XCTAssertEqual(try readAll(scope, #"{"d": {"$gt": 100}}"#, "", batch: 5), sortedByID.filter {
                guard case .double(let d) = $0["d"] else { return false }
                return d > 100
            })
        }
        try check(db, model)

        // In a transaction: its own inserts, updates and deletes show in
        // the index scans before the commit.
        let transaction = try db.beginTransaction()
        var pending = model
        let more = (count..<(count + 50)).map { id -> JSONValue in
            let doc = document(id, &random)
            pending[id] = doc
            return doc
        }
        _ = try bytes(serialized(.array(more))).withUnsafeBytes { try transaction.insertMany(into: "docs", arrayJSON: $0) }
        _ = try bytes(#"{"g": 3}"#).withUnsafeBytes { try transaction.delete(collection: "docs", filterJSON: $0, many: true) }
        pending = pending.filter { field($0.value, "g") != 3 }
        try check(transaction, pending)
        transaction.rollback()
        try check(db, model)
    }

    /// A cursor used after its database closed fails with CLOSED, one at a
    /// time and in batches, and never reads freed memory.
    func testACursorAfterItsDatabaseClosedFailsWithClosed() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        _ = try bytes(#"{"keys": {"g": 1}}"#).withUnsafeBytes { try db.createIndex(collection: "docs", specJSON: $0) }
        let docs = (0..<200).map { #"{"_id": \#($0), "g": \#($0 % 3), "s": "text \#($0)"}"# }.joined(separator: ",")
        _ = try bytes("[\(docs)]").withUnsafeBytes { try db.insertMany(into: "docs", arrayJSON: $0) }
        func open() throws -> DocumentCursor {
            try bytes(#"{"g": 1}"#).withUnsafeBytes { try db.find(collection: "docs", filterJSON: $0) }
        }
        let single = try open(), batched = try open()
        XCTAssertTrue(try single.next())
        XCTAssertEqual(try batched.nextBatch(maxItems: 2, maxBytes: 0), 2)
        try db.close()
        XCTAssertEqual(status { _ = try single.next() }, .closed)
        XCTAssertEqual(status { _ = try batched.nextBatch(maxItems: 2, maxBytes: 0) }, .closed)
    }

    /// A range on a single-field index that is neither multikey nor sparse
    /// is answered without checking the filter again on each document
    /// (QueryPlan.selectsExactly): over values of every scalar type (NaN,
    /// infinities, -0.0, int64s beyond 2^53, strings, booleans, null,
    /// objects, missing fields), every such range returns what a
    /// collection scan of the same filter returns.
    func testRangesThatSkipTheFilterReturnWhatAScanReturns() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        _ = try bytes(#"{"keys": {"n": 1}}"#).withUnsafeBytes { try db.createIndex(collection: "c", specJSON: $0) }
        _ = try bytes(#"{"keys": {"m": -1}}"#).withUnsafeBytes { try db.createIndex(collection: "c", specJSON: $0) }
        let values = [#"0"#, #"1"#, #"-1"#, #"2.5"#, #"-0.0"#, #"1e300"#, #"9007199254740993"#, #"9007199254740992"#,
                      #"9007199254740992.0"#, #"-9223372036854775808"#, #"{"$numberDouble": "NaN"}"#,
                      #"{"$numberDouble": "Infinity"}"#, #"{"$numberDouble": "-Infinity"}"#, #""x""#, #""""#, #""ab""#,
                      #""a\u0000b""#, #"true"#, #"false"#, #"null"#, #"{}"#, #"{"c": 1}"#, #"{"$date": "2020-01-01T00:00:00.000Z"}"#]
        var random = SeededRandom(seed: 7)
        var documents: [String] = []
        for i in 0..<400 {
            var members = [#""_id": \#(i)"#]
            if random.next() % 8 != 0 { members.append(#""n": \#(values[Int(random.next() % UInt64(values.count))])"#) }
            if random.next() % 8 != 0 { members.append(#""m": \#(values[Int(random.next() % UInt64(values.count))])"#) }
            documents.append("{" + members.joined(separator: ", ") + "}")
        }
        _ = try bytes("[" + documents.joined(separator: ",") + "]").withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: $0) }
        try db.flush()
        func ids(_ filter: String) throws -> [String] {
            let cursor = try bytes(filter).withUnsafeBytes { f in
                try bytes(#"{"projection": {"_id": 1}}"#).withUnsafeBytes { try db.find(collection: "c", filterJSON: f, optionsJSON: $0) }
            }
            var found: [String] = []
            while try cursor.next() { found.append(cursor.jsonString) }
            return found.sorted()
        }
        let transaction = try db.beginTransaction(readOnly: true)
        let info = try XCTUnwrap(try transaction.collection("c"))
        let operators = ["$gt", "$gte", "$lt", "$lte"]
        var exact = 0
        for _ in 0..<600 {
            let field = random.next() % 2 == 0 ? "n" : "m"
            var bounds: [String] = []
            for _ in 0..<(1 + Int(random.next() % 3)) {
                bounds.append(#""\#(operators[Int(random.next() % 4)])": \#(values[Int(random.next() % UInt64(values.count))])"#)
            }
            let query = #"{"\#(field)": {\#(bounds.joined(separator: ", "))}}"#
            let planned: [String]
            do {
                planned = try ids(query)
            } catch let error as CairnError where error.code == .invalidArgument {
                continue  // a duplicate operator in one object
            }
            XCTAssertEqual(planned, try ids(#"{"$or": [\#(query), {"zz": 1}]}"#), query)
            let filter = try bytes(query).withUnsafeBytes { try Filter.parse(json: $0) }
            if try QueryPlan.choose(filter: filter, sort: [], collection: info).selectsExactly(filter) { exact += 1 }
        }
        transaction.rollback()
        XCTAssertGreaterThan(exact, 100, "most ranges skip the filter")
    }
}
