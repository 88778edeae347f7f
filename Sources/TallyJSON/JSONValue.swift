/// A JSON value that keeps every number as its exact source text.
///
/// Numbers are never converted to `Double`: an amount such as `0.0015` must
/// reach the billing code digit for digit, so ``number(_:)`` carries the
/// literal and callers convert it with an exact decimal type.
///
/// Equality is exact rather than Unicode-aware: strings compare by their
/// UTF-8 bytes (so `"é"` and `"e\u{301}"` differ, as they do on the wire),
/// numbers compare by their text (`1.0` is not `1`), and objects compare as
/// unordered sets of members, because JSON gives member order no meaning and
/// the canonical writer reorders keys.
public enum JSONValue: Sendable, Equatable {
    /// JSON `null`.
    case null
    /// JSON `true` or `false`.
    case bool(Bool)
    /// A number as its literal text, for example `"-3"`, `"0.0015"` or `"1e999"`.
    ///
    /// The parser only produces text that matches the RFC 8259 number grammar.
    /// The writer emits the text verbatim, so a number built in code must hold
    /// such text too, or the output will not be valid JSON.
    case number(String)
    /// A string, with its escapes decoded.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object: its members in source order (a parsed object never repeats a key).
    case object(JSONObject)

    /// Whether both are the same JSON value, compared exactly (see the type's discussion).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case let (.bool(a), .bool(b)):
            return a == b
        case let (.number(a), .number(b)), let (.string(a), .string(b)):
            return utf8Equal(a, b)
        case let (.array(a), .array(b)):
            return a == b
        case let (.object(a), .object(b)):
            return a == b
        default:
            return false
        }
    }
}

/// A JSON object whose members stay in source order.
///
/// Members are an array rather than a `Dictionary` so that the order of the
/// input survives and nothing depends on hash order. Keys are matched by their
/// UTF-8 bytes everywhere (lookup, duplicate detection, equality).
public struct JSONObject: Sendable, Equatable {
    /// The members in source order.
    ///
    /// Keys should be unique. Parsed objects always are (the parser rejects
    /// duplicates); for objects built in code, lookup finds the first match and
    /// the writer emits every member, which the parser would then reject.
    public var members: [(key: String, value: JSONValue)]

    /// Creates an object with these members, in this order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the first member whose key has exactly these UTF-8 bytes.
    ///
    /// This is a linear scan: usage-event objects are small, and keeping a hash
    /// index would cost every parsed object an extra allocation.
    public subscript(key: String) -> JSONValue? {
        for member in members where utf8Equal(member.key, key) {
            return member.value
        }
        return nil
    }

    /// Compares members regardless of order; duplicate keys compare in their relative order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        // Same order is the common case (e.g. comparing two parses of one text) and needs no sorting.
        if zip(lhs.members, rhs.members).allSatisfy({ utf8Equal($0.key, $1.key) && $0.value == $1.value }) {
            return true
        }
        let left = lhs.sortedMemberIndices()
        let right = rhs.sortedMemberIndices()
        for (l, r) in zip(left, right) {
            let a = lhs.members[l]
            let b = rhs.members[r]
            guard utf8Equal(a.key, b.key), a.value == b.value else { return false }
        }
        return true
    }

    /// Member indices ordered by key bytes, ties by position, so the order is total and deterministic.
    func sortedMemberIndices() -> [Int] {
        members.indices.sorted { i, j in
            let order = utf8Compare(members[i].key, members[j].key)
            return order != 0 ? order < 0 : i < j
        }
    }
}
