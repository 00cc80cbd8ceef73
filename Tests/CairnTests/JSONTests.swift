import XCTest
@testable import Cairn

/// The boundary JSON parser: exact values, strict syntax, byte offsets.
final class JSONTests: XCTestCase {
    func testParsesEveryType() throws {
        let value = try JSONValue.parse(#"{"a": [1, -2, 3.5, 1e3, true, false, null], "b": "x\ny\u00e9\ud83d\ude00", "c": {}}"#)
        XCTAssertEqual(value["a"], .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null]))
        XCTAssertEqual(value["b"], .string("x\ny\u{e9}\u{1F600}"))
        XCTAssertEqual(value["c"], .object([]))
        XCTAssertEqual(try JSONValue.parse("9223372036854775807"), .int(Int64.max))
    }

    func testRejectsMalformedInputWithTheOffset() {
        let bad: [(String, String)] = [
            ("{\"a\": }", "byte 6"), ("[1, 2", "byte 5"), ("01", "byte 1"), ("\"\\ud800\"", "surrogate"),
            ("{\"a\" 1}", "byte 5"), ("tru", "byte 0"), ("[1] x", "byte 4"), ("\"a\u{1}\"", "control"),
        ]
        for (text, fragment) in bad {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
                let cairn = error as? CairnError
                XCTAssertEqual(cairn?.code, .invalidArgument)
                XCTAssertTrue(cairn?.message.contains(fragment) ?? false, "\(text): \(String(describing: cairn?.message))")
            }
        }
    }

    func testRejectsDuplicateKeysWithTheKeyAndOffset() throws {
        let bad: [(String, String)] = [
            (#"{"g": 1, "g": 2}"#, "byte 9"), (#"{"a": {"x": 1, "\u0078": 2}}"#, "\"x\""),
            (#"[{"a": 1}, {"b": 1, "b": 1}]"#, "\"b\""),
        ]
        for (text, fragment) in bad {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
                let cairn = error as? CairnError
                XCTAssertEqual(cairn?.code, .invalidArgument)
                XCTAssertTrue(cairn?.message.contains("duplicate key") ?? false, "\(text): \(String(describing: cairn?.message))")
                XCTAssertTrue(cairn?.message.contains(fragment) ?? false, "\(text): \(String(describing: cairn?.message))")
            }
        }
        // The same key in sibling or nested objects is no duplicate, and a
        // large object is checked through its set of hashes.
        XCTAssertNoThrow(try JSONValue.parse(#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#))
        let many = (0..<100).map { "\"k\($0)\": \($0)" }
        XCTAssertNoThrow(try JSONValue.parse("{" + many.joined(separator: ",") + "}"))
        XCTAssertThrowsError(try JSONValue.parse("{" + (many + ["\"k57\": 0"]).joined(separator: ",") + "}"))
    }

    func testADuplicateIsFoundWhereverItSitsBeforeAndAfterTheSetTakesOver() throws {
        // Objects of up to JSONParser.keysCompared keys compare keys
        // directly, larger ones switch to a set of hashes at the next key:
        // a duplicate of any earlier key, at any position across that
        // switch, is refused, and keys that merely share a prefix or a
        // length are not.
        let limit = JSONParser<JSONValueBuilder>.keysCompared + 4
        for size in 1...limit {
            let keys = (0..<size).map { "k\(String(repeating: "x", count: $0 % 3))\($0)" }
            let object = keys.enumerated().map { "\"\($0.element)\": \($0.offset)" }
            XCTAssertNoThrow(try JSONValue.parse("{" + object.joined(separator: ",") + "}"), "\(size) keys")
            for earlier in 0..<size {
                let text = "{" + (object + ["\"\(keys[earlier])\": -1"]).joined(separator: ",") + "}"
                XCTAssertEqual(status { _ = try JSONValue.parse(text) }, .invalidArgument, "key \(earlier) again after \(size)")
            }
        }
        XCTAssertEqual(status { _ = try JSONValue.parse(#"{"": 1, "": 2}"#) }, .invalidArgument)
        XCTAssertNoThrow(try JSONValue.parse(#"{"": 1, "a": 2, "ab": 3, "ba": 4, "b": 5}"#))
    }

    func testRejectsInvalidUTF8AndDeepNesting() {
        let invalid: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        XCTAssertThrowsError(try invalid.withUnsafeBytes { try JSONValue.parse($0) })
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        XCTAssertThrowsError(try JSONValue.parse(deep))
    }

    func testSerializesAndRoundTrips() throws {
        let text = #"{"k":"a\"b\\c\n","n":[1,2.5,null,true]}"#
        XCTAssertEqual(try JSONValue.parse(text).serialized, text)
    }

    /// Doubles written without `description` (JSONValue.writeShortDecimal,
    /// documents' JSON output) read exactly as `description` writes them.
    func testShortDecimalsAreWrittenAsDescriptionWritesThem() {
        var generator = SystemRandomNumberGenerator()
        var decimals: [Double] = [0.001, 0.1, 0.5, 1, 19.99, 100, 123.456, 0x1p50 - 1, 1e15, 0.0011, 2.5e-3, 0.3]
        for _ in 0..<40_000 {
            let scale = [1.0, 10, 100, 1000, 10_000][Int.random(in: 0..<5, using: &generator)]
            decimals.append(Double(Int.random(in: 1...10_000_000, using: &generator)) / scale)
        }
        var others: [Double] = [1e-3.nextDown, 1e-3.nextUp, 0x1p50, 2.0 / 3.0, 1e16, 0.0001]
        for _ in 0..<40_000 {
            others.append(Double(bitPattern: UInt64.random(in: Double(0.0005).bitPattern...Double(0x1p51).bitPattern, using: &generator)))
            others.append(Double.random(in: 0.001..<1e6, using: &generator))
        }
        var fast = 0
        for (value, isDecimal) in decimals.map({ ($0, true) }) + others.map({ ($0, false) }) {
            for signed in [value, -value] {
                let out = ByteBuffer()
                let expected = signed.description
                if JSONValue.writeShortDecimal(signed, to: out) {
                    fast += 1
                    XCTAssertEqual(String(decoding: out.bytes, as: UTF8.self), expected, "\(signed)")
                } else {
                    XCTAssertEqual(out.count, 0, "\(signed): nothing written when the fast path declines")
                    XCTAssertFalse(isDecimal && value >= 0.001, "\(signed), a short decimal, should take the fast path")
                }
            }
        }
        XCTAssertGreaterThan(fast, 80_000)
    }
}
