import Foundation
import XCTest
@testable import Cairn

/// Read-only and secondary opens (StorageEngine+Follower.swift), the lock
/// timeout and the BUSY message.
final class FollowerTests: XCTestCase {
    private func key(_ i: Int) -> [UInt8] { Array("key\(String(format: "%08d", i))".utf8) }
    private func value(_ i: Int) -> [UInt8] { Array("value-\(i)".utf8) }

    private func options(readOnly: Bool = false, secondary: Bool = false) -> DatabaseOptions {
        var options = DatabaseOptions.smallTables
        options.readOnly = readOnly
        options.secondary = secondary
        return options
    }

    func testReadOnlyOpenBesideTheWriterSeesTheStateAsOfOpenAndRefusesWrites() throws {
        let dir = TemporaryDirectory("cairn-follower")
        defer { dir.remove() }
        let writer = try Database.open(path: dir.path, options: .smallTables)
        defer { try? writer.close() }
        for i in 0..<10_000 { try writer.put(key(i), value(i)) }
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let reader = try Database.open(path: dir.path, options: options(readOnly: true))
        XCTAssertTrue(reader.isReadOnly)
        XCTAssertEqual(try reader.get(key(9_999)), value(9_999))
        try writer.put(key(10_000), value(10_000))
        XCTAssertNil(try reader.get(key(10_000)), "the state as of open")
        XCTAssertEqual(status { try reader.put(key(1), value(2)) }, .readOnly)
        XCTAssertEqual(status { try reader.flush() }, .readOnly)
        XCTAssertEqual(status { _ = try Array(#"{"a": 1}"#.utf8).withUnsafeBytes { try reader.insertOne(into: "c", json: $0) } }, .readOnly)
        XCTAssertEqual(status { try reader.catchUp() }, .invalidArgument)
        XCTAssertEqual(status { try reader.checkpoint(to: dir.path + "-cp") }, .invalidArgument)
        try reader.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), before, "a read-only open creates no file")
    }

    func testReadOnlyOpenOfAClosedDatabaseChangesNothing() throws {
        let dir = TemporaryDirectory("cairn-follower")
        defer { dir.remove() }
        let writer = try Database.open(path: dir.path + "/db", options: .smallTables)
        for i in 0..<3000 { try writer.put(key(i), value(i)) }
        try writer.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/db").sorted()
        var stamps: [String: Date] = [:]
        for name in files { stamps[name] = try FileManager.default.attributesOfItem(atPath: dir.path + "/db/" + name)[.modificationDate] as? Date }
        let reader = try Database.open(path: dir.path + "/db", options: options(readOnly: true))
        XCTAssertEqual(try reader.get(key(2999)), value(2999))
        try reader.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/db").sorted(), files)
        for name in files {
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dir.path + "/db/" + name)[.modificationDate] as? Date, stamps[name], name)
        }
        XCTAssertEqual(status { _ = try Database.open(path: dir.path + "/none", options: options(readOnly: true)) }, .notFound)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/none"))
    }

    /// A file system that refuses every change (EROFS), as a read-only
    /// mount does, even to root: a read-only open works on it, a writer does not.
    func testReadOnlyOpenOnAReadOnlyFileSystem() throws {
        let dir = TemporaryDirectory("cairn-follower")
        defer { dir.remove() }
        let writer = try Database.open(path: dir.path, options: .smallTables)
        for i in 0..<3000 { try writer.put(key(i), value(i)) }
        try writer.close()
        let env = ReadOnlyFileSystemEnv()
        let reader = try Database.open(path: dir.path, options: options(readOnly: true), env: env)
        XCTAssertEqual(try reader.get(key(2999)), value(2999))
        try reader.close()
        let secondary = try Database.open(path: dir.path, options: options(secondary: true), env: env)
        XCTAssertEqual(try secondary.catchUp(), 3000)
        try secondary.close()
        XCTAssertEqual(env.refused.value, 0, "a follower tried to change the file system")
        XCTAssertNotEqual(status { _ = try Database.open(path: dir.path, options: .smallTables, env: env) }, .ok)
        XCTAssertGreaterThan(env.refused.value, 0)
    }

    func testSecondaryCatchesUpThroughFlushesAndCompactions() throws {
        let dir = TemporaryDirectory("cairn-follower")
        defer { dir.remove() }
        let writer = try Database.open(path: dir.path, options: .smallTables)
        defer { try? writer.close() }
        for i in 0..<5000 { try writer.put(key(i), value(i)) }
        let secondary = try Database.open(path: dir.path, options: options(secondary: true))
        defer { try? secondary.close() }
        XCTAssertEqual(try secondary.get(key(4999)), value(4999))
        for i in 5000..<30_000 { try writer.put(key(i), value(i)) }
        try writer.compactRange()  // deletes every table the secondary opened
        for i in 0..<100 { try writer.delete(key(i)) }
        // Before catching up: the old state, from tables the writer deleted.
        XCTAssertEqual(try secondary.get(key(10)), value(10))
        XCTAssertNil(try secondary.get(key(29_999)))
        let sequence = try secondary.catchUp()
        XCTAssertEqual(sequence, 30_100)
        XCTAssertNil(try secondary.get(key(10)))
        XCTAssertEqual(try secondary.get(key(29_999)), value(29_999))
        XCTAssertEqual(status { try secondary.put(key(1), value(1)) }, .readOnly)
        // Collections created by the writer after the secondary opened.
        _ = try Array(#"{"_id": 1, "name": "ada"}"#.utf8).withUnsafeBytes { try writer.insertOne(into: "people", json: $0) }
        try secondary.catchUp()
        let found = try Array("1".utf8).withUnsafeBytes { try secondary.findByID(collection: "people", idJSON: $0) }
        XCTAssertNotNil(found)
    }

    func testBusyNamesTheHolderAndTheLockTimeoutWaits() throws {
        let dir = TemporaryDirectory("cairn-follower")
        defer { dir.remove() }
        let first = try Database.open(path: dir.path)
        do {
            _ = try Database.open(path: dir.path)
            XCTFail("a second writer must be BUSY")
        } catch let error as CairnError {
            XCTAssertEqual(error.code, .busy)
            XCTAssertTrue(error.message.contains("this process (pid \(getpid()))"), error.message)
        }
        var waiting = DatabaseOptions()
        waiting.lockTimeoutMillis = 100
        let start = Date()
        XCTAssertEqual(status { _ = try Database.open(path: dir.path, options: waiting) }, .busy)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.09)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { try? first.close() }
        waiting.lockTimeoutMillis = 5000
        let second = try Database.open(path: dir.path, options: waiting)
        try second.close()
        var both = DatabaseOptions()
        both.readOnly = true
        both.secondary = true
        XCTAssertEqual(status { _ = try Database.open(path: dir.path, options: both) }, .invalidArgument)
    }

    /// Another process writes; this one reads it read-only and as a
    /// secondary that catches up, and the BUSY message names the writer's PID.
    func testFollowersOfAWriterInAnotherProcess() throws {
        let dir = TemporaryDirectory("cairn-follower-process")
        defer { dir.remove() }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["CairnTests.FollowerTests/testChildWritesUntilKilled"]
        child.environment = ProcessInfo.processInfo.environment.merging(["CAIRN_FOLLOWER_DIRECTORY": dir.path]) { _, new in new }
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
        // Reads "ack N" lines: the writer has acknowledged keys 0..<N.
        var buffer = ""
        func acknowledged(atLeast wanted: Int) -> Int {
            var last = 0
            while last < wanted {
                let chunk = output.fileHandleForReading.availableData
                guard !chunk.isEmpty else { return last }
                buffer += String(decoding: chunk, as: UTF8.self)
                for line in buffer.split(separator: "\n") where line.hasPrefix("ack ") { last = max(last, Int(line.dropFirst(4)) ?? 0) }
            }
            return last
        }
        let first = acknowledged(atLeast: 2000)
        XCTAssertGreaterThanOrEqual(first, 2000)
        do {
            _ = try Database.open(path: dir.path)
            XCTFail("the writer holds the lock")
        } catch let error as CairnError {
            XCTAssertEqual(error.code, .busy)
            XCTAssertTrue(error.message.contains("another process (pid \(child.processIdentifier))"), error.message)
        }
        let reader = try Database.open(path: dir.path, options: options(readOnly: true))
        defer { try? reader.close() }
        XCTAssertEqual(try reader.get(key(first - 1)), value(first - 1))
        let secondary = try Database.open(path: dir.path, options: options(secondary: true))
        defer { try? secondary.close() }
        for _ in 0..<3 {
            let now = acknowledged(atLeast: first + 3000)
            let sequence = try secondary.catchUp()
            XCTAssertGreaterThanOrEqual(Int(sequence), now)
            XCTAssertEqual(try secondary.get(key(now - 1)), value(now - 1))
        }
    }

    /// The writer of testFollowersOfAWriterInAnotherProcess. Skipped in a normal run.
    func testChildWritesUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment["CAIRN_FOLLOWER_DIRECTORY"] else {
            throw XCTSkip("runs only as the child of testFollowersOfAWriterInAnotherProcess")
        }
        let db = try Database.open(path: path, options: .smallTables)
        var i = 0
        while true {
            try db.put(key(i), value(i))
            i += 1
            if i % 100 == 0 {
                let bytes = Array("ack \(i)\n".utf8)
                _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                usleep(200)
            }
        }
    }
}

