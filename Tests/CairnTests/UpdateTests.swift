import XCTest
@testable import Cairn

/// MongoDB update operators over documents: each case applies an update to
/// a fixed document and compares the JSON that results.
final class UpdateTests: XCTestCase {
    private let original = #"{"_id":7,"name":"ann","n":5,"f":1.5,"tags":["a","b"],"scores":[3,1,2],"addr":{"city":"Oslo"},"s":"x"}"#

    private func apply(_ update: String, to document: String? = nil) throws -> String {
        let doc = try Array((document ?? original).utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }
        let parsed = try Array(update.utf8).withUnsafeBytes { try Update.parse(json: $0) }
        let tree = try doc.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
        let result = try parsed.apply(to: tree, now: 1_000).encoded()
        return try result.withUnsafeBytes { try DocumentValue($0).json() }
    }

    private func field(_ json: String, _ path: String) throws -> String? {
        let doc = try Array(json.utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }
        return try doc.withUnsafeBytes { try DocumentValue($0).value(atPath: path)?.json() }
    }

    func testFieldOperators() throws {
        XCTAssertEqual(try field(apply(#"{"$set":{"name":"bob","addr.zip":"0150","new.deep.x":1}}"#), "addr"), #"{"city":"Oslo","zip":"0150"}"#)
        XCTAssertEqual(try field(apply(#"{"$set":{"new.deep.x":1}}"#), "new"), #"{"deep":{"x":1}}"#)
        XCTAssertEqual(try field(apply(#"{"$set":{"tags.3":"d"}}"#), "tags"), #"["a","b",null,"d"]"#)
        XCTAssertNil(try field(apply(#"{"$unset":{"name":""}}"#), "name"))
        XCTAssertEqual(try field(apply(#"{"$unset":{"tags.0":""}}"#), "tags"), #"[null,"b"]"#)
        XCTAssertEqual(try field(apply(#"{"$inc":{"n":2,"f":1,"missing":3}}"#), "n"), "7")
        XCTAssertEqual(try field(apply(#"{"$inc":{"f":1}}"#), "f"), "2.5")
        XCTAssertEqual(try field(apply(#"{"$inc":{"n":0.5}}"#), "n"), "5.5")
        XCTAssertEqual(try field(apply(#"{"$inc":{"missing":3}}"#), "missing"), "3")
        XCTAssertEqual(try field(apply(#"{"$mul":{"n":3,"missing":2}}"#), "n"), "15")
        XCTAssertEqual(try field(apply(#"{"$mul":{"missing":2}}"#), "missing"), "0")
        XCTAssertEqual(try field(apply(#"{"$min":{"n":3}}"#), "n"), "3")
        XCTAssertEqual(try field(apply(#"{"$min":{"n":9}}"#), "n"), "5")
        XCTAssertEqual(try field(apply(#"{"$max":{"n":9}}"#), "n"), "9")
        XCTAssertEqual(try field(apply(#"{"$rename":{"name":"who.first"}}"#), "who.first"), #""ann""#)
        XCTAssertNil(try field(apply(#"{"$rename":{"name":"who"}}"#), "name"))
        XCTAssertEqual(try field(apply(#"{"$currentDate":{"at":true}}"#), "at"), #"{"$date":"1970-01-01T00:00:01.000Z"}"#)
    }

    func testArrayOperators() throws {
        XCTAssertEqual(try field(apply(#"{"$push":{"tags":"c"}}"#), "tags"), #"["a","b","c"]"#)
        XCTAssertEqual(try field(apply(#"{"$push":{"new":1}}"#), "new"), "[1]")
        XCTAssertEqual(try field(apply(#"{"$push":{"scores":{"$each":[5,0],"$sort":-1,"$slice":3}}}"#), "scores"), "[5,3,2]")
        XCTAssertEqual(try field(apply(#"{"$push":{"tags":{"$each":["z"],"$position":0}}}"#), "tags"), #"["z","a","b"]"#)
        XCTAssertEqual(try field(apply(#"{"$addToSet":{"tags":{"$each":["b","c","c"]}}}"#), "tags"), #"["a","b","c"]"#)
        XCTAssertEqual(try field(apply(#"{"$pull":{"scores":{"$gte":2}}}"#), "scores"), "[1]")
        XCTAssertEqual(try field(apply(#"{"$pull":{"tags":"a"}}"#), "tags"), #"["b"]"#)
        XCTAssertEqual(try field(apply(#"{"$pullAll":{"scores":[1,3]}}"#), "scores"), "[2]")
        XCTAssertEqual(try field(apply(#"{"$pop":{"scores":1}}"#), "scores"), "[3,1]")
        XCTAssertEqual(try field(apply(#"{"$pop":{"scores":-1}}"#), "scores"), "[1,2]")
        let items = #"{"_id":1,"items":[{"sku":"a","qty":1},{"sku":"b","qty":5}]}"#
        XCTAssertEqual(try field(apply(#"{"$pull":{"items":{"qty":{"$gt":2}}}}"#, to: items), "items"), #"[{"sku":"a","qty":1}]"#)
        XCTAssertEqual(try field(apply(#"{"$push":{"items":{"$each":[{"sku":"c","qty":3}],"$sort":{"qty":-1}}}}"#, to: items), "items.0.sku"), #""b""#)
    }

    func testReplacementKeepsTheID() throws {
        XCTAssertEqual(try apply(#"{"name":"new","x":1}"#), #"{"_id":7,"name":"new","x":1}"#)
        XCTAssertEqual(try apply(#"{"_id":7,"y":2}"#), #"{"_id":7,"y":2}"#)
        XCTAssertEqual(status { _ = try apply(#"{"_id":8,"y":2}"#) }, .invalidArgument)
    }

    func testTypeMismatchesFailTheWholeUpdate() {
        for update in [#"{"$inc":{"s":1}}"#, #"{"$push":{"name":"x"}}"#, #"{"$set":{"name.first":"x"}}"#, #"{"$mul":{"tags":2}}"#,
                       #"{"$inc":{"n":9223372036854775807}}"#] {
            XCTAssertEqual(status { _ = try apply(update) }, .invalidArgument, update)
        }
    }

    func testMalformedUpdatesNameTheOffendingPart() {
        let cases = [
            (#"{"$sett":{"a":1}}"#, "update.$sett"),
            (#"{"$set":{"a":1},"b":2}"#, "mixes operators"),
            (#"{"$set":{"_id":1}}"#, "_id is immutable"),
            (#"{"$set":{"a":1},"$inc":{"a.b":1}}"#, "conflicts"),
            (#"{"$inc":{"a":"x"}}"#, "update.$inc.a"),
            (#"{"$pop":{"a":2}}"#, "update.$pop.a"),
            (#"{"$push":{"a":{"$each":[1],"$sorted":1}}}"#, "$sorted"),
            (#"{"$set":5}"#, "update.$set"),
        ]
        for (update, fragment) in cases {
            XCTAssertThrowsError(try Array(update.utf8).withUnsafeBytes { try Update.parse(json: $0) }, update) { error in
                let cairn = error as? CairnError
                XCTAssertEqual(cairn?.code, .invalidArgument, update)
                XCTAssertTrue(cairn?.message.contains(fragment) ?? false, "\(update): \(cairn?.message ?? "")")
            }
        }
    }
}
