/// A collection's JSON Schema, in the subset the header lists: type,
/// properties, required, additionalProperties, enum, minimum, maximum,
/// minLength, maxLength, pattern, items, minItems, maxItems.
///
/// Parsed once when the collection is defined (a malformed schema is
/// INVALID_ARGUMENT naming the keyword); a document that breaks it is
/// SCHEMA naming the path of the first failing field.
struct Schema {
    /// The schema as the user gave it (kept in the catalog).
    let definition: MutableValue
    private let root: Node

    /// `at` names the schema in errors: "schema" for a collection's, the
    /// filter path for a `$jsonSchema` query.
    init(_ definition: MutableValue, at path: String = "schema") throws {
        self.definition = definition
        root = try Node(definition, at: path)
    }

    /// Whether `document` passes: the query operator `$jsonSchema`.
    func accepts(_ document: DocumentValue) throws -> Bool {
        do {
            try validate(document)
            return true
        } catch let error as CairnError where error.code == .schema {
            return false
        }
    }

    func validate(_ document: DocumentValue) throws {
        try root.validate(document, at: "document")
    }

    final class Node {
        var types: [String]?
        var properties: [(name: String, node: Node)] = []
        var required: [String] = []
        var additionalProperties = true
        var enumValues: [[UInt8]]?
        var minimum: Double?, maximum: Double?
        var minLength: Int?, maxLength: Int?
        var pattern: RegexPattern?
        var items: Node?
        var minItems: Int?, maxItems: Int?

        static let typeNames: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]

        init(_ value: MutableValue, at path: String) throws {
            guard case .object(let members) = value else { throw CairnError.invalidArgument("\(path) must be an object") }
            for (keyword, operand) in members {
                let here = "\(path).\(keyword)"
                switch keyword {
                case "type":
                    let names: [MutableValue]
                    if case .array(let list) = operand { names = list } else { names = [operand] }
                    types = try names.map { name in
                        guard case .string(let utf8) = name, Node.typeNames.contains(String(decoding: utf8, as: UTF8.self)) else {
                            throw CairnError.invalidArgument("\(here) must be one of \(Node.typeNames.sorted().joined(separator: ", ")) or an array of them")
                        }
                        return String(decoding: utf8, as: UTF8.self)
                    }
                case "properties":
                    guard case .object(let props) = operand else { throw CairnError.invalidArgument("\(here) must be an object") }
                    properties = try props.map { ($0.key, try Node($0.value, at: "\(here).\($0.key)")) }
                case "required":
                    guard case .array(let names) = operand else { throw CairnError.invalidArgument("\(here) must be an array of field names") }
                    required = try names.map { name in
                        guard case .string(let utf8) = name else { throw CairnError.invalidArgument("\(here) must be an array of field names") }
                        return String(decoding: utf8, as: UTF8.self)
                    }
                case "additionalProperties":
                    guard case .bool(let flag) = operand else { throw CairnError.invalidArgument("\(here) must be true or false") }
                    additionalProperties = flag
                case "enum":
                    guard case .array(let options) = operand, !options.isEmpty else { throw CairnError.invalidArgument("\(here) must be a non-empty array") }
                    enumValues = options.map { $0.encoded() }
                case "minimum", "maximum":
                    let bound: Double
                    switch operand {
                    case .int(let n): bound = Double(n)
                    case .double(let d): bound = d
                    default: throw CairnError.invalidArgument("\(here) must be a number")
                    }
                    if keyword == "minimum" { minimum = bound } else { maximum = bound }
                case "minLength", "maxLength", "minItems", "maxItems":
                    guard case .int(let n) = operand, n >= 0 else { throw CairnError.invalidArgument("\(here) must be a non-negative integer") }
                    switch keyword {
                    case "minLength": minLength = Int(n)
                    case "maxLength": maxLength = Int(n)
                    case "minItems": minItems = Int(n)
                    default: maxItems = Int(n)
                    }
                case "pattern":
                    guard case .string(let utf8) = operand else { throw CairnError.invalidArgument("\(here) must be a string") }
                    pattern = try RegexPattern(pattern: String(decoding: utf8, as: UTF8.self), options: "", path: here)
                case "items":
                    items = try Node(operand, at: here)
                case "description", "title", "$schema", "bsonType":
                    if keyword == "bsonType" { throw CairnError.invalidArgument("\(here): use \"type\" (bsonType is not supported)") }
                default:
                    throw CairnError.invalidArgument("\(here): unsupported schema keyword")
                }
            }
        }

        func validate(_ value: DocumentValue, at path: String) throws {
            func fail(_ problem: String) -> CairnError { CairnError(.schema, "schema: \(path): \(problem)") }
            let kind = try value.kind()
            if let types {
                let matches = types.contains { type in
                    switch (type, kind) {
                    case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
                         ("number", .int), ("number", .double), ("integer", .int):
                        return true
                    case ("integer", .double(let d)):
                        return d.rounded() == d && d.isFinite
                    default:
                        return false
                    }
                }
                if !matches { throw fail("must be of type \(types.joined(separator: " or ")), not \(Node.typeName(kind))") }
            }
            if let enumValues {
                let found = try enumValues.contains { option in try option.withUnsafeBytes { try ValueOrder.compare(value, DocumentValue($0)) == 0 } }
                if !found { throw fail("is not one of the values of enum") }
            }
            switch kind {
            case .int, .double:
                let number: Double
                if case .int(let n) = kind { number = Double(n) } else if case .double(let d) = kind { number = d } else { number = 0 }
                if let minimum, number < minimum { throw fail("is less than the minimum \(format(minimum))") }
                if let maximum, number > maximum { throw fail("is greater than the maximum \(format(maximum))") }
            case .string(let utf8):
                let length = utf8.reduce(0) { $0 + (($1 & 0xC0) != 0x80 ? 1 : 0) }  // code points
                if let minLength, length < minLength { throw fail("is shorter than minLength \(minLength)") }
                if let maxLength, length > maxLength { throw fail("is longer than maxLength \(maxLength)") }
                if let pattern, try !pattern.matches(utf8) { throw fail("does not match the pattern") }
            case .array(let count):
                if let minItems, count < minItems { throw fail("has fewer than minItems \(minItems) items") }
                if let maxItems, count > maxItems { throw fail("has more than maxItems \(maxItems) items") }
                if let items {
                    var index = 0
                    try value.forEachChild { _, element in
                        try items.validate(element, at: "\(path).\(index)")
                        index += 1
                    }
                }
            case .object:
                for name in required where try value.field(name) == nil {
                    throw CairnError(.schema, "schema: \(path).\(name): is required")
                }
                for (name, node) in properties {
                    if let child = try value.field(name) { try node.validate(child, at: "\(path).\(name)") }
                }
                if !additionalProperties {
                    try value.forEachChild { key, _ in
                        let name = String(decoding: key!, as: UTF8.self)
                        if !properties.contains(where: { $0.name == name }) {
                            throw CairnError(.schema, "schema: \(path).\(name): additional property not allowed")
                        }
                    }
                }
            default:
                break
            }
        }

        private func format(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

        static func typeName(_ kind: DocumentValue.Kind) -> String {
            switch kind {
            case .null: return "null"
            case .bool: return "boolean"
            case .int: return "integer"
            case .double: return "number"
            case .string: return "string"
            case .binary: return "binary"
            case .date: return "date"
            case .array: return "array"
            case .object: return "object"
            }
        }
    }
}
