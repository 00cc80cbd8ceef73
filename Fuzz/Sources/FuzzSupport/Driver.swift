/// libFuzzer's driver, called from each target's entry point with the
/// function it fuzzes. Any trap, crash or sanitizer report in that function
/// is a finding; a thrown CairnError is the expected answer to bad input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}

/// The fuzzer's input as a buffer (libFuzzer may pass NULL for no bytes).
@inline(__always)
public func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
}

#if canImport(Glibc)
import Glibc
#endif

/// A path for a database in a fresh temporary directory
/// (/tmp/cairn-fuzz-<label>-XXXXXX/db), for the targets that fuzz through
/// a real database; nil when the directory cannot be made.
public func temporaryDatabasePath(_ label: String) -> String? {
    var template = Array("/tmp/cairn-fuzz-\(label)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let made = mkdtemp(base) else { return nil }
        return String(cString: made) + "/db"
    }
}
