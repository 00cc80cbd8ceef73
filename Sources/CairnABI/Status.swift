import Cairn
#if canImport(Glibc)
import Glibc
#endif

typealias ErrorMessageOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

/// Runs one ABI call: maps a thrown `CairnError` to its status code and
/// message, in one place. Every exported function that can fail goes
/// through here, so every one reports errors the same way.
@inline(__always)
func reportingStatus(_ errmsg: ErrorMessageOut, _ body: () throws -> StatusCode) -> Int32 {
    errmsg?.pointee = nil
    do {
        return try body().rawValue
    } catch let error as CairnError {
        errmsg?.pointee = strdup(error.message)
        return error.code.rawValue
    } catch {
        errmsg?.pointee = strdup("internal error: \(error)")
        return StatusCode.internal.rawValue
    }
}

/// A borrowed view of caller memory; NULL is allowed only with length 0.
@inline(__always)
func bytes(_ pointer: UnsafePointer<UInt8>?, _ count: Int, _ what: String) throws -> UnsafeRawBufferPointer {
    guard count >= 0 else { throw CairnError(.invalidArgument, "\(what) length is negative") }
    guard let pointer else {
        guard count == 0 else { throw CairnError(.invalidArgument, "\(what) is NULL but its length is \(count)") }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }
    return UnsafeRawBufferPointer(start: pointer, count: count)
}

@inline(__always)
func bytes(_ pointer: UnsafePointer<CChar>?, _ count: Int, _ what: String) throws -> UnsafeRawBufferPointer {
    try bytes(pointer.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }, count, what)
}

/// UTF-8 text from C (a collection, index or field name): INVALID_ARGUMENT
/// when it is not valid UTF-8.
func text(_ pointer: UnsafePointer<CChar>?, _ length: Int, _ what: String) throws -> String {
    let view = try bytes(pointer, length, what)
    guard let value = String(validating: view, as: UTF8.self) else { throw CairnError(.invalidArgument, "\(what) is not valid UTF-8") }
    return value
}

/// The out-parameters of a returned string and its length.
public typealias TextOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
public typealias LengthOut = UnsafeMutablePointer<Int>

/// Hands `text` to the caller as a malloc()ed, NUL-terminated string, with
/// its length when the caller asked for it.
func giveString(_ text: String, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int>?) {
    out?.pointee = strdup(text)
    length?.pointee = text.utf8.count
}

/// Hands `source` to the caller as a malloc()ed buffer (NULL when empty).
func mallocCopy(_ source: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<UInt8>? {
    guard source.count > 0 else { return nil }
    guard let memory = malloc(source.count) else { throw CairnError(.internal, "out of memory (\(source.count) bytes)") }
    memory.copyMemory(from: source.baseAddress!, byteCount: source.count)
    return memory.assumingMemoryBound(to: UInt8.self)
}

/// A required out-parameter.
@inline(__always)
func required<T>(_ pointer: UnsafeMutablePointer<T>?, _ what: String) throws -> UnsafeMutablePointer<T> {
    guard let pointer else { throw CairnError(.invalidArgument, "the out-parameter \(what) is NULL") }
    return pointer
}
