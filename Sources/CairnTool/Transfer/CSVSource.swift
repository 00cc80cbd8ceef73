import Cairn

/// A column of a CSV import: its dotted path and its type, as mongoimport's
/// `--fields name.string(),age.int64()` with `--columnsHaveTypes` gives
/// them. Without types every value is a string (no inference unless
/// `--infer-types`, which is `auto()` for every column).
struct CSVColumn {
    enum Kind: String {
        case string, int32, int64, double, boolean, date, date_ms, binary, auto, json
    }
    var path: [String]
    var kind: Kind

    /// "age.int64()" with types, "age" without. Dots nest: "a.b.string()".
    static func parse(_ spec: String, typed: Bool, inferTypes: Bool) throws -> CSVColumn {
        var name = spec.trimmingWhitespace()
        var kind: Kind = inferTypes ? .auto : .string
        if typed {
            guard name.hasSuffix(")"), let open = name.lastIndex(of: "("), let dot = name[..<open].lastIndex(of: ".") else {
                throw ToolFailure("field '\(spec)': with --columnsHaveTypes each field is name.type(), such as age.int64()")
            }
            let typeName = String(name[name.index(after: dot)..<open])
            let argument = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            switch typeName {
            case "binary":
                guard argument.isEmpty || argument == "base64" else { throw ToolFailure("field '\(spec)': binary() takes base64 only") }
                kind = .binary
            case "date", "date_go", "date_oracle":
                kind = .date
            default:
                guard let known = Kind(rawValue: typeName) else {
                    throw ToolFailure("field '\(spec)': unknown type \(typeName)() (string, int32, int64, double, boolean, date, date_ms, binary, auto, json)")
                }
                kind = known
            }
            name = String(name[..<dot])
        }
        guard !name.isEmpty else { throw ToolFailure("a CSV field has no name") }
        return CSVColumn(path: name.split(separator: ".", omittingEmptySubsequences: false).map(String.init), kind: kind)
    }

    /// The JSON value of one cell; nil leaves the field out (a blank cell
    /// of a typed column, or any blank with --ignoreBlanks).
    func value(_ text: String, ignoreBlanks: Bool) throws -> JSONValue? {
        if text.isEmpty && (ignoreBlanks || kind != .string) { return nil }
        switch kind {
        case .string: return .string(text)
        case .int32, .int64:
            guard let number = Int64(text), kind == .int64 || Int32(exactly: number) != nil else { throw ToolFailure("'\(text)' is not an \(kind.rawValue)") }
            return .int(number)
        case .double:
            guard let number = Double(text) else { throw ToolFailure("'\(text)' is not a double") }
            return .double(number)
        case .boolean:
            switch text.lowercased() {
            case "true", "1", "t", "yes": return .bool(true)
            case "false", "0", "f", "no": return .bool(false)
            default: throw ToolFailure("'\(text)' is not a boolean")
            }
        case .date: return .object([("$date", .string(text))])
        case .date_ms:
            guard let millis = Int64(text) else { throw ToolFailure("'\(text)' is not milliseconds since 1970") }
            return .object([("$date", .object([("$numberLong", .string(String(millis)))]))])
        case .binary: return .object([("$binary", .object([("base64", .string(text)), ("subType", .string("00"))]))])
        case .json: return try JSONValue.parse(text, what: "cell")
        case .auto:
            if let number = Int64(text) { return .int(number) }
            if let number = Double(text), number.isFinite, text.contains(where: { $0.isNumber }) { return .double(number) }
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            return .string(text)
        }
    }
}

/// CSV (RFC 4180: quoted fields may hold commas, quotes doubled, and line
/// breaks) or TSV, a record at a time, each turned into a document by the
/// columns.
struct CSVSource: RecordSource {
    let reader: ByteReader
    var columns: [CSVColumn]
    let separator: UInt8
    let ignoreBlanks: Bool
    private var line = 0

    init(reader: ByteReader, columns: [CSVColumn], separator: UInt8, ignoreBlanks: Bool) {
        self.reader = reader
        self.columns = columns
        self.separator = separator
        self.ignoreBlanks = ignoreBlanks
    }

    /// The cells of the next record, and its first line; nil at the end.
    mutating func nextRow() throws -> (cells: [String], line: Int)? {
        var cells: [String] = []
        var cell: [UInt8] = []
        let startLine = line + 1
        guard var text = try reader.nextLine() else { return nil }
        line += 1
        var i = 0
        while true {
            if i < text.count && text[i] == UInt8(ascii: "\"") && cell.isEmpty {
                // A quoted cell, perhaps over several lines.
                i += 1
                while true {
                    if i >= text.count {
                        guard let more = try reader.nextLine() else { throw BadRecord(line: startLine, message: "a quoted field is not closed") }
                        line += 1
                        cell.append(0x0A)
                        text = more
                        i = 0
                        continue
                    }
                    if text[i] == UInt8(ascii: "\"") {
                        if i + 1 < text.count && text[i + 1] == UInt8(ascii: "\"") { cell.append(UInt8(ascii: "\"")); i += 2; continue }
                        i += 1
                        break
                    }
                    cell.append(text[i])
                    i += 1
                }
                if i < text.count && text[i] != separator { throw BadRecord(line: line, message: "text after a closing quote") }
            }
            while i < text.count && text[i] != separator { cell.append(text[i]); i += 1 }
            guard let string = String(validating: cell, as: UTF8.self) else { throw BadRecord(line: line, message: "invalid UTF-8") }
            cells.append(string)
            cell.removeAll(keepingCapacity: true)
            if i >= text.count { break }
            i += 1  // the separator
        }
        return (cells, startLine)
    }

    mutating func next() throws -> ImportRecord? {
        while let (cells, line) = try nextRow() {
            if cells.count == 1 && cells[0].isEmpty { continue }  // a blank line
            guard cells.count <= columns.count else {
                throw BadRecord(line: line, message: "\(cells.count) fields, but \(columns.count) columns")
            }
            var document = Tree()
            for (index, cell) in cells.enumerated() {
                let column = columns[index]
                do {
                    if let value = try column.value(cell, ignoreBlanks: ignoreBlanks) { document.insert(value, at: column.path[...]) }
                } catch let error as ToolFailure {
                    throw BadRecord(line: line, message: "field \(column.path.joined(separator: ".")): \(error.description)")
                }
            }
            return ImportRecord(json: Array(document.json.serialized.utf8), line: line)
        }
        return nil
    }
}

/// Builds a document from dotted paths, keeping the columns' order.
private struct Tree {
    private var members: [(key: String, value: Node)] = []
    private enum Node { case leaf(JSONValue), tree(Tree) }

    mutating func insert(_ value: JSONValue, at path: ArraySlice<String>) {
        let key = path.first!
        let rest = path.dropFirst()
        let index = members.firstIndex(where: { $0.key == key })
        if rest.isEmpty {
            if let index { members[index].value = .leaf(value) } else { members.append((key, .leaf(value))) }
            return
        }
        var child = Tree()
        if let index, case .tree(let existing) = members[index].value { child = existing }
        child.insert(value, at: rest)
        if let index { members[index].value = .tree(child) } else { members.append((key, .tree(child))) }
    }

    var json: JSONValue {
        .object(members.map { member in
            switch member.value {
            case .leaf(let value): return (member.key, value)
            case .tree(let tree): return (member.key, tree.json)
            }
        })
    }
}
