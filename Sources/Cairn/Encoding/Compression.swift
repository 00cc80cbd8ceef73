import CLZ4
import CZstd

/// Block compression. The raw value is stored in each block's trailer:
/// part of the table format; never change.
public enum CompressionKind: UInt8, Sendable {
    case none = 0
    case zstd = 1
    case lz4 = 2

    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "zstd": self = .zstd
        case "lz4": self = .lz4
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .none: return "none"
        case .zstd: return "zstd"
        case .lz4: return "lz4"
        }
    }
}

/// Compresses and decompresses blocks. A compressed block is stored as
/// `varint uncompressed size | compressed bytes`, so the reader allocates
/// exactly once and never trusts the compressor's own framing for sizes.
enum Compression {
    /// zstd level 1: the fast end, as RocksDB's default for zstd blocks.
    static let zstdLevel: Int32 = 1

    /// Appends the compressed form of `input` to `out`, or returns false when
    /// compressing would not save at least 1/8 (the block is then stored raw).
    static func compress(_ input: UnsafeRawBufferPointer, kind: CompressionKind, into out: inout [UInt8]) -> Bool {
        guard kind != .none, input.count > 0 else { return false }
        let bound: Int
        switch kind {
        case .zstd: bound = ZSTD_compressBound(input.count)
        case .lz4: bound = Int(LZ4_compressBound(Int32(input.count)))
        case .none: return false
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 8)
        defer { scratch.deallocate() }
        let written: Int
        switch kind {
        case .zstd:
            let n = ZstdContexts.shared.withCompressor { ZSTD_compressCCtx($0, scratch.baseAddress!, bound, input.baseAddress!, input.count, zstdLevel) }
            written = ZSTD_isError(n) != 0 ? -1 : n
        case .lz4:
            let n = LZ4_compress_default(input.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         scratch.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         Int32(input.count), Int32(bound))
            written = n <= 0 ? -1 : Int(n)
        case .none:
            written = -1
        }
        var header: [UInt8] = []
        Varint.append(UInt64(input.count), to: &header)
        guard written > 0, written + header.count < input.count - input.count / 8 else { return false }
        out.append(contentsOf: header)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<written]))
        return true
    }

    /// Decompresses a stored block into a new buffer the caller owns.
    /// Throws CORRUPTION (naming `what`) for any inconsistency. `what` is
    /// only built on an error: every block read from a table passes through
    /// here, and a profile of seeks found the interpolated names (two string
    /// allocations a block) a visible share of a block's cost.
    static func decompress(_ stored: UnsafeRawBufferPointer, kind: CompressionKind,
                           what: @autoclosure () -> String) throws -> UnsafeMutableRawBufferPointer {
        // The uncompressed size, a varint of at most 10 bytes.
        var size: UInt64 = 0
        var headerLength = 0
        var shift: UInt64 = 0
        while true {
            guard headerLength < stored.count, shift < 64 else { throw CairnError.corruption("\(what()): bad block size varint") }
            let byte = stored[headerLength]
            headerLength += 1
            size |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        guard size <= UInt64(RecordFormat.maxPayload) else { throw CairnError.corruption("\(what()): impossible block size \(size)") }
        let payload = UnsafeRawBufferPointer(rebasing: stored[headerLength...])
        // Safe: size <= 1 GiB was checked above.
        let output = try Allocation.buffer(Int(size), for: "\(what()) (a block of \(size) bytes)")
        let produced: Int
        switch kind {
        case .zstd:
            let n = ZstdContexts.shared.withDecompressor { ZSTD_decompressDCtx($0, output.baseAddress!, Int(size), payload.baseAddress!, payload.count) }
            produced = ZSTD_isError(n) != 0 ? -1 : n
        case .lz4:
            let n = LZ4_decompress_safe(payload.baseAddress!.assumingMemoryBound(to: CChar.self),
                                        output.baseAddress!.assumingMemoryBound(to: CChar.self),
                                        Int32(payload.count), Int32(size))
            produced = Int(n)
        case .none:
            produced = -1
        }
        guard produced == Int(size) else {
            output.deallocate()
            throw CairnError.corruption("\(what()): block does not decompress (\(kind.name))")
        }
        return UnsafeMutableRawBufferPointer(rebasing: output[0..<Int(size)])
    }
}

/// Reusable zstd contexts. ZSTD_compress and ZSTD_decompress allocate and
/// initialize a context of about 100 KiB on every call, which a profile of
/// point reads showed to cost more than the decompression itself; a small
/// pool hands each caller a warm one instead.
final class ZstdContexts: @unchecked Sendable {
    static let shared = ZstdContexts()

    /// A leaf lock: no other lock is taken inside it (docs/architecture.md, "Locks").
    private let lock = Lock()
    private var decompressors: [OpaquePointer] = []
    private var compressors: [OpaquePointer] = []
    /// Contexts kept for reuse; more concurrent callers get fresh ones.
    private let keep = 16

    func withDecompressor<T>(_ body: (OpaquePointer) -> T) -> T {
        let context = lock.withLock { decompressors.popLast() } ?? ZSTD_createDCtx()!
        defer {
            let kept = lock.withLock { () -> Bool in
                guard decompressors.count < keep else { return false }
                decompressors.append(context)
                return true
            }
            if !kept { ZSTD_freeDCtx(context) }
        }
        return body(context)
    }

    func withCompressor<T>(_ body: (OpaquePointer) -> T) -> T {
        let context = lock.withLock { compressors.popLast() } ?? ZSTD_createCCtx()!
        defer {
            let kept = lock.withLock { () -> Bool in
                guard compressors.count < keep else { return false }
                compressors.append(context)
                return true
            }
            if !kept { ZSTD_freeCCtx(context) }
        }
        return body(context)
    }
}
