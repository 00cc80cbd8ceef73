import Foundation
import XCTest
@testable import Cairn

/// The Swift runner of the shared conformance cases (Tests/conformance):
/// every case file, every step, through the public Swift API of the core.
/// The C, Python and Go runners execute the same files through the C ABI.
final class ConformanceTests: XCTestCase {
    static var casesDirectory: String {
        if let path = ProcessInfo.processInfo.environment["CAIRN_CONFORMANCE_CASES"] { return path }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.appendingPathComponent("../conformance/cases").standardized.path
    }

    func testEveryConformanceCase() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.casesDirectory)
            .filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertFalse(files.isEmpty, "no conformance cases in \(Self.casesDirectory)")
        var passed = 0
        for file in files {
            let text = try String(contentsOfFile: Self.casesDirectory + "/" + file, encoding: .utf8)
            let testCase = try JSONValue.parse(text, what: file)
            let directory = TemporaryDirectory("conformance")
            defer { directory.remove() }
            let runner = CaseRunner(directory: directory.path + "/db", scratch: directory.path)
            do {
                try runner.run(testCase)
                passed += 1
            } catch {
                XCTFail("\(file): \(error)")
            }
            runner.closeQuietly()
        }
        print("conformance: \(passed) cases passed")
    }
}

struct ConformanceFailure: Error, CustomStringConvertible {
    let description: String
}

final class CaseRunner {
    let directory: String
    let scratch: String
    var database: Database?

    init(directory: String, scratch: String) {
        self.directory = directory
        self.scratch = scratch
    }

    func closeQuietly() { try? database?.close() }

    func run(_ testCase: JSONValue) throws {
        guard case .array(let steps)? = testCase["steps"] else { throw ConformanceFailure(description: "case has no steps") }
        for (index, step) in steps.enumerated() {
            do {
                try runStep(step)
            } catch let failure as ConformanceFailure {
                throw ConformanceFailure(description: "step \(index) (\(step["op"].map { $0.serialized } ?? "?")): \(failure)")
            }
        }
    }

    private static let commonFields: Set<String> = ["op", "expect", "txn"]
    private static let fields: [String: Set<String>] = [
        "open": ["options", "options_raw", "at"], "close": [], "reopen": ["options"],
        "put": ["key", "value", "ttl_ms"], "get": ["key", "expect_value"], "delete": ["key"],
        "delete_range": ["start", "end"], "get_many": ["keys", "expect_values"], "batch": ["ops"],
        "scan": ["start", "end", "prefix", "reverse", "seek", "limit", "batch", "keys_only", "expect_items"],
        "put_if_absent": ["key", "value", "ttl_ms", "expect_stored"],
        "get_ttl": ["key", "expect_ttl_ms", "expect_ttl_min", "expect_ttl_max"], "touch": ["key", "ttl_ms"],
        "keys": ["options", "options_raw", "expect_keys"], "stats": ["expect_fields"],
        "parse_duration": ["text", "expect_ms"], "sleep": ["ms"], "flush": [], "compact_range": ["start", "end"],
        "create_collection": ["name", "options"], "drop_collection": ["name"], "list_collections": ["expect_names"],
        "insert_one": ["collection", "document", "document_raw", "ttl_ms", "expect_id"],
        "insert_many": ["collection", "documents", "options", "expect_ids", "expect_errors"],
        "find": ["collection", "filter", "filter_raw", "options", "batch", "expect_documents"],
        "bulk_write": ["collection", "operations", "options", "expect_result"],
        "count": ["collection", "filter", "options", "expect_count"],
        "update_one": ["collection", "filter", "update", "update_raw", "options", "expect_matched", "expect_modified", "expect_upserted"],
        "update_many": ["collection", "filter", "update", "update_raw", "options", "expect_matched", "expect_modified", "expect_upserted"],
        "replace_one": ["collection", "filter", "replacement", "options", "expect_matched", "expect_modified", "expect_upserted"],
        "delete_one": ["collection", "filter", "expect_deleted"], "delete_many": ["collection", "filter", "expect_deleted"],
        "find_one": ["collection", "filter", "options", "expect_document"],
        "find_by_id": ["collection", "id", "expect_document"],
        "distinct": ["collection", "field", "filter", "expect_values"],
        "find_one_and_update": ["collection", "filter", "update", "options", "expect_document"],
        "find_one_and_replace": ["collection", "filter", "replacement", "options", "expect_document"],
        "find_one_and_delete": ["collection", "filter", "options", "expect_document"],
        "aggregate": ["collection", "pipeline", "pipeline_raw", "expect_documents"],
        "vector_search": ["collection", "options", "options_raw", "expect_documents"],
        "hybrid_search": ["collection", "options", "options_raw", "expect_documents"],
        "search": ["collection", "query", "options", "expect_documents", "expect_hits"],
        "explain": ["collection", "filter", "options", "expect_plan", "expect_index", "expect_keys_examined",
                    "expect_documents_examined", "expect_returned"],
        "create_index": ["collection", "spec", "spec_raw", "expect_name"], "drop_index": ["collection", "name"],
        "list_indexes": ["collection", "expect_indexes"], "rename_collection": ["from", "to"],
        "collection_stats": ["collection", "expect_count", "expect_index_names"],
        "create_graph": ["name", "declaration", "declaration_raw"], "drop_graph": ["name"], "list_graphs": ["expect_graphs"],
        "graph_query": ["graph", "query", "query_raw", "expect_documents"],
        "delete_vertex": ["graph", "id", "expect_vertices", "expect_edges"],
        "begin": ["read_only"], "commit": [], "rollback": [],
        "watch_open": ["watch", "target", "name", "options", "resume_after"],
        "watch_next": ["watch", "timeout_ms", "expect_events", "expect_commits"], "watch_close": ["watch"],
        "ts_write": ["points", "expect_written"], "ts_import": ["lines", "options", "expect_written"],
        "ts_query": ["kind", "query", "expect_rows"], "ts_delete": ["query"], "ts_create_rule": ["rule"],
        "ts_set_retention": ["metric", "keep_ms"], "ts_maintain": ["now_ms"], "ts_compact": [],
        "link": ["key", "collection", "id", "metadata"], "unlink": ["key", "collection", "id", "expect_removed"],
        "unlink_all": ["key", "expect_removed"], "key_links": ["key", "expect_links"],
        "document_links": ["collection", "id", "expect_links"],
    ]
    /// Open watches by name, and every event each watch delivered (kept
    /// after close and reopen, for resume_after).
    var watches: [String: ChangeStream] = [:]
    var delivered: [String: [JSONValue]] = [:]
    var transactions: [String: Transaction] = [:]

