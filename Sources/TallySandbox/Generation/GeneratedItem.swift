import TallyPipeline

/// One item of a scenario's event stream, as the pipeline receives it.
struct GeneratedItem: Sendable {
    enum Payload: Sendable {
        case event(Event)
        /// A malformed event, as the raw JSON a broken client would send.
        case malformed(String)
    }

    var payload: Payload
    /// Ingest time: when the pipeline receives it.
    var receivedAt: Instant
    /// The id it was generated with, for samples in rejections.json (also for malformed ones).
    var eventID: String
}
