import ArgumentParser
import Cairn

/// `cairn export DB COLL`: documents as NDJSON (the core's canonical
/// extended JSON, one per line), a JSON array, or CSV of chosen fields;
/// `cairn export DB --kv`: key-value pairs as NDJSON {"key", "value",
/// "ttl_ms"} with binary as {"$binary": ...}. Streams from a cursor.
struct ExportCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "export",
        abstract: "Export a collection (NDJSON, JSON array, CSV) or the key-value pairs (--kv).")

    enum FileType: String, ExpressibleByArgument { case json, csv }

    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection (none with --kv).") var collection: String?
    @Option(name: [.short, .long], help: "The file to write (default or -: stdout).") var out: String?
    @Option(help: "json (NDJSON) or csv (default: from the file name).") var type: FileType?
    @Flag(name: .customLong("jsonArray"), help: "One JSON array instead of a document per line.") var jsonArray = false
    @Option(help: "CSV: comma-separated fields (dotted paths) to write as columns.") var fields: String?
    @Option(help: "A filter: export only the matches.") var query: String?
    @Option(help: "The sort, a JSON object.") var sort: String?
    @Option(help: "Skip this many documents.") var skip: Int?
    @Option(help: "At most this many documents.") var limit: Int?
    @Flag(help: "Key-value pairs instead of documents.") var kv = false
    @Option(help: "With --kv: only keys with this prefix.") var prefix: String?
    @Flag(help: "No progress bar.") var quiet = false

    func validate() throws {
        if kv && collection != nil { throw ValidationError("with --kv, give no collection") }
        if !kv && collection == nil { throw ValidationError("name the collection: cairn export DB COLL") }
    }

    func run(in context: CommandContext) throws {
        let writer = try ByteWriter(path: out)
        // On stdout the bar would mix with the data only on a terminal,
        // where people read it: it goes to stderr.
        let progress = Progress(verb: "export", totalBytes: nil, quiet: quiet || out == nil)
        var count: Int64 = 0
        if kv {
            let iterator = try withBytes(prefix ?? "") { try context.db.makeIterator(prefix: $0) }
            var line: [UInt8] = []
            while try iterator.next() {
                var members: [(key: String, value: JSONValue)] = [("key", keyValueJSON(iterator.key)), ("value", keyValueJSON(iterator.value))]
                if let ttl = try context.db.remainingTTL(forKey: iterator.key), ttl > 0 { members.append(("ttl_ms", .int(ttl))) }
                line.removeAll(keepingCapacity: true)
                line.append(contentsOf: JSONValue.object(members).serialized.utf8)
                line.append(0x0A)
                try writer.write(line)
                count += 1
                if count & 1023 == 0 { progress.update(documents: count, bytes: writer.written) }
            }
        } else if let collection {
            let fileType = type ?? ((out ?? "").hasSuffix(".csv") ? .csv : .json)
            let options = try findOptionsJSON(sort: sort, skip: skip, limit: limit, projection: nil)
            let cursor = try withBytes(query ?? "{}") { f in try withBytes(options) { try context.db.find(collection: collection, filterJSON: f, optionsJSON: $0) } }
            switch fileType {
            case .json:
                if jsonArray { try writer.write("[") }
                while try cursor.next() {
                    if jsonArray && count > 0 { try writer.write(",\n") }
                    try writer.write(cursor.json)
                    if !jsonArray { try writer.write(CollectionOfOne(0x0A)) }
                    count += 1
                    if count & 1023 == 0 { progress.update(documents: count, bytes: writer.written) }
                }
                if jsonArray { try writer.write("]\n") }
            case .csv:
                guard let fields else { throw ValidationError("CSV export needs --fields a,b,c") }
                let names = fields.split(separator: ",").map { String($0).trimmingWhitespace() }
                let paths = names.map { $0.split(separator: ".").map(String.init)[...] }
                try writer.write(names.map(CSV.quote).joined(separator: ",") + "\n")
                while try cursor.next() {
                    let document = try JSONValue.parse(cursor.json, what: "document")
                    var row = ""
                    for (i, path) in paths.enumerated() {
                        if i > 0 { row += "," }
                        if let value = lookup(document, path) { row += CSV.quote(Output.csvCell(value)) }
                    }
                    row += "\n"
                    try writer.write(row)
                    count += 1
                    if count & 1023 == 0 { progress.update(documents: count, bytes: writer.written) }
                }
            }
        }
        try writer.close()
        progress.update(documents: count, bytes: writer.written)
        progress.finish()
        if context.output.json {
            context.output.report(.object([("exported", .int(count)), ("bytes", .int(writer.written)), ("seconds", .double(progress.elapsed))]))
        } else if out != nil {
            printError("exported \(count.grouped) \(kv ? "pair" : "document")\(count == 1 ? "" : "s") (\(Double(writer.written).byteCount)) in \(format2(progress.elapsed)) s")
        }
    }
}

extension Output {
    /// A CSV cell of an export: strings and numbers bare, dates as their
    /// ISO text, other values as JSON (which `json()` columns read back).
    static func csvCell(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .null: return ""
        case .object(let members) where members.count == 1 && members[0].key == "$date":
            if case .string(let iso) = members[0].value { return iso }
            return value.serialized
        case .object(let members) where members.count == 1 && members[0].key == "$binary":
            if case .object(let inner) = members[0].value, case .string(let b64)? = inner.first(where: { $0.key == "base64" })?.value { return b64 }
            return value.serialized
        default: return value.serialized
        }
    }
}
