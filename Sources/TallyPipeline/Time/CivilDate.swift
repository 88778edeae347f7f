/// A calendar date in the proleptic Gregorian calendar, used to find month boundaries.
///
/// The conversions are Howard Hinnant's `days_from_civil` and `civil_from_days`
/// algorithms: pure integer arithmetic, so no Foundation calendar and no time
/// zone database can change a billing period.
public struct CivilDate: Sendable, Hashable, Comparable {
    /// The year, such as 2026 (proleptic: years before 1582 follow the same rules).
    public var year: Int
    /// The month, 1 for January to 12 for December.
    public var month: Int
    /// The day of the month, from 1.
    public var day: Int

    /// Creates the date; the values are not checked (see ``daysInMonth(year:month:)``).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Whether `lhs` is the earlier date.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Creates the date `days` days after 1970-01-01 (before it for a negative count).
    public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0)), month: Int(month), day: Int(day))
    }

    /// Whether `year` has a February 29th: divisible by 4, except centuries not divisible by 400.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in `month` of `year`: 28 to 31.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The date `months` calendar months later on the anchor day, clamped to the
    /// month's last day: anchored on the 31st, February's period starts on the 28th or 29th.
    public func addingMonths(_ months: Int, anchorDay: Int) -> CivilDate {
        let index = year * 12 + (month - 1) + months
        let (newYear, newMonth) = (index.floorDiv(12), index.floorMod(12) + 1)
        return CivilDate(
            year: newYear, month: newMonth,
            day: Swift.min(anchorDay, CivilDate.daysInMonth(year: newYear, month: newMonth)))
    }
}

extension Int {
    func floorDiv(_ d: Int) -> Int { (self >= 0 ? self : self - d + 1) / d }
    func floorMod(_ d: Int) -> Int { self - floorDiv(d) * d }
}

extension Instant {
    static let millisecondsPerDay: Int64 = 86_400_000

    /// The instant at 00:00:00Z of `date`.
    public init(date: CivilDate) {
        self.init(millisecondsSinceEpoch: date.daysSinceEpoch * Instant.millisecondsPerDay)
    }

    /// The UTC calendar date this instant falls on.
    public var civilDate: CivilDate {
        // Floor division that cannot overflow, even at `Int64.min` (a saturated instant).
        let (quotient, remainder) = millisecondsSinceEpoch.quotientAndRemainder(dividingBy: Instant.millisecondsPerDay)
        return CivilDate(daysSinceEpoch: remainder < 0 ? quotient - 1 : quotient)
    }

    /// Milliseconds since this instant's UTC midnight.
    var millisecondOfDay: Int64 {
        let remainder = millisecondsSinceEpoch % Instant.millisecondsPerDay
        return remainder < 0 ? remainder + Instant.millisecondsPerDay : remainder
    }

    /// `2026-01-03T10:00:00Z`, with `.123` milliseconds only when non-zero.
    public var iso8601: String {
        let date = civilDate
        let ms = millisecondOfDay
        let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1_000 % 60, ms % 1_000)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
        }
        var text =
            "\(pad(Int64(date.year), 4))-\(pad(Int64(date.month), 2))-\(pad(Int64(date.day), 2))T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2))"
        if frac != 0 { text += "." + pad(frac, 3) }
        return text + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only) or a bare date `YYYY-MM-DD` (midnight UTC).
    public init(iso8601 text: String) throws(TimeParseError) {
        var text = text
        let parsed = text.withUTF8 { bytes in Result { () throws(TimeParseError) in try Instant(iso8601: bytes) } }
        self = try parsed.get()
    }

    /// ``init(iso8601:)`` from UTF-8 bytes, without building a String (event files read millions of them).
    public init(iso8601 bytes: UnsafeBufferPointer<UInt8>) throws(TimeParseError) {
        func fail(_ why: String) -> TimeParseError {
            let text = String(decoding: bytes.prefix(61), as: UTF8.self)
            return TimeParseError(
                message:
                    "'\(text.count > 60 ? text.prefix(60) + "…" : text)' is not a UTC timestamp (\(why)), expected YYYY-MM-DDTHH:MM:SSZ like 2026-01-03T10:00:00Z"
            )
        }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for i in range {
                guard bytes[i] >= 48 && bytes[i] <= 57 else { return nil }
                value = value * 10 + Int(bytes[i] - 48)
            }
            return value
        }
        func expect(_ char: Unicode.Scalar, at i: Int) -> Bool { i < bytes.count && bytes[i] == UInt8(ascii: char) }
        guard let year = number(0..<4), expect("-", at: 4), let month = number(5..<7), expect("-", at: 7),
            let day = number(8..<10)
        else { throw fail("bad date") }
        guard (1...12).contains(month) else { throw fail("month \(month) is not 1 to 12") }
        guard (1...CivilDate.daysInMonth(year: year, month: month)).contains(day) else {
            throw fail("day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        var millisecond: Int64 = 0
        if bytes.count > 10 {
            guard expect("T", at: 10), let h = number(11..<13), expect(":", at: 13), let m = number(14..<16),
                expect(":", at: 16), let s = number(17..<19)
            else { throw fail("bad time of day") }
            guard h < 24, m < 60, s < 60 else { throw fail("time of day out of range") }
            var index = 19
            var fraction = 0
            if expect(".", at: 19) {
                guard let f = number(20..<23) else { throw fail("expected three digits of milliseconds") }
                fraction = f
                index = 23
            }
            guard index == bytes.count - 1, expect("Z", at: index) else {
                throw fail("the time must end in Z: Tally works in UTC only")
            }
            millisecond = Int64(((h * 60 + m) * 60 + s) * 1_000 + fraction)
        }
        self.init(
            millisecondsSinceEpoch: Instant(date: CivilDate(year: year, month: month, day: day)).millisecondsSinceEpoch
                + millisecond)
    }
}
