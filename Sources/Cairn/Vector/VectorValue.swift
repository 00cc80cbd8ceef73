/// Reading a vector out of a document or a query.
///
/// A vector is either an array of numbers, or, compactly, a binary value
/// of subtype 9 in BSON's vector layout: one byte dtype 0x27 (float32),
/// one byte padding 0, then the components as float32 little-endian. In
/// Extended JSON that is
///
///     {"$binary": {"base64": "JwAAAIA/AAAAQA==", "subType": "09"}}
///
/// (the vector [1, 2]), four bytes a component instead of ~10 characters of
/// decimal text and no number parsing: the form to use for millions of
/// vectors through the ABI. Components are stored as float32; a number that
/// is NaN, infinite or beyond float32's range is refused.
enum VectorValue {
    /// BSON's binary subtype for vectors and its dtype byte for float32.
    static let binarySubtype: UInt8 = 9
    static let float32DType: UInt8 = 0x27

    enum Outcome {
        case missing
        case invalid(String)
        case vector([Float])
    }

    /// The vector at `path` in `document`, checked against `dimensions`.
    static func read(at components: [String], in document: DocumentValue, dimensions: Int) throws -> Outcome {
        var current = document
        for component in components {
            guard current.tag == .object, let child = try current.field(component) else { return .missing }
            current = child
        }
        if current.tag == .null { return .missing }
        return try decode(current, dimensions: dimensions)
    }

    /// A value as a vector of `dimensions` finite float32 components.
    static func decode(_ value: DocumentValue, dimensions: Int) throws -> Outcome {
        switch try value.kind() {
        case .array(let count):
            guard count == dimensions else { return .invalid("has \(count) components; the index expects \(dimensions)") }
            var out = [Float]()
            out.reserveCapacity(count)
            var problem: String?
            try value.forEachChild { _, element in
                guard problem == nil else { return }
                let x: Double
                switch try element.kind() {
                case .int(let n): x = Double(n)
                case .double(let d): x = d
                default:
                    problem = "component \(out.count) is not a number"
                    return
                }
                let f = Float(x)
                guard f.isFinite else {
                    problem = "component \(out.count) is \(x.isNaN ? "NaN" : "infinite or beyond float32's range")"
                    return
                }
                out.append(f)
            }
            if let problem { return .invalid(problem) }
            return .vector(out)
        case .binary(let bytes, let subtype):
            guard subtype == binarySubtype else {
                return .invalid("is binary of subtype \(subtype); a vector is binary of subtype 9 (float32)")
            }
            guard bytes.count >= 2, bytes[0] == float32DType, bytes[1] == 0 else {
                return .invalid("is a binary vector that is not float32 (dtype 0x27, padding 0)")
            }
            let (payload, remainder) = (bytes.count - 2).quotientAndRemainder(dividingBy: 4)
            guard remainder == 0 else { return .invalid("is a float32 binary vector whose length is not a multiple of 4") }
            guard payload == dimensions else { return .invalid("has \(payload) components; the index expects \(dimensions)") }
            var out = [Float](repeating: 0, count: payload)
            for i in 0..<payload {
                let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 + 4 * i, as: UInt32.self))
                let f = Float(bitPattern: bits)
                guard f.isFinite else { return .invalid("component \(i) is \(f.isNaN ? "NaN" : "infinite")") }
                out[i] = f
            }
            return .vector(out)
        default:
            return .invalid("is not an array of numbers or a float32 binary vector")
        }
    }

    /// The BSON vector binary payload of `vector` (dtype, padding, floats).
    static func binaryPayload(_ vector: [Float]) -> [UInt8] {
        var out: [UInt8] = [float32DType, 0]
        out.reserveCapacity(2 + 4 * vector.count)
        for x in vector { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }
}
