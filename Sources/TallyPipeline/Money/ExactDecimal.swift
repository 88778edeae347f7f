/// An exact base-10 number: an `Int128` significand and a count of fraction digits.
///
/// Every amount, price, rate and quantity in Tally is an `ExactDecimal`; binary
/// floating point never touches one. The value is `significand / 10^scale`, so
/// `0.0015` is `(15, 4)` and `1200.50` is `(120050, 2)`.
///
/// Addition, subtraction and multiplication are exact: they never round. They
/// report overflow by throwing ``DecimalError/overflow`` instead of wrapping or
/// trapping. Division and ``rounded(toScale:_:)`` take an explicit
/// ``RoundingMode``, because those are the only places where a digit can be lost.
///
/// Two values compare equal when they denote the same number, whatever their
/// scales: `1.50 == 1.5`.
public struct ExactDecimal: Sendable {
    // Stored as two words and a byte, not as an `Int128` and an `Int`: an `Int128` is
    // 16-byte aligned, which pads the pair to 32 bytes where these take 24. Amounts
    // fill invoices, events and generated stream items, so a quarter less memory per
    // amount is a quarter less to write, copy and page in (a million invoices: 2.6 GB).
    private var lowBits: UInt64
    private var highBits: Int64
    private var storedScale: UInt8

    /// The digits of the number, with the decimal point removed.
    public private(set) var significand: Int128 {
        get { Int128(highBits) << 64 | Int128(lowBits) }
        set {
            lowBits = UInt64(truncatingIfNeeded: newValue)
            highBits = Int64(truncatingIfNeeded: newValue >> 64)
        }
    }

    /// How many of the significand's last digits lie after the decimal point.
    public private(set) var scale: Int {
        get { Int(storedScale) }
        set { storedScale = UInt8(newValue) }
    }

    /// The largest scale a value may carry: 38 fraction digits.
    ///
    /// `Int128` holds 38 full digits, so a larger scale could only describe numbers below 10^-38.
    public static let maxScale = 38

    /// Creates `significand / 10^scale`.
    ///
    /// - Throws: ``DecimalError/scaleOutOfRange(_:)`` when `scale` is negative or above ``maxScale``.
    public init(significand: Int128, scale: Int) throws(DecimalError) {
        guard (0...Self.maxScale).contains(scale) else { throw .scaleOutOfRange(scale) }
        self.init(uncheckedSignificand: significand, scale: scale)
    }

    /// Internal, unchecked: callers guarantee `0...maxScale`.
    @usableFromInline
    init(uncheckedSignificand significand: Int128, scale: Int) {
        lowBits = UInt64(truncatingIfNeeded: significand)
        highBits = Int64(truncatingIfNeeded: significand >> 64)
        storedScale = UInt8(scale)
    }

    /// Creates a whole number.
    public init(_ integer: Int) {
        self.init(uncheckedSignificand: Int128(integer), scale: 0)
    }

    // Computed, not stored: a stored static is reached through a lazy-initialization
    // check on every use, and billing uses these on every line.
    /// Zero, with no fraction digits.
    public static var zero: ExactDecimal { ExactDecimal(uncheckedSignificand: 0, scale: 0) }
    /// One, with no fraction digits: the quantity of a flat charge, and a multiplier that changes nothing.
    public static var one: ExactDecimal { ExactDecimal(uncheckedSignificand: 1, scale: 0) }

    /// Whether the value is zero, at any scale (`0.00` is zero).
    public var isZero: Bool { significand == 0 }
    /// Whether the value is below zero.
    public var isNegative: Bool { significand < 0 }
    /// The absolute value.
    public func magnitude() throws(DecimalError) -> ExactDecimal {
        significand < 0 ? try -self : self
    }
}

