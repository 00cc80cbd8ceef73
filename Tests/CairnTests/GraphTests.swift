import Foundation
import XCTest
@testable import Cairn

/// Graphs: vertex keys, every query operation on small graphs with known
/// answers, $graphLookup, limits (memory budget, interrupt), and random
/// graphs against a simple in-memory model.
final class GraphTests: XCTestCase {
    private func json<T>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Array(text.utf8).withUnsafeBytes(body)
    }

    private func insert(_ db: Scope, _ collection: String, _ documents: [String]) throws {
        _ = try db.insertMany(into: collection, documents: documents.map { Array($0.utf8) })
    }

    /// The rows of a graph query, parsed.
    private func rows(_ db: Scope, _ graph: String, _ query: String) throws -> [Any] {
        let cursor = try Array(query.utf8).withUnsafeBytes { try db.graphQuery(graph, queryJSON: $0) }
        var out: [Any] = []
        while try cursor.next() {
            out.append(try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8), options: [.fragmentsAllowed]))
        }
        return out
    }

    private func field(_ row: Any, _ name: String) -> Any? { (row as? [String: Any])?[name] }

    private func makeGraph(_ db: Database, edges: [(String, String)], weights: [Double]? = nil, vertices: [String] = []) throws {
        try json(#"{"edges": "e", "vertices": ["v"]}"#) { try db.createGraph("g", declarationJSON: $0) }
        if !vertices.isEmpty { try insert(db, "v", vertices.map { #"{"_id": "\#($0)"}"# }) }
        if !edges.isEmpty {
            try insert(db, "e", edges.enumerated().map { i, edge in
                let weight = weights.map { ", \"weight\": \($0[i])" } ?? ""
                return #"{"_id": \#(i), "_from": "\#(edge.0)", "_to": "\#(edge.1)"\#(weight)}"#
            })
        }
    }

    func testVertexKeysRoundTripToTheirValues() throws {
        for text in [#"1"#, #"-5"#, #"2.5"#, #""a\u0000b""#, #"true"#, #"null"#, #"{"a": 1, "b": ["x"]}"#, #"[1, "x"]"#,
                     #"9007199254740993"#, #"-9223372036854775808"#, #"{"$date": "2024-01-02T03:04:05.006Z"}"#] {
            let binary = try json(text) { try DocumentBuilder.value(fromJSON: $0, what: "value") }
            let value = try binary.withUnsafeBytes { try MutableValue(DocumentValue($0)) }
            let key = try GraphKey.key(of: value)
            try key.withUnsafeBytes { XCTAssertEqual(try GraphKey.length(of: $0, at: 0), key.count, text) }
            let back = try GraphKey.value(of: key)
            var a: [UInt8] = [], b: [UInt8] = []
            try value.encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &a) }
            try back.encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &b) }
            XCTAssertEqual(String(decoding: a, as: UTF8.self), String(decoding: b, as: UTF8.self), text)
        }
        XCTAssertEqual(status { _ = try GraphKey.value(of: [4, 0x61]) }, .corruption)
        XCTAssertEqual(status { _ = try GraphKey.value(of: [99]) }, .corruption)
        XCTAssertEqual(status { _ = try [3, 1].withUnsafeBytes { try GraphKey.length(of: $0, at: 0) } }, .corruption)
    }

    func testDeclarationsAreCheckedListedAndDropped() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        for bad in [#"{}"#, #"{"edges": 1}"#, #"{"edges": "e", "colour": 1}"#, #"{"edges": "e", "vertices": ["e"]}"#, #"[]"#] {
            XCTAssertEqual(status { try json(bad) { try db.createGraph("g", declarationJSON: $0) } }, .invalidArgument, bad)
        }
        XCTAssertEqual(status { try json(#"{"edges": "e"}"#) { try db.createGraph("", declarationJSON: $0) } }, .invalidArgument)
        try json(#"{"edges": "e", "vertices": "v"}"#) { try db.createGraph("g", declarationJSON: $0) }
        try json(#"{"edges": "e", "vertices": "v"}"#) { try db.createGraph("g", declarationJSON: $0) }  // the same: no-op
        XCTAssertEqual(status { try json(#"{"edges": "f"}"#) { try db.createGraph("g", declarationJSON: $0) } }, .invalidArgument)
        try json(#"{"edges": "e", "weight": "w"}"#) { try db.createGraph("h", declarationJSON: $0) }
        XCTAssertEqual(try db.listGraphs(), #"[{"name":"g","edges":"e","vertices":["v"],"weight":"weight"},{"name":"h","edges":"e","vertices":[],"weight":"w"}]"#)
        XCTAssertTrue(try db.listIndexes(collection: "e").contains("_graph_out"))
        let txn = try db.beginTransaction()
        XCTAssertEqual(status { try json(#"{"edges": "x"}"#) { try txn.createGraph("t", declarationJSON: $0) } }, .invalidArgument)
        txn.rollback()
        try db.dropGraph("g")
        XCTAssertTrue(try db.listIndexes(collection: "e").contains("_graph_out"), "h still uses the edges")
        try db.dropGraph("h")
        XCTAssertFalse(try db.listIndexes(collection: "e").contains("_graph_out"))
        XCTAssertEqual(status { try db.dropGraph("h") }, .notFound)
        XCTAssertEqual(status { _ = try self.rows(db, "h", #"{"op": "components"}"#) }, .notFound)
    }

    func testTraversalOrdersDepthsFiltersAndUniqueness() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        // a -> b -> d, a -> c -> d, d -> a (a cycle), c -> e (label "x")
        try json(#"{"edges": "e", "vertices": ["v"]}"#) { try db.createGraph("g", declarationJSON: $0) }
        try insert(db, "v", ["a", "b", "c", "d"].map { #"{"_id": "\#($0)", "ok": \#($0 != "c")}"# })
        try insert(db, "e", [#"{"_id": 1, "_from": "a", "_to": "b"}"#, #"{"_id": 2, "_from": "a", "_to": "c"}"#,
                             #"{"_id": 3, "_from": "b", "_to": "d"}"#, #"{"_id": 4, "_from": "c", "_to": "d"}"#,
                             #"{"_id": 5, "_from": "d", "_to": "a"}"#, #"{"_id": 6, "_from": "c", "_to": "e", "label": "x"}"#])
        func ids(_ query: String) throws -> [String] { try rows(db, "g", query).map { "\(field($0, "id")!)@\(field($0, "depth")!)" } }
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a"}"#), ["b@1", "c@1", "d@2", "e@2"])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a", "order": "dfs"}"#), ["b@1", "d@2", "c@1", "e@2"])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a", "min_depth": 0, "max_depth": 1}"#), ["a@0", "b@1", "c@1"])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a", "labels": "x"}"#), [])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "c", "labels": ["x"]}"#), ["e@1"])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a", "vertex_filter": {"ok": true}}"#), ["b@1", "d@2"])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a", "edge_filter": {"_id": {"$ne": 2}}}"#), ["b@1", "d@2"])
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "d", "direction": "in"}"#), ["b@1", "c@1", "a@2"])
        // Each edge once per path: the cycle a-b-d-a is walked, then stops.
        XCTAssertEqual(try ids(#"{"op": "traverse", "start": "a", "uniqueness": "edge", "max_depth": 4, "labels": [null]}"#),
                       ["b@1", "c@1", "d@2", "d@2", "a@3", "a@3", "c@4", "b@4"])
        XCTAssertEqual(try rows(db, "g", #"{"op": "traverse", "start": "a", "uniqueness": "edge", "max_depth": 2, "count_only": true}"#).count, 1)
        let counted = try rows(db, "g", #"{"op": "traverse", "start": "a", "uniqueness": "edge", "min_depth": 2, "max_depth": 2, "count_only": true}"#)
        XCTAssertEqual(field(counted[0], "count") as? Int, 3)
        let withPaths = try rows(db, "g", #"{"op": "traverse", "start": "a", "paths": true, "edges": true, "max_depth": 2, "labels": [null]}"#)
        XCTAssertEqual(withPaths.count, 3)
        let path = field(withPaths[2], "path") as? [String: Any]
        XCTAssertEqual(path?["vertices"] as? [String], ["a", "b", "d"])
        XCTAssertEqual(path?["edges"] as? [Int], [1, 3])
        XCTAssertEqual((field(withPaths[2], "edge") as? [String: Any])?["_id"] as? Int, 3)
        XCTAssertEqual((field(withPaths[0], "vertex") as? [String: Any])?["_id"] as? String, "b")
        // Degree and neighbours.
        let degree = try rows(db, "g", #"{"op": "degree", "vertex": "d"}"#)
        XCTAssertEqual(field(degree[0], "out") as? Int, 1)
        XCTAssertEqual(field(degree[0], "in") as? Int, 2)
        XCTAssertEqual(try rows(db, "g", #"{"op": "neighbors", "vertex": "d", "direction": "any"}"#).map { field($0, "id") as? String }, ["a", "b", "c"])
        for bad in [#"{"op": "traverse"}"#, #"{"op": "fly", "start": 1}"#, #"{"op": "traverse", "start": 1, "direction": "up"}"#,
                    #"{"op": "traverse", "start": 1, "min_depth": 3, "max_depth": 2}"#, #"{"op": "all_paths", "start": 1, "target": 2}"#,
                    #"{"op": "cycles"}"#, #"{"op": "traverse", "start": 1, "colour": 1}"#, #"{"start": 1}"#] {
            XCTAssertEqual(status { _ = try self.rows(db, "g", bad) }, .invalidArgument, bad)
        }
    }

    func testPathsComponentsAndCycles() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try makeGraph(db, edges: [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"), ("d", "b"), ("x", "y")],
                      weights: [1, 1, 5, 1, 1, 2], vertices: ["a", "b", "c", "d", "x", "y", "z"])
        func vertices(_ rows: [Any]) -> [[String]] { rows.map { field($0, "vertices") as? [String] ?? [] } }
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "shortest_path", "start": "a", "target": "d"}"#)), [["a", "c", "d"]])
        let weighted = try rows(db, "g", #"{"op": "shortest_path", "start": "a", "target": "d", "weighted": true}"#)
        XCTAssertEqual(vertices(weighted), [["a", "b", "c", "d"]])
        XCTAssertEqual(field(weighted[0], "weight") as? Double, 3)
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "shortest_path", "start": "a", "target": "d", "weighted": true, "k": 3}"#)),
                       [["a", "b", "c", "d"], ["a", "c", "d"]])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "shortest_path", "start": "a", "target": "x"}"#)), [])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "shortest_path", "start": "d", "target": "a", "direction": "any"}"#)), [["d", "b", "a"]])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "all_paths", "start": "a", "target": "d", "max_length": 5}"#)),
                       [["a", "b", "c", "d"], ["a", "c", "d"]])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "all_paths", "start": "a", "target": "d", "max_length": 2}"#)), [["a", "c", "d"]])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "components"}"#)), [["a", "b", "c", "d"], ["x", "y"], ["z"]])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "components", "mode": "strong"}"#)), [["a"], ["b", "c", "d"], ["x"], ["y"], ["z"]])
        let cycle = try rows(db, "g", #"{"op": "has_cycle"}"#)
        XCTAssertEqual(field(cycle[0], "has_cycle") as? Bool, true)
        XCTAssertEqual(field(cycle[0], "cycle") as? [String], ["b", "c", "d"])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "cycles", "max_length": 3}"#)), [["b", "c", "d"]])
        XCTAssertEqual(vertices(try rows(db, "g", #"{"op": "cycles", "max_length": 2}"#)), [])
        // A negative weight reached is refused.
        try insert(db, "e", [#"{"_id": 100, "_from": "a", "_to": "z", "weight": -1}"#])
        XCTAssertEqual(status { _ = try self.rows(db, "g", #"{"op": "shortest_path", "start": "a", "target": "d", "weighted": true}"#) }, .invalidArgument)
        XCTAssertEqual(status { _ = try self.rows(db, "g", #"{"op": "shortest_path", "start": "a", "target": "d"}"#) }, .ok)
    }

    func testDeleteVertexWithEdgesAndQueriesInTransactions() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try makeGraph(db, edges: [("a", "b"), ("b", "c"), ("c", "a")], vertices: ["a", "b", "c"])
        let txn = try db.beginTransaction()
        let deleted = try json(#""b""#) { try txn.deleteVertex(graph: "g", idJSON: $0) }
        XCTAssertEqual(deleted.vertices, 1)
        XCTAssertEqual(deleted.edges, 2)
        XCTAssertEqual(try rows(txn, "g", #"{"op": "traverse", "start": "a"}"#).count, 0)
        XCTAssertEqual(try rows(db, "g", #"{"op": "traverse", "start": "a"}"#).count, 2, "not committed yet")
        try insert(txn, "e", [#"{"_id": 9, "_from": "a", "_to": "c"}"#])
        XCTAssertEqual(try rows(txn, "g", #"{"op": "traverse", "start": "a"}"#).map { field($0, "id") as? String }, ["c"])
        try txn.commit()
        XCTAssertEqual(try rows(db, "g", #"{"op": "components"}"#).count, 1)
        XCTAssertEqual(try db.count(collection: "e", filterJSON: UnsafeRawBufferPointer(start: nil, count: 0)), 2)
    }

    func testMemoryBudgetAndInterruptStopCyclicExplosions() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        var edges: [(String, String)] = []
        for i in 0..<14 { for j in 0..<14 where i != j { edges.append(("v\(i)", "v\(j)")) } }
        try makeGraph(db, edges: edges)
        XCTAssertEqual(status { _ = try self.rows(db, "g", #"{"op": "traverse", "start": "v0", "uniqueness": "edge", "max_depth": 8, "memory_limit": 100000}"#) },
                       .invalidArgument)
        XCTAssertEqual(status { _ = try self.rows(db, "g", #"{"op": "cycles", "max_length": 14, "memory_limit": 100000}"#) }, .invalidArgument)
        // A traversal streams: its first rows come before the walk that would overrun the budget.
        let cursor = try json(#"{"op": "traverse", "start": "v0", "uniqueness": "edge", "max_depth": 8, "memory_limit": 100000}"#) {
            try db.graphQuery("g", queryJSON: $0)
        }
        for _ in 0..<5 { XCTAssertTrue(try cursor.next()) }
        XCTAssertEqual(status { while try cursor.next() {} }, .invalidArgument)
        // A walk of every simple path of a complete graph runs for ages; the interrupt stops it.
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.2); db.interrupt() }
        let started = Date()
        stopper.start()
        XCTAssertEqual(status { _ = try self.rows(db, "g", #"{"op": "all_paths", "start": "v0", "target": "v1", "max_length": 14, "limit": 1000000000, "memory_limit": 1000000000000}"#) },
                       .interrupted)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(status { _ = try self.rows(db, "g", #"{"op": "has_cycle"}"#) }, .ok, "later calls run")
    }

    func testGraphLookupFollowsMongoDBSemantics() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try insert(db, "employees", [#"{"_id": 1, "name": "Dev"}"#, #"{"_id": 2, "name": "Eliot", "reportsTo": "Dev"}"#,
                                     #"{"_id": 3, "name": "Ron", "reportsTo": "Eliot"}"#, #"{"_id": 4, "name": "Andrew", "reportsTo": "Eliot"}"#,
                                     #"{"_id": 5, "name": "Asya", "reportsTo": "Ron"}"#, #"{"_id": 6, "name": "Dan", "reportsTo": "Andrew"}"#])
        func run(_ pipeline: String) throws -> [Any] {
            let cursor = try json(pipeline) { try db.aggregate(collection: "employees", pipelineJSON: $0) }
            var out: [Any] = []
            while try cursor.next() { out.append(try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8))) }
            return out
        }
        let pipeline = #"[{"$match": {"name": "Asya"}}, {"$graphLookup": {"from": "employees", "startWith": "$reportsTo", "connectFromField": "reportsTo", "connectToField": "name", "as": "chain", "depthField": "d"}}]"#
        let chain = (field(try run(pipeline)[0], "chain") as? [[String: Any]]) ?? []
        XCTAssertEqual(chain.map { $0["name"] as? String }, ["Ron", "Eliot", "Dev"])
        XCTAssertEqual(chain.map { $0["d"] as? Int }, [0, 1, 2])
        let limited = #"[{"$match": {"name": "Asya"}}, {"$graphLookup": {"from": "employees", "startWith": "$reportsTo", "connectFromField": "reportsTo", "connectToField": "name", "as": "chain", "maxDepth": 1, "restrictSearchWithMatch": {"name": {"$ne": "Dev"}}}}]"#
        XCTAssertEqual((field(try run(limited)[0], "chain") as? [[String: Any]])?.map { $0["name"] as? String }, ["Ron", "Eliot"])
        // A cycle ends: Dev now reports to Asya.
        _ = try json(#"{"name": "Dev"}"#) { f in try json(#"{"$set": {"reportsTo": "Asya"}}"#) { u in try db.update(collection: "employees", filterJSON: f, updateJSON: u, many: false) } }
        XCTAssertEqual((field(try run(pipeline)[0], "chain") as? [[String: Any]])?.count, 4)
        for bad in [#"[{"$graphLookup": {"from": "employees"}}]"#,
                    #"[{"$graphLookup": {"from": "employees", "startWith": "$a", "connectFromField": "a", "connectToField": "b", "as": "c", "maxDepth": -1}}]"#,
                    #"[{"$graphLookup": {"from": "employees", "startWith": "$a", "connectFromField": "a", "connectToField": "b", "as": "c", "x": 1}}]"#] {
            XCTAssertEqual(status { _ = try run(bad) }, .invalidArgument, bad)
        }
    }

    func testRandomGraphsAgreeWithAnInMemoryModel() throws {
        var generator = SplitMix(seed: 7)
        for round in 0..<12 {
            let dir = TemporaryDirectory(); defer { dir.remove() }
            let db = try Database.open(path: dir.path)
            defer { try? db.close() }
            let n = 3 + Int(generator.next() % 12), m = Int(generator.next() % UInt64(n * 2 + 1))
            var edges: [(Int, Int)] = []
            for _ in 0..<m { edges.append((Int(generator.next() % UInt64(n)), Int(generator.next() % UInt64(n)))) }
            try json(#"{"edges": "e", "vertices": ["v"]}"#) { try db.createGraph("g", declarationJSON: $0) }
            try insert(db, "v", (0..<n).map { #"{"_id": \#($0)}"# })
            if !edges.isEmpty { try insert(db, "e", edges.map { #"{"_from": \#($0.0), "_to": \#($0.1)}"# }) }
            // Model: BFS distances, weak components, a cycle by DFS colours.
            var out = [[Int]](repeating: [], count: n)
            for (a, b) in edges { out[a].append(b) }
            func distance(_ s: Int, _ t: Int) -> Int? {
                var seen = [s: 0], queue = [s], head = 0
                while head < queue.count {
                    let v = queue[head]; head += 1
                    if v == t { return seen[v] }
                    for w in out[v] where seen[w] == nil { seen[w] = seen[v]! + 1; queue.append(w) }
                }
                return nil
            }
            for _ in 0..<6 {
                let s = Int(generator.next() % UInt64(n)), t = Int(generator.next() % UInt64(n))
                let found = try rows(db, "g", #"{"op": "shortest_path", "start": \#(s), "target": \#(t)}"#)
                XCTAssertEqual(found.first.map { field($0, "length") as? Int }, distance(s, t).map { $0 }, "round \(round) \(s)->\(t)")
            }
            var parent = Array(0..<n)
            func find(_ v: Int) -> Int { parent[v] == v ? v : find(parent[v]) }
            for (a, b) in edges { parent[find(a)] = find(b) }
            XCTAssertEqual(try rows(db, "g", #"{"op": "components"}"#).count, Set((0..<n).map(find)).count, "round \(round)")
            var colour = [Int](repeating: 0, count: n)
            func cyclic(_ v: Int) -> Bool {
                colour[v] = 1
                for w in out[v] { if colour[w] == 1 || (colour[w] == 0 && cyclic(w)) { return true } }
                colour[v] = 2
                return false
            }
            let hasCycle = (0..<n).contains { colour[$0] == 0 && cyclic($0) }
            XCTAssertEqual(field(try rows(db, "g", #"{"op": "has_cycle"}"#)[0], "has_cycle") as? Bool, hasCycle, "round \(round)")
            let strong = try rows(db, "g", #"{"op": "components", "mode": "strong"}"#)
            XCTAssertEqual(strong.contains { (field($0, "size") as? Int ?? 0) > 1 } || edges.contains { $0.0 == $0.1 }, hasCycle)
        }
    }
}
