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

/// The longest name (collection, index, field) the ABI takes.
let maxNameBytes = 1 << 16

/// A name from C (a collection, index or field name): INVALID_ARGUMENT
/// naming the argument when it is not valid UTF-8, holds a NUL byte (which
/// would cut it short in every C caller's hands) or is over 64 KiB. The core
/// adds each kind's own rules (a collection name's 255 bytes, for one).
func text(_ pointer: UnsafePointer<CChar>?, _ length: Int, _ what: String) throws -> String {
    let view = try bytes(pointer, length, what)
    guard view.count <= maxNameBytes else { throw CairnError(.invalidArgument, "\(what) is \(view.count) bytes; the limit is \(maxNameBytes)") }
    guard !view.contains(0) else { throw CairnError(.invalidArgument, "\(what) contains a NUL byte") }
    guard let value = String(validating: view, as: UTF8.self) else { throw CairnError(.invalidArgument, "\(what) is not valid UTF-8") }
    return value
}

/// The out-parameters of a returned string and its length.
public typealias TextOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
public typealias LengthOut = UnsafeMutablePointer<Int>

/// Room for a call's text result, reserved before the call does its work.
/// A write's result (its ids, its counts) is handed over after the write
/// has committed, when a failing malloc() could only report an error for a
/// write that happened; a result that fits the reservation (most ids and
/// counts do) can no longer fail then. Freed unless handed over.
struct ReservedResult: ~Copyable {
    /// Bytes reserved, the NUL included.
    static let capacity = 256
    private var memory: UnsafeMutableRawPointer?

    /// Reserves when the caller wants a text (`wanted`); NO_MEMORY, before
    /// anything is done, when even this much is not available.
    init(wanted: Bool) throws {
        memory = nil
        guard wanted else { return }
        guard let reserved = malloc(ReservedResult.capacity) else {
            throw CairnError(.noMemory, "out of memory: no room for the result (\(ReservedResult.capacity) bytes); nothing was done")
        }
        memory = reserved
    }

    deinit { free(memory) }

    /// The reserved memory, for a text of `count` bytes and its NUL; nil
    /// when it does not fit (or was taken).
    mutating func take(fitting count: Int) -> UnsafeMutableRawPointer? {
        guard count < ReservedResult.capacity, let reserved = memory else { return nil }
        memory = nil
        return reserved
    }
}

/// Hands `text` to the caller as a malloc()ed, NUL-terminated string, with
/// its length when the caller asked for it. Every byte of the text is
/// copied (strdup would stop at an embedded NUL and leave the length
/// pointing past what it copied), so the buffer holds exactly `length`
/// initialised bytes and the terminator. A text that fits `reserved` goes
/// into it; a larger one that cannot be allocated is NO_MEMORY, whose
/// message says that a write the call made stands.
func giveString(_ text: String, _ out: TextOut?, _ length: LengthOut?, reserved: inout ReservedResult) throws {
    var text = text
    let count = text.utf8.count
    // Without a place to put it, nothing is copied (and so nothing leaks);
    // the length, when asked for, is still given.
    guard let out else {
        length?.pointee = count
        return
    }
    guard let memory = reserved.take(fitting: count) ?? malloc(count + 1) else {
        throw CairnError(.noMemory, "out of memory: the result needs \(count + 1) bytes and was not returned (what the call did stands: a write is committed, an event taken from a watch is gone)")
    }
    text.withUTF8 { utf8 in
        if count > 0 { memory.copyMemory(from: utf8.baseAddress!, byteCount: count) }
    }
    memory.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
    out.pointee = memory.assumingMemoryBound(to: CChar.self)
    length?.pointee = count
}

/// giveString without a reservation: for results of calls that write nothing.
func giveString(_ text: String, _ out: TextOut?, _ length: LengthOut?) throws {
    var none = try ReservedResult(wanted: false)
    try giveString(text, out, length, reserved: &none)
}

/// Hands `source` to the caller as a malloc()ed buffer (NULL when empty).
func mallocCopy(_ source: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<UInt8>? {
    guard source.count > 0 else { return nil }
    guard let memory = malloc(source.count) else { throw CairnError(.noMemory, "out of memory: the result needs \(source.count) bytes") }
    memory.copyMemory(from: source.baseAddress!, byteCount: source.count)
    return memory.assumingMemoryBound(to: UInt8.self)
}

/// A required out-parameter.
@inline(__always)
func required<T>(_ pointer: UnsafeMutablePointer<T>?, _ what: String) throws -> UnsafeMutablePointer<T> {
    guard let pointer else { throw CairnError(.invalidArgument, "the out-parameter \(what) is NULL") }
    return pointer
}

/// Runs one ABI call that returns text (JSON, or Prometheus text) to the
/// caller: *out is set to NULL first, so it is NULL whenever the call
/// fails; `body` computes the text, which is handed over as a malloc()ed,
/// NUL-terminated string with its length in *length (when `length` is not
/// NULL; untouched on failure). With `required` set, a NULL `out` is
/// INVALID_ARGUMENT naming it, checked before `body` runs; without it, a
/// NULL `out` means the caller does not want the text, and `body` still
/// runs. Errors map to status codes as in reportingStatus.
@inline(__always)
func returningText(_ out: TextOut?, _ length: LengthOut?, required name: String? = "json",
                   _ errmsg: ErrorMessageOut, _ body: () throws -> String) -> Int32 {
    out?.pointee = nil
    return reportingStatus(errmsg) {
        if let name { _ = try required(out, name) }
        var reserved = try ReservedResult(wanted: out != nil)
        try giveString(try body(), out, length, reserved: &reserved)
        return .ok
    }
}