/// What went wrong in decimal arithmetic or parsing.
public enum DecimalError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The exact result does not fit in 38 significant digits.
    case overflow
    /// A division's divisor was zero (a package size or period length of 0 that validation missed).
    case divisionByZero
    /// A scale below 0 or above ``ExactDecimal/maxScale`` fraction digits was asked for.
    case scaleOutOfRange(Int)

    /// The error as a sentence for a message: what went wrong and what was expected.
    public var description: String {
        switch self {
        case .overflow: "decimal overflow: the exact result needs more than 38 significant digits"
        case .divisionByZero: "division by zero"
        case .scaleOutOfRange(let scale):
            "a scale of \(scale) fraction digits is out of range, expected 0 to \(ExactDecimal.maxScale)"
        }
    }
}

/// How to drop digits when a result has more fraction digits than wanted.
public enum RoundingMode: Sendable, Equatable {
    /// Ties go away from zero: 2.345 -> 2.35, -2.345 -> -2.35. Tally's money rounding.
    case halfUp
    /// Ties go to the even neighbour (banker's rounding).
    case halfEven
    /// Toward zero (truncate).
    case down
    /// Away from zero.
    case up
    /// Toward negative infinity.
    case floor
    /// Toward positive infinity.
    case ceiling
}

// MARK: - Powers of ten

@usableFromInline
enum PowerOfTen {
    /// Every power of ten that fits in `Int128`, from 10^0 to 10^38.
    @usableFromInline
    static let table: [Int128] = {
        var powers: [Int128] = [1]
        for _ in 1...38 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    @inlinable
    static func of(_ exponent: Int) -> Int128? {
        exponent >= 0 && exponent < table.count ? table[exponent] : nil
    }
}

// MARK: - Scale alignment

extension ExactDecimal {
    /// The same number written with `newScale` fraction digits, when no digit is lost.
    ///
    /// - Throws: ``DecimalError/overflow`` when the wider significand does not fit.
    /// Lowering the scale is only exact when the dropped digits are zero; otherwise
    /// use ``rounded(toScale:_:)``.
    @inlinable
    func widened(toScale newScale: Int) throws(DecimalError) -> Int128 {
        if newScale == scale { return significand }
        // The usual case, a significand within 64 bits widened by at most 18 digits: one
        // 64-by-64-bit multiply, whose 128-bit product cannot overflow, instead of a
        // checked 128-bit multiply by a power read from a table.
        let shift = newScale - scale
        if shift > 0, shift <= 18, let small = Int64(exactly: significand) {
            var factor: Int64 = 10
            for _ in 1..<shift { factor &*= 10 }
            let product = small.multipliedFullWidth(by: factor)
            return Int128(product.high) << 64 | Int128(product.low)
        }
        guard newScale > scale, let factor = PowerOfTen.of(shift) else { throw .overflow }
        let (product, overflow) = significand.multipliedReportingOverflow(by: factor)
        if overflow { throw .overflow }
        return product
    }

    /// The same number with trailing fraction zeros removed: `1.500` -> `1.5`.
    public var normalized: ExactDecimal {
        var value = self
        while value.scale > 0 && value.significand % 10 == 0 {
            value.significand /= 10
            value.scale -= 1
        }
        return value
    }

    /// Both operands at one scale, normalizing first if the direct widening overflows.
    @inlinable
    static func aligned(_ a: ExactDecimal, _ b: ExactDecimal) throws(DecimalError) -> (Int128, Int128, Int) {
        if a.scale == b.scale { return (a.significand, b.significand, a.scale) }
        let scale = Swift.max(a.scale, b.scale)
        if let x = try? a.widened(toScale: scale), let y = try? b.widened(toScale: scale) {
            return (x, y, scale)
        }
        let (na, nb) = (a.normalized, b.normalized)
        let narrow = Swift.max(na.scale, nb.scale)
        return (try na.widened(toScale: narrow), try nb.widened(toScale: narrow), narrow)
    }
}

// MARK: - Exact arithmetic

extension ExactDecimal {
    /// The exact sum, at the larger of the two scales.
    ///
    /// - Throws: ``DecimalError/overflow`` rather than wrapping.
    @inlinable
    public static func + (lhs: ExactDecimal, rhs: ExactDecimal) throws(DecimalError) -> ExactDecimal {
        let (a, b, scale) = try aligned(lhs, rhs)
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw .overflow }
        return ExactDecimal(uncheckedSignificand: sum, scale: scale)
    }

