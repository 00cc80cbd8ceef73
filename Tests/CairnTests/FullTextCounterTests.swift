import Foundation
import XCTest
@testable import Cairn

/// A text index's counters (per-stripe statistics and document
/// frequencies) stay exact when a run of changes holds them in memory and
/// writes them once (TextIndexCounters): insert_many, its failures, explicit
/// transactions and their rollback, index builds, updates and deletes. The
/// check recounts every counter from the stored documents with the index's
/// analyzer and compares it with what the engine holds, stripe by stripe.
final class FullTextCounterTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func createIndex(_ db: Database, _ collection: String, _ spec: String) throws {
        _ = try bytes(spec).withUnsafeBytes { try db.createIndex(collection: collection, specJSON: $0) }
    }

    private func insertMany(_ db: Scope, _ collection: String, _ documents: [String]) throws {
        _ = try bytes("[" + documents.joined(separator: ",") + "]").withUnsafeBytes { try db.insertMany(into: collection, arrayJSON: $0) }
    }

    /// Every counter of every text index of `collection` equals a recount
    /// from its documents; returns the number of documents indexed.
    @discardableResult
    static func assertCountersExact(_ db: Database, _ collection: String, _ message: String = "",
                                    file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let transaction = try Transaction(database: db, readOnly: true, explicit: false)
        guard let info = try transaction.collection(collection) else { return 0 }
        var indexed = 0
        for index in info.indexes {
            guard case .text(let spec) = index.kind else { continue }
            let analyzer = db.fullText.analyzer(spec.analyzer)
            let prefix = TextIndexFormat.prefix(collection: info.id, index: index.id)
            var expectedStats: [Int: TextIndexFormat.Stats] = [:]
            var expectedFrequencies: [[UInt8]: UInt64] = [:]
            var expectedDocnums = 0
            let (lower, upper) = info.documentRange
            let documents = try transaction.scan(lower: lower, upper: upper)
            while try documents.next() {
                let primaryKey = Array(documents.key[lower.count...])
                guard let text = try TextDocument(DocumentValue(documents.value), fields: index.fields, analyzer: analyzer) else { continue }
                expectedDocnums += 1
                // The stripe it was numbered in.
                var docnum: UInt32?
                _ = try transaction.read(TextIndexFormat.docnumKey(prefix, primaryKey: primaryKey)) {
                    docnum = try TextIndexFormat.decodeDocnum($0, what: "test")
                }
                guard let docnum else {
                    XCTFail("\(message): an indexed document without a docnum", file: file, line: line)
                    continue
                }
                let stripe = TextIndexFormat.stripe(ofDocnum: docnum)
                var stats = expectedStats[stripe] ?? TextIndexFormat.Stats(fields: index.fields.count)
                stats.documents += 1
                for (field, length) in text.lengths.enumerated() where length > 0 {
                    stats.fieldDocuments[field] += 1
                    stats.fieldLengths[field] += UInt64(length)
                }
                expectedStats[stripe] = stats
                for (term, mask) in text.fieldsOfTerm {
                    for field in 0..<index.fields.count where mask & (1 << UInt32(field)) != 0 {
                        var key = TextIndexFormat.frequencyPrefix(prefix, term: term, field: field)
                        key.append(UInt8(stripe))
                        expectedFrequencies[key, default: 0] += 1
                    }
                }
            }
            indexed += expectedDocnums
            // What the engine holds.
            var stored: [Int: TextIndexFormat.Stats] = [:]
            let statsScan = try transaction.scan(lower: prefix + [TextIndexFormat.Tag.stats.rawValue],
                                                 upper: prefix + [TextIndexFormat.Tag.stats.rawValue + 1])
            while try statsScan.next() {
                var stats = try TextIndexFormat.Stats(statsScan.value, fields: index.fields.count, what: "test")
                stats.nextLocal = 0
                if stats != TextIndexFormat.Stats(fields: index.fields.count) { stored[Int(statsScan.key[statsScan.key.count - 1])] = stats }
            }
            XCTAssertEqual(stored, expectedStats, "\(message): statistics of index '\(index.name)'", file: file, line: line)
            var frequencies: [[UInt8]: UInt64] = [:]
            let frequencyScan = try transaction.scan(lower: prefix + [TextIndexFormat.Tag.documentFrequency.rawValue],
                                                     upper: prefix + [TextIndexFormat.Tag.documentFrequency.rawValue + 1])
            while try frequencyScan.next() {
                var reader = ByteReader(frequencyScan.value, what: "test")
                frequencies[Array(frequencyScan.key)] = try reader.readVarint()
            }
            XCTAssertEqual(frequencies.count, expectedFrequencies.count, "\(message): document-frequency keys of index '\(index.name)'", file: file, line: line)
            let wrong = expectedFrequencies.filter { frequencies[$0.key] != $0.value }.count
            XCTAssertEqual(wrong, 0, "\(message): document frequencies that differ from a recount, index '\(index.name)'", file: file, line: line)
            // One docnum and one primary key entry per indexed document.
            for tag in [TextIndexFormat.Tag.docnum, .primaryKey] {
                var count = 0
                let scan = try transaction.scan(lower: prefix + [tag.rawValue], upper: prefix + [tag.rawValue + 1])
                while try scan.next() { count += 1 }
                XCTAssertEqual(count, expectedDocnums, "\(message): \(tag) entries of index '\(index.name)'", file: file, line: line)
            }
        }
        return indexed
    }

    private func document(_ id: Int, _ random: inout SeededRandom) -> String {
        let words = (0..<40).map { "w\($0)" }
        let title = (0..<Int.random(in: 0...3, using: &random)).map { _ in words.randomElement(using: &random)! }
        let body = (0..<Int.random(in: 0...12, using: &random)).map { _ in words.randomElement(using: &random)! }
        return #"{"_id":\#(id),"title":"\#(title.joined(separator: " "))","body":"\#(body.joined(separator: " "))"}"#
    }

    func testInsertManyUpdatesAndDeletesKeepCountersExact() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        var db = try Database.open(path: dir.path, options: .smallTables)
        defer { try? db.close() }
        try createIndex(db, "c", #"{"keys":{"title":"text","body":"text"},"analyzer":{"stemming":false,"stopwords":false}}"#)
        try createIndex(db, "c", #"{"keys":{"body":"text"},"name":"second","analyzer":{"stemming":false,"stopwords":false}}"#)
        var random = SeededRandom(seed: 41)
        for batch in 0..<6 {
            try insertMany(db, "c", (0..<300).map { document(batch * 300 + $0, &random) })
        }
        XCTAssertGreaterThan(try Self.assertCountersExact(db, "c", "after insert_many"), 1700)
        // Each insert_many numbered its documents in one stripe (its first
        // document's); a document written alone takes its primary key's.
        _ = try bytes(#"{"_id":-1,"body":"w1"}"#).withUnsafeBytes { try db.insertOne(into: "c", json: $0) }
        let transaction = try Transaction(database: db, readOnly: true, explicit: false)
        defer { transaction.rollback() }
        let info = try XCTUnwrap(try transaction.collection("c"))
        let prefix = TextIndexFormat.prefix(collection: info.id, index: info.indexes[0].id)
        var stripesOfBatch: [Int: Set<Int>] = [:]
        var aloneChecked = false
        let (lower, upper) = info.documentRange
        let documents = try transaction.scan(lower: lower, upper: upper)
        while try documents.next() {
            let primaryKey = Array(documents.key[lower.count...])
            guard case .int(let id)? = try DocumentValue(documents.value).field("_id")?.kind() else { continue }
            var docnum: UInt32?
            _ = try transaction.read(TextIndexFormat.docnumKey(prefix, primaryKey: primaryKey)) { docnum = try TextIndexFormat.decodeDocnum($0, what: "test") }
            guard let docnum else { continue }  // no words
            if id < 0 {
                XCTAssertEqual(TextIndexFormat.stripe(ofDocnum: docnum), TextIndexFormat.stripe(of: primaryKey), "a document written alone")
                aloneChecked = true
            } else {
                stripesOfBatch[Int(id) / 300, default: []].insert(TextIndexFormat.stripe(ofDocnum: docnum))
            }
        }
        XCTAssertTrue(aloneChecked)
        XCTAssertEqual(stripesOfBatch.count, 6)
        XCTAssertEqual(stripesOfBatch.values.map(\.count), Array(repeating: 1, count: 6), "one stripe per insert_many")

        // An atomic insert_many that fails on its last document writes nothing.
        let failing = (0..<50).map { document(5000 + $0, &random) } + [#"{"_id":1,"title":"dup"}"#]
        XCTAssertEqual(status { try self.insertMany(db, "c", failing) }, .constraint)
        try Self.assertCountersExact(db, "c", "after a failed insert_many")

        // insert_many that skips failures: the others go in, counted once.
        let mixed = (0..<40).map { document(6000 + $0, &random) } + [#"{"_id":2,"title":"dup"}"#] + (0..<40).map { document(6100 + $0, &random) }
        let outcome = try bytes("[" + mixed.joined(separator: ",") + "]").withUnsafeBytes { a in
            try bytes(#"{"ordered":false}"#).withUnsafeBytes { try db.insertMany(into: "c", arrayJSON: a, optionsJSON: $0) }
        }
        XCTAssertEqual(outcome.insertedIDs.count, 80)
        try Self.assertCountersExact(db, "c", "after insert_many skipping a failure")

        // A document that fails after its text was indexed (a unique index
        // declared after the text index) takes its counts back, ordered or not.
        try createIndex(db, "u", #"{"keys":{"body":"text"},"analyzer":{"stemming":false,"stopwords":false}}"#)
        try createIndex(db, "u", #"{"keys":{"u":1},"unique":true}"#)
        for (round, options) in [#"{"ordered":false}"#, #"{"ordered":true}"#].enumerated() {
            let batch = [#"{"_id":\#(round * 10),"u":\#(round * 10),"body":"w1 w2 w1"}"#,
                         #"{"_id":\#(round * 10 + 1),"u":\#(round * 10),"body":"w3 w4 w2"}"#,
                         #"{"_id":\#(round * 10 + 2),"u":\#(round * 10 + 2),"body":"w5 w1"}"#]
            let result = try bytes("[" + batch.joined(separator: ",") + "]").withUnsafeBytes { a in
                try bytes(options).withUnsafeBytes { try db.insertMany(into: "u", arrayJSON: a, optionsJSON: $0) }
            }
            XCTAssertEqual(result.insertedIDs.count, round == 0 ? 2 : 1, options)
            XCTAssertEqual(result.errors.map(\.error.code), [.constraint], options)
            try Self.assertCountersExact(db, "u", "after a unique index failure, \(options)")
        }

        // Updates, replacements, deletes.
        _ = try bytes(#"{"_id":{"$lt":400}}"#).withUnsafeBytes { f in
            try bytes(#"{"$set":{"body":"w1 w2 w3 w1 fresh"}}"#).withUnsafeBytes { try db.update(collection: "c", filterJSON: f, updateJSON: $0, many: true) }
        }
        try Self.assertCountersExact(db, "c", "after update_many")
        _ = try bytes(#"{"_id":{"$gte":400,"$lt":700}}"#).withUnsafeBytes { try db.delete(collection: "c", filterJSON: $0, many: true) }
        _ = try bytes(#"{"_id":{"$lt":100}}"#).withUnsafeBytes { f in
            try bytes(#"{"$unset":{"title":"","body":""}}"#).withUnsafeBytes { try db.update(collection: "c", filterJSON: f, updateJSON: $0, many: true) }
        }
        try Self.assertCountersExact(db, "c", "after delete_many and emptied documents")

        // An explicit transaction: insert_many, a failing insert_many (its
        // savepoint), a delete; rolled back, then done again and committed.
        for commit in [false, true] {
            let transaction = try db.beginTransaction()
            try insertMany(transaction, "c", (0..<100).map { document(7000 + $0, &random) })
            XCTAssertEqual(status { try self.insertMany(transaction, "c", (0..<20).map { self.document(7500 + $0, &random) } + [#"{"_id":7000}"#]) },
                           .constraint)
            _ = try bytes(#"{"_id":{"$gte":700,"$lt":800}}"#).withUnsafeBytes { try transaction.delete(collection: "c", filterJSON: $0, many: true) }
            try insertMany(transaction, "c", (0..<10).map { document(7600 + $0, &random) })
            if commit { try transaction.commit() } else { transaction.rollback() }
            try Self.assertCountersExact(db, "c", commit ? "after a committed transaction" : "after a rollback")
        }

        // Reopened, and after a compaction.
        try db.close()
        db = try Database.open(path: dir.path, options: .smallTables)
        try Self.assertCountersExact(db, "c", "after reopening")
        try db.compactRange()
        try Self.assertCountersExact(db, "c", "after a compaction")
    }

    /// An index built over stored documents (chunks of 4096) counts as one
    /// maintained document by document.
    func testIndexBuildKeepsCountersExact() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: .smallTables)
        defer { try? db.close() }
        var random = SeededRandom(seed: 42)
        for batch in 0..<5 {
            try insertMany(db, "b", (0..<2000).map { document(batch * 2000 + $0, &random) })
        }
        try createIndex(db, "b", #"{"keys":{"title":"text","body":"text"},"analyzer":{"stemming":false,"stopwords":false}}"#)
        XCTAssertFalse(try db.listIndexes(collection: "b").contains(#""state":"building""#))
        let indexed = try Self.assertCountersExact(db, "b", "after the build")
        XCTAssertGreaterThan(indexed, 9000)
        try insertMany(db, "b", (0..<500).map { document(20000 + $0, &random) })
        _ = try bytes(#"{"_id":{"$lt":3000}}"#).withUnsafeBytes { try db.delete(collection: "b", filterJSON: $0, many: true) }
        try Self.assertCountersExact(db, "b", "after writes on the built index")
    }
}
