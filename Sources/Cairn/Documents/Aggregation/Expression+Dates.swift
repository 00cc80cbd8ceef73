/// Dates: the parts ($year ... $isoDayOfWeek, each with an optional
/// timezone), $dateToString, $dateFromString, $dateTrunc, $dateAdd,
/// $dateSubtract and $dateDiff. Calendar math is CivilTime's; time zones
/// are fixed offsets (TimeZoneOffset). A null or missing date gives null;
/// a result outside the range of dates is INVALID_ARGUMENT naming the
/// operator.
extension Expression {
    enum DateUnit: String {
        case year, quarter, month, week, day, hour, minute, second, millisecond

        /// The length of the fixed units; nil for the calendar ones.
        var milliseconds: Int64? {
            switch self {
            case .week: return 7 * CivilTime.millisecondsPerDay
            case .day: return CivilTime.millisecondsPerDay
            case .hour: return 3_600_000
            case .minute: return 60_000
            case .second: return 1000
            case .millisecond: return 1
            case .year, .quarter, .month: return nil
            }
        }

        var months: Int64 { self == .year ? 12 : self == .quarter ? 3 : 1 }
    }

    static func dates(_ op: Operator, _ values: [MutableValue?]) throws -> MutableValue? {
        let name = op.rawValue
        switch op {
        case .dateToString:
            guard let utc = try date(values[0], name) else { return values[3] ?? .null }
            guard let offset = try TimeZoneOffset.argument(values[2], name) else { return .null }
            var format = DateFormat.defaultFormat
            switch values[1] {
            case nil: break
            case .null?: return .null
            case .string(let utf8)?: format = utf8
            case let other?: throw CairnError.invalidArgument("$dateToString: format must be a string, not \(other.typeName)")
            }
            return string(try DateFormat.string(utc, offset: offset, format: format, name))
        case .dateTrunc:
            guard let utc = try date(values[0], name), let unit = try unit(values[1], name) else { return .null }
            guard let offset = try TimeZoneOffset.argument(values[3], name) else { return .null }
            var binSize: Int64 = 1
            if let given = values[2] {
                guard let n = try integer(given, op, "binSize") else { return .null }
                guard n >= 1 else { throw CairnError.invalidArgument("$dateTrunc: binSize must be a positive integer") }
                binSize = n
            }
            let startOfWeek = try weekStart(values[4], name)
            return .date(try truncate(utc, unit: unit, binSize: binSize, offset: offset, startOfWeek: startOfWeek))
        case .dateAdd, .dateSubtract:
            guard let utc = try date(values[0], name), let unit = try unit(values[1], name) else { return .null }
            guard var amount = try integer(values[2], op, "amount") else { return .null }
            guard let offset = try TimeZoneOffset.argument(values[3], name) else { return .null }
            if op == .dateSubtract {
                guard amount != .min else { throw CairnError.invalidArgument("$dateSubtract: the date would be out of range") }
                amount = -amount
            }
            return .date(try add(amount, unit, to: utc, offset: offset, name))
        case .dateDiff:
            guard let start = try date(values[0], name), let end = try date(values[1], name), let unit = try unit(values[2], name) else {
                return .null
            }
            guard let offset = try TimeZoneOffset.argument(values[3], name) else { return .null }
            let startOfWeek = try weekStart(values[4], name)
            return .int(try difference(from: start, to: end, unit: unit, offset: offset, startOfWeek: startOfWeek))
        default:
            // The parts: [date] or [date, timezone].
            guard let utc = try date(values[0], name) else { return .null }
            guard let offset = try TimeZoneOffset.argument(values.count > 1 ? values[1] : nil, name) else { return .null }
            let time = try local(utc, offset, name)
            let part: Int64
            switch op {
            case .year: part = time.year
            case .month: part = Int64(time.month)
            case .dayOfMonth: part = Int64(time.day)
            case .hour: part = Int64(time.hour)
            case .minute: part = Int64(time.minute)
            case .second: part = Int64(time.second)
            case .millisecond: part = Int64(time.millisecond)
            case .dayOfWeek: part = Int64(time.dayOfWeek)
            case .dayOfYear: part = Int64(time.dayOfYear)
            case .week: part = Int64(time.week)
            case .isoWeek: part = Int64(time.isoWeekAndYear.week)
            case .isoWeekYear: part = time.isoWeekAndYear.year
            case .isoDayOfWeek: part = Int64(time.isoDayOfWeek)
            default: throw CairnError(.internal, "\(name) is not a date operator")
            }
            return .int(part)
        }
    }