    /// The exact difference, at the larger of the two scales.
    ///
    /// - Throws: ``DecimalError/overflow`` rather than wrapping.
    @inlinable
    public static func - (lhs: ExactDecimal, rhs: ExactDecimal) throws(DecimalError) -> ExactDecimal {
        let (a, b, scale) = try aligned(lhs, rhs)
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        if overflow { throw .overflow }
        return ExactDecimal(uncheckedSignificand: difference, scale: scale)
    }

    /// The exact product: significands multiply and scales add.
    @inlinable
    public static func * (lhs: ExactDecimal, rhs: ExactDecimal) throws(DecimalError) -> ExactDecimal {
        if let product = lhs.multipliedExactly(by: rhs) { return product }
        // Trailing zeros can make an exact product look too wide (1.000 x 1e20).
        if let product = lhs.normalized.multipliedExactly(by: rhs.normalized) { return product }
        throw .overflow
    }

    @inlinable
    func multipliedExactly(by other: ExactDecimal) -> ExactDecimal? {
        let (product, overflow) = significand.multipliedReportingOverflow(by: other.significand)
        let scale = self.scale + other.scale
        guard !overflow, scale <= Self.maxScale else { return nil }
        return ExactDecimal(uncheckedSignificand: product, scale: scale)
    }

    /// The negated value.
    public static prefix func - (operand: ExactDecimal) throws(DecimalError) -> ExactDecimal {
        let (negated, overflow) = Int128(0).subtractingReportingOverflow(operand.significand)
        if overflow { throw .overflow }
        return ExactDecimal(uncheckedSignificand: negated, scale: operand.scale)
    }

    /// The sum of many values; zero for none.
    public static func sum(_ values: some Sequence<ExactDecimal>) throws(DecimalError) -> ExactDecimal {
        var total = ExactDecimal.zero
        for value in values { total = try total + value }
        return total
    }
}

// MARK: - Rounding and division

extension ExactDecimal {
    /// This number with exactly `newScale` fraction digits, rounding dropped digits by `mode`.
    ///
    /// Raising the scale pads with zeros and never rounds.
    public func rounded(toScale newScale: Int, _ mode: RoundingMode) throws(DecimalError) -> ExactDecimal {
        guard (0...Self.maxScale).contains(newScale) else { throw .scaleOutOfRange(newScale) }
        if newScale >= scale {
            return ExactDecimal(uncheckedSignificand: try widened(toScale: newScale), scale: newScale)
        }
        // scale - newScale <= 38, so the divisor is in the table.
        let divisor = PowerOfTen.table[scale - newScale]
        let quotient = Self.divide(significand, by: divisor, mode)
        return ExactDecimal(uncheckedSignificand: quotient, scale: newScale)
    }

    /// `self / divisor`, with `scale` fraction digits, rounded by `mode`.
    public func divided(
        by divisor: ExactDecimal, scale resultScale: Int, _ mode: RoundingMode
    ) throws(DecimalError) -> ExactDecimal {
        guard !divisor.isZero else { throw .divisionByZero }
        guard (0...Self.maxScale).contains(resultScale) else { throw .scaleOutOfRange(resultScale) }
        // self / divisor = (a / 10^sa) / (b / 10^sb); the result significand q / 10^rs
        // is q = a * 10^(rs - sa + sb) / b, computed as one integer division.
        let a = self.normalized
        let b = divisor.normalized
        let shift = resultScale - a.scale + b.scale
        var numerator = a.significand
        var denominator = b.significand
        if shift >= 0 {
            guard let factor = PowerOfTen.of(shift) else { throw .overflow }
            let (widened, overflow) = numerator.multipliedReportingOverflow(by: factor)
            if overflow { throw .overflow }
            numerator = widened
        } else {
            let factor = PowerOfTen.of(-shift)
            let (widened, overflow) = factor.map { denominator.multipliedReportingOverflow(by: $0) } ?? (0, true)
            if overflow {
                // |denominator| x 10^-shift exceeds Int128, so the quotient is under half a unit.
                let negative = (numerator < 0) != (denominator < 0)
                return ExactDecimal(
                    uncheckedSignificand: Self.roundBelowHalf(nonZero: numerator != 0, negative: negative, mode),
                    scale: resultScale)
            }
            denominator = widened
        }
        return ExactDecimal(uncheckedSignificand: Self.divide(numerator, by: denominator, mode), scale: resultScale)
    }

