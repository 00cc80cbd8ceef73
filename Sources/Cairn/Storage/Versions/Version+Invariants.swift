/// Invariant walks of a version's levels (Version documents them). Recovery
/// checks every manifest it reads with `invariantViolations(levels:)`, so a
/// manifest that breaks them is CORRUPTION, never a version. The trap in
/// `checkInvariants()` is compiled only with `-DCAIRN_INVARIANTS` (the test
/// build; see the Makefile's test-swift) and is then reachable only by our
/// own bugs; without the flag it is empty, so Version.init calls it for free.
///
/// The invariants:
///  1. There are `Version.levelCount` levels.
///  2. Every table's smallest user key is <= its largest, and its smallest
///     sequence <= its largest.
///  3. Level 0 is newest first: largest sequences do not increase (reads
///     take the first level-0 table holding a key as the newest).
///  4. Levels 1 and up are sorted by key and do not overlap: each table's
///     largest user key is strictly below the next table's smallest, since
///     every version of a user key lives in one table of a level (binary
///     search in `file(at:containing:)` relies on it).
///  5. No table number appears twice in the version.
extension Version {
    /// Stops the process when an invariant does not hold; does nothing
    /// unless built with CAIRN_INVARIANTS. O(tables) when it runs.
    @inline(__always)
    func checkInvariants() {
        #if CAIRN_INVARIANTS
        let violations = Version.invariantViolations(levels: levels)
        precondition(violations.isEmpty, "version invariants: \(violations.prefix(5).joined(separator: "; "))")
        #endif
    }

    /// Every violated invariant of a version made of `levels`, described;
    /// static so that tests can check levels no Version would accept.
    static func invariantViolations(levels: [[TableFile]]) -> [String] {
        var violations: [String] = []
        if levels.count != levelCount { violations.append("\(levels.count) levels, not \(levelCount)") }
        var numbers = Set<UInt64>()
        for (level, files) in levels.enumerated() {
            for file in files {
                if !numbers.insert(file.number).inserted { violations.append("table \(file.number) appears twice") }
                if file.largestUserKey.lexicographicallyPrecedes(file.smallestUserKey) {
                    violations.append("table \(file.number) at level \(level): smallest key after its largest")
                }
                if file.smallestSequence > file.largestSequence {
                    violations.append("table \(file.number) at level \(level): smallest sequence after its largest")
                }
            }
            for (a, b) in zip(files, files.dropFirst()) {
                if level == 0 {
                    if a.largestSequence < b.largestSequence {
                        violations.append("level 0: table \(a.number) is before the newer table \(b.number)")
                    }
                } else if !a.largestUserKey.lexicographicallyPrecedes(b.smallestUserKey) {
                    violations.append("level \(level): table \(a.number) overlaps or follows table \(b.number)")
                }
            }
        }
        return violations
    }

    /// Every violated invariant of this version, described.
    func invariantViolations() -> [String] { Version.invariantViolations(levels: levels) }
}
