/// Vertices are named by the index key (Documents/IndexKey.swift) of their
/// primary key: the bytes that follow 0x03 | collection id in a vertex's
/// document key, and the bytes an edge's `_from` or `_to` value takes in
/// the adjacency index entries (GraphAdjacency). So a neighbour read from
/// an index entry is already the key of the next prefix scan and of the
/// neighbour's document, with nothing decoded on the way; the algorithms
/// keep these bytes in dictionaries and turn them back into JSON values
/// (`value(of:)`) only for their output.
enum GraphKey {
    /// The length of the index-key value starting at `offset`, without
    /// decoding it; throws CORRUPTION for a damaged one.
    static func length(of bytes: UnsafeRawBufferPointer, at offset: Int) throws -> Int {
        var position = offset
        try skip(bytes, &position)
        return position - offset
    }

    private static func damaged() -> CairnError { CairnError.corruption("graph: a damaged index key in an adjacency index") }

    private static func skip(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws {
        guard position < bytes.count else { throw damaged() }
        let rank = bytes[position]
        position += 1
        switch rank {
        case 2: break                                   // null
        case 3: position += 16                          // number: double, remainder
        case 4: try skipEscaped(bytes, &position)       // string
        case 5:                                         // object
            while true {
                guard position < bytes.count else { throw damaged() }
                let more = bytes[position]
                position += 1
                if more == 0 { break }
                try skipEscaped(bytes, &position)
                try skip(bytes, &position)
            }
        case 6:                                         // array
            while true {
                guard position < bytes.count else { throw damaged() }
                let more = bytes[position]
                position += 1
                if more == 0 { break }
                try skip(bytes, &position)
            }
        case 7:                                         // binary: u32 BE length, subtype, bytes
            guard position + 5 <= bytes.count else { throw damaged() }
            let count = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            position += 5 + count
        case 9: position += 1                           // boolean
        case 10: position += 8                          // date
        default: throw damaged()
        }
        guard position <= bytes.count else { throw damaged() }
    }

    private static func skipEscaped(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws {
        while position + 1 < bytes.count {
            if bytes[position] == 0 {
                if bytes[position + 1] == 0 { position += 2; return }
                position += 2  // 0x00 0xFF: an escaped NUL
            } else {
                position += 1
            }
        }
        throw damaged()
    }

    /// The value an index key encodes. Numbers come back as int64 when
    /// integral and in range (1 and 1.0 share one key), else as doubles.
    static func value(of key: [UInt8]) throws -> MutableValue {
        try key.withUnsafeBytes { raw in
            var position = 0
            let value = try decode(raw, &position)
            guard position == raw.count else { throw damaged() }
            return value
        }
    }

    private static func uint64(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws -> UInt64 {
        guard position + 8 <= bytes.count else { throw damaged() }
        var result: UInt64 = 0
        for i in 0..<8 { result = result << 8 | UInt64(bytes[position + i]) }
        position += 8
        return result
    }

    private static func escaped(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws -> [UInt8] {
        var out: [UInt8] = []
        while position + 1 < bytes.count {
            if bytes[position] == 0 {
                position += 2
                if bytes[position - 1] == 0 { return out }
                out.append(0)
            } else {
                out.append(bytes[position])
                position += 1
            }
        }
        throw damaged()
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws -> MutableValue {
        guard position < bytes.count else { throw damaged() }
        let rank = bytes[position]
        position += 1
        switch rank {
        case 2: return .null
        case 3:
            let ordered = try uint64(bytes, &position)
            let bits = ordered & (1 << 63) != 0 ? ordered & ~(1 << 63) : ~ordered
            let remainder = Int64(bitPattern: try uint64(bytes, &position) ^ (1 << 63))
            let d = Double(bitPattern: bits)
            if d.isFinite && d.rounded() == d && d >= -9_223_372_036_854_775_808.0 && d <= 9_223_372_036_854_775_808.0 {
                // Wraps: exactly as IndexKey.appendAscending split the int64.
                if d == 9_223_372_036_854_775_808.0 { return .int(remainder &+ Int64.max &+ 1) }
                return .int(Int64(d) &+ remainder)
            }
            return .double(d)
        case 4: return .string(try escaped(bytes, &position))
        case 5:
            var members: [(key: String, value: MutableValue)] = []
            while true {
                guard position < bytes.count else { throw damaged() }
                position += 1
                if bytes[position - 1] == 0 { return .object(members) }
                let key = String(decoding: try escaped(bytes, &position), as: UTF8.self)
                members.append((key, try decode(bytes, &position)))
            }
        case 6:
            var elements: [MutableValue] = []
            while true {
                guard position < bytes.count else { throw damaged() }
                position += 1
                if bytes[position - 1] == 0 { return .array(elements) }
                elements.append(try decode(bytes, &position))
            }
        case 7:
            guard position + 5 <= bytes.count else { throw damaged() }
            let count = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let subtype = bytes[position + 4]
            position += 5
            guard position + count <= bytes.count else { throw damaged() }
            defer { position += count }
            return .binary(Array(bytes[position..<(position + count)]), subtype: subtype)
        case 9:
            guard position < bytes.count else { throw damaged() }
            position += 1
            return .bool(bytes[position - 1] != 0)
        case 10:
            return .date(Int64(bitPattern: try uint64(bytes, &position) ^ (1 << 63)))
        default: throw damaged()
        }
    }

    /// The index key of a JSON value (a start vertex named in a query).
    static func key(of value: MutableValue) throws -> [UInt8] {
        var out: [UInt8] = []
        try value.encoded().withUnsafeBytes { try IndexKey.append(DocumentValue($0), to: &out) }
        return out
    }

    /// The first key after every key starting with `prefix`.
    static func end(of prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xFF { end[end.count - 1] = last + 1; return end }
            end.removeLast()
        }
        return [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    }
}
