// The storage readers on damaged bytes: log records and batches, table
// blocks and footers, manifests. Each is CORRUPTION, never a crash.
@testable import Cairn
import FuzzSupport

@_cdecl("FuzzStorage_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in
        let bytes = input(data, size)
        // Log segments: framing, record kinds, batch payloads.
        _ = try? RecordReader(path: "fuzz.log").forEachRecord(in: bytes) { payload in
            if case .batch = try WALFormat.classify(payload, what: "fuzz.log") {
                _ = try WriteBatchDecoder.forEachOperation(in: payload, what: "fuzz.log") { _, _ in }
            }
        }
        _ = try? Manifest.decode(bytes, path: "MANIFEST")
        _ = try? TableFormat.Footer.decode(tail: bytes, what: "fuzz.sst")
        // A block: the whole input is its storage (the block takes it).
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 8)
        if size > 0 { storage.copyMemory(from: bytes) }
        if let block = try? Block(storage: UnsafeMutableRawBufferPointer(rebasing: storage[0..<size]), what: "fuzz block") {
            var iterator = BlockIterator(block: block)
            var steps = 0
            if (try? iterator.seekToFirst()) != nil {
                while iterator.isValid && steps < 10_000 {
                    if (try? iterator.advance()) == nil { break }
                    steps += 1
                }
            }
            _ = try? block.find(bytes, compare: InternalKey.compare) { _, _ in true }
        }  // a block that fails to decode has freed its storage
        return 0
    }
}
