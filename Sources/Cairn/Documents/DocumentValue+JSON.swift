/// Binary documents back to JSON text. Dates and binary values become
/// canonical extended JSON ({"$date": "...Z"}, {"$binary": {"base64": ...,
/// "subType": ".."}}), so the text parses back to the same binary. Doubles
/// are written in Swift's shortest round-trip form, always with a '.' or an
/// exponent so they read back as doubles, not integers; Infinity, -Infinity
/// and NaN as {"$numberDouble": "Infinity"} and so on.
extension DocumentValue {
    func appendJSON(to out: inout [UInt8]) throws {
        switch try kind() {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let value): JSONValue.writeInteger(value, to: &out)
        case .double(let value):
            if !value.isFinite {
                // Plain JSON has no Infinity or NaN: canonical extended
                // JSON, which reads back as the same double.
                let name = value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity")
                out.append(contentsOf: #"{"$numberDouble":""#.utf8)
                out.append(contentsOf: name.utf8)
                out.append(contentsOf: #""}"#.utf8)
            } else {
                // The shortest text that reads back as the same double. A
                // byte scan, not String.contains (which walks Characters).
                let start = out.count
                out.append(contentsOf: value.description.utf8)
                if !out[start...].contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") }) {
                    out.append(contentsOf: ".0".utf8)
                }
            }
        case .string(let utf8):
            JSONValue.writeString(utf8: utf8, to: &out)
        case .binary(let data, let subtype):
            out.append(contentsOf: #"{"$binary":{"base64":""#.utf8)
            out.append(contentsOf: Base64.encode(data))
            let hex = String(subtype, radix: 16)
            out.append(contentsOf: #"","subType":""#.utf8)
            out.append(contentsOf: (hex.count == 1 ? "0" + hex : hex).utf8)
            out.append(contentsOf: #""}}"#.utf8)
        case .date(let millis):
            if let text = ISO8601.string(milliseconds: millis) {
                out.append(contentsOf: #"{"$date":""#.utf8)
                out.append(contentsOf: text.utf8)
                out.append(contentsOf: #""}"#.utf8)
            } else {
                // Outside years 0 to 9999, canonical extended JSON gives the
                // milliseconds, which read back as the same date.
                out.append(contentsOf: #"{"$date":{"$numberLong":""#.utf8)
                out.append(contentsOf: String(millis).utf8)
                out.append(contentsOf: #""}}"#.utf8)
            }
        case .array:
            out.append(UInt8(ascii: "["))
            var first = true
            try forEachChild { _, element in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                try element.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object:
            out.append(UInt8(ascii: "{"))
            var first = true
            try forEachChild { key, value in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONValue.writeString(utf8: key!, to: &out)
                out.append(UInt8(ascii: ":"))
                try value.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    func json() throws -> String {
        var out: [UInt8] = []
        try appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