    /// The store a step runs against: the named transaction, or the database.
    private func docs(_ step: JSONValue) throws -> Scope {
        guard case .string(let name)? = step["txn"] else { return try db() }
        guard let transaction = transactions[name] else { throw ConformanceFailure(description: "no transaction named \(name)") }
        return transaction
    }

    private func kv(_ step: JSONValue) throws -> Scope {
        try docs(step)
    }

    private func string(_ step: JSONValue, _ field: String) throws -> String {
        guard case .string(let text)? = step[field] else { throw ConformanceFailure(description: "field \(field) must be a string") }
        return text
    }

    private func int(_ step: JSONValue, _ field: String, default value: Int64 = 0) throws -> Int64 {
        guard let raw = step[field] else { return value }
        guard case .int(let number) = raw else { throw ConformanceFailure(description: "field \(field) must be an integer") }
        return number
    }

    private func db() throws -> Database {
        guard let database else { throw CairnError(.closed, "no database is open") }
        return database
    }

    private func optionsText(_ step: JSONValue) throws -> [UInt8] {
        if case .string(let raw)? = step["options_raw"] { return Array(raw.utf8) }
        if let options = step["options"] { return Array(options.serialized.utf8) }
        return []
    }

    private func open(_ step: JSONValue) throws {
        var path = directory
        if case .string(let at)? = step["at"] {
            guard at == "regular_file" else { throw ConformanceFailure(description: "unknown 'at' \(at)") }
            path = scratch + "/a-regular-file"
            _ = FileManager.default.createFile(atPath: path, contents: Data("not a database".utf8))
        }
        let options = try optionsText(step)
        database = try options.withUnsafeBytes { try Database.open(path: path, optionsJSON: $0) }
    }

