import Foundation
import XCTest
@testable import Cairn

/// Links between keys and documents: both directions, metadata, and what
/// deletes, drops, renames and transactions do to them.
final class LinkTests: XCTestCase {
    // Made in setUp: a default value here would make a directory per test
    // method that setUp replaces and nothing removes.
    private var dir: TemporaryDirectory!

    override func setUp() { dir = TemporaryDirectory("cairn-links") }
    override func tearDown() { dir.remove() }

    private func open() throws -> Database {
        var options = DatabaseOptions()
        options.sync = .never
        return try Database.open(path: dir.path, options: options)
    }

    private func with<T>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Array(text.utf8).withUnsafeBytes(body)
    }

    private func link(_ scope: Scope, _ key: String, _ collection: String, _ id: String, _ metadata: String? = nil) throws {
        try with(key) { k in try with(id) { i in
            if let metadata {
                try with(metadata) { try scope.link(key: k, collection: collection, idJSON: i, metadataJSON: $0) }
            } else {
                try scope.link(key: k, collection: collection, idJSON: i, metadataJSON: nil)
            }
        } }
    }

    private func keyLinks(_ scope: Scope, _ key: String) throws -> String {
        String(decoding: try with(key) { try scope.links(ofKey: $0) }, as: UTF8.self)
    }

    private func documentLinks(_ scope: Scope, _ collection: String, _ id: String) throws -> String {
        String(decoding: try with(id) { try scope.links(ofDocumentIn: collection, idJSON: $0) }, as: UTF8.self)
    }

    private func seed(_ db: Database) throws {
        try db.put(Array("user:1"), Array("session"))
        try db.put(Array("user:2"), Array("session"))
        for id in [#""a""#, #""b""#] { _ = try with(#"{"_id": \#(id)}"#) { try db.insertOne(into: "docs", json: $0) } }
        _ = try with(#"{"_id": 7}"#) { try db.insertOne(into: "other", json: $0) }
    }

    func testLinksInBothDirectionsWithMetadata() throws {
        let db = try open()
        defer { try? db.close() }
        try seed(db)
        XCTAssertEqual(try keyLinks(db, "user:1"), "[]")
        try link(db, "user:1", "docs", #""a""#, #"{"role": "owner"}"#)
        try link(db, "user:1", "docs", #""b""#)
        try link(db, "user:1", "other", "7")
        try link(db, "user:2", "docs", #""a""#)
        XCTAssertEqual(try keyLinks(db, "user:1"),
                       #"[{"collection":"docs","id":"a","metadata":{"role":"owner"}},{"collection":"docs","id":"b","metadata":null},{"collection":"other","id":7,"metadata":null}]"#)
        XCTAssertEqual(try documentLinks(db, "docs", #""a""#),
                       #"[{"key":"user:1","key_base64":"dXNlcjox","metadata":{"role":"owner"}},{"key":"user:2","key_base64":"dXNlcjoy","metadata":null}]"#)
        // Linking again replaces the metadata.
        try link(db, "user:1", "docs", #""a""#, #"{"role": "reader"}"#)
        XCTAssertTrue(try keyLinks(db, "user:1").contains(#"{"role":"reader"}"#))
        XCTAssertTrue(try with("user:1") { k in try with(#""b""#) { try db.unlink(key: k, collection: "docs", idJSON: $0) } })
        XCTAssertFalse(try with("user:1") { k in try with(#""b""#) { try db.unlink(key: k, collection: "docs", idJSON: $0) } })
        XCTAssertEqual(try documentLinks(db, "docs", #""b""#), "[]")
        XCTAssertEqual(try with("user:1") { try db.unlinkAll(key: $0) }, 2)
        XCTAssertEqual(try keyLinks(db, "user:1"), "[]")
        XCTAssertEqual(try documentLinks(db, "docs", #""a""#).components(separatedBy: "user:").count, 2, "user:2 stays")
    }

    func testBothEndsMustExistAndArgumentsAreChecked() throws {
        let db = try open()
        defer { try? db.close() }
        try seed(db)
        XCTAssertEqual(status { try self.link(db, "nobody", "docs", #""a""#) }, .notFound)
        XCTAssertEqual(status { try self.link(db, "user:1", "docs", #""zz""#) }, .notFound)
        XCTAssertEqual(status { try self.link(db, "user:1", "nowhere", #""a""#) }, .notFound)
        XCTAssertEqual(status { try self.link(db, "user:1", "docs", #""a""#, "[1]") }, .invalidArgument)
        XCTAssertEqual(status { try self.link(db, "user:1", "docs", "{bad") }, .invalidArgument)
        XCTAssertEqual(status { try self.link(db, "", "docs", #""a""#) }, .invalidArgument)
    }

    func testDeletingADocumentOrDroppingItsCollectionRemovesItsLinks() throws {
        var db = try open()
        try seed(db)
        try link(db, "user:1", "docs", #""a""#)
        try link(db, "user:1", "docs", #""b""#)
        try link(db, "user:2", "other", "7")
        _ = try with(#"{"_id": "a"}"#) { try db.delete(collection: "docs", filterJSON: $0, many: false) }
        XCTAssertEqual(try keyLinks(db, "user:1"), #"[{"collection":"docs","id":"b","metadata":null}]"#)
        // A new document under the same id starts without links.
        _ = try with(#"{"_id": "a"}"#) { try db.insertOne(into: "docs", json: $0) }
        XCTAssertEqual(try documentLinks(db, "docs", #""a""#), "[]")
        // A rename keeps them (links name the collection's id).
        try db.renameCollection("other", to: "others")
        XCTAssertEqual(try keyLinks(db, "user:2"), #"[{"collection":"others","id":7,"metadata":null}]"#)
        try db.dropCollection("docs")
        XCTAssertEqual(try keyLinks(db, "user:1"), "[]")
        // Nothing of the dropped collection's links is left in the engine.
        let transaction = try db.beginTransaction(readOnly: true)
        let scan = try transaction.scan(lower: [Namespace.links.rawValue, LinkFormat.byDocument], upper: Namespace.links.upperBound)
        var left = 0
        while try scan.next() { left += 1 }
        transaction.rollback()
        XCTAssertEqual(left, 1, "only user:2's link to others/7")
        try db.close()
        db = try open()
        defer { try? db.close() }
        XCTAssertEqual(try keyLinks(db, "user:2"), #"[{"collection":"others","id":7,"metadata":null}]"#)
        XCTAssertTrue(db.links.mayExist)
    }

    func testADeletedKeyHidesItsLinksAndUnlinkAllInTheSameTransactionRemovesThem() throws {
        let db = try open()
        defer { try? db.close() }
        try seed(db)
        try link(db, "user:1", "docs", #""a""#)
        try link(db, "user:2", "docs", #""a""#)
        try db.delete(Array("user:1"))
        XCTAssertEqual(try documentLinks(db, "docs", #""a""#).components(separatedBy: "\"key\":").count, 2, "only user:2 is listed")
        let transaction = try db.beginTransaction()
        try with("user:2") { try transaction.delete(key: $0) }
        XCTAssertEqual(try with("user:2") { try transaction.unlinkAll(key: $0) }, 1)
        try transaction.commit()
        XCTAssertEqual(try documentLinks(db, "docs", #""a""#), "[]")
        // A link made in a rolled-back transaction never was.
        try db.put(Array("user:3"), Array("x"))
        let undone = try db.beginTransaction()
        try link(undone, "user:3", "docs", #""b""#)
        XCTAssertEqual(try keyLinks(undone, "user:3"), #"[{"collection":"docs","id":"b","metadata":null}]"#)
        undone.rollback()
        XCTAssertEqual(try keyLinks(db, "user:3"), "[]")
    }
}
