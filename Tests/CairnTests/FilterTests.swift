import XCTest
@testable import Cairn

/// The MongoDB filter language over binary documents: each case lists which
/// of a fixed set of documents a filter matches (by _id), as MongoDB does.
final class FilterTests: XCTestCase {
    private let documents = [
        #"{"_id":1,"name":"ann","age":31,"tags":["red","blue"],"address":{"city":"Oslo"},"items":[{"sku":"a","qty":2},{"sku":"b","qty":5}],"score":1.5}"#,
        #"{"_id":2,"name":"bob","age":25,"tags":["green"],"address":{"city":"Bergen"},"items":[{"sku":"c","qty":1}],"score":2}"#,
        #"{"_id":3,"name":"cy","age":"31","tags":[],"address":null,"score":null}"#,
        #"{"_id":4,"name":"dee","age":40.0,"tags":["red",["nested"]],"items":[],"nick":"d"}"#,
        #"{"_id":5,"name":"eve","tags":"red","matrix":[[1,2],[3,4]],"when":{"$date":"2026-01-01T00:00:00Z"}}"#,
    ]

    private func matching(_ filter: String) throws -> [Int64] {
        let parsed = try Array(filter.utf8).withUnsafeBytes { try Filter.parse(json: $0) }
        var ids: [Int64] = []
        for text in documents {
            let doc = try Array(text.utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }
            try doc.withUnsafeBytes { raw in
                let value = DocumentValue(raw)
                if try parsed.matches(value), case .int(let id)? = try value.field("_id")?.kind() { ids.append(id) }
            }
        }
        return ids
    }

