import Foundation
import XCTest
@testable import Cairn

/// Time series under SIGKILL while chunks are written and packed apart: a
/// child writes regular points across series in batches (sync "always", a
/// 1 MiB memtable so flushes run), packs buckets whole and in part and
/// compacts between batches, and reports each batch once its call
/// returned; the parent kills it at a random moment and reopens. Every
/// time: acknowledged points are there with their values, every form-3
/// chunk key has its body and every body its key (they are written and
/// deleted in one batch), the newest point of every series equals the last
/// point its range read returns, and a compaction after the crash keeps
/// all of it.
final class TimeSeriesCrashTests: XCTestCase {
    private static let childDirectory = "CAIRN_TS_CRASH_DIRECTORY"
    private static let childRound = "CAIRN_TS_CRASH_ROUND"
    private static let series = 20
    private static let base: Int64 = 4_102_444_800_000

    /// Round r writes from here, 10 buckets after the previous round's.
    private static func start(round: Int) -> Int64 { base + Int64(round) * 10 * TimeSeriesFormat.bucketMillis }

    private static func value(series s: Int, t: Int64) -> Double { Double((t / 10_000 + Int64(s) * 7) % 10_000) / 100 }

    private static func ids(_ db: Database) throws -> [UInt64] {
        try (0..<series).map { s in try Array("{\"metric\":\"k\",\"tags\":{\"s\":\"\(s)\"}}".utf8).withUnsafeBytes { try db.timeSeriesID(seriesJSON: $0)! } }
    }

    func testPointsAndPackedChunksSurviveSIGKILL() throws {
        let dir = TemporaryDirectory("cairn-ts-crash")
        defer { dir.remove() }
        var random = SplitMix(seed: 1616)
        var acknowledged = 0
        var killedWithChunksApart = 0
        let rounds = 6
        for round in 0..<rounds {
            let acks = try runKilledChild(test: "CairnTests.TimeSeriesCrashTests/testChildWritesAndPacksUntilKilled",
                                          environment: [Self.childDirectory: dir.path, Self.childRound: String(round)],
                                          round: round, killAfterMicros: 50_000 + UInt32(random.next() % 300_000))
            acknowledged += acks.count
            let db = try Database.open(path: dir.path)
            defer { try? db.close() }
            try db.setMaintenanceInterval(millis: 0)
            let ids = try Self.ids(db)
            // Acknowledged: every series has every point of this round up to the last ack.
            let ackedUpTo = acks.compactMap { Int64($0) }.max()
            for pass in 0..<2 {
                let view = try db.engine.readView()
                var newestByRange: [UInt64: Int64] = [:]
                for (s, id) in ids.enumerated() {
                    let reader = try SeriesReader(database: db, view: view, id: id, start: TimeSeriesFormat.minTime, end: TimeSeriesFormat.maxTime + 1)
                    var times: [Int64] = []
                    while try reader.nextBucket() {
                        for (t, v) in zip(reader.times, reader.values) {
                            times.append(t)
                            XCTAssertEqual(Double(bitPattern: v), Self.value(series: s, t: t), "round \(round) series \(s) t \(t)")
                        }
                    }
                    newestByRange[id] = times.last
                    if let ackedUpTo {
                        let wanted = Set(stride(from: Self.start(round: round), through: ackedUpTo, by: 10_000))
                        XCTAssertTrue(wanted.isSubset(of: Set(times)), "round \(round) series \(s): acknowledged points are missing")
                    }
                }
                // Form-3 keys and bodies pair up.
                var apart: Set<[UInt8]> = [], bodies: Set<[UInt8]> = []
                try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.chunks], view: view) { key, _ in
                    let p = TimeSeriesFormat.parseChunkKey(key)!
                    if p.form == TimeSeriesFormat.packedApart { apart.insert(TimeSeriesFormat.bodyKey(p.id, p.bucket, sequence: p.sequence)) }
                }
                try db.forEachKey(prefix: [Namespace.timeSeries.rawValue, TimeSeriesFormat.bodies], view: view) { key, _ in bodies.insert(Array(key)) }
                XCTAssertEqual(apart, bodies, "round \(round): form-3 keys and bodies")
                if pass == 0 && !apart.isEmpty { killedWithChunksApart += 1 }
                // The newest point of every series is its range's last.
                let cursor = try Array("{}".utf8).withUnsafeBytes { try db.timeSeriesLast(queryJSON: $0) }
                var newest: [UInt64: Int64] = [:]
                while try cursor.next() {
                    guard case .object(let members) = try JSONValue.parse(cursor.json) else { continue }
                    let row = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    if case .int(let id)? = row["id"], case .int(let t)? = row["t"] { newest[UInt64(id)] = t }
                }
                XCTAssertEqual(newest, newestByRange.compactMapValues { $0 }, "round \(round): newest points")
                // Again after a compaction.
                _ = try db.compactTimeSeries()
            }
        }
        XCTAssertGreaterThan(acknowledged, rounds, "the writer made progress before the kills")
        XCTAssertGreaterThan(killedWithChunksApart, 0, "the child packed chunks apart before a kill")
    }

    /// The child's side: writes and packs until killed. Skipped in a normal run.
    func testChildWritesAndPacksUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectory],
              let round = ProcessInfo.processInfo.environment[Self.childRound].flatMap(Int.init) else {
            throw XCTSkip("runs only as the child of testPointsAndPackedChunksSurviveSIGKILL")
        }
        var options = DatabaseOptions()
        options.sync = .always
        options.memtableSizeMB = 1
        let db = try Database.open(path: path, options: options)
        try db.setMaintenanceInterval(millis: 0)
        let ids = try Self.ids(db)
        func say(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        var random = SplitMix(seed: UInt64(round) &* 7919 &+ 3)
        var clock = Self.start(round: round)
        say("ready")
        while true {
            // 1 to 90 steps of every series, in one batch.
            var bid: [UInt64] = [], bt: [Int64] = [], bv: [Double] = []
            let steps = 1 + Int(random.next() % 90)
            for _ in 0..<steps {
                for (s, id) in ids.enumerated() {
                    bid.append(id)
                    bt.append(clock)
                    bv.append(Self.value(series: s, t: clock))
                }
                clock += 10_000
            }
            try db.writeFloatPoints(ids: bid, times: bt, values: bv, count: bid.count)
            say("ack \(clock - 10_000)")
            switch random.next() % 6 {
            case 0: _ = try db.compactTimeSeries()
            case 1, 2:
                let id = ids[Int(random.next() % UInt64(ids.count))]
                try db.packBucket(id: id, bucket: TimeSeriesFormat.bucket(of: clock - 10_000) - Int64(random.next() % 2) * TimeSeriesFormat.bucketMillis,
                                  whole: random.next() % 2 == 0)
            default: break
            }
        }
    }
}
