// Filter compile and match: the input is a filter's JSON, matched against
// documents that mix types, arrays of arrays, nulls and missing fields.
// The same text is also tried as a find projection (the two grammars
// share $elemMatch), applied to the same documents.
@testable import Cairn
import FuzzSupport

let documents: [[UInt8]] = [
    #"{"_id": 1, "a": 5, "b": "x", "c": [1, [2, 3], {"d": null}], "n": -9223372036854775808}"#,
    #"{"_id": 2, "a": [1.5, "5", null], "b": {"c": {"d": [true, false]}}, "e": {"$date": 0}}"#,
    #"{"_id": 3, "s": "héllo", "t": [], "u": {}, "v": 9223372036854775807}"#,
    #"{"_id": 4, "a": [{"b": 1}, {"c": [{"b": null}]}, 7, [{"b": 2}]], "q": [{"s": "M", "n": 100}]}"#,
].map { text in (try? Array(text.utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }) ?? [] }

@_cdecl("FuzzFilter_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let text = input(data, size)
        if let filter = try? Filter.parse(json: text) {
            for document in documents { _ = document.withUnsafeBytes { try? filter.matches(DocumentValue($0)) } }
        }
        if let options = try? FindOptions.parse(json: text, allowing: ["projection"]), let projection = options.projection {
            for document in documents {
                _ = document.withUnsafeBytes { raw in try? projection.apply(to: MutableValue(DocumentValue(raw))).encoded() }
            }
        }
        return 0
    }
}
