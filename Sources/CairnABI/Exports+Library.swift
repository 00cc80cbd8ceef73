import CCairn
import Cairn
#if canImport(Glibc)
import Glibc
#endif

// Library-wide functions of include/cairn.h: versions, status names, freeing.

// The numbers come from the header's macros (CCairn imports include/cairn.h),
// so the library can never report a version its header does not say.
nonisolated(unsafe) private let versionString: UnsafeMutablePointer<CChar> = strdup(CAIRN_VERSION_STRING)!

@c @implementation
public func cairn_version() -> UnsafePointer<CChar>! {
    UnsafePointer(versionString)
}

@c @implementation
public func cairn_abi_version() -> Int32 { Int32(CAIRN_ABI_VERSION) }

/// Static C strings for every status name, made once.
nonisolated(unsafe) private let statusNames: [Int32: UnsafeMutablePointer<CChar>] = {
    let codes: [StatusCode] = [.ok, .notFound, .invalidArgument, .ioError, .corruption, .busy, .closed,
                               .conflict, .constraint, .schema, .noSpace, .internal, .noMemory, .interrupted, .historyLost, .readOnly, .done]
    var names: [Int32: UnsafeMutablePointer<CChar>] = [:]
    for code in codes { names[code.rawValue] = strdup(code.name)! }
    return names
}()
nonisolated(unsafe) private let unknownStatusName: UnsafeMutablePointer<CChar> = strdup("CAIRN_UNKNOWN")!

@c @implementation
public func cairn_status_name(_ status: Int32) -> UnsafePointer<CChar>! {
    UnsafePointer(statusNames[status] ?? unknownStatusName)
}

@c @implementation
public func cairn_free(_ pointer: UnsafeMutableRawPointer!) {
    free(pointer)
}

@c @implementation
public func cairn_parse_duration(_ text: UnsafePointer<CChar>!, _ textLength: Int, _ ms: UnsafeMutablePointer<Int64>!,
                                 _ errmsg: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> Int32 {
    reportingStatus(errmsg) {
        let out = try required(ms, "ms")
        let view = try bytes(text, textLength, "text")
        out.pointee = try Duration.milliseconds(in: String(decoding: view, as: UTF8.self))
        return .ok
    }
}
