// Update compile and apply: the input is an update's JSON, then optionally
// a NUL byte and its array filters (a JSON array), then a NUL byte and the
// query that matched (for the positional `$`), applied to documents with
// arrays, nested objects and the integer extremes, as an update and as an
// upsert's insert.
@testable import Cairn
import FuzzSupport

let documents: [[UInt8]] = [
    #"{"_id": 1, "a": 5, "b": "x", "c": [1, [2, 3], {"d": null}], "n": -9223372036854775808}"#,
    #"{"_id": 2, "a": [1.5, "5", null], "b": {"c": {"d": [true, false]}}, "m": 9223372036854775807}"#,
    #"{"_id": 3, "g": [80, 85, 90], "i": [{"s": "a", "q": 1}, {"s": "b", "q": [2]}], "z": {"y": [[1], {"x": 2}]}}"#,
].map { text in (try? Array(text.utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }) ?? [] }

@_cdecl("FuzzUpdate_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let parts = input(data, size).split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
            .map { UnsafeRawBufferPointer(rebasing: $0) }
        var arrayFilters: [(id: String, filter: Filter)] = []
        if parts.count > 1, parts[1].count > 0 {
            guard let binary = try? DocumentBuilder.value(fromJSON: parts[1], what: "array filters"),
                  let parsed = try? binary.withUnsafeBytes({ try Update.parseArrayFilters(DocumentValue($0), at: "array_filters") }) else { return 0 }
            arrayFilters = parsed
        }
        let query = parts.count > 2 ? (try? Filter.parse(json: parts[2])) ?? .all([]) : .all([])
        guard let update = try? Update.parse(json: parts[0], arrayFilters: arrayFilters) else { return 0 }
        for document in documents {
            _ = document.withUnsafeBytes { raw in
                try? update.apply(to: MutableValue(DocumentValue(raw)), now: 1_700_000_000_000, query: query).encoded()
            }
        }
        _ = try? update.apply(to: .object([]), now: 0, query: query, inserting: true).encoded()
        return 0
    }
}
