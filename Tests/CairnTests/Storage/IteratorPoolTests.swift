import Foundation
import XCTest
@testable import Cairn

/// The read state's pool of merging iterators (ReadState.recycle): a closed
/// database iterator gives its sources back, the next iterator over the same
/// state reuses them (level iterators retargeting one table iterator from
/// table to table), and what a reused iterator reads is exactly what a new
/// one would, checked against a dictionary model through writes, deletes,
/// range deletes, flushes and compactions.
final class IteratorPoolTests: XCTestCase {
    private var dir: TemporaryDirectory!

    override func setUp() { dir = TemporaryDirectory("iterpool") }
    override func tearDown() { dir.remove() }

    /// Small blocks and tables, so a level holds many tables and a seek
    /// and a few steps cross blocks and tables.
    private func openEngine() throws -> StorageEngine {
        var options = StorageEngine.Options()
        options.sync = .never
        options.table.blockSize = 256
        options.targetFileBytes = 4 << 10
        options.level1Bytes = 16 << 10
        options.level0CompactionTrigger = 3
        return try StorageEngine(directory: dir.path, options: options, createIfMissing: true, errorIfExists: false)
    }

    private func key(_ i: Int) -> [UInt8] { Array(String(format: "key%05d", i).utf8) }

    /// Up to `limit` pairs from the engine, from `target` (forward: the
    /// first key >= target; reverse: the last key <= target) within
    /// [lower, upper), through a new iterator that is closed afterwards.
    private func read(_ engine: StorageEngine, from target: [UInt8]?, reverse: Bool, lower: [UInt8]? = nil,
                      upper: [UInt8]? = nil, limit: Int) throws -> [([UInt8], [UInt8])] {
        let iterator = try optionalBytes(lower) { l in
            try optionalBytes(upper) { u in try engine.makeIterator(lower: l, upper: u, reverse: reverse) }
        }
        if let target { target.withUnsafeBytes { iterator.iterator.seek($0) } }
        var out: [([UInt8], [UInt8])] = []
        while out.count < limit, try iterator.iterator.next() {
            out.append((Array(iterator.iterator.key), Array(iterator.iterator.value)))
        }
        return out
    }