    /// Integer division of `numerator` by a non-zero `denominator` rounded by `mode`.
    @usableFromInline
    static func divide(_ numerator: Int128, by denominator: Int128, _ mode: RoundingMode) -> Int128 {
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        if remainder == 0 { return quotient }
        let negative = (numerator < 0) != (denominator < 0)
        let awayFromZero: Int128 = negative ? -1 : 1
        // Compare 2|r| with |d| without overflow: |r| < |d|, so |d| - |r| > 0 fits.
        let twiceRemainderVersusDivisor: Int = {
            let r = remainder.magnitude
            let d = denominator.magnitude
            let rest = d - r
            return r > rest ? 1 : (r == rest ? 0 : -1)
        }()
        switch mode {
        case .down:
            return quotient
        case .up:
            return quotient + awayFromZero
        case .floor:
            return negative ? quotient - 1 : quotient
        case .ceiling:
            return negative ? quotient : quotient + 1
        case .halfUp:
            return twiceRemainderVersusDivisor >= 0 ? quotient + awayFromZero : quotient
        case .halfEven:
            if twiceRemainderVersusDivisor > 0 { return quotient + awayFromZero }
            if twiceRemainderVersusDivisor < 0 { return quotient }
            return quotient % 2 == 0 ? quotient : quotient + awayFromZero
        }
    }

    /// The rounded value of a quotient known to lie strictly between -1/2 and 1/2.
    static func roundBelowHalf(nonZero: Bool, negative: Bool, _ mode: RoundingMode) -> Int128 {
        guard nonZero else { return 0 }
        switch mode {
        case .down, .halfUp, .halfEven: return 0
        case .up: return negative ? -1 : 1
        case .floor: return negative ? -1 : 0
        case .ceiling: return negative ? 0 : 1
        }
    }

}

// MARK: - Comparison

extension ExactDecimal: Comparable, Hashable {
    /// Whether both denote the same number, whatever their scales: `1.50 == 1.5`.
    public static func == (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        compare(lhs, rhs) == 0
    }

    /// Whether `lhs` is the smaller number; exact at any scales, never overflows.
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// The sign of `lhs - rhs`: -1, 0 or 1.
    ///
    /// Never overflows: when widening one side overflows, that side's
    /// magnitude exceeds anything the other can hold, so its sign decides.
    @usableFromInline
    static func compare(_ lhs: ExactDecimal, _ rhs: ExactDecimal) -> Int {
        if lhs.scale == rhs.scale {
            return lhs.significand == rhs.significand ? 0 : (lhs.significand < rhs.significand ? -1 : 1)
        }
        if lhs.scale < rhs.scale {
            guard let widened = try? lhs.widened(toScale: rhs.scale) else { return lhs.significand < 0 ? -1 : 1 }
            return widened == rhs.significand ? 0 : (widened < rhs.significand ? -1 : 1)
        }
        return -compare(rhs, lhs)
    }

    /// Hashes the normalized value, so that equal numbers at different scales hash alike.
    public func hash(into hasher: inout Hasher) {
        let canonical = normalized
        hasher.combine(canonical.significand)
        hasher.combine(canonical.scale)
    }

    /// The smaller of two values (`a` when they are equal).
    public static func min(_ a: ExactDecimal, _ b: ExactDecimal) -> ExactDecimal { b < a ? b : a }
    /// The larger of two values (`a` when they are equal).
    public static func max(_ a: ExactDecimal, _ b: ExactDecimal) -> ExactDecimal { a < b ? b : a }
}