    /// A value that must be a date; nil for null or missing.
    static func date(_ value: MutableValue?, _ op: String) throws -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .date(let ms)?: return ms
        case let other?: throw CairnError.invalidArgument("\(op) needs a date, not \(other.typeName)")
        }
    }

    private static func unit(_ value: MutableValue?, _ op: String) throws -> DateUnit? {
        switch value {
        case nil, .null?: return nil
        case .string(let utf8)?:
            guard let unit = DateUnit(rawValue: text(utf8)) else {
                throw CairnError.invalidArgument("\(op): unknown unit '\(text(utf8))' (known: year, quarter, month, week, day, hour, minute, second, millisecond)")
            }
            return unit
        case let other?: throw CairnError.invalidArgument("\(op): unit must be a string, not \(other.typeName)")
        }
    }

    /// startOfWeek as 0 = Sunday ... 6 = Saturday (default Sunday).
    private static func weekStart(_ value: MutableValue?, _ op: String) throws -> Int {
        guard let value else { return 0 }
        guard case .string(let utf8) = value else { throw CairnError.invalidArgument("\(op): startOfWeek must be a day name") }
        let days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        let name = text(utf8).lowercased()
        guard let index = days.firstIndex(where: { $0 == name || $0.prefix(3) == name }) else {
            throw CairnError.invalidArgument("\(op): startOfWeek '\(text(utf8))' is not a day of the week")
        }
        return index
    }

    private static func local(_ utc: Int64, _ offset: Int64, _ op: String) throws -> CivilTime {
        CivilTime(milliseconds: try shiftedLocal(utc, offset, op))
    }

    private static func shiftedLocal(_ utc: Int64, _ offset: Int64, _ op: String) throws -> Int64 {
        let (local, overflow) = utc.addingReportingOverflow(offset)
        guard !overflow else { throw CairnError.invalidArgument("\(op): the date is out of range in this timezone") }
        return local
    }

    /// Local milliseconds back to UTC, or the operator's range error.
    private static func utc(_ local: Int64?, _ offset: Int64, _ op: String) throws -> Int64 {
        guard let local else { throw CairnError.invalidArgument("\(op): the date would be out of range") }
        let (result, overflow) = local.subtractingReportingOverflow(offset)
        guard !overflow else { throw CairnError.invalidArgument("\(op): the date would be out of range") }
        return result
    }

    /// The day number of the first day of the week containing `days`, for
    /// weeks starting on `startOfWeek` (0 = Sunday).
    private static func weekIndex(_ days: Int64, startOfWeek: Int) -> Int64 {
        // Day 0 (1970-01-01) was a Thursday (4): the days whose weekday is
        // startOfWeek are those ≡ startOfWeek - 4 (mod 7).
        CivilTime.floorDivision(days - Int64(startOfWeek - 4), 7).0
    }

    static func add(_ amount: Int64, _ unit: DateUnit, to start: Int64, offset: Int64, _ op: String) throws -> Int64 {
        let outOfRange = CairnError.invalidArgument("\(op): the date would be out of range")
        if let length = unit.milliseconds {
            let (delta, o1) = amount.multipliedReportingOverflow(by: length)
            let (result, o2) = start.addingReportingOverflow(delta)
            guard !o1, !o2 else { throw outOfRange }
            return result
        }
        // Calendar units move the local month and keep the day, clamped to
        // the new month's length (January 31 + 1 month is February 28 or 29).
        var time = try local(start, offset, op)
        let (months, o1) = amount.multipliedReportingOverflow(by: unit.months)
        let (index, o2) = (time.year * 12 + Int64(time.month - 1)).addingReportingOverflow(months)  // Safe: |year| < 3e8
        guard !o1, !o2 else { throw outOfRange }
        let (year, month) = CivilTime.floorDivision(index, 12)
        guard year >= -CivilTime.maxYear, year <= CivilTime.maxYear else { throw outOfRange }
        time.year = year
        time.month = Int(month) + 1
        time.day = Swift.min(time.day, CivilTime.daysInMonth(year, time.month))
        return try utc(time.milliseconds, offset, op)
    }

    static func difference(from start: Int64, to end: Int64, unit: DateUnit, offset: Int64, startOfWeek: Int) throws -> Int64 {
        let op = "$dateDiff"
        if unit == .millisecond {
            let (result, overflow) = end.subtractingReportingOverflow(start)
            guard !overflow else { throw CairnError.invalidArgument("$dateDiff: the difference is out of range") }
            return result
        }
        let a = try shiftedLocal(start, offset, op), b = try shiftedLocal(end, offset, op)
        // The differences below are of values far inside Int64 (day numbers,
        // months, quotients by at least 1000), so they cannot overflow.
        switch unit {
        case .second, .minute, .hour, .day:
            let length = unit.milliseconds ?? 1
            return CivilTime.floorDivision(b, length).0 - CivilTime.floorDivision(a, length).0
        case .week:
            let da = CivilTime.floorDivision(a, CivilTime.millisecondsPerDay).0, db = CivilTime.floorDivision(b, CivilTime.millisecondsPerDay).0
            return weekIndex(db, startOfWeek: startOfWeek) - weekIndex(da, startOfWeek: startOfWeek)
        default:
            let ta = CivilTime(milliseconds: a), tb = CivilTime(milliseconds: b)
            let ma = ta.year * 12 + Int64(ta.month - 1), mb = tb.year * 12 + Int64(tb.month - 1)
            switch unit {
            case .year: return tb.year - ta.year
            case .quarter: return CivilTime.floorDivision(mb, 3).0 - CivilTime.floorDivision(ma, 3).0
            default: return mb - ma
            }
        }
    }

    /// $dateTrunc: the start of the bin holding `utc`. Bins count from
    /// 2000-01-01T00:00 local time (MongoDB's reference); weeks from the
    /// first startOfWeek day on or after it.
    static func truncate(_ utc: Int64, unit: DateUnit, binSize: Int64, offset: Int64, startOfWeek: Int) throws -> Int64 {
        let op = "$dateTrunc"
        let outOfRange = CairnError.invalidArgument("$dateTrunc: the date would be out of range")
        let local = try shiftedLocal(utc, offset, op)
        if let length = unit.milliseconds {
            var reference: Int64 = 946_684_800_000  // 2000-01-01T00:00:00
            if unit == .week {
                let day = CivilTime.days(year: 2000, month: 1, day: 1)
                let weekday = Int(CivilTime.floorDivision(day + 4, 7).1)
                reference += Int64((startOfWeek - weekday + 7) % 7) * CivilTime.millisecondsPerDay
            }
            let (size, o1) = length.multipliedReportingOverflow(by: binSize)
            let (since, o2) = local.subtractingReportingOverflow(reference)
            guard !o1, !o2 else { throw outOfRange }
            let (bins, _) = CivilTime.floorDivision(since, size)
            let (start, o3) = bins.multipliedReportingOverflow(by: size)
            let (truncated, o4) = start.addingReportingOverflow(reference)
            guard !o3, !o4 else { throw outOfRange }
            return try self.utc(truncated, offset, op)
        }
        let time = CivilTime(milliseconds: local)
        let (size, o1) = unit.months.multipliedReportingOverflow(by: binSize)
        guard !o1 else { throw outOfRange }
        let index = (time.year - 2000) * 12 + Int64(time.month - 1)  // Safe: |year| < 3e8
        let (bins, _) = CivilTime.floorDivision(index, size)
        let (start, o2) = bins.multipliedReportingOverflow(by: size)
        guard !o2 else { throw outOfRange }
        let (yearsSince, month) = CivilTime.floorDivision(start, 12)
        let (year, o3) = yearsSince.addingReportingOverflow(2000)
        guard !o3, year >= -CivilTime.maxYear, year <= CivilTime.maxYear else { throw outOfRange }
        return try self.utc(CivilTime(year: year, month: Int(month) + 1, day: 1).milliseconds, offset, op)
    }

    /// $dateFromString {dateString, format, timezone, onError, onNull}:
    /// onNull for a null or missing string, onError (when given) for a
    /// string that does not parse.
    static func dateFromString(_ arguments: [Expression], _ context: Context) throws -> MutableValue? {
        let op = "$dateFromString"
        let input = try arguments[0].evaluate(in: context)
        let onError = arguments[3], onNull = arguments[4]
        let text: [UInt8]
        switch input {
        case nil, .null?: return onNull.isAbsent ? .null : try onNull.evaluate(in: context)
        case .string(let utf8)?: text = utf8
        case let other?:
            if !onError.isAbsent { return try onError.evaluate(in: context) }
            throw CairnError.invalidArgument("$dateFromString: dateString must be a string, not \(other.typeName)")
        }
        let format: [UInt8]?
        switch try arguments[1].evaluate(in: context) {
        case nil: format = nil
        case .null?: return .null
        case .string(let utf8)?: format = utf8
        case let other?: throw CairnError.invalidArgument("$dateFromString: format must be a string, not \(other.typeName)")
        }
        guard let zone = try TimeZoneOffset.argument(try arguments[2].evaluate(in: context), op) else { return .null }
        do {
            guard let parsed = try format.map({ try DateFormat.parse(text, format: $0, op) }) ?? DateFormat.parseISO(text) else {
                throw CairnError.invalidArgument("$dateFromString: '\(Expression.text(text))' does not match the format")
            }
            if parsed.offset != nil, !arguments[2].isAbsent {
                throw CairnError.invalidArgument("$dateFromString: the string gives an offset, and so does timezone; give only one")
            }
            return .date(try utc(parsed.time.milliseconds, parsed.offset ?? zone, op))
        } catch let error as CairnError where !onError.isAbsent && error.code == .invalidArgument {
            return try onError.evaluate(in: context)
        }
    }
}
