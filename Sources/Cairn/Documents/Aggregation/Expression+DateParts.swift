/// $dateFromParts and $dateToParts: a date from calendar parts (or ISO
/// week-date parts) and back. As in MongoDB, a part outside its usual range
/// carries into the next larger one (month 14 is February of the next
/// year, hour -1 the last hour of the day before); each part is limited to
/// -32768...32767 and the year to 1...9999, so the arithmetic stays far
/// inside Int64, and the final date is built with checked operations.
extension Expression {
    private static let calendarParts = ["year", "month", "day", "hour", "minute", "second", "millisecond"]

    static func dateParts(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        let name = op.rawValue
        if op == .dateToParts {
            guard let utc = try date(values[0], name) else { return .null }
            guard let offset = try TimeZoneOffset.argument(values[1], name) else { return .null }
            var iso = false
            switch values[2] {
            case nil, .null?: break
            case .bool(let flag)?: iso = flag
            case let other?: throw CairnError.invalidArgument("$dateToParts: iso8601 must be a bool, not \(other.typeName)")
            }
            let (local, overflow) = utc.addingReportingOverflow(offset)
            guard !overflow else { throw CairnError.invalidArgument("$dateToParts: the date is out of range in this timezone") }
            let time = CivilTime(milliseconds: local)
            let clock: [(key: String, value: MutableValue)] = [("hour", .int(Int64(time.hour))), ("minute", .int(Int64(time.minute))),
                                                              ("second", .int(Int64(time.second))), ("millisecond", .int(Int64(time.millisecond)))]
            if iso {
                let (week, year) = time.isoWeekAndYear
                return .object([("isoWeekYear", .int(year)), ("isoWeek", .int(Int64(week))), ("isoDayOfWeek", .int(Int64(time.isoDayOfWeek)))] + clock)
            }
            return .object([("year", .int(time.year)), ("month", .int(Int64(time.month))), ("day", .int(Int64(time.day)))] + clock)
        }
        // $dateFromParts: values follow the names of Operator.namedArguments.
        let calendar = values[0...6], isoParts = values[7...9]
        let usesCalendar = calendar.contains { $0 != nil }, usesISO = isoParts.contains { $0 != nil }
        guard usesCalendar != usesISO, usesISO ? values[7] != nil : values[0] != nil else {
            throw CairnError.invalidArgument("$dateFromParts needs year (with month, day, ...) or isoWeekYear (with isoWeek, isoDayOfWeek), not both")
        }
        var parts: [Int64] = []
        for (index, value) in values[0...9].enumerated() {
            let partName = index < 7 ? calendarParts[index] : ["isoWeekYear", "isoWeek", "isoDayOfWeek"][index - 7]
            switch value {
            case nil: parts.append(index == 1 || index == 2 || index >= 8 ? 1 : 0)
            case .null?: return .null
            case let given?:
                guard let n = try integer(given, op, partName) else { return .null }
                let range: ClosedRange<Int64> = index == 0 || index == 7 ? 1...9999 : -32768...32767
                guard range.contains(n) else {
                    throw CairnError.invalidArgument("$dateFromParts: \(partName) must be in \(range.lowerBound)...\(range.upperBound), not \(n)")
                }
                parts.append(n)
            }
        }
        guard let offset = try TimeZoneOffset.argument(values[10], name) else { return .null }
        // Safe below: every part is within ±32768 and years within 1...9999.
        let days: Int64
        if usesISO {
            // Monday of ISO week 1 is the Monday on or before January 4.
            let january4 = CivilTime.days(year: parts[7], month: 1, day: 4)
            let weekday = CivilTime.floorDivision(january4 + 3, 7).1  // 0 = Monday (day 0 was a Thursday)
            days = january4 - weekday + (parts[8] - 1) * 7 + (parts[9] - 1)
        } else {
            let (year, month) = CivilTime.floorDivision(parts[0] * 12 + parts[1] - 1, 12)
            days = CivilTime.days(year: year, month: Int(month) + 1, day: 1) + parts[2] - 1
        }
        let time = ((parts[3] * 60 + parts[4]) * 60 + parts[5]) * 1000 + parts[6]
        let (dayPart, o1) = days.multipliedReportingOverflow(by: CivilTime.millisecondsPerDay)
        let (local, o2) = dayPart.addingReportingOverflow(time)
        let (utc, o3) = local.subtractingReportingOverflow(offset)
        guard !o1, !o2, !o3 else { throw CairnError.invalidArgument("$dateFromParts: the date would be out of range") }
        return .date(utc)
    }
}
