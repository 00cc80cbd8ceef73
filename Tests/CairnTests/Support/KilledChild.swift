import Foundation
import XCTest

/// Runs one test of this test binary as a child process (the SIGKILL crash
/// tests' writer), with `environment` added to ours: waits until the child
/// prints "ready", lets it run `killAfterMicros`, kills it with SIGKILL, and
/// returns the text after "ack " of each line it printed (what it reported
/// as durable before it died). Fails the calling test when the child ends
/// before "ready" or dies of anything but the kill.
func runKilledChild(test: String, environment added: [String: String], round: Int,
                    killAfterMicros: UInt32) throws -> [String] {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = [test]
    child.environment = ProcessInfo.processInfo.environment.merging(added) { _, new in new }
    let output = Pipe()
    child.standardOutput = output
    child.standardError = FileHandle.nullDevice
    try child.run()
    var received = Data()
    while !String(decoding: received, as: UTF8.self).contains("ready\n") {
        let chunk = output.fileHandleForReading.availableData
        guard !chunk.isEmpty else {
            XCTFail("round \(round): the child ended before it was ready")
            return []
        }
        received.append(chunk)
    }
    usleep(killAfterMicros)
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    XCTAssertEqual(child.terminationReason, .uncaughtSignal, "round \(round): the child failed instead of being killed")
    received.append(output.fileHandleForReading.readDataToEndOfFile())
    return String(decoding: received, as: UTF8.self).split(separator: "\n").compactMap { line in
        line.hasPrefix("ack ") ? String(line.dropFirst(4)) : nil
    }
}
