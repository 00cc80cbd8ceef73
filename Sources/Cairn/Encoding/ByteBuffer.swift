/// A growable byte buffer at a stable address, for keys and values that an
/// iterator copies and then lends out as views: unlike an Array, handing
/// out `bytes` does not escape a closure-scoped pointer. Memory is taken on
/// first use: many iterators own buffers they never fill (reverse scans
/// only, pending writes only), and a query opens several iterators.
final class ByteBuffer {
    private var storage: UnsafeMutableRawPointer?
    private var capacity: Int
    private let initialCapacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        initialCapacity = max(capacity, 16)
        self.capacity = 0
    }

    deinit { storage?.deallocate() }

    /// A view of the contents, valid until the next `set` or `append`.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    func set(_ source: UnsafeRawBufferPointer) {
        count = 0
        append(source)
    }

    @inline(__always)
    func append(_ source: UnsafeRawBufferPointer) {
        if count + source.count > capacity { reserve(count + source.count) }
        if source.count > 0 { (storage! + count).copyMemory(from: source.baseAddress!, byteCount: source.count) }
        count += source.count
    }

    /// Appends `value` in the machine's byte order (ItemBatch's lengths).
    @inline(__always)
    func append(native value: UInt32) {
        if count + 4 > capacity { reserve(count + 4) }
        storage!.storeBytes(of: value, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    func append(byte: UInt8) {
        if count >= capacity { reserve(count + 1) }
        storage!.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends `length` bytes from `source` (a text writer's runs).
    @inline(__always)
    func append(_ source: UnsafeRawPointer, count length: Int) {
        if count + length > capacity { reserve(count + length) }
        if length > 0 { (storage! + count).copyMemory(from: source, byteCount: length) }
        count += length
    }

    /// Appends the UTF-8 bytes of a string known at compile time ("null").
    @inline(__always)
    func append(_ text: StaticString) {
        append(UnsafeRawPointer(text.utf8Start), count: text.utf8CodeUnitCount)
    }

    /// Appends `source` between double quotes when none of its bytes needs
    /// a JSON escape (below 0x20, '"', '\\'), checking and copying in one
    /// pass; returns false, having appended nothing, otherwise.
    @inline(__always)
    func appendQuotedIfPlain(_ source: UnsafeRawPointer, count length: Int) -> Bool {
        if count + length + 2 > capacity { reserve(count + length + 2) }
        let target = storage! + count
        target.storeBytes(of: 0x22, as: UInt8.self)
        for i in 0..<length {
            let byte = source.load(fromByteOffset: i, as: UInt8.self)
            if byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            target.storeBytes(of: byte, toByteOffset: 1 + i, as: UInt8.self)
        }
        target.storeBytes(of: 0x22, toByteOffset: 1 + length, as: UInt8.self)
        count += length + 2
        return true
    }

    /// Appends `value` as a varint (Varint's encoding).
    @inline(__always)
    func append(varint value: UInt64) {
        if count + Varint.maxLength > capacity { reserve(count + Varint.maxLength) }
        var v = value
        while v >= 0x80 {
            storage!.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        storage!.storeBytes(of: UInt8(v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends `value` little-endian.
    @inline(__always)
    func append(littleEndian value: UInt64) {
        if count + 8 > capacity { reserve(count + 8) }
        storage!.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    /// Overwrites the four bytes at `offset` with `value`, little-endian
    /// (a length filled in once known). REQUIRES: offset + 4 <= count.
    func store(littleEndian value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count, "a store past the buffer's bytes")
        storage!.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// The contents as an array (one copy).
    var array: [UInt8] {
        let source = bytes
        return [UInt8](unsafeUninitializedCapacity: source.count) { target, initialized in
            if let base = source.baseAddress, source.count > 0 {
                UnsafeMutableRawPointer(target.baseAddress!).copyMemory(from: base, byteCount: source.count)
            }
            initialized = source.count
        }
    }

    func removeAll() { count = 0 }

    /// Empties the buffer and gives its memory back when it holds more than
    /// `limit` bytes (a pooled buffer that once held a large value).
    func shrink(to limit: Int) {
        count = 0
        guard capacity > limit else { return }
        storage?.deallocate()
        storage = nil
        capacity = 0
    }

    /// Keeps the first `length` bytes. REQUIRES: length <= count.
    func truncate(to length: Int) { count = length }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        var newCapacity = max(capacity * 2, initialCapacity)
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        if count > 0 { grown.copyMemory(from: storage!, byteCount: count) }
        storage?.deallocate()
        storage = grown
        capacity = newCapacity
    }
}
