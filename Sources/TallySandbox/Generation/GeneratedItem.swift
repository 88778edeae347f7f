import TallyPipeline

/// One item of a scenario's event stream, as the pipeline receives it.
public struct GeneratedItem: Sendable {
    public enum Payload: Sendable {
        case event(Event)
        /// A malformed event, as the raw JSON a broken client would send.
        case malformed(String)
        /// A record of an event file that could not be decoded: its text and the problem, at `file:line`.
        case undecodable(raw: String, problem: String)
    }

    public var payload: Payload
    /// Ingest time: when the pipeline receives it.
    public var receivedAt: Instant
    /// The id it was generated with, for samples in rejections.json (also for malformed ones).
    public var eventID: String
}
