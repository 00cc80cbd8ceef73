/// A document decoded into a tree that updates can change: the update
/// operators edit this, then it is written back to the binary form.
indirect enum MutableValue {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string([UInt8])
    case binary([UInt8], subtype: UInt8)
    case date(Int64)
    case array([MutableValue])
    case object([(key: String, value: MutableValue)])

    init(_ value: DocumentValue) throws {
        switch try value.kind() {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let n): self = .int(n)
        case .double(let d): self = .double(d)
        case .string(let utf8): self = .string(Array(utf8))
        case .binary(let data, let subtype): self = .binary(Array(data), subtype: subtype)
        case .date(let ms): self = .date(ms)
        case .array:
            var elements: [MutableValue] = []
            try value.forEachChild { _, child in elements.append(try MutableValue(child)) }
            self = .array(elements)
        case .object:
            var members: [(key: String, value: MutableValue)] = []
            try value.forEachChild { key, child in members.append((String(decoding: key!, as: UTF8.self), try MutableValue(child))) }
            self = .object(members)
        }
    }

    /// The binary form of this value.
    func encoded() -> [UInt8] {
        var builder = DocumentBuilder()
        write(to: &builder)
        return builder.bytes
    }

    func write(to builder: inout DocumentBuilder) {
        switch self {
        case .null: builder.null()
        case .bool(let flag): builder.bool(flag)
        case .int(let n): builder.int(n)
        case .double(let d): builder.double(d)
        case .string(let utf8): utf8.withUnsafeBytes { builder.string($0) }
        case .binary(let data, let subtype): data.withUnsafeBytes { builder.binary($0, subtype: subtype) }
        case .date(let ms): builder.date(millisecondsSinceEpoch: ms)
        case .array(let elements):
            builder.beginArray()
            for element in elements { element.write(to: &builder) }
            builder.endArray(count: elements.count)
        case .object(let members):
            builder.beginObject()
            for member in members {
                Array(member.key.utf8).withUnsafeBytes { builder.key($0) }
                member.value.write(to: &builder)
            }
            builder.closeObject(count: members.count)
        }
    }

    /// About the size of the binary form, without building it (for
    /// memory budgets).
    var encodedSize: Int {
        switch self {
        case .null, .bool: return 1
        case .int, .double, .date: return 9
        case .string(let utf8): return utf8.count + 3
        case .binary(let data, _): return data.count + 4
        case .array(let elements): return elements.reduce(9) { $0 + $1.encodedSize }
        case .object(let members): return members.reduce(9) { $0 + $1.key.utf8.count + 2 + $1.value.encodedSize }
        }
    }

    /// About the memory the value holds in this tree form, for memory
    /// budgets: its reference, the heap box of each indirect case, and
    /// each array's storage, with object headers and malloc's rounding.
    var memorySize: Int {
        let reference = MemoryLayout<MutableValue>.stride
        let box = 32  // an indirect case's box: object header and malloc overhead
        let storage = 48  // an array's heap storage: header and malloc overhead
        switch self {
        case .null: return reference
        case .bool, .int, .double, .date: return reference + box + 8
        case .string(let utf8): return reference + box + 8 + storage + utf8.count
        case .binary(let data, _): return reference + box + 16 + storage + data.count
        case .array(let elements): return reference + box + 8 + storage + elements.reduce(0) { $0 + $1.memorySize }
        case .object(let members):
            return reference + box + 8 + storage + members.reduce(0) { total, member in
                // A String of more than 15 UTF-8 bytes keeps them on the heap.
                let key = member.key.utf8.count > 15 ? storage + member.key.utf8.count : 0
                return total + MemoryLayout<(key: String, value: MutableValue)>.stride - MemoryLayout<MutableValue>.stride
                    + key + member.value.memorySize
            }
        }
    }

    /// ValueOrder.compare on the binary forms.
    func compare(_ other: MutableValue) throws -> Int {
        let a = encoded(), b = other.encoded()
        return try a.withUnsafeBytes { x in try b.withUnsafeBytes { y in try ValueOrder.compare(DocumentValue(x), DocumentValue(y)) } }
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "double"
        case .string: return "string"
        case .binary: return "binData"
        case .date: return "date"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension MutableValue {
    /// The value as JSON text (extended JSON for dates and binary).
    func jsonBytes() throws -> [UInt8] {
        var out: [UInt8] = []
        try encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        return out
    }
}
