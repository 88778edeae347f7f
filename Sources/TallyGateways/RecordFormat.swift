import TallyPipeline

/// The formats of event files Tally reads (`events_from:`, `tally run --events`) and writes (`tally generate`).
public enum RecordFormat: String, CaseIterable, Sendable, Hashable {
    /// Tally's own events, one JSON object per line, as `tally generate` writes them.
    case jsonl
    /// Tally's own events as CSV with a header row, as `tally generate --format csv` writes them.
    case csv
    /// Kong's logging plugins (http-log, file-log, tcp-log): one JSON object per line, or a batch array.
    case kong
    /// AWS API Gateway JSON access logs, as lines or CloudWatch Logs subscription envelopes.
    case aws
    /// Azure API Management GatewayLogs records, as lines or a diagnostic export's `records` array.
    case azure
    /// Apigee MessageLogging records in the JSON template of Docs/Gateways.md.
    case apigee
    /// MuleSoft API Manager analytics events (Analytics Event API, JSON).
    case mulesoft

    /// The gateway whose records this format holds; nil for Tally's own formats.
    public var gateway: Gateway? {
        switch self {
        case .jsonl, .csv: nil
        case .kong: .kong
        case .aws: .aws
        case .azure: .azure
        case .apigee: .apigee
        case .mulesoft: .mulesoft
        }
    }
}

/// What one record of an event file turned out to be.
public enum DecodedRecord: Sendable {
    /// A usage event; `receivedAt` when the record carries its own ingest time (Tally's `received_at`).
    case event(Event, receivedAt: Instant?)
    /// A request the gateway answered with a status the mapping does not bill (a 429, a 5xx...).
    case notBilled(status: Int)
    /// A record that cannot be decoded: its text (at most ``DecodedRecord/rawLimit`` bytes) and what is wrong.
    case undecodable(raw: String, problem: String)

    /// How much of an undecodable record's text is kept with its dead letter.
    public static let rawLimit = 1024

    /// The record's text for a dead letter, shortened to ``rawLimit`` bytes.
    static func raw(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix(rawLimit), as: UTF8.self)
    }
}

/// Why one record could not be decoded (the reader adds the file and line).
public struct RecordProblem: Error, Sendable, CustomStringConvertible {
    /// What is wrong with the record and what was expected, led by the path of the field at fault, if one is.
    public var message: String
    /// Creates a problem described by `message`, such as `awslogs.data: is not base64`.
    public init(_ message: String) { self.message = message }
    /// The message alone; the reader prefixes `file:line:` when it reports it.
    public var description: String { message }
}
