import Foundation
@testable import Cairn

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "cairn-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension DatabaseOptions {
    /// 1 MiB memtables, 1 KiB blocks and sync "never": flushes, compactions
    /// and many tables from little data, as the storage tests need.
    static var smallTables: DatabaseOptions {
        var options = DatabaseOptions()
        options.sync = .never
        options.memtableSizeMB = 1
        options.blockSize = 1024
        return options
    }
}

extension Array where Element == UInt8 {
    init(_ text: String) { self = Array(text.utf8) }
}

/// Runs `body` and returns the status code it ends with (OK when it returns).
func status(_ body: () throws -> Void) -> StatusCode {
    do {
        try body()
        return .ok
    } catch let error as CairnError {
        return error.code
    } catch {
        return .internal
    }
}

/// A deterministic generator (SplitMix64), so a failing randomized test can
/// be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
