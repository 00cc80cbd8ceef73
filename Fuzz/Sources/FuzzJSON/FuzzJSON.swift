// The JSON parser, both sinks: the tree (filters, options) and the binary
// document builder (documents, with extended JSON), then back to text.
@testable import Cairn
import FuzzSupport

@_cdecl("FuzzJSON_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let bytes = input(data, size)
        if let value = try? JSONValue.parse(bytes) {
            // What parses has one meaning: no object keeps a duplicate key
            // (the parser compares the first 16 keys directly, then hashes).
            if hasDuplicateKey(value) { fatalError("a JSON text with a duplicate key parsed") }
            _ = value.serialized
        }
        if let document = try? DocumentBuilder.document(fromJSON: bytes) {
            _ = document.withUnsafeBytes { try? DocumentValue($0).json() }
        }
        return 0
    }
}

/// Whether some object in `value` holds a key twice (by its UTF-8 bytes).
private func hasDuplicateKey(_ value: JSONValue) -> Bool {
    switch value {
    case .object(let members):
        var keys = Set<[UInt8]>()
        for member in members where !keys.insert(Array(member.key.utf8)).inserted { return true }
        return members.contains { hasDuplicateKey($0.value) }
    case .array(let elements):
        return elements.contains { hasDuplicateKey($0) }
    default:
        return false
    }
}
