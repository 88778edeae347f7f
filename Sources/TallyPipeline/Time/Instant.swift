/// A point in time: whole milliseconds since 1970-01-01T00:00:00Z, always UTC.
///
/// The pipeline never reads a wall clock; every "now" is an `Instant` passed in,
/// which is what lets a scenario replay a month of traffic in seconds.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z; negative before it.
    public var millisecondsSinceEpoch: Int64

    /// Creates the instant `millisecondsSinceEpoch` milliseconds after the Unix epoch.
    @inlinable
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Whether `lhs` is earlier than `rhs`.
    @inlinable
    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The instant `span` later (earlier for a negative span), saturating instead of trapping.
    @inlinable
    public static func + (lhs: Instant, rhs: TimeSpan) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch.addingSaturating(rhs.milliseconds))
    }

    /// The instant `span` earlier (later for a negative span), saturating instead of trapping.
    @inlinable
    public static func - (lhs: Instant, rhs: TimeSpan) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch.subtractingSaturating(rhs.milliseconds))
    }

    /// The span from `rhs` to `lhs`, saturating instead of trapping.
    @inlinable
    public static func - (lhs: Instant, rhs: Instant) -> TimeSpan {
        TimeSpan(milliseconds: lhs.millisecondsSinceEpoch.subtractingSaturating(rhs.millisecondsSinceEpoch))
    }

    /// The instant in ISO 8601, UTC: `2026-01-03T10:00:00Z`, with milliseconds only when not zero.
    public var description: String { iso8601 }
}

/// A length of time in whole milliseconds.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in milliseconds; negative for a span going back in time.
    public var milliseconds: Int64

    /// Creates a span of `milliseconds` milliseconds.
    @inlinable
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// A span of `n` seconds.
    public static func seconds(_ n: Int64) -> TimeSpan { TimeSpan(milliseconds: n * 1_000) }
    /// A span of `n` minutes.
    public static func minutes(_ n: Int64) -> TimeSpan { TimeSpan(milliseconds: n * 60_000) }
    /// A span of `n` hours.
    public static func hours(_ n: Int64) -> TimeSpan { TimeSpan(milliseconds: n * 3_600_000) }
    /// A span of `n` days of exactly 24 hours (Tally's time is UTC: no daylight saving).
    public static func days(_ n: Int64) -> TimeSpan { TimeSpan(milliseconds: n * 86_400_000) }

    /// Whether `lhs` is the shorter span.
    @inlinable
    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The longest duration text may give: 10,000 years (3,652,425 days).
    ///
    /// That is the span of the four-digit years a timestamp can write. Any instant plus or minus a few
    /// such spans stays far inside `Int64` milliseconds.
    public static let longest = TimeSpan(milliseconds: 3_652_425 * 86_400_000)

    /// Parses `<digits><unit>` with the units `ms s m h d` (`500ms`, `2s`, `5m`, `24h`, `90d`), at most ``longest``.
    public init(parsing text: String) throws(TimeParseError) {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            // "5ms" also ends in "s"; the digits check below rejects that reading.
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let count = Int64(digits)
            else { continue }
            let (milliseconds, overflow) = count.multipliedReportingOverflow(by: factor)
            guard !overflow, milliseconds <= TimeSpan.longest.milliseconds else {
                throw TimeParseError(
                    message: "'\(text.prefix(40))' is too long, expected at most 3652425d (10,000 years)")
            }
            self.init(milliseconds: milliseconds)
            return
        }
        throw TimeParseError(
            message:
                "'\(text.count > 60 ? text.prefix(60) + "…" : text)' is not a duration, expected a whole number and a unit: ms, s, m, h or d (like 5m or 90d)"
        )
    }

    /// The shortest exact text in the units `ms s m h d`.
    public var description: String {
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        for (suffix, factor) in units where milliseconds != 0 && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}

/// Why a piece of text is not a time, date or duration.
public struct TimeParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong with the text and what was expected, for an error message.
    public let message: String
    /// The message.
    public var description: String { message }
}

extension Int64 {
    @usableFromInline
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if !overflow { return sum }
        return other > 0 ? .max : .min
    }

    @usableFromInline
    func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        if !overflow { return difference }
        return other < 0 ? .max : .min
    }
}
