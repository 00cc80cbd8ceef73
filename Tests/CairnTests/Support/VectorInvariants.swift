import XCTest
@testable import Cairn

/// Checks a vector index (the collection's first index, l2 or dot) against
/// its documents and itself, and returns its number of nodes:
///   - every node's document exists, and every document with a vector has
///     exactly one node, holding that vector;
///   - every link points at a live node and the in-link lists mirror the
///     links exactly;
///   - the entry point is a live node of the highest level.
@discardableResult
func checkVectorInvariants(_ db: Database, collection: String, dimensions: Int,
                           file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    let txn = try Transaction(database: db, readOnly: true, explicit: false)
    let info = try XCTUnwrap(try txn.collection(collection), file: file, line: line)
    let index = try XCTUnwrap(info.indexes.first { if case .vector = $0.kind { return true } else { return false } }, file: file, line: line)
    let prefix = VectorIndexFormat.prefix(collection: info.id, index: index.id)
    var nodes: [UInt32: (level: Int, primaryKey: [UInt8], vector: [Float])] = [:]
    let nodeScan = try txn.scan(lower: prefix + [2], upper: prefix + [3])
    while try nodeScan.next() {
        let node = VectorIndexFormat.readUInt32BE(nodeScan.key, prefix.count + 1)
        let record = try VectorIndexFormat.decodeNode(nodeScan.value, dimensions: dimensions, index: index.name)
        let vector = (0..<dimensions).map { record.vector.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        nodes[node] = (record.level, Array(record.primaryKey), vector)
    }
    // Documents and nodes, both ways.
    var withVectors = 0
    let (lower, upper) = info.documentRange
    let documents = try txn.scan(lower: lower, upper: upper)
    var owners: [[UInt8]: UInt32] = [:]
    let ownerScan = try txn.scan(lower: prefix + [4], upper: prefix + [5])
    while try ownerScan.next() {
        owners[Array(ownerScan.key[(prefix.count + 1)...])] = VectorIndexFormat.readUInt32BE(ownerScan.value, 0)
    }
    while try documents.next() {
        let primaryKey = Array(documents.key[lower.count...])
        guard case .vector(let vector) = try VectorValue.read(at: index.fields[0].components, in: DocumentValue(documents.value),
                                                              dimensions: dimensions) else { continue }
        withVectors += 1
        guard let node = owners[primaryKey], let record = nodes[node] else {
            XCTFail("a document with a vector has no node", file: file, line: line)
            continue
        }
        XCTAssertEqual(record.primaryKey, primaryKey, "node \(node) belongs to another document", file: file, line: line)
        XCTAssertEqual(record.vector, vector, "node \(node) holds another vector than its document", file: file, line: line)
    }
    XCTAssertEqual(nodes.count, withVectors, "nodes without documents", file: file, line: line)
    XCTAssertEqual(owners.count, nodes.count, "owner entries and nodes disagree", file: file, line: line)
    // Links and in-links.
    var links = Set<[UInt32]>()
    let linkScan = try txn.scan(lower: prefix + [3], upper: prefix + [4])
    while try linkScan.next() {
        let node = VectorIndexFormat.readUInt32BE(linkScan.key, prefix.count + 1)
        let level = Int(linkScan.key[prefix.count + 5])
        XCTAssertLessThanOrEqual(level, nodes[node]?.level ?? -1, "a list of deleted node \(node) or above its level", file: file, line: line)
        for to in try VectorIndexFormat.decodeLinks(linkScan.value, max: 2 * 128, index: index.name) {
            XCTAssertNotNil(nodes[to], "node \(node) links to deleted node \(to)", file: file, line: line)
            XCTAssertNotEqual(to, node, "node \(node) links to itself", file: file, line: line)
            links.insert([to, UInt32(level), node])
        }
    }
    var inLinks = Set<[UInt32]>()
    let inScan = try txn.scan(lower: prefix + [5], upper: prefix + [6])
    while try inScan.next() {
        let node = VectorIndexFormat.readUInt32BE(inScan.key, prefix.count + 1)
        let level = UInt32(inScan.key[prefix.count + 5])
        for from in try VectorIndexFormat.decodeLinks(inScan.value, max: VectorIndexFormat.maxInLinks, index: index.name) {
            inLinks.insert([node, level, from])
        }
    }
    XCTAssertEqual(links, inLinks, "in-link lists do not mirror the links", file: file, line: line)
    var entry: (node: UInt32, level: Int)?
    _ = try txn.read(VectorIndexFormat.entryKey(prefix)) { entry = try VectorIndexFormat.decodeEntry($0, index: index.name) }
    if nodes.isEmpty {
        XCTAssertNil(entry, "an entry point in an empty index", file: file, line: line)
    } else {
        let top = nodes.values.map(\.level).max()!
        XCTAssertEqual(entry.flatMap { nodes[$0.node]?.level }, top, "the entry point is not a live node of the top level", file: file, line: line)
        XCTAssertEqual(entry?.level, top, file: file, line: line)
    }
    return nodes.count
}
