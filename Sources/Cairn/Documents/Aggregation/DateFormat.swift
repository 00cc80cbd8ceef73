/// The format strings of $dateToString and $dateFromString (MongoDB's
/// strftime subset):
///
///     %Y year (4 digits)    %m month 01-12     %d day 01-31
///     %H hour 00-23         %M minute 00-59    %S second 00-59
///     %L millisecond 000-999                   %j day of year 001-366
///     %w day of week 1 (Sunday) - 7            %u ISO day of week 1 (Monday) - 7
///     %U week of year 00-53 (weeks from Sunday)
///     %V ISO week 01-53     %G ISO week year   %z offset +hhmm
///     %Z offset in minutes (+120)              %% a percent sign
///
/// $dateFromString reads %Y %m %d %H %M %S %L %j %z %Z %% (the week-based
/// specifiers give no unique date without more rules, so they are refused).
enum DateFormat {
    static let defaultFormat = Array("%Y-%m-%dT%H:%M:%S.%LZ".utf8)

    /// `utc` written with `format` in the zone `offset` (milliseconds).
    static func string(_ utc: Int64, offset: Int64, format: [UInt8], _ op: String) throws -> String {
        let (local, overflow) = utc.addingReportingOverflow(offset)
        guard !overflow else { throw CairnError.invalidArgument("\(op): the date is out of range in this timezone") }
        let time = CivilTime(milliseconds: local)
        var out = ""
        var index = 0
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value.magnitude)
            return (value < 0 ? "-" : "") + String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
        }
        while index < format.count {
            let byte = format[index]
            guard byte == UInt8(ascii: "%") else {
                // Copy the run of literal bytes up to the next '%' as is
                // (it may hold multi-byte UTF-8).
                var end = index
                while end < format.count, format[end] != UInt8(ascii: "%") { end += 1 }
                out += String(decoding: format[index..<end], as: UTF8.self)
                index = end
                continue
            }
            guard index + 1 < format.count else { throw CairnError.invalidArgument("\(op): the format ends with a lone %") }
            let specifier = format[index + 1]
            index += 2
            switch specifier {
            case UInt8(ascii: "Y"): out += pad(time.year, 4)
            case UInt8(ascii: "m"): out += pad(Int64(time.month), 2)
            case UInt8(ascii: "d"): out += pad(Int64(time.day), 2)
            case UInt8(ascii: "H"): out += pad(Int64(time.hour), 2)
            case UInt8(ascii: "M"): out += pad(Int64(time.minute), 2)
            case UInt8(ascii: "S"): out += pad(Int64(time.second), 2)
            case UInt8(ascii: "L"): out += pad(Int64(time.millisecond), 3)
            case UInt8(ascii: "j"): out += pad(Int64(time.dayOfYear), 3)
            case UInt8(ascii: "w"): out += String(time.dayOfWeek)
            case UInt8(ascii: "u"): out += String(time.isoDayOfWeek)
            case UInt8(ascii: "U"): out += pad(Int64(time.week), 2)
            case UInt8(ascii: "V"): out += pad(Int64(time.isoWeekAndYear.week), 2)
            case UInt8(ascii: "G"): out += pad(time.isoWeekAndYear.year, 4)
            case UInt8(ascii: "z"):
                let minutes = offset / 60_000
                out += (minutes < 0 ? "-" : "+") + pad(minutes.magnitude == 0 ? 0 : Int64(minutes.magnitude / 60), 2) + pad(Int64(minutes.magnitude % 60), 2)
            case UInt8(ascii: "Z"):
                let minutes = offset / 60_000
                out += (minutes < 0 ? "-" : "+") + String(minutes.magnitude)
            case UInt8(ascii: "%"): out += "%"
            default:
                throw CairnError.invalidArgument("\(op): unknown format specifier %\(String(decoding: [specifier], as: UTF8.self))")
            }
        }
        return out
    }

    /// What a parse found: the civil time and the offset the text gave
    /// (nil when it gave none).
    struct Parsed {
        var time: CivilTime
        var offset: Int64?
    }

    /// `text` read with `format`; nil when it does not fit. Unknown
    /// specifiers are errors (the format is wrong, not the text).
    static func parse(_ text: [UInt8], format: [UInt8], _ op: String) throws -> Parsed? {
        var time = CivilTime(year: 1970, month: 1, day: 1)
        var offset: Int64?
        var dayOfYear: Int?
        var at = 0, index = 0
        func number(_ maxDigits: Int) -> Int? {
            var value = 0, count = 0
            while count < maxDigits, at < text.count, text[at] >= 0x30, text[at] <= 0x39 {
                value = value * 10 + Int(text[at] - 0x30)
                at += 1
                count += 1
            }
            return count == 0 ? nil : value
        }
        func sign() -> Int64? {
            guard at < text.count, text[at] == UInt8(ascii: "+") || text[at] == UInt8(ascii: "-") else { return nil }
            at += 1
            return text[at - 1] == UInt8(ascii: "-") ? -1 : 1
        }
        while index < format.count {
            let byte = format[index]
            guard byte == UInt8(ascii: "%"), index + 1 < format.count else {
                guard at < text.count, text[at] == byte else { return nil }
                at += 1
                index += 1
                continue
            }
            let specifier = format[index + 1]
            index += 2
            switch specifier {
            case UInt8(ascii: "Y"): guard let v = number(4) else { return nil }; time.year = Int64(v)
            case UInt8(ascii: "m"): guard let v = number(2) else { return nil }; time.month = v
            case UInt8(ascii: "d"): guard let v = number(2) else { return nil }; time.day = v
            case UInt8(ascii: "H"): guard let v = number(2) else { return nil }; time.hour = v
            case UInt8(ascii: "M"): guard let v = number(2) else { return nil }; time.minute = v
            case UInt8(ascii: "S"): guard let v = number(2) else { return nil }; time.second = v
            case UInt8(ascii: "L"):
                let start = at
                guard let v = number(3) else { return nil }
                time.millisecond = v * (at - start == 1 ? 100 : at - start == 2 ? 10 : 1)
            case UInt8(ascii: "j"): guard let v = number(3) else { return nil }; dayOfYear = v
            case UInt8(ascii: "z"):
                guard let s = sign(), let hh = number(2), let mm = number(2), hh <= 23, mm <= 59 else { return nil }
                offset = s * Int64(hh * 60 + mm) * 60_000
            case UInt8(ascii: "Z"):
                guard let s = sign(), let minutes = number(4), minutes < 24 * 60 else { return nil }
                offset = s * Int64(minutes) * 60_000
            case UInt8(ascii: "%"):
                guard at < text.count, text[at] == UInt8(ascii: "%") else { return nil }
                at += 1
            default:
                throw CairnError.invalidArgument("\(op): format specifier %\(String(decoding: [specifier], as: UTF8.self)) is not supported for parsing")
            }
        }
        guard at == text.count else { return nil }
        if let dayOfYear {
            let days = Int64(CivilTime.isLeap(time.year) ? 366 : 365)
            guard dayOfYear >= 1, Int64(dayOfYear) <= days else { return nil }
            let (y, m, d) = CivilTime.civil(fromDays: CivilTime.days(year: time.year, month: 1, day: 1) + Int64(dayOfYear - 1))
            time.year = y
            time.month = m
            time.day = d
        }
        guard valid(time) else { return nil }
        return Parsed(time: time, offset: offset)
    }

    /// The ISO 8601 forms: "2026-11-21", "2026-11-21T16:17", "...:05",
    /// "...:05.123", with "T" or a space, then optionally "Z", "+hh",
    /// "+hhmm" or "+hh:mm".
    static func parseISO(_ text: [UInt8]) -> Parsed? {
        var time = CivilTime(year: 1970, month: 1, day: 1)
        var at = 0
        func digits(_ count: Int) -> Int? {
            guard at + count <= text.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                guard text[i] >= 0x30, text[i] <= 0x39 else { return nil }
                value = value * 10 + Int(text[i] - 0x30)
            }
            at += count
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard at < text.count, text[at] == byte else { return false }
            at += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")), let day = digits(2) else { return nil }
        time.year = Int64(year)
        time.month = month
        time.day = day
        if at < text.count, text[at] == UInt8(ascii: "T") || text[at] == UInt8(ascii: "t") || text[at] == UInt8(ascii: " ") {
            at += 1
            guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2) else { return nil }
            time.hour = hour
            time.minute = minute
            if expect(UInt8(ascii: ":")) {
                guard let second = digits(2) else { return nil }
                time.second = second
                if expect(UInt8(ascii: ".")) {
                    var scale = 100, any = false
                    while at < text.count, text[at] >= 0x30, text[at] <= 0x39 {
                        time.millisecond += Int(text[at] - 0x30) * scale
                        scale /= 10
                        at += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
        }
        var offset: Int64?
        if at < text.count {
            if text[at] == UInt8(ascii: "Z") || text[at] == UInt8(ascii: "z") {
                at += 1
                offset = 0
            } else if text[at] == UInt8(ascii: "+") || text[at] == UInt8(ascii: "-") {
                let negative = text[at] == UInt8(ascii: "-")
                at += 1
                guard let hh = digits(2), hh <= 23 else { return nil }
                var mm = 0
                if at < text.count {
                    _ = expect(UInt8(ascii: ":"))
                    guard let minutes = digits(2), minutes <= 59 else { return nil }
                    mm = minutes
                }
                offset = Int64(hh * 60 + mm) * 60_000 * (negative ? -1 : 1)
            }
        }
        guard at == text.count, valid(time) else { return nil }
        return Parsed(time: time, offset: offset)
    }

    private static func valid(_ time: CivilTime) -> Bool {
        (1...12).contains(time.month) && time.day >= 1 && time.day <= CivilTime.daysInMonth(time.year, time.month)
            && time.hour < 24 && time.minute < 60 && time.second < 60
    }
}
