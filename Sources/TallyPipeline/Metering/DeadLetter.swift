/// An event the pipeline could not take yet, kept whole with its reason so it can be replayed.
public struct DeadLetter: Sendable, Hashable {
    /// Why the event could not be taken: `schema_invalid`, `unknown_customer` or `unknown_metric`.
    public var reason: OutcomeReason
    /// What exactly was wrong, such as `quantity: "abc" is not a decimal number`.
    public var detail: String
    /// The event, or the raw input when it did not decode.
    public var payload: Payload
    /// When it was received.
    public var receivedAt: Instant

    /// The event as received.
    public enum Payload: Sendable, Hashable {
        /// A well-formed event whose customer or metric was unknown.
        case event(Event)
        /// Input that did not decode into an event, kept byte for byte.
        case raw(String)
    }

    /// Creates a dead letter; the ``Meter`` makes them, a service's store reads them back.
    public init(reason: OutcomeReason, detail: String, payload: Payload, receivedAt: Instant) {
        self.reason = reason
        self.detail = detail
        self.payload = payload
        self.receivedAt = receivedAt
    }

    /// The event id, when one could be read.
    public var eventID: String? {
        if case .event(let event) = payload { return event.id }
        return nil
    }
}
