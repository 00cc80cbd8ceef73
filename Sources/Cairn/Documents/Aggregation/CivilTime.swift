/// Calendar arithmetic for the date operators, without Foundation: a date
/// is milliseconds since the Unix epoch (UTC), and its civil form
/// (proleptic Gregorian year, month, day, time of day) comes from Howard
/// Hinnant's days-from-civil and civil-from-days algorithms
/// (http://howardhinnant.github.io/date_algorithms.html), as in ISO8601.
///
/// Time zones are fixed offsets only ("UTC", "Z", "+02:00", "-0530"):
/// local time is UTC plus the offset. Olson names ("Europe/Paris") would
/// need the tz database and its DST rules, which the library does not
/// carry; they are INVALID_ARGUMENT naming the zone.
///
/// Ranges: every Int64 of milliseconds has a civil form (about ±292
/// million years); the other way, years are kept within ±300 million
/// (`maxYear`) before any multiplication, so nothing overflows, and the
/// final milliseconds are built with checked arithmetic.
struct CivilTime {
    var year: Int64
    var month: Int  // 1...12
    var day: Int  // 1...31
    var hour = 0, minute = 0, second = 0, millisecond = 0

    static let millisecondsPerDay: Int64 = 86_400_000
    static let maxYear: Int64 = 300_000_000

    init(year: Int64, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    /// The civil form of `local` (milliseconds since the epoch, already
    /// moved by the time zone's offset). Total: floor divisions by
    /// quotient and remainder cannot overflow.
    init(milliseconds local: Int64) {
        let (days, rest) = CivilTime.floorDivision(local, CivilTime.millisecondsPerDay)
        let (y, m, d) = CivilTime.civil(fromDays: days)
        self.init(year: y, month: m, day: d)
        let time = Int(rest)
        hour = time / 3_600_000
        minute = time / 60_000 % 60
        second = time / 1000 % 60
        millisecond = time % 1000
    }

    /// Days since 1970-01-01 of this date.
    var days: Int64 { CivilTime.days(year: year, month: month, day: day) }

    /// Milliseconds since the epoch of this civil time, or nil out of range.
    var milliseconds: Int64? {
        guard year >= -CivilTime.maxYear, year <= CivilTime.maxYear else { return nil }
        let (dayPart, o1) = days.multipliedReportingOverflow(by: CivilTime.millisecondsPerDay)
        let time = Int64(((hour * 60 + minute) * 60 + second) * 1000 + millisecond)
        let (total, o2) = dayPart.addingReportingOverflow(time)
        return o1 || o2 ? nil : total
    }

    /// REQUIRES: |year| <= maxYear (so era * 146,097 stays far from overflow).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number; total for every day an Int64 of
    /// milliseconds can reach (|days| < 1.1e11).
    static func civil(fromDays value: Int64) -> (Int64, Int, Int) {
        let z = value + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysInMonth(_ year: Int64, _ month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Floor division and its non-negative remainder, for a positive
    /// divisor: never overflows (quotientAndRemainder cannot for d > 0).
    static func floorDivision(_ n: Int64, _ d: Int64) -> (Int64, Int64) {
        let (q, r) = n.quotientAndRemainder(dividingBy: d)
        return r < 0 ? (q - 1, r + d) : (q, r)  // Safe: q > Int64.min / d here, r + d in 0..<d
    }

    /// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
    var weekdayFromSunday: Int { Int(CivilTime.floorDivision(days + 4, 7).1) }
    /// MongoDB's $dayOfWeek: 1 = Sunday ... 7 = Saturday.
    var dayOfWeek: Int { weekdayFromSunday + 1 }
    /// ISO 8601: 1 = Monday ... 7 = Sunday.
    var isoDayOfWeek: Int { weekdayFromSunday == 0 ? 7 : weekdayFromSunday }
    /// 1...366.
    var dayOfYear: Int { Int(days - CivilTime.days(year: year, month: 1, day: 1)) + 1 }
    /// strftime's %U: weeks start on Sunday; days before the year's first
    /// Sunday are in week 0.
    var week: Int { (dayOfYear - 1 + 7 - weekdayFromSunday) / 7 }

    /// The ISO 8601 week-numbering year and week: the week (Monday to
    /// Sunday) belongs to the year of its Thursday.
    var isoWeekAndYear: (week: Int, year: Int64) {
        let thursday = days - Int64(isoDayOfWeek - 1) + 3
        let (year, _, _) = CivilTime.civil(fromDays: thursday)
        let dayOfYear = thursday - CivilTime.days(year: year, month: 1, day: 1)
        return (Int(dayOfYear / 7) + 1, year)
    }
}

/// A fixed time-zone offset, parsed from MongoDB's timezone argument.
enum TimeZoneOffset {
    /// The offset in milliseconds of "UTC", "GMT", "Z", "+hh", "+hhmm" or
    /// "+hh:mm" (or "-..."). Olson names are refused, naming the zone.
    static func milliseconds(_ text: [UInt8], _ op: String) throws -> Int64 {
        let name = String(decoding: text, as: UTF8.self)
        if name == "UTC" || name == "GMT" || name == "Z" || name == "Etc/UTC" || name == "Etc/GMT" { return 0 }
        guard let sign = text.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
            throw CairnError.invalidArgument("\(op): timezone '\(name)' is not supported: use \"UTC\" or an offset such as \"+02:00\" (named zones are not supported)")
        }
        var digits = Array(text.dropFirst())
        if digits.count == 5, digits[2] == UInt8(ascii: ":") { digits.remove(at: 2) }
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw CairnError.invalidArgument("\(op): timezone '\(name)' is not a UTC offset such as \"+02:00\" or \"-0530\"")
        }
        let hours = Int64(digits[0] - 0x30) * 10 + Int64(digits[1] - 0x30)
        let minutes = digits.count == 4 ? Int64(digits[2] - 0x30) * 10 + Int64(digits[3] - 0x30) : 0
        guard hours <= 23, minutes <= 59 else { throw CairnError.invalidArgument("\(op): timezone '\(name)' is out of range") }
        let offset = (hours * 60 + minutes) * 60_000
        return sign == UInt8(ascii: "-") ? -offset : offset
    }

    /// The argument of an operator's `timezone`: 0 when absent; nil when
    /// it is null (the operator's result is then null).
    static func argument(_ value: MutableValue?, _ op: String) throws -> Int64? {
        switch value {
        case nil: return 0
        case .null?: return nil
        case .string(let text)?: return try milliseconds(text, op)
        case let other?: throw CairnError.invalidArgument("\(op): timezone must be a string, not \(other.typeName)")
        }
    }
}
