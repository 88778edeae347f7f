import TallyJSON

/// The error `JSONValue.parse` reports for `text`, or nil if it parses.
func parseError(_ text: String) -> JSONError? {
    do {
        _ = try JSONValue.parse(text)
        return nil
    } catch {
        return error
    }
}

/// The error `JSONValue.parse` reports for raw bytes, or nil if they parse.
func parseError(bytes: [UInt8]) -> JSONError? {
    do {
        _ = try JSONValue.parse(bytes)
        return nil
    } catch {
        return error
    }
}

/// Shorthand for an object literal in tests, keeping the given member order.
func object(_ members: (String, JSONValue)...) -> JSONValue {
    .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
}