/// PosixEnv for reading; every call that would change the file system
/// fails with EROFS and is counted.
final class ReadOnlyFileSystemEnv: Env, @unchecked Sendable {
    private let real = PosixEnv()
    let refused = SharedValue(0)

    private func refuse(_ operation: String, _ path: String) -> Error {
        refused.value += 1
        return ioError(operation, path, errno: EROFS)
    }

    func kind(of path: String) -> FileKind { real.kind(of: path) }
    func size(of path: String) -> UInt64? { real.size(of: path) }
    func createDirectory(_ path: String) throws { throw refuse("create directory", path) }
    func listDirectory(_ path: String) throws -> [String] { try real.listDirectory(path) }
    func openForReading(_ path: String) throws -> Cairn.FileHandle { try real.openForReading(path) }
    func mapForReading(_ file: Cairn.FileHandle, size: Int) -> MappedFile? { real.mapForReading(file, size: size) }
    func create(_ path: String) throws -> Cairn.FileHandle { throw refuse("create", path) }
    func rename(_ from: String, to: String) throws { throw refuse("rename", from) }
    func remove(_ path: String) throws { throw refuse("remove", path) }
    func syncDirectory(_ directory: String) throws { throw refuse("fsync directory", directory) }
    func lockFile(_ path: String) throws -> Cairn.FileHandle { throw refuse("open lock file", path) }
    func hardLink(_ from: String, to: String) throws -> Bool { throw refuse("link", from) }
    func removeDirectory(_ path: String) throws { throw refuse("remove directory", path) }
    func nowMillis() -> Int64 { real.nowMillis() }
    func monotonicNanoseconds() -> UInt64 { real.monotonicNanoseconds() }
    func startThread(_ body: @escaping @Sendable () -> Void) throws { try real.startThread(body) }
}
