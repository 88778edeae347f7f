import TallyJSON
import TallyPipeline

/// Apigee MessageLogging records: the JSON message template of Docs/Gateways.md, one per line.
///
/// MessageLogging writes whatever its `<Message>` template says; the template there logs the
/// flow variables an analytics record holds (`messageid`, `client.received.start.timestamp`,
/// `developer.app.name`, `apiproduct.name`, `apiproxy.name`, `proxy.pathsuffix`, `response.status.code`).
enum ApigeeLayout: GatewayLayout {
    static let defaultMapping = GatewayMapping(
        tenant: "tenant", customer: "developer_app", eventID: "messageid",
        timestamp: "client_received_start_timestamp", metric: MetricMapping(field: "api_product"),
        status: "response_status_code")

    static let quantityField: FieldPath = "response_size"

    static func record(for event: Event, status: Int) -> JSONValue {
        .object([
            "api_product": .string(event.metric), "apiproxy": .string("api-v1"),
            "client_received_start_timestamp": .number(String(event.timestamp.millisecondsSinceEpoch)),
            "developer_app": .string(event.customer), "messageid": .string(event.id),
            "request_path": .string("/" + event.metric), "request_verb": .string("GET"),
            "response_size": .number(event.quantity.description), "response_status_code": .number(String(status)),
            "tenant": .string(event.tenant),
        ])
    }
}
