import Foundation
import Synchronization
import XCTest
@testable import Cairn

/// The graph layer's adjacency cache (Graph/AdjacencyCache.swift): its
/// memory bound and eviction, the rules that keep a reader off lists newer
/// or older than its snapshot, and graph queries that follow every commit,
/// rollback and snapshot while the cache serves them.
final class GraphCacheTests: XCTestCase {
    private func list(_ prefix: [UInt8], entries: Int) -> AdjacencyCache.List {
        AdjacencyCache.List(prefix: prefix, entries: [UInt8](repeating: 7, count: entries))
    }

    private func lookup(_ cache: AdjacencyCache, _ prefix: [UInt8], _ mark: inout AdjacencyCache.Mark) -> AdjacencyCache.List? {
        prefix.withUnsafeBytes { cache.lookup($0, hash: AdjacencyCache.hash($0), mark: &mark) }
    }

    private func fill(_ cache: AdjacencyCache, _ list: AdjacencyCache.List, snapshot: UInt64) {
        list.prefix.withUnsafeBytes { cache.fill(list, hash: AdjacencyCache.hash($0), snapshot: snapshot) }
    }

    func testTheCacheKeepsWhatWasReadSinceTheLastTurnWithinItsCapacity() {
        // Lists of 100 + 1 + 128 bytes: eight fit in 2,000 (and one may
        // take an eighth of it, 250).
        let cache = AdjacencyCache(capacity: 2000)
        var mark = cache.mark(snapshot: 1)
        XCTAssertTrue(mark.usable)
        for i: UInt8 in 0..<8 { fill(cache, list([i], entries: 100), snapshot: 1) }
        for i: UInt8 in 0..<8 { XCTAssertNotNil(lookup(cache, [i], &mark), "list \(i)") }
        XCTAssertEqual(cache.counters.bytes, 8 * 229)
        // A ninth turns the generations: the eight become old (less one,
        // for room), and those read again move back to the young one.
        fill(cache, list([8], entries: 100), snapshot: 1)
        XCTAssertLessThanOrEqual(cache.counters.bytes, 2000)
        XCTAssertEqual(cache.counters.bytes, 8 * 229)
        var kept = (0..<8).compactMap { i -> UInt8? in lookup(cache, [UInt8(i)], &mark) != nil ? UInt8(i) : nil }
        XCTAssertEqual(kept.count, 7)
        // The next turn keeps what was read or filled since this one, less
        // one for room: nothing else was there.
        fill(cache, list([9], entries: 100), snapshot: 1)
        kept = (0..<9).compactMap { i -> UInt8? in lookup(cache, [UInt8(i)], &mark) != nil ? UInt8(i) : nil }
        XCTAssertEqual(kept.count, 7)
        XCTAssertNotNil(lookup(cache, [9], &mark))
        XCTAssertLessThanOrEqual(cache.counters.bytes, 2000)
        // A list over an eighth of the capacity is never kept.
        fill(cache, list([20], entries: 200), snapshot: 1)
        XCTAssertNil(lookup(cache, [20], &mark))
        XCTAssertEqual(lookup(cache, [9], &mark)?.prefix, [9])
        XCTAssertTrue(mark.usable)
        // Off: nothing is kept, no reader may use it.
        let off = AdjacencyCache(capacity: 0)
        XCTAssertFalse(off.mark(snapshot: 1).usable)
        var offMark = off.mark(snapshot: 1)
        fill(off, list([1], entries: 1), snapshot: 1)
        XCTAssertNil(lookup(off, [1], &offMark))
    }

