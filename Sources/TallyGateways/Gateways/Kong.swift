import TallyJSON
import TallyPipeline

/// Kong's logging plugins (http-log, file-log, tcp-log): the serializer's JSON object per request.
///
/// file-log and tcp-log write one object per line; http-log posts an array per batch
/// (`queue.max_batch_size` above 1), which a file holds as one array per line.
/// The request id is `request.id` (Kong 3.5 and later; the `x-kong-request-id` header's value),
/// the time `started_at` (milliseconds since the epoch), the customer the authenticated consumer.
enum KongLayout: GatewayLayout {
    static let defaultMapping = GatewayMapping(
        tenant: "request.headers.x-tenant-id", customer: "consumer.username", eventID: "request.id",
        timestamp: "started_at", metric: MetricMapping(field: "route.name"), status: "response.status",
        properties: "request.querystring")

    static let quantityField: FieldPath = "response.size"

    static func record(for event: Event, status: Int) -> JSONValue {
        let path = "/" + event.metric
        return .object([
            "client_ip": .string("203.0.113.10"),
            "consumer": .object(["id": .string("consumer-" + event.customer), "username": .string(event.customer)]),
            "latencies": .object(["kong": .number("1"), "proxy": .number("20"), "request": .number("21")]),
            "request": .object([
                "headers": .object(["host": .string("api.example.com"), "x-tenant-id": .string(event.tenant)]),
                "id": .string(event.id), "method": .string("GET"), "size": .number("120"),
                "querystring": .object(
                    JSONObject(event.properties.map { (key: $0.key, value: JSONValue.string($0.value)) })),
                "uri": .string(path), "url": .string("https://api.example.com" + path),
            ]),
            "response": .object(["size": .number(event.quantity.description), "status": .number(String(status))]),
            "route": .object(["name": .string(event.metric), "paths": .array([.string(path)])]),
            "service": .object(["name": .string("api")]),
            "started_at": .number(String(event.timestamp.millisecondsSinceEpoch)),
        ])
    }
}
