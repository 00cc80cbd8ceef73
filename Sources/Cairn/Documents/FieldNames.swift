/// Field names stored in documents: no NUL, not empty, at most 1 KiB; a
/// top-level name may not start with '$' (that is an operator). Also the
/// nesting limit of JSON input (100), for documents that updates built.
enum FieldNames {
    static let maxBytes = 1024

    static func validate(_ value: DocumentValue, path: @autoclosure () -> String = "document", topLevel: Bool = true) throws {
        // Almost every document is valid: check without building any path
        // text, and build the message only for the rare bad one.
        if try allValid(value, topLevel: topLevel, depth: 1) { return }
        try describeFirstProblem(value, path: path(), topLevel: topLevel, depth: 1)
    }

    /// The rule for one field name: not empty, at most maxBytes, no NUL,
    /// and at the top level no leading '$' (an operator's mark). Also
    /// checked as JSON is parsed (DocumentBuilder), so that a valid
    /// document, nearly all of them, is walked once.
    @inline(__always)
    static func isValid(_ name: UnsafeRawBufferPointer, topLevel: Bool) -> Bool {
        !name.isEmpty && name.count <= maxBytes && !name.contains(0) && !(topLevel && name.first == UInt8(ascii: "$"))
    }

    private static func allValid(_ value: DocumentValue, topLevel: Bool, depth: Int) throws -> Bool {
        switch value.tag {
        case .object:
            guard depth <= JSONValue.maxDepth else { return false }
            return try value.forEachChildUntil { key, child in
                guard isValid(key!, topLevel: topLevel) else { return false }
                return try allValid(child, topLevel: false, depth: depth + 1)
            }
        case .array:
            guard depth <= JSONValue.maxDepth else { return false }
            return try value.forEachChildUntil { _, child in try allValid(child, topLevel: false, depth: depth + 1) }
        default:
            return true
        }
    }

    private static func describeFirstProblem(_ value: DocumentValue, path: String, topLevel: Bool, depth: Int) throws {
        if (value.tag == .object || value.tag == .array) && depth > JSONValue.maxDepth {
            throw CairnError.invalidArgument("\(path): nested deeper than \(JSONValue.maxDepth) levels")
        }
        switch value.tag {
        case .object:
            try value.forEachChild { key, child in
                let name = String(decoding: key!, as: UTF8.self)
                let here = path + "." + name
                guard !key!.isEmpty else { throw CairnError.invalidArgument("\(path): empty field name") }
                guard key!.count <= maxBytes else { throw CairnError.invalidArgument("\(here): field name longer than \(maxBytes) bytes") }
                guard !key!.contains(0) else { throw CairnError.invalidArgument("\(path): field name contains a NUL byte") }
                if topLevel && name.hasPrefix("$") { throw CairnError.invalidArgument("\(here): field names may not start with '$'") }
                try describeFirstProblem(child, path: here, topLevel: false, depth: depth + 1)
            }
        case .array:
            var index = 0
            try value.forEachChild { _, child in
                try describeFirstProblem(child, path: "\(path).\(index)", topLevel: false, depth: depth + 1)
                index += 1
            }
        default:
            break
        }
    }
}