    func testChangesKeepReadersOffListsThatAreNotTheirSnapshots() {
        let cache = AdjacencyCache(capacity: 1 << 20)
        fill(cache, list([1], entries: 10), snapshot: 5)
        fill(cache, list([2], entries: 10), snapshot: 5)
        var before = cache.mark(snapshot: 5)
        // A change under way: no new reader may use the cache, and a reader
        // that began before it stops at its next lookup.
        let change = cache.beginChange()
        XCTAssertFalse(cache.mark(snapshot: 9).usable)
        XCTAssertNil(lookup(cache, [1], &before))
        XCTAssertFalse(before.usable)
        // Visible at 10: the changed list goes, fills read before 10 are
        // refused, readers older than 10 stay off, newer ones may read.
        change.end(removing: [[1]], sequence: 10)
        fill(cache, list([1], entries: 10), snapshot: 9)
        XCTAssertFalse(cache.mark(snapshot: 9).usable)
        var after = cache.mark(snapshot: 10)
        XCTAssertTrue(after.usable)
        XCTAssertNil(lookup(cache, [1], &after))
        XCTAssertNotNil(lookup(cache, [2], &after))
        fill(cache, list([1], entries: 10), snapshot: 10)
        XCTAssertNotNil(lookup(cache, [1], &after))
        // A change let go without committing ends, removing nothing.
        do { _ = cache.beginChange() }
        var later = cache.mark(snapshot: 10)
        XCTAssertTrue(later.usable)
        XCTAssertNotNil(lookup(cache, [1], &later))
        XCTAssertNil(lookup(cache, [2], &after), "a reader that saw a change begin stops")
        XCTAssertFalse(after.usable)
        // Ending twice counts once.
        let twice = cache.beginChange()
        twice.end(removing: nil, sequence: 11)
        twice.end(removing: nil, sequence: 12)
        var last = cache.mark(snapshot: 11)
        XCTAssertTrue(last.usable)
        XCTAssertNil(lookup(cache, [2], &last), "ended with every list removed")
    }

