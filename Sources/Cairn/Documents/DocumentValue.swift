/// A read-only view of one binary value (see DocumentFormat), borrowed
/// from the bytes it was made over. Reading never trusts the bytes: a
/// length or tag that does not fit is CORRUPTION, never an out-of-bounds
/// read.
struct DocumentValue {
    /// The value: its tag and payload, exactly.
    let bytes: UnsafeRawBufferPointer

    /// A view of the value that starts `bytes`; the bytes may run on.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    enum Kind {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(UnsafeRawBufferPointer)
        case binary(UnsafeRawBufferPointer, subtype: UInt8)
        case date(Int64)
        case array(count: Int)
        case object(count: Int)
    }

    private static func corrupt(_ detail: String) -> CairnError { CairnError.corruption("document: \(detail)") }

    var tag: DocumentTag? { bytes.isEmpty ? nil : DocumentTag(rawValue: bytes[0]) }

    /// The size of this value in bytes, tag included.
    func size() throws -> Int {
        guard let tag else { throw Self.corrupt("unknown tag") }
        switch tag {
        case .null, .false, .true: return 1
        case .int, .double, .date:
            guard bytes.count >= 9 else { throw Self.corrupt("truncated number") }
            return 9
        case .string, .binary:
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[1...]), what: "document")
            let length = try reader.readVarint()
            let extra = tag == .binary ? 1 : 0
            // A binary value's subtype byte must be there before its data
            // (found by FuzzDocument: a lone binary tag trapped here).
            guard reader.remaining >= extra, length <= UInt64(reader.remaining - extra) else {
                throw Self.corrupt("truncated string or binary")
            }
            return 1 + reader.offset + extra + Int(length)
        case .array, .object:
            guard bytes.count >= 9 else { throw Self.corrupt("truncated container") }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
            guard length >= 4, length <= bytes.count - 5 else { throw Self.corrupt("container length out of range") }
            return 5 + length
        }
    }

    func kind() throws -> Kind {
        guard let tag else { throw Self.corrupt("unknown tag") }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int, .double, .date:
            _ = try size()
            let raw = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
            if tag == .int { return .int(Int64(bitPattern: raw)) }
            if tag == .date { return .date(Int64(bitPattern: raw)) }
            return .double(Double(bitPattern: raw))
        case .string, .binary:
            let total = try size()
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[1..<total]), what: "document")
            let length = Int(try reader.readVarint())
            if tag == .string { return .string(try reader.readBytes(length)) }
            let subtype = try reader.readByte()
            return .binary(try reader.readBytes(length), subtype: subtype)
        case .array, .object:
            _ = try size()
            let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 5, as: UInt32.self)))
            return tag == .array ? .array(count: count) : .object(count: count)
        }
    }

    /// The elements of an array value, in order.
    func elements() throws -> [DocumentValue] {
        guard tag == .array else { return [] }
        var result: [DocumentValue] = []
        try forEachChild { _, value in result.append(value) }
        return result
    }

    /// The members of an object value, in order, keys as strings.
    func members() throws -> [(String, DocumentValue)] {
        guard tag == .object else { return [] }
        var result: [(String, DocumentValue)] = []
        try forEachChild { key, value in result.append((String(decoding: key!, as: UTF8.self), value)) }
        return result
    }

    /// Calls `body` with each child (key nil for array elements), skipping
    /// over nested values without decoding them. `body` returns false to stop.
    func forEachChild(_ body: (UnsafeRawBufferPointer?, DocumentValue) throws -> Void) throws {
        _ = try forEachChildUntil { key, value in
            try body(key, value)
            return true
        }
    }

    /// As forEachChild, stopping when `body` returns false; returns whether
    /// it went through every child.
    func forEachChildUntil(_ body: (UnsafeRawBufferPointer?, DocumentValue) throws -> Bool) throws -> Bool {
        guard tag == .array || tag == .object else { return true }
        let total = try size()
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 5, as: UInt32.self)))
        var offset = 9
        let isObject = tag == .object
        for _ in 0..<count {
            var key: UnsafeRawBufferPointer?
            if isObject {
                var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[offset..<total]), what: "document")
                key = try reader.readLengthPrefixed()
                offset += reader.offset
            }
            guard offset < total else { throw Self.corrupt("child out of range") }
            let child = DocumentValue(UnsafeRawBufferPointer(rebasing: bytes[offset..<total]))
            let size = try child.size()
            let exact = DocumentValue(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)]))
            if try !body(key, exact) { return false }
            offset += size
        }
        guard offset == total else { throw Self.corrupt("container length does not match its children") }
        return true
    }

    /// The value of member `name` of an object, or nil.
    func field(_ name: String) throws -> DocumentValue? {
        var target = name
        return try target.withUTF8 { wanted in
            var found: DocumentValue?
            _ = try forEachChildUntil { key, value in
                guard let key, compareBytes(key, UnsafeRawBufferPointer(wanted)) == 0 else { return true }
                found = value
                return false
            }
            return found
        }
    }

    /// The value at a dotted path ("address.city", "items.0.sku"), or nil.
    /// A numeric component indexes an array; it names a field of an object.
    /// (Matching "items.sku" against every element of an array is the query
    /// layer's business; this is the plain path.)
    func value(atPath path: String) throws -> DocumentValue? {
        // A plain field name of an object (a primary key such as "_id",
        // read once per document inserted): the loop's one step, without
        // splitting the path into new strings.
        if tag == .object && !path.utf8.contains(UInt8(ascii: ".")) { return try field(path) }
        var current = self
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current.tag {
            case .object:
                guard let next = try current.field(String(component)) else { return nil }
                current = next
            case .array:
                guard let index = Int(component), index >= 0 else { return nil }
                var position = 0
                var found: DocumentValue?
                _ = try current.forEachChildUntil { _, value in
                    if position == index {
                        found = value
                        return false
                    }
                    position += 1
                    return true
                }
                guard let next = found else { return nil }
                current = next
            default:
                return nil
            }
        }
        return current
    }
}