    func runStep(_ step: JSONValue) throws {
        guard case .string(let op)? = step["op"], let allowed = CaseRunner.fields[op] else {
            throw ConformanceFailure(description: "unknown op \(step["op"]?.serialized ?? "nil")")
        }
        guard case .object(let members) = step else { throw ConformanceFailure(description: "step is not an object") }
        for member in members where !allowed.contains(member.key) && !CaseRunner.commonFields.contains(member.key) {
            throw ConformanceFailure(description: "unknown field \(member.key) for op \(op)")
        }
        let expected: String
        if case .string(let name)? = step["expect"] { expected = name } else { expected = "OK" }

        var checks: [() throws -> Void] = []
        let outcome = status {
            // The C ABI refuses a transaction handle for these; the Swift
            // Transaction has no such methods.
            let databaseOnly: Set<String> = ["delete_range", "batch", "scan", "keys", "stats", "flush", "compact_range", "drop_collection",
                                             "rename_collection", "collection_stats", "create_index", "drop_index", "list_indexes", "close", "reopen"]
            if step["txn"] != nil && databaseOnly.contains(op) {
                throw CairnError(.invalidArgument, "\(op) does not take a transaction")
            }
            switch op {
            case "open":
                try open(step)
            case "close":
                try database?.close()
            case "reopen":
                try database?.close()
                database = nil
                try open(step)
            case "put":
                let key = Array(try string(step, "key").utf8), value = Array(try string(step, "value").utf8)
                let ttl = try int(step, "ttl_ms")
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try kv(step).put(key: k, value: v, ttlMillis: ttl) } }
            case "put_if_absent":
                let key = Array(try string(step, "key").utf8), value = Array(try string(step, "value").utf8)
                let ttl = try int(step, "ttl_ms")
                let stored = try key.withUnsafeBytes { k in
                    try value.withUnsafeBytes { v in try kv(step).putIfAbsent(key: k, value: v, ttlMillis: ttl) }
                }
                if case .bool(let want)? = step["expect_stored"] {
                    checks.append { if stored != want { throw ConformanceFailure(description: "put_if_absent stored \(stored), want \(want)") } }
                }
            case "get_ttl":
                let key = Array(try string(step, "key").utf8)
                guard let remaining = try key.withUnsafeBytes({ try kv(step).remainingTTL(forKey: $0) }) else {
                    throw CairnError(.notFound, "key not found")
                }
                let exact = step["expect_ttl_ms"] == nil ? nil : try int(step, "expect_ttl_ms")
                let least = try int(step, "expect_ttl_min", default: Int64.min), most = try int(step, "expect_ttl_max", default: Int64.max)
                checks.append {
                    if let exact, remaining != exact { throw ConformanceFailure(description: "ttl \(remaining), want \(exact)") }
                    if remaining < least || remaining > most {
                        throw ConformanceFailure(description: "ttl \(remaining), want \(least)...\(most)")
                    }
                }
            case "touch":
                let key = Array(try string(step, "key").utf8)
                let ttl = try int(step, "ttl_ms")
                guard try key.withUnsafeBytes({ try kv(step).touch(key: $0, ttlMillis: ttl) }) else {
                    throw CairnError(.notFound, "key not found")
                }
            case "get":
                let key = Array(try string(step, "key").utf8)
                var found: [UInt8]?
                let present = try key.withUnsafeBytes { k in try kv(step).withValue(forKey: k) { found = Array($0) } }
                guard present else { throw CairnError(.notFound, "absent") }
                if step["expect_value"] != nil {
                    let want = Array(try string(step, "expect_value").utf8)
                    checks.append { if found != want { throw ConformanceFailure(description: "got \(String(decoding: found ?? [], as: UTF8.self)), want \(String(decoding: want, as: UTF8.self))") } }
                }
            case "delete":
                try Array(try string(step, "key").utf8).withUnsafeBytes { try kv(step).delete(key: $0) }
            case "delete_range":
                let start = Array(try string(step, "start").utf8), end = Array(try string(step, "end").utf8)
                try start.withUnsafeBytes { s in try end.withUnsafeBytes { e in try db().deleteRange(start: s, end: e) } }
            case "get_many":
                guard case .array(let keys)? = step["keys"] else { throw ConformanceFailure(description: "keys must be an array") }
                var packed: [UInt8] = []
                for key in keys {
                    guard case .string(let text) = key else { throw ConformanceFailure(description: "keys must be strings") }
                    Array(text.utf8).withUnsafeBytes { PackedList.append($0, to: &packed) }
                }
                let result = try packed.withUnsafeBytes { try kv(step).getMany(packedKeys: $0) }
                if case .array(let wanted)? = step["expect_values"] {
                    let got = try CaseRunner.unpackResults(result)
                    checks.append {
                        let want: [[UInt8]?] = wanted.map { if case .string(let s) = $0 { return Array(s.utf8) } else { return nil } }
                        if got != want { throw ConformanceFailure(description: "get_many got \(got), want \(want)") }
                    }
                }
            case "batch":
                guard case .array(let ops)? = step["ops"] else { throw ConformanceFailure(description: "ops must be an array") }
                var batch = KeyValueBatch()
                for item in ops {
                    guard case .string(let kind)? = item["op"] else { throw ConformanceFailure(description: "batch op without op") }
                    switch kind {
                    case "put":
                        let key = Array(try string(item, "key").utf8), value = Array(try string(item, "value").utf8)
                        let ttl = try int(item, "ttl_ms")
                        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try batch.put(key: k, value: v, ttlMillis: ttl) } }
                    case "delete":
                        try Array(try string(item, "key").utf8).withUnsafeBytes { try batch.delete(key: $0) }
                    case "delete_range":
                        let start = Array(try string(item, "start").utf8), end = Array(try string(item, "end").utf8)
                        try start.withUnsafeBytes { s in try end.withUnsafeBytes { e in try batch.deleteRange(start: s, end: e) } }
                    default:
                        throw ConformanceFailure(description: "unknown batch op \(kind)")
                    }
                }
                try db().write(batch)
            case "scan":
                let items = try scan(step)
                if case .array(let wanted)? = step["expect_items"] {
                    checks.append {
                        let want: [[String]] = wanted.map { pair in
                            if case .array(let parts) = pair { return parts.map { if case .string(let s) = $0 { return s } else { return "?" } } }
                            return []
                        }
                        let got = items.map { [String(decoding: $0.0, as: UTF8.self), String(decoding: $0.1, as: UTF8.self)] }
                        if got != want { throw ConformanceFailure(description: "scan got \(got), want \(want)") }
                    }
                }
            case "keys":
                let options = try optionsText(step)
                let listing = try options.withUnsafeBytes { try db().listKeys(optionsJSON: $0) }
                if case .array(let wanted)? = step["expect_keys"] {
                    let got = try listing.packed.withUnsafeBytes { try PackedList.items(of: $0).map { String(decoding: $0, as: UTF8.self) } }
                    checks.append {
                        let want = wanted.map { if case .string(let s) = $0 { return s } else { return "?" } }
                        if got != want { throw ConformanceFailure(description: "keys got \(got), want \(want)") }
                        if got.count != listing.count { throw ConformanceFailure(description: "count \(listing.count) != \(got.count)") }
                    }
                }
            case "stats":
                let json = try JSONValue.parse(try db().statsJSON())
                guard case .array(let fields)? = step["expect_fields"] else { throw ConformanceFailure(description: "expect_fields must be an array") }
                checks.append {
                    for field in fields {
                        guard case .string(let name) = field else { continue }
                        switch json[name] {
                        case .int?, .double?: continue
                        default: throw ConformanceFailure(description: "stats lack numeric field \(name): \(json.serialized)")
                        }
                    }
                }
            case "parse_duration":
                let ms = try Duration.milliseconds(in: try string(step, "text"))
                if step["expect_ms"] != nil {
                    let want = try int(step, "expect_ms")
                    checks.append { if ms != want { throw ConformanceFailure(description: "parsed \(ms) ms, want \(want)") } }
                }
            case "flush":
                try db().flush()
            case "compact_range":
                var start: [UInt8]?, end: [UInt8]?
                if case .string(let s)? = step["start"] { start = Array(s.utf8) }
                if case .string(let e)? = step["end"] { end = Array(e.utf8) }
                try db().compactRange(start: start, end: end)
            case "sleep":
                usleep(useconds_t(try int(step, "ms") * 1000))
            case "create_collection":
                let options = step["options"].map { Array($0.serialized.utf8) } ?? []
                try options.withUnsafeBytes { try docs(step).createCollection(try string(step, "name"), optionsJSON: $0) }
            case "drop_collection":
                try db().dropCollection(try string(step, "name"))
            case "list_collections":
                let names = try docs(step).collectionNames()
                if case .array(let wanted)? = step["expect_names"] {
                    checks.append { if JSONValue.array(names.map { .string($0) }) != .array(wanted) { throw ConformanceFailure(description: "collections \(names)") } }
                }
            case "insert_one":
                let text = try jsonText(step, "document")
                let id = try text.withUnsafeBytes { json in
                    step["ttl_ms"] == nil ? try docs(step).insertOne(into: try string(step, "collection"), json: json)
                        : try docs(step).insertOne(into: try string(step, "collection"), json: json, ttlMillis: try int(step, "ttl_ms"))
                }
                if let wanted = step["expect_id"] { checks.append { try CaseRunner.expectSame(try JSONValue.parse(id), wanted, "insert_one _id") } }
            case "bulk_write":
                let operations = Array((step["operations"] ?? .null).serialized.utf8)
                let options = step["options"].map { Array($0.serialized.utf8) } ?? []
                let result: BulkWriteResult
                do {
                    result = try operations.withUnsafeBytes { o in try options.withUnsafeBytes { p in
                        try docs(step).bulkWrite(collection: try string(step, "collection"), operationsJSON: o, optionsJSON: p) } }
                } catch {
                    if step["expect_result"] != nil {
                        throw ConformanceFailure(description: "bulk_write was refused as a whole (\(error)), but the step expects a result")
                    }
                    throw error
                }
                if let wanted = step["expect_result"] {
                    try CaseRunner.expectSame(try CaseRunner.reducedErrors(try JSONValue.parse(result.json)), wanted, "bulk_write result")
                }
                if let first = result.errors.first { throw first.error }
            case "insert_many" where step["options"] != nil:
                let text = Array((step["documents"] ?? .null).serialized.utf8)
                let options = Array(step["options"]!.serialized.utf8)
                let result: InsertManyResult
                do {
                    result = try text.withUnsafeBytes { d in try options.withUnsafeBytes { o in
                        try docs(step).insertMany(into: try string(step, "collection"), arrayJSON: d, optionsJSON: o) } }
                } catch {
                    if step["expect_ids"] != nil || step["expect_errors"] != nil {
                        throw ConformanceFailure(description: "insert_many was refused as a whole (\(error)), but the step expects results")
                    }
                    throw error
                }
                let got = try JSONValue.parse(result.json)
                if let wanted = step["expect_ids"] { try CaseRunner.expectSame(got["inserted_ids"] ?? .null, wanted, "inserted_ids") }
                if case .array(let wanted)? = step["expect_errors"] {
                    guard case .array(let errors)? = got["errors"] else { throw ConformanceFailure(description: "no errors array") }
                    let reduced = errors.map { error -> JSONValue in
                        var status = ""
                        if case .string(let name)? = error["status"] { status = String(name.dropFirst("CAIRN_".count)) }
                        return .object([("index", error["index"] ?? .null), ("status", .string(status))])
                    }
                    try CaseRunner.expectSame(.array(reduced), .array(wanted), "insert_many errors")
                }
                if let first = result.errors.first { throw first.error }
            case "insert_many":
                let text = Array((step["documents"] ?? .null).serialized.utf8)
                let ids = try text.withUnsafeBytes { try docs(step).insertMany(into: try string(step, "collection"), arrayJSON: $0) }
                if let wanted = step["expect_ids"] {
                    checks.append { try CaseRunner.expectSame(try JSONValue.parse("[" + ids.joined(separator: ",") + "]"), wanted, "insert_many ids") }
                }
            case "find":
                let filter = try jsonText(step, "filter"), options = step["options"].map { Array($0.serialized.utf8) } ?? []
                let cursor = try filter.withUnsafeBytes { f in try options.withUnsafeBytes { o in
                    try docs(step).find(collection: try string(step, "collection"), filterJSON: f, optionsJSON: o) } }
                var documents: [JSONValue] = []
                if step["batch"] != nil {
                    // Batches: each is one JSON array of documents.
                    let size = Int(try int(step, "batch"))
                    while try cursor.nextBatch(maxItems: size, maxBytes: 0) > 0 {
                        guard case .array(let batch) = try JSONValue.parse(String(decoding: cursor.batch.bytes.dropLast(), as: UTF8.self)) else {
                            throw ConformanceFailure(description: "a batch is not a JSON array")
                        }
                        if size > 0 && batch.count > size { throw ConformanceFailure(description: "batch of \(batch.count) > \(size)") }
                        documents += batch
                    }
                } else {
                    while try cursor.next() { documents.append(try JSONValue.parse(cursor.jsonString)) }
                }
                if let wanted = step["expect_documents"] { checks.append { try CaseRunner.expectSame(.array(documents), wanted, "find") } }
            case "count":
                let filter = try jsonText(step, "filter")
                let count: Int
                if let options = step["options"].map({ Array($0.serialized.utf8) }) {
                    // cairn_count_with_options
                    count = try filter.withUnsafeBytes { f in try options.withUnsafeBytes { o in
                        try docs(step).count(collection: try string(step, "collection"), filterJSON: f, optionsJSON: o) } }
                } else {
                    count = try filter.withUnsafeBytes { try docs(step).count(collection: try string(step, "collection"), filterJSON: $0) }
                }
                if step["expect_count"] != nil {
                    let wanted = try int(step, "expect_count")
                    checks.append { if Int64(count) != wanted { throw ConformanceFailure(description: "count \(count), want \(wanted)") } }
                }
            case "update_one", "update_many", "replace_one":
                let filter = try jsonText(step, "filter")
                let update = op == "replace_one" ? Array((step["replacement"] ?? .null).serialized.utf8) : try jsonText(step, "update")
                let options = step["options"].map { Array($0.serialized.utf8) } ?? []
                let mode: Database.UpdateMode = op == "update_one" ? .one : op == "update_many" ? .many : .replaceOne
                let result = try filter.withUnsafeBytes { f in try update.withUnsafeBytes { u in try options.withUnsafeBytes { o in
                    try docs(step).update(collection: try string(step, "collection"), filterJSON: f, updateJSON: u, mode: mode, optionsJSON: o) } } }
                let matched = step["expect_matched"] != nil ? try int(step, "expect_matched") : nil
                let modified = step["expect_modified"] != nil ? try int(step, "expect_modified") : nil
                var upserted: Bool?
                if case .bool(let flag)? = step["expect_upserted"] { upserted = flag }
                checks.append {
                    if let matched, Int64(result.matched) != matched { throw ConformanceFailure(description: "matched \(result.matched), want \(matched)") }
                    if let modified, Int64(result.modified) != modified { throw ConformanceFailure(description: "modified \(result.modified), want \(modified)") }
                    if let upserted, (result.upsertedID != nil) != upserted { throw ConformanceFailure(description: "upserted \(String(describing: result.upsertedID))") }
                }
            case "delete_one", "delete_many":
                let filter = try jsonText(step, "filter")
                let deleted = try filter.withUnsafeBytes { try docs(step).delete(collection: try string(step, "collection"), filterJSON: $0, many: op == "delete_many") }
                if step["expect_deleted"] != nil {
                    let wanted = try int(step, "expect_deleted")
                    checks.append { if Int64(deleted) != wanted { throw ConformanceFailure(description: "deleted \(deleted), want \(wanted)") } }
                }
            case "find_one", "find_by_id", "find_one_and_update", "find_one_and_replace", "find_one_and_delete":
                let collection = try string(step, "collection")
                let options = step["options"].map { Array($0.serialized.utf8) } ?? []
                var found: String?
                if op == "find_one" {
                    let filter = try jsonText(step, "filter")
                    found = try filter.withUnsafeBytes { f in try options.withUnsafeBytes { o in try docs(step).findOne(collection: collection, filterJSON: f, optionsJSON: o) } }
                    if found == nil { throw CairnError(.notFound, "no match") }
                } else if op == "find_by_id" {
                    let id = Array((step["id"] ?? .null).serialized.utf8)
                    found = try id.withUnsafeBytes { try docs(step).findByID(collection: collection, idJSON: $0) }
                    if found == nil { throw CairnError(.notFound, "no match") }
                } else if op == "find_one_and_delete" {
                    let filter = try jsonText(step, "filter")
                    found = try filter.withUnsafeBytes { f in try options.withUnsafeBytes { o in
                        try docs(step).findOneAndDelete(collection: collection, filterJSON: f, optionsJSON: o) } }
                    if found == nil { throw CairnError(.notFound, "no match") }
                } else if op == "find_one_and_replace" {
                    let filter = try jsonText(step, "filter"), replacement = try jsonText(step, "replacement")
                    let result = try filter.withUnsafeBytes { f in try replacement.withUnsafeBytes { r in try options.withUnsafeBytes { o in
                        try docs(step).findOneAndReplace(collection: collection, filterJSON: f, replacementJSON: r, optionsJSON: o) } } }
                    if !result.found { throw CairnError(.notFound, "no match") }
                    found = result.json ?? "null"
                } else {
                    let filter = try jsonText(step, "filter"), update = try jsonText(step, "update")
                    let result = try filter.withUnsafeBytes { f in try update.withUnsafeBytes { u in try options.withUnsafeBytes { o in
                        try docs(step).findOneAndUpdate(collection: collection, filterJSON: f, updateJSON: u, optionsJSON: o) } } }
                    if !result.found { throw CairnError(.notFound, "no match") }
                    found = result.json ?? "null"
                }
                if let wanted = step["expect_document"] {
                    let got = try JSONValue.parse(found!)
                    checks.append { try CaseRunner.expectSame(got, wanted, op) }
                }
            case "distinct":
                let filter = try jsonText(step, "filter")
                let field = try string(step, "field")
                let json = try filter.withUnsafeBytes { try docs(step).distinct(collection: try string(step, "collection"), field: field, filterJSON: $0) }
                if let wanted = step["expect_values"] {
                    let got = try JSONValue.parse(json)
                    checks.append { try CaseRunner.expectSame(got, wanted, "distinct") }
                }
            case "aggregate":
                let pipeline = try jsonText(step, "pipeline")
                let cursor = try pipeline.withUnsafeBytes { try docs(step).aggregate(collection: try string(step, "collection"), pipelineJSON: $0) }
                var documents: [JSONValue] = []
                while try cursor.next() { documents.append(try JSONValue.parse(cursor.jsonString)) }
                if let wanted = step["expect_documents"] { checks.append { try CaseRunner.expectSame(.array(documents), wanted, "aggregate") } }
            case "search":
                let options = step["options"].map { Array($0.serialized.utf8) } ?? []
                let cursor = try Array(try string(step, "query").utf8).withUnsafeBytes { q in
                    try options.withUnsafeBytes { try docs(step).search(collection: try string(step, "collection"), query: q, optionsJSON: $0) }
                }
                var hits: [JSONValue] = []
                while try cursor.next() { hits.append(try JSONValue.parse(cursor.jsonString)) }
                if let wanted = step["expect_documents"] {
                    checks.append { try CaseRunner.expectSame(.array(hits.map { $0["document"] ?? .null }), wanted, "search documents") }
                }
                if case .array(let wanted)? = step["expect_hits"] {
                    checks.append { try CaseRunner.expectHits(hits, wanted) }
                }
            case "vector_search", "hybrid_search":
                let options = try jsonText(step, "options"), collection = try string(step, "collection")
                let cursor = try options.withUnsafeBytes {
                    op == "vector_search" ? try docs(step).vectorSearch(collection: collection, optionsJSON: $0)
                        : try docs(step).hybridSearch(collection: collection, optionsJSON: $0)
                }
                var documents: [JSONValue] = []
                while try cursor.next() { documents.append(try JSONValue.parse(cursor.jsonString)) }
                if let wanted = step["expect_documents"] { checks.append { try CaseRunner.expectSame(.array(documents), wanted, op) } }
            case "explain":
                let filter = try jsonText(step, "filter"), options = step["options"].map { Array($0.serialized.utf8) } ?? []
                let json = try filter.withUnsafeBytes { f in try options.withUnsafeBytes { o in
                    try docs(step).explain(collection: try string(step, "collection"), filterJSON: f, optionsJSON: o) } }
                let got = try JSONValue.parse(json)
                for (field, key) in [("expect_plan", "plan"), ("expect_index", "index"), ("expect_keys_examined", "keys_examined"),
                                     ("expect_documents_examined", "documents_examined"), ("expect_returned", "returned")] {
                    if let wanted = step[field] { checks.append { try CaseRunner.expectSame(got[key] ?? .null, wanted, "explain \(key) in \(json)") } }
                }
            case "create_index":
                let spec = try jsonText(step, "spec")
                let name = try spec.withUnsafeBytes { try db().createIndex(collection: try string(step, "collection"), specJSON: $0) }
                if let wanted = step["expect_name"] { checks.append { try CaseRunner.expectSame(.string(name), wanted, "index name") } }
            case "create_graph":
                try jsonText(step, "declaration").withUnsafeBytes { try docs(step).createGraph(try string(step, "name"), declarationJSON: $0) }
            case "drop_graph":
                try docs(step).dropGraph(try string(step, "name"))
            case "list_graphs":
                let got = try JSONValue.parse(try docs(step).listGraphs())
                if let wanted = step["expect_graphs"] { checks.append { try CaseRunner.expectSame(got, wanted, "graphs") } }
            case "graph_query":
                let query = try jsonText(step, "query")
                let cursor = try query.withUnsafeBytes { try docs(step).graphQuery(try string(step, "graph"), queryJSON: $0) }
                var rows: [JSONValue] = []
                while try cursor.next() { rows.append(try JSONValue.parse(cursor.jsonString)) }
                if let wanted = step["expect_documents"] { checks.append { try CaseRunner.expectSame(.array(rows), wanted, "graph rows") } }
            case "delete_vertex":
                let deleted = try jsonText(step, "id").withUnsafeBytes { try docs(step).deleteVertex(graph: try string(step, "graph"), idJSON: $0) }
                for (field, got) in [("expect_vertices", deleted.vertices), ("expect_edges", deleted.edges)] where step[field] != nil {
                    let wanted = try int(step, field)
                    checks.append { if Int64(got) != wanted { throw ConformanceFailure(description: "\(field): got \(got), want \(wanted)") } }
                }
            case "drop_index":
                try db().dropIndex(collection: try string(step, "collection"), index: try string(step, "name"))
            case "list_indexes":
                let got = try JSONValue.parse(try db().listIndexes(collection: try string(step, "collection")))
                if let wanted = step["expect_indexes"] { checks.append { try CaseRunner.expectSame(got, wanted, "indexes") } }
            case "rename_collection":
                try db().renameCollection(try string(step, "from"), to: try string(step, "to"))
            case "collection_stats":
                let got = try JSONValue.parse(try db().collectionStats(try string(step, "collection")))
                if let wanted = step["expect_count"] { checks.append { try CaseRunner.expectSame(got["documents"] ?? .null, wanted, "documents") } }
                if let wanted = step["expect_index_names"] {
                    guard case .array(let indexes)? = got["indexes"] else { throw ConformanceFailure(description: "stats without indexes") }
                    checks.append { try CaseRunner.expectSame(.array(indexes.map { $0["name"] ?? .null }), wanted, "index names") }
                }
                guard case .int? = got["bytes"] else { throw ConformanceFailure(description: "stats bytes is not a number") }
            case "begin":
                let name = try string(step, "txn")
                var readOnly = false
                if case .bool(let flag)? = step["read_only"] { readOnly = flag }
                transactions[name] = try db().beginTransaction(readOnly: readOnly)
            case "commit":
                let name = try string(step, "txn")
                guard let transaction = transactions[name] else { throw ConformanceFailure(description: "no transaction named \(name)") }
                try transaction.commit()  // an ended transaction stays, so later use of it gives CLOSED
            case "rollback":
                transactions[try string(step, "txn")]?.rollback()
            case "watch_open":
                try openWatch(step)
            case "watch_next":
                let name = try string(step, "watch")
                guard let stream = watches[name] else { throw ConformanceFailure(description: "no watch named \(name)") }
                let timeout = Int(try int(step, "timeout_ms"))
                var events: [JSONValue] = []
                while let json = try stream.next(timeoutMillis: timeout) {
                    let event = try JSONValue.parse(json)
                    events.append(event)
                    delivered[name, default: []].append(event)
                }
                if let wanted = step["expect_events"] { checks.append { try CaseRunner.expectEvents(events, wanted) } }
                if let wanted = step["expect_commits"] { checks.append { try CaseRunner.expectSame(CaseRunner.commitSizes(events), wanted, "commits") } }
            case "watch_close":
                watches[try string(step, "watch")]?.close()
            case "ts_write", "ts_import":
                let written: Int
                if op == "ts_write" {
                    written = try Array((step["points"] ?? .null).serialized.utf8).withUnsafeBytes { try db().writePoints(json: $0) }
                } else {
                    let options = step["options"].map { Array($0.serialized.utf8) } ?? []
                    written = try Array(try string(step, "lines").utf8).withUnsafeBytes { l in
                        try options.withUnsafeBytes { try db().importLines(l, optionsJSON: $0) } }
                }
                if step["expect_written"] != nil {
                    let want = try int(step, "expect_written")
                    checks.append { if Int64(written) != want { throw ConformanceFailure(description: "wrote \(written) points, want \(want)") } }
                }
            case "ts_query":
                let query = try jsonText(step, "query")
                let cursor: DocumentCursor = try query.withUnsafeBytes { q in
                    switch try string(step, "kind") {
                    case "range": return try db().timeSeriesRange(queryJSON: q)
                    case "last": return try db().timeSeriesLast(queryJSON: q)
                    case "series": return try db().timeSeriesSeries(queryJSON: q)
                    case "aggregate": return try db().timeSeriesAggregate(queryJSON: q)
                    case let kind: throw ConformanceFailure(description: "ts_query: unknown kind \(kind)")
                    }
                }
                var rows: [JSONValue] = []
                while try cursor.next() { rows.append(try JSONValue.parse(cursor.jsonString)) }
                if let wanted = step["expect_rows"] { checks.append { try CaseRunner.expectSame(.array(rows), wanted, "ts_query") } }
            case "ts_delete":
                _ = try jsonText(step, "query").withUnsafeBytes { try db().deletePoints(queryJSON: $0) }
            case "ts_create_rule":
                try jsonText(step, "rule").withUnsafeBytes { try db().createRule(json: $0) }
            case "ts_set_retention":
                try db().setRetention(metric: try string(step, "metric"), millis: try int(step, "keep_ms"))
            case "ts_maintain":
                try db().maintainTimeSeries(now: try int(step, "now_ms"))
            case "ts_compact":
                _ = try db().compactTimeSeries()
            case "link", "unlink", "unlink_all", "key_links":
                let key = Array(try string(step, "key").utf8)
                let id = Array((step["id"] ?? .null).serialized.utf8)
                try key.withUnsafeBytes { k in try id.withUnsafeBytes { i in
                    switch op {
                    case "link":
                        let metadata = step["metadata"].map { Array($0.serialized.utf8) }
                        try metadata.withUnsafeBufferPointerIfPresent { m in
                            try docs(step).link(key: k, collection: try string(step, "collection"), idJSON: i, metadataJSON: m)
                        }
                    case "unlink":
                        let removed = try docs(step).unlink(key: k, collection: try string(step, "collection"), idJSON: i)
                        if let wanted = step["expect_removed"] { checks.append { try CaseRunner.expectSame(.bool(removed), wanted, "unlink") } }
                    case "unlink_all":
                        let removed = try docs(step).unlinkAll(key: k)
                        if let wanted = step["expect_removed"] { checks.append { try CaseRunner.expectSame(.int(Int64(removed)), wanted, "unlink_all") } }
                    default:
                        let links = try JSONValue.parse(String(decoding: try docs(step).links(ofKey: k), as: UTF8.self))
                        if let wanted = step["expect_links"] { checks.append { try CaseRunner.expectSame(links, wanted, "key_links") } }
                    }
                } }
            case "document_links":
                let id = Array((step["id"] ?? .null).serialized.utf8)
                let links = try id.withUnsafeBytes { try docs(step).links(ofDocumentIn: try string(step, "collection"), idJSON: $0) }
                let got = try JSONValue.parse(String(decoding: links, as: UTF8.self))
                if let wanted = step["expect_links"] { checks.append { try CaseRunner.expectSame(got, wanted, "document_links") } }
            default:
                throw ConformanceFailure(description: "unknown op \(op)")
            }
        }
        if outcome.name != "CAIRN_" + expected {
            throw ConformanceFailure(description: "status \(outcome.name), want CAIRN_\(expected)")
        }
        for check in checks { try check() }
    }

    private func openWatch(_ step: JSONValue) throws {
        let target: WatchTarget
        switch try string(step, "target") {
        case "all": target = .everything
        case "collections": target = .collections
        case "collection": target = .collection(try string(step, "name"))
        case "key_prefix": target = .keyPrefix(Array(try string(step, "name").utf8))
        case let other: throw ConformanceFailure(description: "unknown watch target \(other)")
        }
        var members: [(key: String, value: JSONValue)] = []
        if case .object(let given)? = step["options"] { members = given }
        if let resume = step["resume_after"] {
            guard case .string(let from)? = resume["watch"], case .int(let index)? = resume["event"],
                  let events = delivered[from], index >= 0, Int(index) < events.count, let id = events[Int(index)]["_id"] else {
                throw ConformanceFailure(description: "resume_after names no delivered event")
            }
            members.insert(("resumeAfter", id), at: 0)
        }
        let text = members.isEmpty && step["options"] == nil ? [] : Array(JSONValue.object(members).serialized.utf8)
        let stream = try text.withUnsafeBytes { try db().watch(target, optionsJSON: $0) }
        watches[try string(step, "watch")] = stream
    }

    /// The sizes of the runs of consecutive events with the same "seq".
    static func commitSizes(_ events: [JSONValue]) -> JSONValue {
        var sizes: [JSONValue] = []
        var last: JSONValue?
        for event in events {
            if let seq = event["seq"], seq == last, case .int(let n)? = sizes.last {
                sizes[sizes.count - 1] = .int(n + 1)
            } else {
                sizes.append(.int(1))
            }
            last = event["seq"]
        }
        return .array(sizes)
    }

    /// Each event holds the fields of its expected object with equal values,
    /// and lacks those its "$absent" lists.
    static func expectEvents(_ events: [JSONValue], _ wanted: JSONValue) throws {
        guard case .array(let expected) = wanted else { throw ConformanceFailure(description: "expect_events must be an array") }
        guard events.count == expected.count else {
            throw ConformanceFailure(description: "got \(events.count) events, want \(expected.count): \(JSONValue.array(events).serialized)")
        }
        for (index, (event, want)) in zip(events, expected).enumerated() {
            guard case .object(let fields) = want else { throw ConformanceFailure(description: "an expected event is not an object") }
            for (key, value) in fields {
                if key == "$absent" {
                    guard case .array(let names) = value else { throw ConformanceFailure(description: "$absent must be an array") }
                    for case .string(let name) in names where event[name] != nil {
                        throw ConformanceFailure(description: "event \(index) has \(name): \(event.serialized)")
                    }
                } else if event[key] == nil || !same(event[key]!, value) {
                    throw ConformanceFailure(description: "event \(index): \(key) is \(event[key]?.serialized ?? "missing"), want \(value.serialized) in \(event.serialized)")
                }
            }
        }
    }

    /// A JSON-valued field as text: `<name>_raw` verbatim, else the value
    /// serialized, else empty (an absent filter matches everything).
    private func jsonText(_ step: JSONValue, _ name: String) throws -> [UInt8] {
        if case .string(let raw)? = step[name + "_raw"] { return Array(raw.utf8) }
        return step[name].map { Array($0.serialized.utf8) } ?? []
    }

    /// JSON equality as the conformance README defines it: numbers by
    /// value, object keys in any order, arrays in order.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.allSatisfy { member in y.contains { $0.key == member.key && same($0.value, member.value) } }
        default: return a == b
        }
    }

    /// A result whose "errors" keep only each error's index and status
    /// (without CAIRN_), as cases state them.
    static func reducedErrors(_ result: JSONValue) throws -> JSONValue {
        guard case .object(let members) = result, case .array(let errors)? = result["errors"] else {
            throw ConformanceFailure(description: "no errors array in \(result.serialized)")
        }
        let reduced = errors.map { error -> JSONValue in
            var status = ""
            if case .string(let name)? = error["status"] { status = String(name.dropFirst("CAIRN_".count)) }
            return .object([("index", error["index"] ?? .null), ("status", .string(status))])
        }
        return .object(members.map { $0.key == "errors" ? ("errors", .array(reduced)) : $0 })
    }

    /// Each hit holds each wanted field with an equal value; "score"
    /// within 1e-6 relative.
    static func expectHits(_ hits: [JSONValue], _ wanted: [JSONValue]) throws {
        guard hits.count == wanted.count else {
            throw ConformanceFailure(description: "search got \(hits.count) hits \(JSONValue.array(hits).serialized), want \(wanted.count)")
        }
        for (hit, want) in zip(hits, wanted) {
            guard case .object(let fields) = want else { throw ConformanceFailure(description: "expect_hits holds objects") }
            for (key, value) in fields {
                if key == "score" {
                    func number(_ v: JSONValue?) -> Double? {
                        switch v { case .int(let n)?: return Double(n); case .double(let d)?: return d; default: return nil }
                    }
                    guard let got = number(hit["score"]), let expected = number(value), abs(got - expected) <= 1e-6 * abs(expected) else {
                        throw ConformanceFailure(description: "search score \(hit["score"]?.serialized ?? "none"), want \(value.serialized)")
                    }
                } else {
                    try expectSame(hit[key] ?? .null, value, "search hit field \(key)")
                }
            }
        }
    }

    static func expectSame(_ got: JSONValue, _ wanted: JSONValue, _ what: String) throws {
        if !same(got, wanted) { throw ConformanceFailure(description: "\(what) got \(got.serialized), want \(wanted.serialized)") }
    }

    private func scan(_ step: JSONValue) throws -> [([UInt8], [UInt8])] {
        let reverse: Bool
        if case .bool(let flag)? = step["reverse"] { reverse = flag } else { reverse = false }
        let iterator: KeyValueIterator
        if case .string(let prefix)? = step["prefix"] {
            iterator = try Array(prefix.utf8).withUnsafeBytes { try db().makeIterator(prefix: $0, reverse: reverse) }
        } else {
            var start: [UInt8]?, end: [UInt8]?
            if case .string(let s)? = step["start"] { start = Array(s.utf8) }
            if case .string(let e)? = step["end"] { end = Array(e.utf8) }
            let lower = start ?? [], upper = end ?? []
            iterator = try lower.withUnsafeBytes { l in
                try upper.withUnsafeBytes { u in
                    try db().makeIterator(start: start == nil ? nil : l, end: end == nil ? nil : u, reverse: reverse)
                }
            }
        }
        if case .string(let seek)? = step["seek"] {
            try Array(seek.utf8).withUnsafeBytes { try iterator.seek($0) }
        }
        let limit = try int(step, "limit", default: Int64.max)
        var items: [([UInt8], [UInt8])] = []
        if step["batch"] != nil {
            // Batches: keys (and values) back to back, with their lengths.
            let size = Int(try int(step, "batch"))
            let keysOnly: Bool
            if case .bool(let flag)? = step["keys_only"] { keysOnly = flag } else { keysOnly = false }
            while items.count < limit {
                let count = try iterator.nextBatch(keysOnly: keysOnly, maxItems: size, maxBytes: 0)
                if count == 0 { break }
                if size > 0 && count > size { throw ConformanceFailure(description: "batch of \(count) > \(size)") }
                let raw = iterator.batch.lengths
                let lengths = (0..<raw.count / 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) }
                let data = Array(iterator.batch.bytes)
                var offset = 0, piece = 0
                for _ in 0..<count where items.count < limit {
                    let keyLength = Int(lengths[piece])
                    let key = Array(data[offset..<offset + keyLength])
                    offset += keyLength
                    piece += 1
                    var value: [UInt8] = []
                    if !keysOnly {
                        let valueLength = Int(lengths[piece])
                        value = Array(data[offset..<offset + valueLength])
                        offset += valueLength
                        piece += 1
                    }
                    items.append((key, value))
                }
            }
            return items
        }
        if step["keys_only"] != nil { throw ConformanceFailure(description: "keys_only needs batch") }
        while items.count < limit, try iterator.next() {
            items.append((Array(iterator.key), Array(iterator.value)))
        }
        return items
    }

    static func unpackResults(_ packed: [UInt8]) throws -> [[UInt8]?] {
        var out: [[UInt8]?] = []
        var offset = 0
        while offset < packed.count {
            let length = packed[offset..<(offset + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            offset += 4
            if length == PackedList.absent { out.append(nil); continue }
            out.append(Array(packed[offset..<(offset + Int(length))]))
            offset += Int(length)
        }
        return out
    }
}
