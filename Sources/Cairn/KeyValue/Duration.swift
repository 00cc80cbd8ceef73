/// Durations as every binding accepts them for TTLs: a positive whole number
/// and one unit, "500ms", "30s", "5m", "1h", "2d", "1w"; a bare number is
/// milliseconds. Parsed here, once, so Python and Go mean the same thing.
public enum Duration {
    private static let units: [(suffix: String, millis: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
    ]

    /// Milliseconds in `text`. Throws INVALID_ARGUMENT naming the problem.
    public static func milliseconds(in text: String) throws -> Int64 {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        guard !text.isEmpty else { throw CairnError.invalidArgument("empty duration") }
        guard !digits.isEmpty else {
            throw CairnError.invalidArgument("duration '\(text)' must start with a positive whole number")
        }
        let multiplier: Int64
        if unit.isEmpty {
            multiplier = 1
        } else if let match = units.first(where: { $0.suffix == unit }) {
            multiplier = match.millis
        } else {
            throw CairnError.invalidArgument("duration '\(text)' has an unknown unit '\(unit)' (use ms, s, m, h, d or w)")
        }
        guard let count = Int64(digits) else { throw CairnError.invalidArgument("duration '\(text)' is too large") }
        guard count > 0 else { throw CairnError.invalidArgument("duration '\(text)' must be positive") }
        let (millis, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw CairnError.invalidArgument("duration '\(text)' is too large") }
        return millis
    }
}
