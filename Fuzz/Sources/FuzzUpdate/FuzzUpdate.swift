// Update compile and apply: the input is an update's JSON, applied to
// documents with arrays, nested objects and the integer extremes.
@testable import Cairn
import FuzzSupport

let documents: [[UInt8]] = [
    #"{"_id": 1, "a": 5, "b": "x", "c": [1, [2, 3], {"d": null}], "n": -9223372036854775808}"#,
    #"{"_id": 2, "a": [1.5, "5", null], "b": {"c": {"d": [true, false]}}, "m": 9223372036854775807}"#,
].map { text in (try? Array(text.utf8).withUnsafeBytes { try DocumentBuilder.document(fromJSON: $0) }) ?? [] }

@_cdecl("FuzzUpdate_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        guard let update = try? Update.parse(json: input(data, size)) else { return 0 }
        for document in documents {
            _ = document.withUnsafeBytes { raw in
                try? update.apply(to: MutableValue(DocumentValue(raw)), now: 1_700_000_000_000).encoded()
            }
        }
        return 0
    }
}
