import ArgumentParser
import Cairn

/// `cairn import DB COLL FILE`: documents from NDJSON, a JSON array, CSV or
/// TSV, with mongoimport's options; `cairn import DB --kv FILE`: key-value
/// pairs from NDJSON lines {"key", "value", "ttl_ms"}. The file streams
/// through a buffer; documents go to the core in batches (insertMany, or
/// bulkWrite for upserts and merges). A record that cannot be read or that
/// the database rejects is reported with its line number and skipped, or
/// stops the import with --stop-on-error.
struct ImportCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "import",
        abstract: "Import documents (NDJSON, JSON array, CSV, TSV) or key-value pairs (--kv).",
        discussion: """
            Extended JSON is understood: {"$date": "2024-05-01T12:00:00Z"}, {"$date": {"$numberLong": "..."}}, \
            {"$binary": {"base64": "...", "subType": "00"}}, and {"$oid": "..."} (stored as its hex string, \
            the form of the ids Cairn generates).

            CSV: the first line names the columns (or --fields does); every value is a string unless the \
            columns carry types (--columnsHaveTypes, as name.string(),age.int64(),born.date(),photo.binary(base64)) \
            or --infer-types is given.

            Key-value lines: {"key": "k", "value": "v", "ttl_ms": 60000}; binary keys and values as \
            {"$binary": {"base64": "..."}}.

            A progress bar on a terminal, and a summary at the end: imported, skipped (records that could \
            not be read) and failed (documents the database rejected). The exit status is 0 unless \
            --stop-on-error stopped the import.
            """)
    static var createsDatabase: Bool { true }

    enum Mode: String, ExpressibleByArgument { case insert, upsert, merge }
    enum FileType: String, ExpressibleByArgument { case json, csv, tsv }

    @OptionGroup var common: CommonOptions
    @Argument(help: "The collection (with --kv: the file).") var collection: String?
    @Argument(help: "The file to read (default or -: stdin).") var file: String?
    @Option(name: .customLong("file"), help: "The file to read (instead of the argument).") var fileOption: String?
    @Option(help: "json (NDJSON, or an array when the file starts with '['), csv or tsv (default: from the file name).")
    var type: FileType?
    @Flag(name: .customLong("jsonArray"), help: "The file is one JSON array of documents.") var jsonArray = false
    @Flag(help: "Key-value pairs, not documents.") var kv = false
    @Option(help: "insert, upsert (replace the document matching --upsertFields) or merge (set its fields).") var mode: Mode = .insert
    @Option(name: .customLong("upsertFields"), help: "Comma-separated fields that identify a document (default: _id).")
    var upsertFields: String?
    @Flag(name: .customLong("headerline"), help: "CSV: the first line names the columns (the default without --fields).")
    var headerline = false
    @Option(help: "CSV: comma-separated column names (then there is no header line unless --headerline).") var fields: String?
    @Flag(name: .customLong("columnsHaveTypes"), help: "CSV: column names carry types, name.type().") var columnsHaveTypes = false
    @Flag(name: .customLong("ignoreBlanks"), help: "CSV: leave out empty fields.") var ignoreBlanks = false
    @Flag(help: "CSV: numbers and true/false become numbers and booleans (off by default).") var inferTypes = false
    @Flag(help: "Drop the collection before importing.") var drop = false
    @Option(help: "Documents per write.") var batchSize: Int = 1000
    @Flag(name: [.customLong("stop-on-error"), .customLong("stopOnError")],
          help: "Stop at the first bad record (default: report it and go on).") var stopOnError = false
    @Flag(help: "No progress bar.") var quiet = false

    private var path: String? { fileOption ?? (kv ? collection : file) }

    func validate() throws {
        if kv && file != nil { throw ValidationError("with --kv, give the file only: cairn import DB --kv FILE") }
        if !kv && collection == nil { throw ValidationError("name the collection: cairn import DB COLL FILE") }
        guard batchSize > 0 && batchSize <= 100_000 else { throw ValidationError("--batch-size must be between 1 and 100000") }
    }

    func run(in context: CommandContext) throws {
        let reader = try ByteReader(path: path)
        let progress = Progress(verb: "import", totalBytes: reader.size, quiet: quiet)
        var tally = ImportTally(stopOnError: stopOnError)
        if kv {
            try importKeyValues(context.db, reader, progress, &tally)
        } else {
            try importDocuments(context.db, reader, progress, &tally)
        }
        progress.finish()
        let seconds = progress.elapsed
        if context.output.json {
            context.output.report(.object([("imported", .int(tally.imported)), ("skipped", .int(tally.skipped)),
                                           ("failed", .int(tally.failed)), ("seconds", .double(seconds))]))
        } else {
            let rate = Int64(Double(tally.imported) / max(seconds, 0.001))
            printError("imported \(tally.imported.grouped) \(kv ? "pair" : "document")\(tally.imported == 1 ? "" : "s"), "
                + "skipped \(tally.skipped.grouped), failed \(tally.failed.grouped) in \(format2(seconds)) s (\(rate.grouped)/s)")
        }
        if tally.stopped { throw ToolFailure("import stopped at the first bad record (--stop-on-error)") }
    }

    // MARK: Documents

    private func source(_ reader: ByteReader) throws -> RecordSource {
        let name = path ?? ""
        let fileType = type ?? (name.hasSuffix(".csv") ? .csv : name.hasSuffix(".tsv") ? .tsv : .json)
        switch fileType {
        case .json:
            let first = try reader.firstNonSpaceByte()
            if jsonArray || first == UInt8(ascii: "[") { return JSONArraySource(reader: reader) }
            return NDJSONSource(reader: reader)
        case .csv, .tsv:
            var csv = CSVSource(reader: reader, columns: [], separator: fileType == .csv ? UInt8(ascii: ",") : 0x09, ignoreBlanks: ignoreBlanks)
            var names: [String]
            if let fields {
                names = fields.split(separator: ",").map(String.init)
                if headerline { _ = try csv.nextRow() }
            } else {
                guard let header = try csv.nextRow() else { return csv }
                names = header.cells
            }
            csv.columns = try names.map { try CSVColumn.parse($0, typed: columnsHaveTypes, inferTypes: inferTypes) }
            return csv
        }
    }

    private func importDocuments(_ db: Database, _ reader: ByteReader, _ progress: Progress, _ tally: inout ImportTally) throws {
        guard let collection else { return }
        if drop, try db.collectionNames().contains(collection) { try db.dropCollection(collection) }
        var records = try source(reader)
        let keys = (upsertFields ?? "_id").split(separator: ",").map { String($0).trimmingWhitespace() }
        var batch: [ImportRecord] = []
        batch.reserveCapacity(batchSize)
        while true {
            // Ctrl-C in the shell (one-shot, SIGINT ends the process; each
            // batch is atomic either way).
            if shellSawInterrupt != 0 { throw CairnError(.interrupted, "import interrupted after \(tally.imported) documents") }
            var record: ImportRecord?
            var end = false
            do {
                record = try records.next()
                end = record == nil
            } catch let bad as BadRecord {
                tally.skip(line: bad.line, bad.message)
                // The records read before a stop are still written.
                end = tally.stopped || bad.message.contains("not closed")
            }
            if var record {
                ObjectIDs.rewrite(&record)
                batch.append(record)
            }
            if batch.count == batchSize || (end && !batch.isEmpty) {
                if mode == .insert { try insert(db, collection, batch, &tally) } else { try upsert(db, collection, batch, keys, &tally) }
                batch.removeAll(keepingCapacity: true)
                progress.update(documents: tally.imported, bytes: reader.consumed)
            }
            if end || tally.stopped { break }
        }
    }

    private func insert(_ db: Database, _ collection: String, _ batch: [ImportRecord], _ tally: inout ImportTally) throws {
        var array: [UInt8] = [UInt8(ascii: "[")]
        for (i, record) in batch.enumerated() {
            if i > 0 { array.append(UInt8(ascii: ",")) }
            array.append(contentsOf: record.json)
        }
        array.append(UInt8(ascii: "]"))
        let options = stopOnError ? #"{"ordered": true}"# : #"{"ordered": false}"#
        do {
            let result = try array.withUnsafeBytes { a in try withBytes(options) { try db.insertMany(into: collection, arrayJSON: a, optionsJSON: $0) } }
            tally.imported += Int64(result.insertedIDs.count)
            for (index, error) in result.errors { tally.fail(line: batch[index].line, error) }
        } catch let error as CairnError where error.code == .invalidArgument {
            // Text the JSON parser rejects fails the whole array: insert one
            // at a time to name the line.
            for record in batch where !tally.stopped {
                do {
                    _ = try record.json.withUnsafeBytes { try db.insertOne(into: collection, json: $0) }
                    tally.imported += 1
                } catch let error as CairnError where error.code == .invalidArgument {
                    tally.skip(line: record.line, error.description)
                } catch let error as CairnError where BulkWriteResult.isRecordFailure(error) {
                    tally.fail(line: record.line, error)
                }
            }
        }
    }

    private func upsert(_ db: Database, _ collection: String, _ batch: [ImportRecord], _ keys: [String], _ tally: inout ImportTally) throws {
        var operations: [JSONValue] = [], lines: [Int] = []
        for record in batch {
            let document: JSONValue
            do {
                document = try record.json.withUnsafeBytes { try JSONValue.parse($0, what: "document") }
            } catch let error as CairnError {
                // With --stop-on-error the records before it are still written.
                tally.skip(line: record.line, error.description)
                if tally.stopped { break }
                continue
            }
            guard case .object(let members) = document else {
                tally.skip(line: record.line, "a document must be a JSON object, not \(document.typeName)")
                if tally.stopped { break }
                continue
            }
            var filter: [(key: String, value: JSONValue)] = []
            for key in keys { if let value = lookup(document, key.split(separator: ".").map(String.init)[...]) { filter.append((key, value)) } }
            lines.append(record.line)
            if filter.count < keys.count {
                // Without the identifying fields there is nothing to match: insert.
                operations.append(.object([("insert_one", .object([("document", document)]))]))
            } else if mode == .upsert {
                operations.append(.object([("replace_one", .object([("filter", .object(filter)), ("replacement", document), ("upsert", .bool(true))]))]))
            } else {
                let set = JSONValue.object(members.filter { $0.key != "_id" })
                operations.append(.object([("update_one", .object([("filter", .object(filter)), ("update", .object([("$set", set)])), ("upsert", .bool(true))]))]))
            }
        }
        guard !operations.isEmpty else { return }
        let options = stopOnError ? #"{"ordered": true}"# : #"{"ordered": false}"#
        let result = try withBytes(JSONValue.array(operations).serialized) { o in
            try withBytes(options) { try db.bulkWrite(collection: collection, operationsJSON: o, optionsJSON: $0) }
        }
        tally.imported += Int64(result.insertedCount + result.upsertedCount + result.matchedCount)
        for (index, error) in result.errors { tally.fail(line: lines[index], error) }
    }

    // MARK: Key-value pairs

    private func importKeyValues(_ db: Database, _ reader: ByteReader, _ progress: Progress, _ tally: inout ImportTally) throws {
        var lines = NDJSONSource(reader: reader)
        var batch = KeyValueBatch()
        var pending: Int64 = 0
        while !tally.stopped, let record = try lines.next() {
            if shellSawInterrupt != 0 { throw CairnError(.interrupted, "import interrupted after \(tally.imported) pairs") }
            do {
                let pair = try record.json.withUnsafeBytes { try JSONValue.parse($0, what: "line") }
                guard case .object = pair else { throw ToolFailure("a line must be an object {\"key\", \"value\"}") }
                guard let keyField = pair["key"], let key = keyValueBytes(keyField) else { throw ToolFailure("\"key\" must be a string or {\"$binary\": ...}") }
                guard let valueField = pair["value"], let value = keyValueBytes(valueField) else { throw ToolFailure("\"value\" must be a string or {\"$binary\": ...}") }
                var ttl: Int64 = 0
                if let ttlField = pair["ttl_ms"] {
                    guard case .int(let ms) = ttlField, ms >= 0 else { throw ToolFailure("\"ttl_ms\" must be a non-negative integer") }
                    ttl = ms
                } else if let ttlField = pair["ttl"] {
                    guard case .string(let text) = ttlField else { throw ToolFailure("\"ttl\" must be a duration such as \"1h\"") }
                    ttl = try Cairn.Duration.milliseconds(in: text)
                }
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { try batch.put(key: k, value: $0, ttlMillis: ttl) } }
                pending += 1
            } catch let error as CairnError {
                tally.skip(line: record.line, error.description)
            } catch let error as ToolFailure {
                tally.skip(line: record.line, error.description)
            }
            if pending == Int64(batchSize) {
                try db.write(batch)
                tally.imported += pending
                pending = 0
                batch.clear()
                progress.update(documents: tally.imported, bytes: reader.consumed)
            }
        }
        if pending > 0 {
            try db.write(batch)
            tally.imported += pending
        }
        progress.update(documents: tally.imported, bytes: reader.consumed)
    }
}

