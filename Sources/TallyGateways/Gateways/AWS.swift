import Foundation
import TallyJSON
import TallyPipeline

/// AWS API Gateway access logs in JSON, one record per line, or CloudWatch Logs subscription envelopes.
///
/// An access-log format is a JSON template of `$context` variables (Docs/Gateways.md gives the
/// one these defaults read). A subscription filter hands its destination
/// `{"awslogs":{"data":"<base64 of gzip>"}}`, whose data inflates to
/// `{"messageType":"DATA_MESSAGE","logEvents":[{"id","timestamp","message"}...]}`: each
/// `message` is one access-log record. CONTROL_MESSAGE envelopes (the filter's health check) hold none.
enum AWSLayout: GatewayLayout {
    static let defaultMapping = GatewayMapping(
        tenant: "tenantId", customer: "principalId", eventID: "requestId", timestamp: "requestTimeEpoch",
        metric: MetricMapping(field: "resourcePath"), status: "status")

    static let quantityField: FieldPath = "responseLength"

    static let envelopeKeys = ["awslogs"]

    static func record(for event: Event, status: Int) -> JSONValue {
        .object([
            "apiKeyId": .string("key-" + event.customer), "httpMethod": .string("GET"), "ip": .string("203.0.113.10"),
            "principalId": .string(event.customer), "protocol": .string("HTTP/1.1"), "requestId": .string(event.id),
            "requestTimeEpoch": .number(String(event.timestamp.millisecondsSinceEpoch)),
            "resourcePath": .string("/" + event.metric), "responseLength": .string(event.quantity.description),
            "stage": .string("prod"), "status": .string(String(status)), "tenantId": .string(event.tenant),
        ])
    }

    static func records(in document: JSONValue) throws(RecordProblem) -> [JSONValue] {
        guard case .object(let object) = document, let awslogs = object["awslogs"] else { return [document] }
        guard case .object(let envelope) = awslogs, case .string(let data)? = envelope["data"] else {
            throw RecordProblem("awslogs: expected an object with data, the base64 of a gzip payload")
        }
        guard let compressed = Data(base64Encoded: data) else {
            throw RecordProblem("awslogs.data: is not base64")
        }
        let payload: JSONValue
        do { payload = try JSONValue.parse(try Gzip.inflate(Array(compressed))) } catch let error as RecordProblem {
            throw RecordProblem("awslogs.data: \(error.message)")
        } catch let error as JSONError {
            throw RecordProblem("awslogs.data: the inflated payload is not JSON: \(error)")
        } catch {
            throw RecordProblem("awslogs.data: \(error)")
        }
        guard case .object(let message) = payload else { throw RecordProblem("awslogs.data: expected a JSON object") }
        if case .string("CONTROL_MESSAGE")? = message["messageType"] { return [] }
        guard case .array(let events)? = message["logEvents"] else {
            throw RecordProblem("awslogs.data: logEvents missing, expected an array of log events")
        }
        var records: [JSONValue] = []
        for (index, item) in events.enumerated() {
            guard case .object(let logEvent) = item, case .string(let text)? = logEvent["message"] else {
                throw RecordProblem("awslogs.data: logEvents[\(index)]: expected an object with a message string")
            }
            do { records.append(try JSONValue.parse(text)) } catch {
                // Kept as a string: the mapping then reports it as not a record, one dead letter for it alone.
                records.append(.string(text))
            }
        }
        return records
    }

    /// A subscription envelope holding `records` (access-log records) as one CloudWatch Logs batch.
    static func envelope(_ records: [JSONValue], timestamps: [Instant]) -> JSONValue {
        envelope(
            messages: zip(records, timestamps).map { (String(CanonicalJSON.write($0, pretty: false).dropLast()), $1) })
    }

    /// A subscription envelope of one CloudWatch Logs batch: each message (a record's text) and when it was logged.
    static func envelope(messages: [(text: String, timestamp: Instant)]) -> JSONValue {
        let logEvents: [JSONValue] = messages.enumerated().map { index, message in
            .object([
                "id": .string(String(index)),
                "message": .string(message.text),
                "timestamp": .number(String(message.timestamp.millisecondsSinceEpoch)),
            ])
        }
        let payload: JSONValue = .object([
            "logEvents": .array(logEvents), "logGroup": .string("API-Gateway-Execution-Logs/prod"),
            "logStream": .string("stream"), "messageType": .string("DATA_MESSAGE"), "owner": .string("123456789012"),
            "subscriptionFilters": .array([.string("tally")]),
        ])
        let data = Data(Gzip.deflate(Array(CanonicalJSON.write(payload, pretty: false).utf8))).base64EncodedString()
        return .object(["awslogs": .object(["data": .string(data)])])
    }
}
