import ArgumentParser
import Cairn
#if canImport(Glibc)
import Glibc
#endif

/// How documents are printed: `json` pretty-prints each, `ndjson` one per
/// line as the core wrote it, `table` and `csv` lay out the documents'
/// top-level fields as columns.
enum OutputMode: String, CaseIterable, ExpressibleByArgument {
    case json, ndjson, table, csv
}

/// Buffered output to stdout for documents, JSON reports and text lines.
/// Table and CSV output gather the rows of one command (the columns are
/// the union of their top-level fields) and print them in `finish()`.
final class Output {
    var mode: OutputMode
    /// Reports (counts, stats) as JSON rather than text.
    var json: Bool
    private var buffer: [UInt8] = []
    private var rows: [[(key: String, value: JSONValue)]] = []

    init(mode: OutputMode, json: Bool) {
        self.mode = mode
        self.json = json
        buffer.reserveCapacity(1 << 16)
    }

    /// One document, as the core's JSON text.
    func document(_ text: UnsafeRawBufferPointer) throws {
        switch mode {
        case .ndjson:
            buffer.append(contentsOf: text)
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 { flush() }
        case .json:
            try write(pretty: JSONValue.parse(text, what: "document"))
        case .table, .csv:
            let value = try JSONValue.parse(text, what: "document")
            if case .object(let members) = value { rows.append(members) } else { rows.append([("value", value)]) }
        }
    }

    func document(_ text: String) throws {
        try withBytes(text) { try document($0) }
    }

    /// A structured result: pretty JSON, or compact in ndjson mode.
    func report(_ value: JSONValue) {
        if mode == .ndjson { line(value.serialized) } else { write(pretty: value) }
    }

    func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(pretty value: JSONValue) {
        JSONPretty.write(value, indent: 0, to: &buffer)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Prints gathered rows, then everything buffered.
    func finish() {
        if !rows.isEmpty {
            if mode == .table { writeTable() } else { writeCSV() }
            rows.removeAll()
        }
        flush()
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 { if errno == EINTR { continue }; break }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: Tables

    /// The columns: every top-level field, in order of first appearance.
    private var columns: [String] {
        var seen = Set<String>(), names: [String] = []
        for row in rows { for member in row where seen.insert(member.key).inserted { names.append(member.key) } }
        return names
    }

    private func writeTable() {
        let names = columns
        let cells = rows.map { row in names.map { name in row.first(where: { $0.key == name }).map { Output.cell($0.value, limit: 60) } ?? "" } }
        var widths = names.map { $0.unicodeScalars.count }
        for row in cells { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.unicodeScalars.count) } }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.unicodeScalars.count)) }
        // Padded cells, without the last column's trailing spaces.
        func tableLine(_ cells: [String]) -> String {
            var text = cells.enumerated().map { pad($1, widths[$0]) }.joined(separator: " | ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        line(tableLine(names))
        line(widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-"))
        for row in cells { line(tableLine(row)) }
        line("(\(rows.count) row\(rows.count == 1 ? "" : "s"))")
    }

    private func writeCSV() {
        let names = columns
        line(names.map(CSV.quote).joined(separator: ","))
        for row in rows {
            line(names.map { name in row.first(where: { $0.key == name }).map { CSV.quote(Output.cell($0.value, limit: nil)) } ?? "" }.joined(separator: ","))
        }
    }

    /// A value as a table or CSV cell: strings bare, others as JSON.
    static func cell(_ value: JSONValue, limit: Int?) -> String {
        var text: String
        switch value {
        case .string(let s): text = s
        case .null: text = ""
        default: text = value.serialized
        }
        text = text.replacingNewlines()
        if let limit, text.unicodeScalars.count > limit { text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit - 1))) + "…" }
        return text
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        guard contains(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) else { return self }
        return String(map { $0 == "\n" || $0 == "\r\n" || $0 == "\r" ? " " : $0 })
    }
}

/// Indented JSON text for people (two spaces a level).
enum JSONPretty {
    static func write(_ value: JSONValue, indent: Int, to out: inout [UInt8]) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            out.append(contentsOf: "[\n".utf8)
            for (i, element) in elements.enumerated() {
                spaces(indent + 2, &out)
                write(element, indent: indent + 2, to: &out)
                out.append(contentsOf: (i + 1 < elements.count ? ",\n" : "\n").utf8)
            }
            spaces(indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out.append(contentsOf: "{\n".utf8)
            for (i, member) in members.enumerated() {
                spaces(indent + 2, &out)
                out.append(contentsOf: JSONValue.string(member.key).serialized.utf8)
                out.append(contentsOf: ": ".utf8)
                write(member.value, indent: indent + 2, to: &out)
                out.append(contentsOf: (i + 1 < members.count ? ",\n" : "\n").utf8)
            }
            spaces(indent, &out)
            out.append(UInt8(ascii: "}"))
        default:
            out.append(contentsOf: value.serialized.utf8)
        }
    }

    private static func spaces(_ count: Int, _ out: inout [UInt8]) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count))
    }
}