    private func json<T>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Array(text.utf8).withUnsafeBytes(body)
    }

    private func ids(_ db: Scope, _ query: String) throws -> [Int] { try GraphCacheTests.ids(db, query) }

    /// The "id" of each row of a query of graph "g", sorted.
    private static func ids(_ db: Scope, _ query: String) throws -> [Int] {
        let cursor = try Array(query.utf8).withUnsafeBytes { try db.graphQuery("g", queryJSON: $0) }
        var out: [Int] = []
        while try cursor.next() {
            let row = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as? [String: Any]
            out.append(row?["id"] as? Int ?? -1)
        }
        return out.sorted()
    }

    private func length(_ db: Scope, _ s: Int, _ t: Int) throws -> Int? {
        let cursor = try json(#"{"op": "shortest_path", "start": \#(s), "target": \#(t)}"#) { try db.graphQuery("g", queryJSON: $0) }
        guard try cursor.next() else { return nil }
        let row = try JSONSerialization.jsonObject(with: Data(cursor.jsonString.utf8)) as? [String: Any]
        return row?["length"] as? Int
    }

    func testQueriesFollowEveryCommitRollbackAndSnapshotWhileTheCacheServesThem() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try json(#"{"edges": "e", "vertices": ["v"]}"#) { try db.createGraph("g", declarationJSON: $0) }
        let n = 12
        var edges: [Int: (Int, Int)] = [:]  // edge id -> (from, to)
        var generator = SplitMix(seed: 11)
        var nextID = 0
        func random(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }
        func out(_ edges: [Int: (Int, Int)], _ v: Int) -> [Int] { edges.values.filter { $0.0 == v }.map { $0.1 }.sorted() }
        func into(_ edges: [Int: (Int, Int)], _ v: Int) -> [Int] { edges.values.filter { $0.1 == v }.map { $0.0 }.sorted() }
        func distance(_ edges: [Int: (Int, Int)], _ s: Int, _ t: Int) -> Int? {
            var seen = [s: 0], queue = [s], head = 0
            while head < queue.count {
                let v = queue[head]; head += 1
                if v == t { return seen[v] }
                for w in out(edges, v) where seen[w] == nil { seen[w] = seen[v]! + 1; queue.append(w) }
            }
            return nil
        }
        func check(_ scope: Scope, _ model: [Int: (Int, Int)], _ what: String) throws {
            for v in 0..<n {
                XCTAssertEqual(try ids(scope, #"{"op": "neighbors", "vertex": \#(v), "vertices": false}"#), Array(Set(out(model, v))).sorted(), "\(what): out of \(v)")
                XCTAssertEqual(try ids(scope, #"{"op": "neighbors", "vertex": \#(v), "direction": "in", "vertices": false}"#),
                               Array(Set(into(model, v))).sorted(), "\(what): in of \(v)")
            }
            for _ in 0..<4 {
                let s = random(n), t = random(n)
                XCTAssertEqual(try length(scope, s, t), distance(model, s, t), "\(what): \(s) -> \(t)")
            }
        }
        for round in 0..<30 {
            // Some commits of one operation: insert, redirect, delete.
            switch random(3) {
            case 0:
                let (a, b) = (random(n), random(n))
                _ = try db.insertMany(into: "e", documents: [Array(#"{"_id": \#(nextID), "_from": \#(a), "_to": \#(b)}"#.utf8)])
                edges[nextID] = (a, b)
                nextID += 1
            case 1:
                if let id = edges.keys.sorted().first(where: { _ in random(2) == 0 }) {
                    let to = random(n)
                    _ = try json(#"{"_id": \#(id)}"#) { filter in try json(#"{"$set": {"_to": \#(to)}}"#) { update in
                        try db.update(collection: "e", filterJSON: filter, updateJSON: update, many: false)
                    } }
                    edges[id]!.1 = to
                }
            default:
                if let id = edges.keys.sorted().first(where: { _ in random(2) == 0 }) {
                    _ = try json(#"{"_id": \#(id)}"#) { try db.delete(collection: "e", filterJSON: $0, many: false) }
                    edges[id] = nil
                }
            }
            try check(db, edges, "round \(round)")
            // A snapshot taken now keeps its lists while commits change them.
            let snapshot = try db.beginTransaction()
            let before = edges
            let (a, b) = (random(n), random(n))
            _ = try db.insertMany(into: "e", documents: [Array(#"{"_id": \#(nextID), "_from": \#(a), "_to": \#(b)}"#.utf8)])
            edges[nextID] = (a, b)
            nextID += 1
            try check(db, edges, "round \(round), after the snapshot")
            try check(snapshot, before, "round \(round), the snapshot")
            snapshot.rollback()
            // A transaction's own writes: seen by it, not by others; rolled back.
            let txn = try db.beginTransaction()
            var mine = edges
            let (c, d) = (random(n), random(n))
            _ = try txn.insertMany(into: "e", documents: [Array(#"{"_id": \#(nextID), "_from": \#(c), "_to": \#(d)}"#.utf8)])
            mine[nextID] = (c, d)
            try check(txn, mine, "round \(round), in a transaction")
            try check(db, edges, "round \(round), beside a transaction")
            if round % 3 == 0 {
                try txn.commit()
                edges = mine
                nextID += 1
            } else {
                txn.rollback()
            }
            try check(db, edges, "round \(round), after the transaction")
        }
        let counters = db.graphs.adjacency.counters
        XCTAssertGreaterThan(counters.hits, 100, "the queries were served by the cache")
        XCTAssertGreaterThan(counters.misses, 0)
    }

    /// One edge moves between three targets, one commit per move, while
    /// readers check in each snapshot that the source's out-list and the
    /// targets' in-lists agree: a list older or newer than the snapshot
    /// (the cache read across a commit) would make them disagree.
    func testConcurrentReadersSeeEachSnapshotWholeWhileAWriterMovesAnEdge() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path, options: try json(#"{"sync": "never"}"#) { try DatabaseOptions.parse(json: $0) })
        defer { try? db.close() }
        try json(#"{"edges": "e", "vertices": ["v"]}"#) { try db.createGraph("g", declarationJSON: $0) }
        _ = try db.insertMany(into: "e", documents: [Array(#"{"_id": 1, "_from": 0, "_to": 1}"#.utf8),
                                                     Array(#"{"_id": 2, "_from": 5, "_to": 1}"#.utf8)])
        let done = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let checked = Atomic<Int>(0)
        let readers = (0..<2).map { _ in
            Thread {
                while !done.load(ordering: .acquiring) {
                    do {
                        let snapshot = try db.beginTransaction(readOnly: true)
                        defer { snapshot.rollback() }
                        let out = try GraphCacheTests.ids(snapshot, #"{"op": "neighbors", "vertex": 0, "vertices": false}"#)
                        var problem = out.count == 1 ? nil : "0 has out-neighbours \(out)"
                        for target in 1...3 {
                            let into = try GraphCacheTests.ids(snapshot, #"{"op": "neighbors", "vertex": \#(target), "direction": "in", "vertices": false}"#)
                            if into.contains(0) != (out == [target]) { problem = "out of 0: \(out), in of \(target): \(into)" }
                        }
                        if let problem { failures.withLock { $0.append(problem) } }
                        checked.add(1, ordering: .relaxed)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        readers.forEach { $0.start() }
        for move in 0..<3000 {
            let target = 1 + (move + 1) % 3
            _ = try json(#"{"_id": 1}"#) { filter in try json(#"{"$set": {"_to": \#(target)}}"#) { update in
                try db.update(collection: "e", filterJSON: filter, updateJSON: update, many: false)
            } }
        }
        // Let the readers run on the last state, which the cache then serves.
        let before = checked.load(ordering: .relaxed)
        while checked.load(ordering: .relaxed) < before + 20 { usleep(1000) }
        done.store(true, ordering: .releasing)
        while readers.contains(where: { !$0.isFinished }) { usleep(1000) }
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertGreaterThan(db.graphs.adjacency.counters.hits, 0)
    }

    func testAChangeNeverCommittedLeavesTheCacheUsable() throws {
        let dir = TemporaryDirectory(); defer { dir.remove() }
        let db = try Database.open(path: dir.path)
        defer { try? db.close() }
        try json(#"{"edges": "e", "vertices": ["v"]}"#) { try db.createGraph("g", declarationJSON: $0) }
        _ = try db.insertMany(into: "e", documents: [Array(#"{"_id": 1, "_from": 1, "_to": 2}"#.utf8)])
        XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        let hits = db.graphs.adjacency.counters.hits
        XCTAssertGreaterThan(hits, 0)
        // Under way, the cache is not read; rolled back (the transaction
        // object still alive), it is read again.
        let txn = try db.beginTransaction()
        _ = try txn.insertMany(into: "e", documents: [Array(#"{"_id": 2, "_from": 1, "_to": 3}"#.utf8)])
        XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        XCTAssertEqual(db.graphs.adjacency.counters.hits, hits)
        txn.rollback()
        XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        XCTAssertGreaterThan(db.graphs.adjacency.counters.hits, hits)
        // A commit that fails (a duplicate _id) ends its change too.
        let failing = try db.beginTransaction()
        _ = try failing.insertMany(into: "e", documents: [Array(#"{"_id": 3, "_from": 1, "_to": 4}"#.utf8)])
        _ = try db.insertMany(into: "e", documents: [Array(#"{"_id": 3, "_from": 5, "_to": 6}"#.utf8)])
        XCTAssertEqual(status { try failing.commit() }, .conflict)
        let afterFailure = db.graphs.adjacency.counters.hits
        XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        XCTAssertGreaterThan(db.graphs.adjacency.counters.hits, afterFailure)
        // A transaction whose every write was undone (a failed operation)
        // commits nothing; its change ends then, not when it is freed.
        let undone = try db.beginTransaction()
        try withExtendedLifetime(undone) {
            XCTAssertThrowsError(try undone.insertMany(into: "e", documents: [Array(#"{"_id": 10, "_from": 1, "_to": 7}"#.utf8),
                                                                              Array(#"{"_id": 1, "_from": 1, "_to": 8}"#.utf8)]))
            try undone.commit()
            let beforeUndone = db.graphs.adjacency.counters.hits
            XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
            XCTAssertEqual(try ids(db, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
            XCTAssertGreaterThan(db.graphs.adjacency.counters.hits, beforeUndone)
        }
        // Off, nothing is cached and the answers are the same.
        try db.close()
        let off = try Database.open(path: dir.path, options: try json(#"{"graph_cache_mb": 0}"#) { try DatabaseOptions.parse(json: $0) })
        defer { try? off.close() }
        XCTAssertEqual(try ids(off, #"{"op": "neighbors", "vertex": 1, "vertices": false}"#), [2])
        XCTAssertEqual(try ids(off, #"{"op": "neighbors", "vertex": 5, "vertices": false}"#), [6])
        XCTAssertEqual(off.graphs.adjacency.counters.hits, 0)
        XCTAssertEqual(off.graphs.adjacency.counters.bytes, 0)
    }
}