/// What an import counted, and its messages (the first 1,000; then a count).
struct ImportTally {
    let stopOnError: Bool
    var imported: Int64 = 0
    /// Records that could not be read (bad JSON, a bad CSV cell).
    var skipped: Int64 = 0
    /// Documents the database rejected (a duplicate key, a schema).
    var failed: Int64 = 0
    var stopped = false
    private var messages = 0

    init(stopOnError: Bool) { self.stopOnError = stopOnError }

    mutating func skip(line: Int, _ message: String) {
        skipped += 1
        note(line: line, message)
    }

    mutating func fail(line: Int, _ error: CairnError) {
        failed += 1
        note(line: line, error.description)
    }

    private mutating func note(line: Int, _ message: String) {
        messages += 1
        if messages <= 1000 { printError("line \(line): \(message)") } else if messages == 1001 { printError("(further errors not shown)") }
        if stopOnError { stopped = true }
    }
}

extension BulkWriteResult {
    /// Failures of one record, not of the database.
    static func isRecordFailure(_ error: CairnError) -> Bool {
        switch error.code {
        case .constraint, .schema, .invalidArgument, .notFound: return true
        default: return false
        }
    }
}

/// The value at a dotted path of a document; nil when absent.
func lookup(_ value: JSONValue, _ path: ArraySlice<String>) -> JSONValue? {
    guard let key = path.first else { return value }
    guard case .object(let members) = value, let member = members.first(where: { $0.key == key }) else { return nil }
    return lookup(member.value, path.dropFirst())
}
