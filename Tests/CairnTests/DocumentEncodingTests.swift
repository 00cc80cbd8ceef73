import XCTest
@testable import Cairn

/// The binary document format: JSON round trips, extended JSON, limits,
/// path access, MongoDB's value order, and order-preserving index keys.
final class DocumentEncodingTests: XCTestCase {
    private func binary(_ json: String) throws -> [UInt8] {
        try Array(json.utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }
    }

    private func roundTrip(_ json: String) throws -> String {
        try binary(json).withUnsafeBytes { try DocumentValue($0).json() }
    }

    func testJSONRoundTripsExactly() throws {
        let texts = [
            #"{"a":1,"b":-2.5,"c":"x\ny\"z","d":[1,2.0,null,true,false],"e":{"f":{}},"g":[]}"#,
            #"{"big":9223372036854775807,"small":-9223372036854775808,"huge":1.0e+30,"tiny":5e-324}"#,
            #"{"unicode":"ünï ☃ 😀","empty":"","zero":0,"negzero":-0.0}"#,
        ]
        for text in texts {
            let once = try roundTrip(text)
            XCTAssertEqual(try roundTrip(once), once, "stable after one round trip")
            XCTAssertEqual(try JSONValue.parse(once), try JSONValue.parse(text), text)
        }
        XCTAssertEqual(try roundTrip(#"{"i":1,"d":1.0}"#), #"{"i":1,"d":1.0}"#, "ints stay ints, doubles stay doubles")
        for special in ["Infinity", "-Infinity", "NaN"] {
            let text = #"{"x":{"$numberDouble":""# + special + #""}}"#
            XCTAssertEqual(try roundTrip(text), text, "non-finite doubles round-trip as extended JSON")
        }
        XCTAssertEqual(try roundTrip(#"{"x":{"$numberDouble":"2.5"}}"#), #"{"x":2.5}"#)
        XCTAssertEqual(try roundTrip(#"{"beyond":1.8446744073709552e19}"#), #"{"beyond":1.8446744073709552e+19}"#)
        XCTAssertEqual(status { _ = try self.roundTrip(#"{"beyond":18446744073709551616}"#) }, .invalidArgument,
                       "an integer beyond 64 bits is refused, not rounded")
    }

    func testExtendedJSONDatesAndBinary() throws {
        let text = #"{"when":{"$date":"2026-11-21T16:17:05.123Z"},"ms":{"$date":0},"blob":{"$binary":{"base64":"AAEC/w==","subType":"80"}}}"#
        let doc = try binary(text)
        try doc.withUnsafeBytes { raw in
            let value = DocumentValue(raw)
            guard case .date(let when)? = try value.field("when")?.kind() else { return XCTFail("not a date") }
            XCTAssertEqual(when, 1_795_277_825_123)
            guard case .date(0)? = try value.field("ms")?.kind() else { return XCTFail("not a date") }
            guard case .binary(let data, 0x80)? = try value.field("blob")?.kind() else { return XCTFail("not binary") }
            XCTAssertEqual(Array(data), [0, 1, 2, 255])
            XCTAssertEqual(try value.json(), #"{"when":{"$date":"2026-11-21T16:17:05.123Z"},"ms":{"$date":"1970-01-01T00:00:00.000Z"},"blob":{"$binary":{"base64":"AAEC/w==","subType":"80"}}}"#)
        }
        XCTAssertEqual(ISO8601.milliseconds("1969-12-31T23:59:59.999Z"), -1)
        XCTAssertEqual(ISO8601.string(milliseconds: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertNil(ISO8601.string(milliseconds: Int64.min), "outside years 0 to 9999")
        XCTAssertNil(ISO8601.string(milliseconds: Int64.max))
        // Every date reads back as itself, the extreme ones as milliseconds.
        for millis in [Int64.min, Int64.max, -62_167_219_200_001, 253_402_300_800_000] {
            let text = #"{"d":{"$date":"# + String(millis) + "}}"
            XCTAssertEqual(try roundTrip(text), #"{"d":{"$date":{"$numberLong":""# + String(millis) + #""}}}"#)
            XCTAssertEqual(try roundTrip(try roundTrip(text)), try roundTrip(text))
        }
        XCTAssertEqual(ISO8601.milliseconds("2026-11-21T18:17:05+02:00"), 1_795_277_825_000)
        for bad in [#"{"d":{"$date":"yesterday"}}"#, #"{"b":{"$binary":{"base64":"!!"}}}"#, #"{"d":{"$date":true}}"#] {
            XCTAssertEqual(status { _ = try binary(bad) }, .invalidArgument, bad)
        }
    }

    func testMalformedOversizedAndNonObjectInputIsRejected() {
        XCTAssertEqual(status { _ = try binary("[1,2]") }, .invalidArgument)
        XCTAssertEqual(status { _ = try binary(#"{"a": }"#) }, .invalidArgument)
        let deep = String(repeating: #"{"a":"#, count: 101) + "1" + String(repeating: "}", count: 101)
        XCTAssertEqual(status { _ = try binary(deep) }, .invalidArgument)
        let big = #"{"s":""# + String(repeating: "x", count: DocumentLimits.maxDocumentBytes) + #""}"#
        XCTAssertEqual(status { _ = try binary(big) }, .invalidArgument)
        XCTAssertThrowsError(try binary(#"{"bad":"\ud800"}"#)) { error in
            XCTAssertTrue((error as? CairnError)?.message.contains("byte") ?? false)
        }
    }

    func testFieldsAndDottedPathsWithoutDecodingTheRest() throws {
        let doc = try binary(#"{"name":"ann","address":{"city":"Oslo","zip":"0150"},"items":[{"sku":"a"},{"sku":"b"}],"tags":["x","y"]}"#)
        try doc.withUnsafeBytes { raw in
            let value = DocumentValue(raw)
            XCTAssertEqual(try value.value(atPath: "address.city")?.json(), #""Oslo""#)
            XCTAssertEqual(try value.value(atPath: "items.1.sku")?.json(), #""b""#)
            XCTAssertEqual(try value.value(atPath: "tags.0")?.json(), #""x""#)
            XCTAssertNil(try value.value(atPath: "tags.5"))
            XCTAssertNil(try value.value(atPath: "address.country"))
            XCTAssertNil(try value.value(atPath: "name.first"))
            XCTAssertEqual(try value.members().map { $0.0 }, ["name", "address", "items", "tags"])
        }
    }

    func testDamagedBytesNeverCrashTheReader() throws {
        let doc = try binary(#"{"a":[1,2,{"b":"text","c":[true,null,2.5]}],"d":"more text","e":{"f":{"g":[]}}}"#)
        var random = SeededRandom(seed: 99)
        var failures = 0
        // Either an answer or CORRUPTION: any other error (or a trap) would
        // tell a user something false about their data.
        func assertCorruptionIfFails(context: String, _ body: () throws -> Void) {
            do {
                try body()
            } catch let error as CairnError {
                XCTAssertEqual(error.code, .corruption, "\(context): \(error)")
                failures += 1
            } catch {
                XCTFail("\(context): \(error) is not a CairnError")
            }
        }
        for round in 0..<3000 {
            var damaged = doc
            for _ in 0..<(1 + random.next() % 3) {
                damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 4 == 0 { damaged.removeLast(Int(random.next() % UInt64(damaged.count))) }
            damaged.withUnsafeBytes { raw in
                assertCorruptionIfFails(context: "round \(round)") { _ = try DocumentValue(raw).json() }
                assertCorruptionIfFails(context: "round \(round), path a.2.c.1") { _ = try DocumentValue(raw).value(atPath: "a.2.c.1") }
            }
        }
        XCTAssertGreaterThan(failures, 0, "the damage is noticed at least sometimes")
    }

    private let ordered = [
        "null", "-1e300", "-9223372036854775808", "-2", "-1.5", "0", "0.5", "1", "9007199254740993",
        "9223372036854775807", "1e300", #""""#, #""a""#, #""a\u0000""#, #""ab""#, #""b""#,
        #"{}"#, #"{"a":1}"#, #"{"a":2}"#, #"{"b":0}"#, "[]", "[1]", "[1,2]", "[2]",
        #"{"$binary":{"base64":"AA==","subType":"00"}}"#, #"{"$binary":{"base64":"AAA=","subType":"00"}}"#,
        "false", "true", #"{"$date":-5}"#, #"{"$date":5}"#,
    ]

    private func values(_ texts: [String]) throws -> [[UInt8]] {
        // Each value travels inside a one-member document; take the member.
        try texts.map { text in
            let doc = try binary(#"{"v":"# + text + "}")
            return try doc.withUnsafeBytes { Array(try DocumentValue($0).field("v")!.bytes) }
        }
    }

    func testValueOrderFollowsMongoDBTypeOrder() throws {
        let all = try values(ordered)
        for i in all.indices {
            for j in all.indices {
                let c = try all[i].withUnsafeBytes { a in try all[j].withUnsafeBytes { b in try ValueOrder.compare(DocumentValue(a), DocumentValue(b)) } }
                XCTAssertEqual(c, i < j ? -1 : (i > j ? 1 : 0), "\(ordered[i]) vs \(ordered[j])")
            }
        }
        let same = try values(["1", "1.0"])
        XCTAssertEqual(try same[0].withUnsafeBytes { a in try same[1].withUnsafeBytes { b in try ValueOrder.compare(DocumentValue(a), DocumentValue(b)) } }, 0, "1 equals 1.0")
    }

    func testIndexKeysSortLikeValuesAscendingAndDescending() throws {
        let all = try values(ordered + ["1.0", "9007199254740992.0", "-0.0"])
        func key(_ v: [UInt8], _ descending: Bool) throws -> [UInt8] {
            var out: [UInt8] = []
            try v.withUnsafeBytes { try IndexKey.append(DocumentValue($0), descending: descending, to: &out) }
            return out
        }
        for a in all {
            for b in all {
                let expected = try a.withUnsafeBytes { x in try b.withUnsafeBytes { y in try ValueOrder.compare(DocumentValue(x), DocumentValue(y)) } }
                let ascending = try key(a, false).withUnsafeBytes { x in try key(b, false).withUnsafeBytes { y in compareBytes(x, y) } }
                let descending = try key(a, true).withUnsafeBytes { x in try key(b, true).withUnsafeBytes { y in compareBytes(x, y) } }
                XCTAssertEqual(ascending.signum(), expected)
                XCTAssertEqual(descending.signum(), -expected)
            }
        }
    }

    func testJSONNumberEdges() throws {
        XCTAssertEqual(try JSONValue.parse("-9223372036854775808"), .int(Int64.min))
        // Integers are 64-bit: one past the limit is refused, not rounded.
        XCTAssertEqual(status { _ = try JSONValue.parse("9223372036854775808") }, .invalidArgument)
        XCTAssertEqual(status { _ = try JSONValue.parse("-9223372036854775809") }, .invalidArgument)
        XCTAssertEqual(try JSONValue.parse("9223372036854775808.0"), .double(9_223_372_036_854_775_808))
        XCTAssertEqual(try JSONValue.parse("1e19"), .double(1e19))
        XCTAssertEqual(try JSONValue.parse("-0"), .int(0))
        XCTAssertEqual(status { _ = try JSONValue.parse("1e999") }, .invalidArgument)
    }

    /// The parser finds most doubles without the standard library's
    /// conversion (JSONParser.exactDouble): every number must come out as
    /// the very double the standard conversion gives, bit for bit, on both
    /// sides of the fast path's bounds (16 digits, 2^53, 10^22).
    func testEveryDoubleParsesToTheStandardConversionsBits() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0.0", "-0.0", "0.1", "0.5", "19.99", "-3.25", "1e22", "1e23", "1e-22", "1e-23", "9007199254740992.0",
                     "9007199254740993.0", "9007199254740991e22", "1.7976931348623157e308", "5e-324", "123456789012345.6",
                     "1234567890123456.7", "0.000000000000000000001", "1E5", "2.5E-3", "7e+2", "100000000000000000000000.0",
                     "-0.0e5", "0.0e-400", "3.0e400"]
        for _ in 0..<20_000 {
            let integerDigits = Int.random(in: 0...18, using: &generator)
            let fractionDigits = Int.random(in: 1...18, using: &generator)
            var text = Bool.random(using: &generator) ? "-" : ""
            text += integerDigits == 0 ? "0" : String(Int.random(in: 1...9, using: &generator))
            for _ in 0..<max(0, integerDigits - 1) { text += String(Int.random(in: 0...9, using: &generator)) }
            text += "."
            for _ in 0..<fractionDigits { text += String(Int.random(in: 0...9, using: &generator)) }
            if Int.random(in: 0..<3, using: &generator) == 0 { text += "e" + String(Int.random(in: -40...40, using: &generator)) }
            texts.append(text)
        }
        for text in texts {
            guard let expected = Double(text), expected.isFinite else {
                XCTAssertEqual(status { _ = try JSONValue.parse(text) }, .invalidArgument, text)
                continue
            }
            guard case .double(let parsed) = try JSONValue.parse(text) else { return XCTFail("\(text) is not a double") }
            XCTAssertEqual(parsed.bitPattern, expected.bitPattern, text)
            if let fast = text.utf8.withContiguousStorageIfAvailable({ JSONParser<JSONValueBuilder>.exactDouble(UnsafeRawBufferPointer($0)) }) ?? nil {
                XCTAssertEqual(fast.bitPattern, expected.bitPattern, "fast path: \(text)")
            }
        }
    }

    /// Field names are checked as the JSON is parsed, on every insert path;
    /// a bad one is INVALID_ARGUMENT naming the rule and where it is.
    func testBadFieldNamesAreRefusedOnEveryInsertPath() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "ok" } catch let error as CairnError { return "\(error.code.name): \(error.message)" } catch { return "\(error)" }
        }
        let one: [(String, String)] = [
            (#"{"$x": 1}"#, "document.$x: field names may not start with '$'"),
            (#"{"": 1}"#, "document: empty field name"),
            (#"{"a\u0000b": 1}"#, "document: field name contains a NUL byte"),
            (#"{"a": {"b": {"": 2}}}"#, "document.a.b: empty field name"),
            ("{\"" + String(repeating: "k", count: 1025) + "\": 1}", "field name longer than 1024 bytes"),
            (#"{"$date": "2020-01-01T00:00:00Z"}"#, "must be a JSON object"),
        ]
        for (json, expected) in one {
            let got = message { _ = try Array(json.utf8).withUnsafeBytes { try db.insertOne(into: "c", json: $0) } }
            XCTAssertTrue(got.hasPrefix("CAIRN_INVALID_ARGUMENT") && got.contains(expected), "\(json): \(got)")
            let viaTTL = message { _ = try Array(json.utf8).withUnsafeBytes { try db.insertOne(into: "c", json: $0, ttlMillis: 1000) } }
            XCTAssertTrue(viaTTL.contains(expected), "\(json) with a TTL: \(viaTTL)")
            let many = message { _ = try Array("[{\"ok\": 1}, \(json)]".utf8).withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: $0) } }
            XCTAssertTrue(many.hasPrefix("CAIRN_INVALID_ARGUMENT") && many.contains(expected.replacingOccurrences(of: "document", with: "document 1")), "\(json) in an array: \(many)")
        }
        // '$' is refused at the top level only; a nested operator-like
        // name, and a value that merely looks like one, are data.
        XCTAssertEqual(message { _ = try Array(#"{"_id": 1, "a": {"$x": 1}, "b": "$y"}"#.utf8).withUnsafeBytes { try db.insertOne(into: "c", json: $0) } }, "ok")
        let found = try Array(#"{"_id": 1}"#.utf8).withUnsafeBytes { f in try db.find(collection: "c", filterJSON: f, optionsJSON: UnsafeRawBufferPointer(start: nil, count: 0)) }
        XCTAssertTrue(try found.next())
        XCTAssertEqual(found.jsonString, #"{"_id":1,"a":{"$x":1},"b":"$y"}"#)
        let nothing = try Array("{}".utf8).withUnsafeBytes { f in try db.find(collection: "c", filterJSON: f, optionsJSON: UnsafeRawBufferPointer(start: nil, count: 0)) }
        var count = 0
        while try nothing.next() { count += 1 }
        XCTAssertEqual(count, 1, "no refused document was written")
    }
}
