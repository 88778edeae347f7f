/// An ISO 4217 currency and the number of digits of its minor unit.
///
/// Every charge is rounded once to ``minorDigits`` (half-up), which is why the
/// digits come from the standard and not from the scenario: USD bills in cents,
/// JPY in whole yen, KWD in fils (thousandths).
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    /// The ISO 4217 code, such as `USD`.
    public let code: String
    /// Digits after the decimal point of the minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD.
    public let minorDigits: Int

    /// The currency with this ISO 4217 code, or nil for a code Tally does not know.
    public init?(code: String) {
        guard let digits = Currency.minorDigitsByCode[code] else { return nil }
        self.code = code
        self.minorDigits = digits
    }

    /// The ISO 4217 code.
    public var description: String { code }

    /// Rounds an unrounded amount to this currency's minor unit, half-up.
    public func round(_ amount: ExactDecimal) throws(DecimalError) -> ExactDecimal {
        try amount.rounded(toScale: minorDigits, .halfUp)
    }

    /// The amount as text with exactly this currency's digits (`199.00`, `5000`, `1.250`).
    public func format(_ amount: ExactDecimal) -> String {
        amount.formatted(fractionDigits: minorDigits)
    }

    /// Every known code, sorted, for error messages.
    public static var knownCodes: [String] { minorDigitsByCode.keys.sorted() }

    /// Minor-unit digits from ISO 4217 (the currencies an API seller is likely to bill in).
    static let minorDigitsByCode: [String: Int] = [
        // 0 digits
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
        "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        // 3 digits
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        // 2 digits
        "AED": 2, "ARS": 2, "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "COP": 2,
        "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2,
        "ILS": 2, "INR": 2, "KES": 2, "MXN": 2, "MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2,
        "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2, "RON": 2, "SAR": 2, "SEK": 2,
        "SGD": 2, "THB": 2, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "ZAR": 2,
    ]
}
