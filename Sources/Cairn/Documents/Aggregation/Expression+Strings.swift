/// Strings: $concat $toLower $toUpper $strLenCP $substrCP $indexOfCP
/// $split $trim $ltrim $rtrim $replaceOne $replaceAll. Positions and lengths count Unicode code
/// points, as MongoDB's *CP operators do; every index given by the user is
/// clamped before it is used, so no value of int64 can trap.
extension Expression {
    static func strings(_ op: Operator, _ values: [MutableValue?], _ meter: Meter) throws -> MutableValue? {
        switch op {
        case .concat:
            var out: [UInt8] = []
            for value in values {
                guard let text = try string(value, op) else { return .null }
                try meter.charge(text.count, op.rawValue)
                out.append(contentsOf: text)
            }
            return .string(out)
        case .replaceOne, .replaceAll:
            guard let text = try string(values[0], op), let find = try string(values[1], op), let replacement = try string(values[2], op) else {
                return .null
            }
            var out: [UInt8] = []
            var index = 0, replaced = false
            // Byte search is exact for UTF-8 (a match starts at a code point
            // boundary); an empty find matches once, at the start.
            while index <= text.count {
                let fits = index + find.count <= text.count
                if fits, !(replaced && op == .replaceOne), text[index..<(index + find.count)].elementsEqual(find) {
                    try meter.charge(replacement.count, op.rawValue)
                    out.append(contentsOf: replacement)
                    replaced = true
                    if find.isEmpty {
                        // Step over one whole code point, never into one.
                        if index < text.count { out.append(text[index]) }
                        index += 1
                        while index < text.count, text[index] & 0xC0 == 0x80 {
                            out.append(text[index])
                            index += 1
                        }
                        if op == .replaceOne { break }
                    } else {
                        index += find.count
                    }
                    continue
                }
                guard index < text.count else { break }
                out.append(text[index])
                index += 1
            }
            if index < text.count { out.append(contentsOf: text[index...]) }
            try meter.charge(out.count, op.rawValue)
            return .string(out)
        case .toLower, .toUpper:
            guard let text = try string(values[0], op) else { return .string([]) }
            let converted = self.text(text)
            return string(op == .toLower ? converted.lowercased() : converted.uppercased())
        case .strLenCP:
            guard let text = try string(values[0], op) else { throw CairnError.invalidArgument("$strLenCP needs a string") }
            return .int(Int64(self.text(text).unicodeScalars.count))
        case .substrCP:
            guard let text = try string(values[0], op) else { return .string([]) }
            guard let start = try integer(values[1], op, "the start"), let count = try integer(values[2], op, "the count"),
                  start >= 0, count >= 0 else {
                throw CairnError.invalidArgument("$substrCP needs a string, a non-negative start and a non-negative count")
            }
            let scalars = Array(self.text(text).unicodeScalars)
            // Safe: start and count are non-negative; the end is clamped
            // before it is added, so start + count cannot overflow.
            let from = Int(min(start, Int64(scalars.count)))
            let to = from + Int(min(count, Int64(scalars.count - from)))
            return scalarsString(scalars[from..<to])
        case .indexOfCP:
            guard let text = try string(values[0], op) else { return .null }
            guard case .string(let needleUTF8)? = values[1] else { throw CairnError.invalidArgument("$indexOfCP needs a string to search for") }
            let scalars = Array(self.text(text).unicodeScalars), needle = Array(self.text(needleUTF8).unicodeScalars)
            let (from, to) = try bounds(values, count: scalars.count, op)
            guard from <= to else { return .int(-1) }
            var position = from
            // Safe: position + needle.count is at most scalars.count + needle.count.
            while position + needle.count <= to {
                if scalars[position..<(position + needle.count)].elementsEqual(needle) { return .int(Int64(position)) }
                position += 1
            }
            return .int(-1)
        case .split:
            guard let text = try string(values[0], op) else { return .null }
            guard case .string(let delimiter)? = values[1] else { throw CairnError.invalidArgument("$split needs a string delimiter") }
            guard !delimiter.isEmpty else { throw CairnError.invalidArgument("$split: the delimiter must not be empty") }
            var parts: [MutableValue] = []
            var start = 0, index = 0
            // Byte search is exact for UTF-8: a valid delimiter can only
            // match at a code point boundary.
            while index + delimiter.count <= text.count {
                if text[index..<(index + delimiter.count)].elementsEqual(delimiter) {
                    parts.append(.string(Array(text[start..<index])))
                    index += delimiter.count
                    start = index
                } else {
                    index += 1
                }
            }
            parts.append(.string(Array(text[start...])))
            try meter.charge(parts.count * elementCost + text.count, op.rawValue)
            return .array(parts)
        case .trim, .ltrim, .rtrim:
            guard let text = try string(values[0], op) else { return .null }
            let set: Set<Unicode.Scalar>
            if let chars = values[1] {
                guard case .string(let utf8) = chars else { throw CairnError.invalidArgument("\(op.rawValue): chars must be a string") }
                set = Set(self.text(utf8).unicodeScalars)
            } else {
                set = whitespace
            }
            let scalars = Array(self.text(text).unicodeScalars)
            var from = 0, to = scalars.count
            if op != .rtrim { while from < to, set.contains(scalars[from]) { from += 1 } }
            if op != .ltrim { while to > from, set.contains(scalars[to - 1]) { to -= 1 } }
            return scalarsString(scalars[from..<to])
        default:
            throw CairnError(.internal, "\(op.rawValue) is not a string operator")
        }
    }

    /// What $trim removes without `chars`: MongoDB's list of whitespace.
    private static let whitespace: Set<Unicode.Scalar> = {
        var set = Set<Unicode.Scalar>()
        for value: UInt32 in [0x00, 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0xA0, 0x1680] + Array(0x2000...0x200A) {
            if let scalar = Unicode.Scalar(value) { set.insert(scalar) }
        }
        return set
    }()

    static func scalarsString(_ scalars: ArraySlice<Unicode.Scalar>) -> MutableValue {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return string(String(result))
    }

    /// The optional start and end (arguments 2 and 3) of $indexOfCP and
    /// $indexOfArray, clamped to 0...count; negative ones are errors.
    static func bounds(_ values: [MutableValue?], count: Int, _ op: Operator) throws -> (Int, Int) {
        var from = 0, to = count
        if values.count > 2 {
            guard let start = try integer(values[2], op, "the start"), start >= 0 else {
                throw CairnError.invalidArgument("\(op.rawValue): the start must be a non-negative integer")
            }
            from = Int(min(start, Int64(count)))
        }
        if values.count > 3 {
            guard let end = try integer(values[3], op, "the end"), end >= 0 else {
                throw CairnError.invalidArgument("\(op.rawValue): the end must be a non-negative integer")
            }
            to = Int(min(end, Int64(count)))
        }
        return (from, to)
    }
}
