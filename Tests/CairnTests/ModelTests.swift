import Foundation
import XCTest
@testable import Cairn

/// Randomized operations checked against a simple in-memory model, with
/// reopens, flushes and compactions interleaved, and memtables small
/// enough that the data lives in tables on several levels. CAIRN_SEED replays a failing run;
/// CAIRN_MODEL_OPS sets the number of operations.
final class ModelTests: XCTestCase {
    func testRandomOperationsMatchTheModel() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["CAIRN_SEED"].flatMap { UInt64($0) } ?? 20261121
        let operations = environment["CAIRN_MODEL_OPS"].flatMap { Int($0) } ?? 200_000
        var random = SeededRandom(seed: seed)
        let dir = TemporaryDirectory("model"); defer { dir.remove() }
        var options = DatabaseOptions()
        options.sync = .never
        options.memtableSizeMB = 1
        options.blockSize = 512
        var db = try Database.open(path: dir.path, options: options)
        var model: [[UInt8]: [UInt8]] = [:]
        func randomKey() -> [UInt8] { [UInt8]("k\(random.next() % 400)") }

        for step in 0..<operations {
            let context = "seed \(seed) step \(step)"
            switch random.next() % 1000 {
            case 0..<400:
                let key = randomKey()
                let value = [UInt8]("v\(step)") + [UInt8](repeating: UInt8(step & 0x7F), count: Int(random.next() % 200))
                try db.put(key, value)
                model[key] = value
            case 400..<500:
                let key = randomKey()
                try db.delete(key)
                model[key] = nil
            case 500..<520:
                var start = randomKey(), end = randomKey()
                if end.lexicographicallyPrecedes(start) { swap(&start, &end) }
                try start.withUnsafeBytes { s in try end.withUnsafeBytes { e in try db.deleteRange(start: s, end: e) } }
                for key in model.keys where key.lexicographicallyPrecedes(end) && !key.lexicographicallyPrecedes(start) { model[key] = nil }
            case 520..<570:
                var batch = KeyValueBatch()
                var staged = model
                for _ in 0..<(1 + random.next() % 20) {
                    let key = randomKey()
                    if random.next() % 3 == 0 {
                        try key.withUnsafeBytes { try batch.delete(key: $0) }
                        staged[key] = nil
                    } else {
                        let value = [UInt8]("b\(step)")
                        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try batch.put(key: k, value: v) } }
                        staged[key] = value
                    }
                }
                try db.write(batch)
                model = staged
            case 570..<880:
                let key = randomKey()
                XCTAssertEqual(try db.get(key), model[key], context)
            case 880..<990:
                var start = randomKey(), end = randomKey()
                if end.lexicographicallyPrecedes(start) { swap(&start, &end) }
                let reverse = random.next() % 2 == 0
                let iterator = try start.withUnsafeBytes { s in try end.withUnsafeBytes { e in try db.makeIterator(start: s, end: e, reverse: reverse) } }
                var got: [[UInt8]] = []
                while try iterator.next() {
                    got.append(Array(iterator.key))
                    XCTAssertEqual(Array(iterator.value), model[Array(iterator.key)], context)
                }
                var want = model.keys.filter { !$0.lexicographicallyPrecedes(start) && $0.lexicographicallyPrecedes(end) }
                    .sorted { $0.lexicographicallyPrecedes($1) }
                if reverse { want.reverse() }
                XCTAssertEqual(got, want, context)
            case 990..<995:
                try db.flush()
            case 995..<997:
                try db.compactRange()
            default:
                try db.close()
                db = try Database.open(path: dir.path, options: options)
            }
        }
        // A final full comparison after a reopen.
        try db.close()
        db = try Database.open(path: dir.path, options: options)
        defer { try? db.close() }
        let iterator = try db.makeIterator(start: nil, end: nil)
        var count = 0
        while try iterator.next() {
            XCTAssertEqual(model[Array(iterator.key)], Array(iterator.value))
            count += 1
        }
        XCTAssertEqual(count, model.count, "seed \(seed)")
    }
}
