import TallyJSON

/// The one writer of golden files: canonical JSON, sorted keys, trailing newline.
enum CanonicalWriter {
    static func text(_ value: JSONValue) -> String {
        CanonicalJSON.write(value, pretty: true)
    }
}