    private func optionalBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
        guard let bytes else { return try body(nil) }
        return try bytes.withUnsafeBytes { try body($0) }
    }

    /// The same read from the model: a sorted dictionary.
    private func expected(_ model: [[UInt8]: [UInt8]], from target: [UInt8]?, reverse: Bool, lower: [UInt8]? = nil,
                          upper: [UInt8]? = nil, limit: Int) -> [([UInt8], [UInt8])] {
        var keys = model.keys.filter { key in
            (lower == nil || !key.lexicographicallyPrecedes(lower!)) && (upper == nil || key.lexicographicallyPrecedes(upper!))
        }.sorted { $0.lexicographicallyPrecedes($1) }
        if reverse {
            keys.reverse()
            if let target { keys = keys.filter { !target.lexicographicallyPrecedes($0) } }
        } else if let target {
            keys = keys.filter { !$0.lexicographicallyPrecedes(target) }
        }
        return keys.prefix(limit).map { ($0, model[$0]!) }
    }

    private func assertSame(_ got: [([UInt8], [UInt8])], _ want: [([UInt8], [UInt8])], _ message: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.0), want.map(\.0), message, file: file, line: line)
        XCTAssertEqual(got.map(\.1), want.map(\.1), message, file: file, line: line)
    }

    func testPooledIteratorsReadWhatADictionaryModelHoldsThroughWritesFlushesAndCompactions() throws {
        let engine = try openEngine()
        defer { try? engine.close() }
        var model: [[UInt8]: [UInt8]] = [:]
        var random = SeededRandom(seed: 12)
        var reused = 0
        for round in 0..<40 {
            // A burst of writes: puts, deletes and now and then a range delete.
            for _ in 0..<150 {
                let i = Int(random.next() % 3000)
                var batch = WriteBatch()
                switch random.next() % 10 {
                case 0, 1:
                    key(i).withUnsafeBytes { batch.delete($0) }
                    model[key(i)] = nil
                case 2 where random.next() % 8 == 0:
                    let end = i + 1 + Int(random.next() % 40)
                    key(i).withUnsafeBytes { s in key(end).withUnsafeBytes { batch.deleteRange(s, $0) } }
                    for k in model.keys where !k.lexicographicallyPrecedes(key(i)) && k.lexicographicallyPrecedes(key(end)) {
                        model[k] = nil
                    }
                default:
                    let value = Array("v\(round)-\(i)-\(random.next() % 1000)".utf8)
                    key(i).withUnsafeBytes { k in value.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
                    model[key(i)] = value
                }
                try engine.write(batch)
            }
            switch round % 5 {
            case 1, 3: try engine.flush()
            case 4: try engine.compactRange(start: nil, end: nil)
            default: break
            }
            // Many iterators one after another over the same state: every
            // one after the first reuses the pool's.
            for _ in 0..<30 {
                let state = try engine.readView().state
                if state.pooledIterators > 0 { reused += 1 }
                let reverse = random.next() % 3 == 0
                let target = random.next() % 8 == 0 ? nil : key(Int(random.next() % 3100))
                let bounded = random.next() % 4 == 0
                let lower = bounded ? key(Int(random.next() % 1500)) : nil
                let upper = bounded ? key(1500 + Int(random.next() % 1600)) : nil
                let limit = random.next() % 10 == 0 ? Int.max : 1 + Int(random.next() % 12)
                let got = try read(engine, from: target, reverse: reverse, lower: lower, upper: upper, limit: limit)
                let want = expected(model, from: target, reverse: reverse, lower: lower, upper: upper, limit: limit)
                assertSame(got, want, "round \(round), reverse \(reverse), target \(target.map { String(decoding: $0, as: UTF8.self) } ?? "none")")
            }
        }
        XCTAssertGreaterThan(reused, 600, "most iterators came from the pool")
        let levels = engine.stateLock.withLock { engine.version.levels }
        XCTAssertGreaterThan(levels.dropFirst().map(\.count).max() ?? 0, 3, "a level of several tables, so seeks retarget")
    }

    func testAClosedIteratorGoesBackToItsReadStateAndTheNextOneTakesIt() throws {
        let engine = try openEngine()
        defer { try? engine.close() }
        for i in 0..<500 {
            var batch = WriteBatch()
            key(i).withUnsafeBytes { k in withBytes("v\(i)") { batch.put(k, $0, ttlMillis: 0) } }
            try engine.write(batch)
        }
        try engine.flush()
        let state = try engine.readView().state
        XCTAssertEqual(state.pooledIterators, 0)
        var first: EngineIterator? = try engine.makeIterator(lower: nil, upper: nil, reverse: false)
        XCTAssertTrue(try first!.iterator.next())
        XCTAssertEqual(state.pooledIterators, 0, "in use, not pooled")
        first = nil
        XCTAssertEqual(state.pooledIterators, 1, "given back when it dies")

        // A reverse iterator does not take a forward one.
        var backward: EngineIterator? = try engine.makeIterator(lower: nil, upper: nil, reverse: true)
        XCTAssertEqual(state.pooledIterators, 1)
        XCTAssertTrue(try backward!.iterator.next())
        XCTAssertEqual(Array(backward!.iterator.key), key(499))
        backward = nil
        XCTAssertEqual(state.pooledIterators, 2)

        let second = try engine.makeIterator(lower: nil, upper: nil, reverse: false)
        XCTAssertEqual(state.pooledIterators, 1, "taken from the pool")
        key(250).withUnsafeBytes { second.iterator.seek($0) }
        XCTAssertTrue(try second.iterator.next())
        XCTAssertEqual(Array(second.iterator.key), key(250))
        XCTAssertEqual(Array(second.iterator.value), Array("v250".utf8))

        // An iterator made with a bloom prefix takes pooled parts too (the
        // prefix holds for one scan) and gives them back without it.
        var prefixed: EngineIterator? = try engine.makeIterator(lower: nil, upper: nil, reverse: false, view: try engine.readView(),
                                                               bloomPrefix: Array("key".utf8))
        _ = try prefixed!.iterator.next()
        prefixed = nil
        XCTAssertEqual(state.pooledIterators, 2)
        var plain: EngineIterator? = try engine.makeIterator(lower: nil, upper: nil, reverse: false)
        XCTAssertEqual(state.pooledIterators, 1, "taken from the pool")
        XCTAssertTrue(try plain!.iterator.next())
        XCTAssertEqual(Array(plain!.iterator.key), key(0), "no prefix left over from the last scan")
        plain = nil

        // A new state (after a flush) starts with an empty pool.
        var batch = WriteBatch()
        key(9999).withUnsafeBytes { k in withBytes("late") { batch.put(k, $0, ttlMillis: 0) } }
        try engine.write(batch)
        try engine.flush()
        XCTAssertFalse(try engine.readView().state === state)
        XCTAssertEqual(try engine.readView().state.pooledIterators, 0)
    }

    /// The database iterator outlives its engine iterator when a caller
    /// keeps it (as `engine.makeIterator(...).iterator.next()` does): its
    /// sources go back to the pool only when it dies, so a second iterator
    /// opened meanwhile never shares them.
    func testAnIteratorKeptPastItsEngineIteratorSharesNothingWithTheNextOne() throws {
        let engine = try openEngine()
        defer { try? engine.close() }
        for i in 0..<2000 {
            var batch = WriteBatch()
            key(i).withUnsafeBytes { k in withBytes("v\(i)") { batch.put(k, $0, ttlMillis: 0) } }
            try engine.write(batch)
        }
        try engine.compactRange(start: nil, end: nil)
        // Warm the pool with one iterator.
        _ = try read(engine, from: key(10), reverse: false, limit: 3)
        let kept = try engine.makeIterator(lower: nil, upper: nil, reverse: false).iterator
        let other = try engine.makeIterator(lower: nil, upper: nil, reverse: false)
        key(100).withUnsafeBytes { kept.seek($0) }
        key(1500).withUnsafeBytes { other.iterator.seek($0) }
        for step in 0..<300 {
            XCTAssertTrue(try kept.next())
            XCTAssertTrue(try other.iterator.next())
            XCTAssertEqual(Array(kept.key), key(100 + step))
            XCTAssertEqual(Array(other.iterator.key), key(1500 + step))
        }
    }

    /// Reverse scans copy each value into the parts' buffers; a buffer that
    /// grew for a large value gives its memory back in the pool, and the
    /// next iterator to take the parts reads correct values all the same.
    func testLargeValuesThroughPooledPartsInBothDirections() throws {
        let engine = try openEngine()
        defer { try? engine.close() }
        var model: [[UInt8]: [UInt8]] = [:]
        for i in 0..<40 {
            let value = [UInt8](repeating: UInt8(i), count: i % 3 == 0 ? 200_000 + i : 10 + i)
            var batch = WriteBatch()
            key(i).withUnsafeBytes { k in value.withUnsafeBytes { batch.put(k, $0, ttlMillis: 0) } }
            try engine.write(batch)
            model[key(i)] = value
            if i == 20 { try engine.flush() }
        }
        for round in 0..<6 {
            let reverse = round % 2 == 0
            let target = key(5 + round * 5)
            assertSame(try read(engine, from: target, reverse: reverse, limit: 8),
                       expected(model, from: target, reverse: reverse, limit: 8), "round \(round)")
        }
        XCTAssertGreaterThan(try engine.readView().state.pooledIterators, 0)

        let buffer = ByteBuffer()
        [UInt8](repeating: 1, count: 100_000).withUnsafeBytes { buffer.set($0) }
        buffer.shrink(to: IteratorParts.keptBufferBytes)
        XCTAssertEqual(buffer.count, 0)
        withBytes("again") { buffer.set($0) }
        XCTAssertEqual(Array(buffer.bytes), Array("again".utf8))
    }

    /// An iterator whose read failed is dropped, not pooled: its sources
    /// may be half moved.
    func testAnIteratorThatHitCorruptionIsNotPooled() throws {
        let engine = try openEngine()
        defer { try? engine.close() }
        for i in 0..<300 {
            var batch = WriteBatch()
            key(i).withUnsafeBytes { k in withBytes(String(repeating: "v\(i)", count: 4)) { batch.put(k, $0, ttlMillis: 0) } }
            try engine.write(batch)
        }
        try engine.flush()
        let table = try XCTUnwrap(engine.stateLock.withLock { engine.version.levels[0].first })
        // In place (the reader may have the file mapped already).
        let byte = try contents(table.path)[40]
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: table.path))
        try handle.seek(toOffset: 40)  // inside the first data block
        try handle.write(contentsOf: [byte ^ 0xFF])
        try handle.close()
        let state = try engine.readView().state
        var iterator: EngineIterator? = try engine.makeIterator(lower: nil, upper: nil, reverse: false)
        XCTAssertCorruption(try iterator!.iterator.next())
        iterator = nil
        XCTAssertEqual(state.pooledIterators, 0)
    }

    /// Scans with a bloom prefix (the document layer's finds by an indexed
    /// value) run on pooled parts, which leave out at each seek the tables
    /// whose filters rule the prefix out, and give the parts back for scans
    /// without one: every scan reads what a dictionary model holds, through
    /// writes, deletes, flushes and compactions.
    func testPrefixScansOnPooledPartsReadWhatTheModelHolds() throws {
        var options = StorageEngine.Options()
        options.sync = .never
        options.table.blockSize = 256
        options.targetFileBytes = 4 << 10
        options.level1Bytes = 16 << 10
        options.level0CompactionTrigger = 3
        // "p" and three digits: the filter prefix of every key.
        options.table.prefixLength = { $0.count >= 4 ? 4 : nil }
        let engine = try StorageEngine(directory: dir.path, options: options, createIfMissing: true, errorIfExists: false)
        defer { try? engine.close() }
        func prefixed(_ group: Int, _ i: Int) -> [UInt8] { Array(String(format: "p%03d-%04d", group, i).utf8) }
        func prefix(_ group: Int) -> [UInt8] { Array(String(format: "p%03d", group).utf8) }
        var model: [[UInt8]: [UInt8]] = [:]
        var random = SeededRandom(seed: 31)
        var reused = 0
        for round in 0..<30 {
            for _ in 0..<120 {
                // Most groups are written rarely, so most tables rule them out.
                let group = random.next() % 4 == 0 ? Int(random.next() % 200) : Int(random.next() % 8)
                let k = prefixed(group, Int(random.next() % 50))
                var batch = WriteBatch()
                if random.next() % 6 == 0 {
                    k.withUnsafeBytes { batch.delete($0) }
                    model[k] = nil
                } else {
                    let value = Array("v\(round)-\(random.next() % 1000)".utf8)
                    k.withUnsafeBytes { key in value.withUnsafeBytes { batch.put(key, $0, ttlMillis: 0) } }
                    model[k] = value
                }
                try engine.write(batch)
            }
            switch round % 4 {
            case 1: try engine.flush()
            case 3: try engine.compactRange(start: nil, end: nil)
            default: break
            }
            for _ in 0..<40 {
                let state = try engine.readView().state
                if state.pooledIterators > 0 { reused += 1 }
                let reverse = random.next() % 4 == 0
                if random.next() % 3 == 0 {
                    // A plain scan on the same pool.
                    let target = prefixed(Int(random.next() % 200), 0)
                    assertSame(try read(engine, from: target, reverse: reverse, limit: 5),
                               expected(model, from: target, reverse: reverse, limit: 5), "round \(round), plain")
                    continue
                }
                let group = random.next() % 2 == 0 ? Int(random.next() % 8) : Int(random.next() % 200)
                let lower = prefix(group), upper = prefixUpperBound(prefix(group))
                let iterator = try lower.withUnsafeBytes { l in
                    try upper.withUnsafeBytes { u in
                        try engine.makeIterator(lower: l, upper: u, reverse: reverse, view: try engine.readView(), bloomPrefix: lower)
                    }
                }
                var got: [([UInt8], [UInt8])] = []
                while try iterator.iterator.next() { got.append((Array(iterator.iterator.key), Array(iterator.iterator.value))) }
                assertSame(got, expected(model, from: nil, reverse: reverse, lower: lower, upper: upper, limit: .max),
                           "round \(round), group \(group), reverse \(reverse)")
            }
        }
        XCTAssertGreaterThan(reused, 600, "prefix scans and plain ones share the pool")
    }
}
