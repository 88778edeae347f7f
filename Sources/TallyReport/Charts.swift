import TallyPipeline

/// The geometry of a line chart, ready for the SVG template: every coordinate is text.
///
/// Positions are worked out in whole tenths of a pixel from exact decimals, so a chart
/// is the same on every machine and no quantity goes through binary floating point.
struct LineChart {
    struct Tick {
        var at: String
        var label: String
    }
    struct Dot {
        var x: String
        var y: String
        var label: String
    }
    struct Series {
        var name: String
        var colour: String
        var points: String
        var dots: [Dot]
        /// The series' total over the chart, as the legend says it.
        var total: String
        var legendY: String
    }

    var title: String
    var yLabel: String
    var xLabel: String
    var yTicks: [Tick]
    var xTicks: [Tick]
    var series: [Series]
    var height: String

    // The plot area inside the 860-wide picture; stored, not computed, so the template sees them.
    static let left = 80, right = 600, top = 36, bottom = 256
    var left = Self.left
    var right = Self.right
    var top = Self.top
    var bottom = Self.bottom
    var legendX = Self.right + 20
    var tickBottom = Self.bottom + 5

    /// Okabe and Ito's palette, which readers with colour-blindness can tell apart.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999999"]

    /// A chart of `values[series][day]` over the days `firstDay...lastDay` (days since the epoch).
    static func make(
        title: String, unit: String, firstDay: Int64, lastDay: Int64,
        series: [(name: String, total: String, values: [Int64: ExactDecimal])]
    ) -> LineChart {
        let span = max(Int(lastDay - firstDay), 1)
        let peak = series.flatMap(\.values.values).reduce(ExactDecimal.zero) { ExactDecimal.max($0, $1) }
        let scaleTop = niceCeiling(peak)
        let plotWidth = right - left
        let plotHeight = bottom - top
        func x(_ day: Int64) -> Int { left * 10 + Int(day - firstDay) * plotWidth * 10 / span }
        func y(_ value: ExactDecimal) -> Int { bottom * 10 - tenths(value, of: scaleTop, pixels: plotHeight) }

        var lines: [Series] = []
        for (index, item) in series.enumerated() {
            var points: [String] = []
            var dots: [Dot] = []
            for day in firstDay...lastDay {
                let value = item.values[day] ?? .zero
                let px = text(tenths: x(day))
                let py = text(tenths: y(value))
                points.append("\(px),\(py)")
                if span <= 45 {
                    dots.append(
                        Dot(x: px, y: py, label: "\(item.name), \(dayText(day)): \(grouped(value.description)) \(unit)")
                    )
                }
            }
            lines.append(
                Series(
                    name: item.name, colour: palette[index % palette.count], points: points.joined(separator: " "),
                    dots: dots, total: item.total, legendY: String(top + 14 + 36 * index)))
        }
        let yTicks = (0...4).map { step -> Tick in
            let value =
                (try? (scaleTop * ExactDecimal(step)).divided(by: ExactDecimal(4), scale: scaleTop.scale + 2, .halfUp))
                ?? .zero
            return Tick(at: text(tenths: y(value)), label: grouped(value.normalized.description))
        }
        // About six date labels, on whole days.
        let every = max(1, (span + 5) / 6)
        let xTicks = stride(from: firstDay, through: lastDay, by: every).map {
            Tick(at: text(tenths: x($0)), label: dayText($0))
        }
        let legendBottom = top + 14 + 36 * series.count
        return LineChart(
            title: title, yLabel: unit + " per day", xLabel: "day (UTC)", yTicks: yTicks, xTicks: xTicks,
            series: lines, height: String(max(bottom + 50, legendBottom + 10)))
    }

    /// The smallest of 1, 2, 2.5 and 5 times a power of ten at or above `value` (1 for 0).
    static func niceCeiling(_ value: ExactDecimal) -> ExactDecimal {
        for power in -6...30 {
            for (significand, scale) in [(1, 0), (2, 0), (25, 1), (5, 0)] {
                let up = Int128(significand) * pow10(max(power, 0))
                guard let candidate = try? ExactDecimal(significand: up, scale: scale + max(-power, 0)) else {
                    continue
                }
                if candidate >= value && !candidate.isZero { return candidate }
            }
        }
        return value
    }

    static func pow10(_ n: Int) -> Int128 { (0..<n).reduce(Int128(1)) { value, _ in value * 10 } }

    /// `value / whole x pixels`, in tenths of a pixel, rounded half-up.
    static func tenths(_ value: ExactDecimal, of whole: ExactDecimal, pixels: Int) -> Int {
        guard !whole.isZero, let scaled = try? value * ExactDecimal(pixels * 10),
            let ratio = try? scaled.divided(by: whole, scale: 0, .halfUp)
        else { return 0 }
        return Int(ratio.description) ?? 0
    }

    static func text(tenths: Int) -> String { "\(tenths / 10).\(abs(tenths % 10))" }

    static func dayText(_ day: Int64) -> String {
        let date = CivilDate(daysSinceEpoch: day)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(date.year)-\(two(date.month))-\(two(date.day))"
    }
}

/// A horizontal bar chart of counts: what happened to a run's events.
struct BarChart {
    struct Bar {
        var label: String
        var count: String
        var y: String
        var textY: String
        var width: String
        var countX: String
        var colour: String
    }

    var title: String
    var bars: [Bar]
    var height: String
    var axisBottom: String
    var barsLeft = Self.barsLeft

    static let barsLeft = 260, barsWidth = 380

    /// One bar per `(label, count, kind)`; the longest bar is the largest count.
    static func make(title: String, bars items: [(label: String, count: Int, colour: String)]) -> BarChart {
        let peak = max(items.map(\.count).max() ?? 0, 1)
        let bars = items.enumerated().map { index, item -> Bar in
            let width = max(item.count > 0 ? 2 : 0, item.count * barsWidth / peak)
            return Bar(
                label: item.label, count: grouped(String(item.count)), y: String(10 + 30 * index),
                textY: String(10 + 30 * index + 16), width: String(width), countX: String(barsLeft + width + 8),
                colour: item.colour)
        }
        let bottom = 10 + 30 * items.count
        return BarChart(title: title, bars: bars, height: String(bottom + 10), axisBottom: String(bottom))
    }
}

/// `1234567.5` as `1,234,567.5`: thousands grouped in the whole part, the text otherwise unchanged.
func grouped(_ number: String) -> String {
    var sign = ""
    var body = Substring(number)
    if body.hasPrefix("-") {
        sign = "-"
        body = body.dropFirst()
    }
    let whole = body.prefix { $0 != "." }
    let rest = body.dropFirst(whole.count)
    guard whole.count > 3, whole.allSatisfy(\.isNumber) else { return number }
    var out = ""
    for (index, digit) in whole.enumerated() {
        if index > 0 && (whole.count - index) % 3 == 0 { out += "," }
        out.append(digit)
    }
    return sign + out + rest
}

/// The UTC day an instant falls on, as days since 1970-01-01 (earlier instants round down).
func utcDay(_ instant: Instant) -> Int64 {
    let milliseconds = instant.millisecondsSinceEpoch
    return milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
}
