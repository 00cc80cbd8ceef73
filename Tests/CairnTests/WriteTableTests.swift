import XCTest
@testable import Cairn

/// One layer of a transaction's pending writes, against a dictionary:
/// whatever mix of puts (same and different lengths), deletions, undone
/// marks and removals, every key reads its newest write, a walk of the log
/// meets each live key once, and the commit's key order is byte order.
final class WriteTableTests: XCTestCase {
    private enum Model: Equatable {
        case put([UInt8], Int64)
        case deletion
        case unwritten
    }

    private func state(_ table: WriteTable, _ key: [UInt8]) -> Model? {
        key.withUnsafeBytes { k in
            table.withWrite(k) { write -> Model? in
                switch write {
                case .put(let value, let ttl)?: return .put(Array(value), ttl)
                case .deletion?: return .deletion
                case .unwritten?: return .unwritten
                case nil: return nil
                }
            }
        }
    }

    private func set(_ table: WriteTable, _ key: [UInt8], _ model: Model) {
        key.withUnsafeBytes { k in
            switch model {
            case .put(let value, let ttl): value.withUnsafeBytes { table.set(k, .put($0, ttlMillis: ttl)) }
            case .deletion: table.set(k, .deletion)
            case .unwritten: table.set(k, .unwritten)
            }
        }
    }

    private func walk(_ table: WriteTable) -> [[UInt8]: Model] {
        var seen: [[UInt8]: Model] = [:]
        table.forEach { key, write in
            XCTAssertNil(seen[Array(key)], "each live key once")
            switch write {
            case .put(let value, let ttl): seen[Array(key)] = .put(Array(value), ttl)
            case .deletion: seen[Array(key)] = .deletion
            case .unwritten: seen[Array(key)] = .unwritten
            }
        }
        return seen
    }

    func testRandomWritesAndRemovalsReadBackAsADictionary() {
        // Several rounds with other keys: the index's collisions (and the
        // runs that removals shift back) differ with every key set.
        for round in 0..<6 { randomWritesAndRemovals(round: round) }
    }

    private func randomWritesAndRemovals(round: Int) {
        var generator = SeededRandom(seed: 10 + UInt64(round))
        let table = WriteTable()
        var model: [[UInt8]: Model] = [:]
        var copies: [(WriteTable, [[UInt8]: Model])] = []
        // Few distinct keys, so the same ones are written, removed and
        // written again many times, through several index growths; some
        // keys share long prefixes, one is empty.
        let keys: [[UInt8]] = (0..<600).map { i in
            i == 0 ? [] : Array("round-\(round)-key-with-a-long-shared-prefix-\(i % 300)-\(i)".utf8)
        }
        for step in 0..<20_000 {
            let key = keys[Int(generator.next() % UInt64(keys.count))]
            switch generator.next() % 6 {
            case 0, 1:
                // Lengths 0...3: same-length rewrites change in place.
                let value = [UInt8](repeating: UInt8(step & 0xFF), count: Int(generator.next() % 4))
                let written = Model.put(value, Int64(step))
                set(table, key, written)
                model[key] = written
            case 2:
                set(table, key, .deletion)
                model[key] = .deletion
            case 3:
                set(table, key, .unwritten)
                model[key] = .unwritten
            case 4:
                key.withUnsafeBytes { table.remove($0) }
                model[key] = nil
            default:
                XCTAssertEqual(state(table, key), model[key], "step \(step)")
            }
            if step % 4_000 == 0 { copies.append((table.copy(), model)) }
        }
        XCTAssertEqual(table.count, model.count)
        for key in keys { XCTAssertEqual(state(table, key), model[key]) }
        XCTAssertEqual(walk(table), model)
        // A copy keeps what the table held when it was made.
        for (copy, then) in copies {
            XCTAssertEqual(walk(copy), then)
            for key in keys.prefix(50) { XCTAssertEqual(state(copy, key), then[key]) }
        }
    }

    /// A key rewritten with a growing value (a $push in a loop inside one
    /// transaction) keeps memory linear: superseded records are given back
    /// once they are most of the log, and every key still reads its newest
    /// write, in the order first written.
    func testALogOfMostlySupersededRecordsIsCompacted() {
        let table = WriteTable()
        set(table, Array("first".utf8), .put([1], 0))
        var total = 0
        for length in 1...2_000 {
            let value = [UInt8](repeating: UInt8(length & 0xFF), count: length)
            set(table, Array("grows".utf8), .put(value, Int64(length)))
            total += length
            if length % 500 == 0 { set(table, Array("k\(length)".utf8), .deletion) }
        }
        XCTAssertGreaterThan(total, 1_900_000)
        XCTAssertLessThan(table.logBytes, 200_000, "the versions written were \(total) bytes")
        XCTAssertEqual(state(table, Array("grows".utf8)), .put([UInt8](repeating: UInt8(2_000 & 0xFF), count: 2_000), 2_000))
        XCTAssertEqual(state(table, Array("first".utf8)), .put([1], 0))
        var order: [String] = []
        table.forEach { key, _ in order.append(String(decoding: key, as: UTF8.self)) }
        XCTAssertEqual(order.first, "first")
        XCTAssertEqual(Set(order), ["first", "grows", "k500", "k1000", "k1500", "k2000"])
    }

    func testKeyPositionsSortIntoByteOrder() {
        var generator = SeededRandom(seed: 11)
        let table = WriteTable()
        var expected: Set<[UInt8]> = []
        for _ in 0..<5_000 {
            let key = (0..<Int(1 + generator.next() % 12)).map { _ in UInt8(generator.next() % 4) }
            set(table, key, .put([1, 2, 3], 0))
            expected.insert(key)
            if generator.next() % 5 == 0 { set(table, key, .put([9], 0)) }  // superseded records in the log
        }
        let (starts, lengths) = table.keyPositions()
        XCTAssertEqual(starts.count, expected.count)
        let bytes = table.bytes
        let order = ByteStringSort.order(flat: bytes, starts: starts, lengths: lengths)
        let sorted = order.map { Array(bytes[starts[$0]..<(starts[$0] + lengths[$0])]) }
        XCTAssertEqual(sorted, expected.sorted { $0.lexicographicallyPrecedes($1) })
        // Each position's write is the key's newest.
        for (start, length) in zip(starts, lengths) {
            guard case .put(let value, _) = table.write(ofKeyAt: start) else { return XCTFail("a put") }
            XCTAssertEqual(.put(Array(value), 0), state(table, Array(bytes[start..<(start + length)])))
        }
    }

    func testMergingANewerTableKeepsTheNewerWrites() {
        let older = WriteTable(), newer = WriteTable()
        set(older, [1], .put([10], 0))
        set(older, [2], .put([20], 0))
        set(older, [3], .deletion)
        set(newer, [2], .unwritten)
        set(newer, [3], .put([33, 33], 5))
        set(newer, [4], .deletion)
        older.merge(newer)
        XCTAssertEqual(walk(older), [[1]: .put([10], 0), [2]: .unwritten, [3]: .put([33, 33], 5), [4]: .deletion])
    }
}
