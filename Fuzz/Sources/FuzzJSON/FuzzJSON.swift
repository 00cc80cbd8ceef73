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
            // Field names are checked while parsing (validatedDocument):
            // the same verdict, and the same bytes, as checking after.
            let after = document.withUnsafeBytes { raw in Result { try FieldNames.validate(DocumentValue(raw), path: "document") } }
            let fused = Result { try DocumentBuilder.validatedDocument(fromJSON: bytes) }
            switch (after, fused) {
            case (.success, .success(let same)) where same == document: break
            case (.failure(let a as CairnError), .failure(let b as CairnError)) where a.message == b.message: break
            default: fatalError("validatedDocument disagrees with document + FieldNames.validate")
            }
        }
        // A double found by the parser's exact fast path is the standard
        // conversion's, bit for bit.
        if case .double(let parsed)? = try? JSONValue.parse(bytes) {
            let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
            let first = bytes.firstIndex { !isSpace($0) } ?? 0, last = bytes.lastIndex { !isSpace($0) } ?? 0
            let text = String(decoding: bytes[first...last], as: UTF8.self)
            guard let expected = Double(text), expected.bitPattern == parsed.bitPattern else {
                fatalError("the double \(text) parsed as \(parsed)")
            }
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