    func testEqualityAndArrays() throws {
        XCTAssertEqual(try matching(#"{}"#), [1, 2, 3, 4, 5])
        XCTAssertEqual(try matching(#"{"name":"bob"}"#), [2])
        XCTAssertEqual(try matching(#"{"age":31}"#), [1], "no coercion: \"31\" is not 31")
        XCTAssertEqual(try matching(#"{"age":40}"#), [4], "40 equals 40.0")
        XCTAssertEqual(try matching(#"{"tags":"red"}"#), [1, 4, 5], "any element, or the scalar itself")
        XCTAssertEqual(try matching(#"{"tags":["red","blue"]}"#), [1], "whole-array equality")
        XCTAssertEqual(try matching(#"{"tags":["nested"]}"#), [4], "an element that is itself an array")
        XCTAssertEqual(try matching(#"{"items.sku":"b"}"#), [1], "through an array of objects")
        XCTAssertEqual(try matching(#"{"tags.0":"red"}"#), [1, 4], "numeric path component")
        XCTAssertEqual(try matching(#"{"address.city":"Oslo"}"#), [1])
        XCTAssertEqual(try matching(#"{"address":null}"#), [3, 4, 5], "null matches missing fields too")
        XCTAssertEqual(try matching(#"{"when":{"$date":"2026-01-01T00:00:00Z"}}"#), [5])
    }

    func testComparisonsAreTypeBracketed() throws {
        XCTAssertEqual(try matching(#"{"age":{"$gt":30}}"#), [1, 4])
        XCTAssertEqual(try matching(#"{"age":{"$gte":25,"$lt":40}}"#), [1, 2])
        XCTAssertEqual(try matching(#"{"age":{"$gt":"1"}}"#), [3], "strings only compare with strings")
        XCTAssertEqual(try matching(#"{"items.qty":{"$gt":4}}"#), [1])
        XCTAssertEqual(try matching(#"{"score":{"$lte":1.5}}"#), [1])
        XCTAssertEqual(try matching(#"{"name":{"$ne":"bob"}}"#), [1, 3, 4, 5])
        XCTAssertEqual(try matching(#"{"nick":{"$ne":"d"}}"#), [1, 2, 3, 5], "$ne matches missing fields")
    }

    func testSetAndExistenceOperators() throws {
        XCTAssertEqual(try matching(#"{"name":{"$in":["ann","eve","zed"]}}"#), [1, 5])
        XCTAssertEqual(try matching(#"{"tags":{"$in":["green","blue"]}}"#), [1, 2])
        XCTAssertEqual(try matching(#"{"name":{"$nin":["ann","bob"]}}"#), [3, 4, 5])
        XCTAssertEqual(try matching(#"{"nick":{"$exists":true}}"#), [4])
        XCTAssertEqual(try matching(#"{"items":{"$exists":false}}"#), [3, 5])
        XCTAssertEqual(try matching(#"{"tags":{"$all":["red","blue"]}}"#), [1])
        XCTAssertEqual(try matching(#"{"tags":{"$size":0}}"#), [3])
        XCTAssertEqual(try matching(#"{"tags":{"$size":2}}"#), [1, 4])
    }

    func testTypeModElemMatchAndNot() throws {
        XCTAssertEqual(try matching(#"{"age":{"$type":"string"}}"#), [3])
        XCTAssertEqual(try matching(#"{"age":{"$type":"number"}}"#), [1, 2, 4])
        XCTAssertEqual(try matching(#"{"age":{"$type":["double","string"]}}"#), [3, 4])
        XCTAssertEqual(try matching(#"{"tags":{"$type":"array"}}"#), [1, 2, 3, 4])
        XCTAssertEqual(try matching(#"{"when":{"$type":"date"}}"#), [5])
        XCTAssertEqual(try matching(#"{"age":{"$mod":[5,1]}}"#), [1])
        XCTAssertEqual(try matching(#"{"items":{"$elemMatch":{"sku":"a","qty":{"$gte":2}}}}"#), [1])
        XCTAssertEqual(try matching(#"{"items":{"$elemMatch":{"sku":"a","qty":{"$gte":3}}}}"#), [])
        XCTAssertEqual(try matching(#"{"matrix":{"$elemMatch":{"$elemMatch":{"$gt":3}}}}"#), [5])
        XCTAssertEqual(try matching(#"{"age":{"$not":{"$gt":30}}}"#), [2, 3, 5])
    }

    func testLogicalOperators() throws {
        XCTAssertEqual(try matching(#"{"$or":[{"name":"ann"},{"age":25}]}"#), [1, 2])
        XCTAssertEqual(try matching(#"{"$and":[{"tags":"red"},{"age":{"$exists":true}}]}"#), [1, 4])
        XCTAssertEqual(try matching(#"{"$nor":[{"name":"ann"},{"tags":"red"}]}"#), [2, 3])
        XCTAssertEqual(try matching(#"{"tags":"red","$or":[{"age":31},{"age":40}]}"#), [1, 4])
    }

    func testMalformedFiltersNameTheOffendingPart() {
        let cases = [
            (#"{"age":{"$gtx":3}}"#, "filter.age.$gtx"),
            (#"{"$xor":[]}"#, "filter.$xor"),
            (#"{"$or":{"a":1}}"#, "filter.$or"),
            (#"{"$or":[]}"#, "filter.$or"),
            (#"{"a":{"$in":5}}"#, "filter.a.$in"),
            (#"{"a":{"$size":-1}}"#, "filter.a.$size"),
            (#"{"a":{"$mod":[0,1]}}"#, "filter.a.$mod"),
            (#"{"a":{"$type":"colour"}}"#, "filter.a.$type"),
            (#"{"a":{"$not":5}}"#, "filter.a.$not"),
            (#"{"a..b":1}"#, "filter.a..b"),
            (#"{"$or":[{"a":{"$exists":"yes"}}]}"#, "filter.$or.0.a.$exists"),
            (#"[1]"#, "filter"),
        ]
        for (filter, path) in cases {
            XCTAssertThrowsError(try Array(filter.utf8).withUnsafeBytes { try Filter.parse(json: $0) }, filter) { error in
                let cairn = error as? CairnError
                XCTAssertEqual(cairn?.code, .invalidArgument, filter)
                XCTAssertTrue(cairn?.message.contains(path) ?? false, "\(filter): \(cairn?.message ?? "")")
            }
        }
    }
}
