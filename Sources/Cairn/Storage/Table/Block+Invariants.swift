/// Invariant walks of a block's restart array (BlockBuilder documents the
/// layout), compiled only with `-DCAIRN_INVARIANTS` (the test build; see
/// the Makefile's test-swift). Without the flag the checks are empty.
///
/// These are the builder's promises, not the reader's assumptions: a block
/// read from a file is untrusted, and a bad restart array there is
/// CORRUPTION (Block, BlockIterator), never a trap. So the production call
/// is in BlockBuilder.finish, on blocks we made ourselves.
///
/// The invariants:
///  1. The restart count is at least 1 and the array fits in the block.
///  2. The first restart is at offset 0, and the offsets strictly increase.
///  3. Every restart is inside the entries (before the restart array), or
///     the block has no entries and its one restart is 0.
///  4. The entry at each restart stores its key whole (shared length 0),
///     which binary search over restart keys relies on.
extension Block {
    /// Stops the process when the restart array of the finished block
    /// `bytes` breaks an invariant; does nothing unless built with
    /// CAIRN_INVARIANTS. O(restarts) when it runs.
    @inline(__always)
    static func checkRestartArray(_ bytes: [UInt8]) {
        #if CAIRN_INVARIANTS
        let violations = bytes.withUnsafeBytes { restartArrayViolations($0) }
        precondition(violations.isEmpty, "block invariants: \(violations.prefix(5).joined(separator: "; "))")
        #endif
    }

    #if CAIRN_INVARIANTS
    /// Every violated restart-array invariant of the block `bytes`, described.
    static func restartArrayViolations(_ bytes: UnsafeRawBufferPointer) -> [String] {
        guard bytes.count >= 4 else { return ["block of \(bytes.count) bytes has no restart count"] }
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)))
        guard count >= 1, count <= (bytes.count - 4) / 4 else { return ["restart count \(count) does not fit a block of \(bytes.count) bytes"] }
        // Safe: count * 4 <= bytes.count - 4 was checked just above.
        let restartsOffset = bytes.count - 4 - count * 4
        func restart(_ index: Int) -> Int {
            Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: restartsOffset + index * 4, as: UInt32.self)))
        }
        var violations: [String] = []
        if restart(0) != 0 { violations.append("the first restart is at \(restart(0)), not 0") }
        if restartsOffset == 0 {
            if count != 1 { violations.append("a block without entries has \(count) restarts") }
            return violations
        }
        for index in 0..<count {
            let offset = restart(index)
            if index > 0 && offset <= restart(index - 1) {
                violations.append("restart \(index) at \(offset) does not follow restart \(index - 1) at \(restart(index - 1))")
            }
            guard offset < restartsOffset else {
                violations.append("restart \(index) at \(offset) is outside the entries (which end at \(restartsOffset))")
                continue
            }
            // The first varint of the entry is its shared length; 0 is one byte.
            if bytes[offset] != 0 { violations.append("the entry at restart \(index) shares a prefix with the one before") }
        }
        return violations
    }

    /// Every violated invariant of this block's restart array, described.
    func restartArrayViolations() -> [String] { Block.restartArrayViolations(bytes) }
    #endif
}
