import TallyJSON
import TallyPipeline

/// MuleSoft API Manager analytics events, as the Analytics Event API returns them in JSON, one per line
/// (or an array of them per line).
///
/// Fields keep the API's display names, spaces included (`Message ID`, `Application Name`...).
/// Analytics events carry no request headers, so records are the scenario's tenant's unless
/// the mapping names a field.
enum MuleSoftLayout: GatewayLayout {
    static let defaultMapping = GatewayMapping(
        tenant: nil, customer: "Application Name", eventID: "Message ID", timestamp: "Timestamp",
        metric: MetricMapping(field: "Resource Path"), status: "Status Code")

    static let quantityField: FieldPath = "Response Size"

    static func record(for event: Event, status: Int) -> JSONValue {
        .object([
            "API Name": .string("api"), "API Version Name": .string("v1"), "Application Name": .string(event.customer),
            "Client IP": .string("203.0.113.10"), "Message ID": .string(event.id),
            "Request Outcome": .string(status < 400 ? "PROCESSED" : "BLOCKED"),
            "Resource Path": .string("/" + event.metric), "Response Size": .number(event.quantity.description),
            "Status Code": .number(String(status)), "Timestamp": .string(event.timestamp.iso8601),
            "Verb": .string("GET"),
        ])
    }
}
