// The JSON parser, both sinks: the tree (filters, options) and the binary
// document builder (documents, with extended JSON), then back to text.
@testable import Cairn
import FuzzSupport

@_cdecl("FuzzJSON_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let bytes = input(data, size)
        if let value = try? JSONValue.parse(bytes) { _ = value.serialized }
        if let document = try? DocumentBuilder.document(fromJSON: bytes) {
            _ = document.withUnsafeBytes { try? DocumentValue($0).json() }
        }
        return 0
    }
}
