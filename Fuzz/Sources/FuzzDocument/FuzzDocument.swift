// The binary document reader on damaged bytes, as a damaged table could
// hand it: every walk is CORRUPTION or INVALID_ARGUMENT, never a crash.
// Input: one byte that picks a position, one XOR mask, then JSON text; the
// text becomes a valid binary document, which gets that one byte damaged
// (or, when the text is not JSON, the raw bytes are read as they are).
@testable import Cairn
import FuzzSupport

func walk(_ bytes: UnsafeRawBufferPointer) {
    let document = DocumentValue(bytes)
    _ = try? document.json()
    _ = try? document.value(atPath: "a.b")
    _ = try? MutableValue(document)
}

@_cdecl("FuzzDocument_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let bytes = input(data, size)
        guard size > 2, var document = try? DocumentBuilder.document(fromJSON: UnsafeRawBufferPointer(rebasing: bytes[2...])) else {
            walk(bytes)
            return 0
        }
        document[Int(bytes[0]) % document.count] ^= bytes[1]
        document.withUnsafeBytes { walk($0) }
        return 0
    }
}
