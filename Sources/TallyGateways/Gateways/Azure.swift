import TallyJSON
import TallyPipeline

/// Azure API Management GatewayLogs, one record per line (a Log Analytics export of the
/// ApiManagementGatewayLogs table) or a diagnostic export's `{"records": [...]}`.
///
/// Request headers are in `RequestHeaders` only when the diagnostic setting logs them
/// (Docs/Gateways.md); without an `X-Tenant-Id` there, a record is the scenario's tenant's.
enum AzureLayout: GatewayLayout {
    static let defaultMapping = GatewayMapping(
        tenant: "RequestHeaders.X-Tenant-Id", customer: "ApimSubscriptionId", eventID: "CorrelationId",
        timestamp: "TimeGenerated", metric: MetricMapping(field: "OperationId"), status: "ResponseCode")

    static let quantityField: FieldPath = "ResponseSize"

    static let envelopeKeys = ["records"]

    static func record(for event: Event, status: Int) -> JSONValue {
        .object([
            "ApiId": .string("api"), "ApimSubscriptionId": .string(event.customer), "Category": .string("GatewayLogs"),
            "CorrelationId": .string(event.id), "IsRequestSuccess": .bool(status < 400), "Method": .string("GET"),
            "OperationId": .string(event.metric), "ProductId": .string("starter"),
            "RequestHeaders": .object(["X-Tenant-Id": .string(event.tenant)]),
            "ResponseCode": .number(String(status)), "ResponseSize": .number(event.quantity.description),
            "TimeGenerated": .string(event.timestamp.iso8601),
            "Url": .string("https://api.example.com/" + event.metric),
        ])
    }

    static func records(in document: JSONValue) throws(RecordProblem) -> [JSONValue] {
        if case .object(let object) = document, let records = object["records"] {
            guard case .array(let items) = records else {
                throw RecordProblem("records: expected an array of GatewayLogs records")
            }
            return items
        }
        if case .array(let items) = document { return items }
        return [document]
    }
}
