import TallyGateways
import TallyPipeline

/// The common shape of a batch body, decoded straight from its bytes: `{"events":[...]}` of flat events.
///
/// Gateways and `tally replay` send flat objects of strings and numbers, at most with a `properties`
/// object of strings; for those this builds each event with ``FlatEventLine`` (the byte-level decoder
/// `tally run --events` uses) instead of the JSON tree. Anything else (escapes, other nested values,
/// unknown keys, a value the strict decoder would refuse, another tenant, a live key's `received_at`)
/// returns nil, and ``RequestDecoder/treeBatch(_:)`` decides, so both give the same items and the
/// same error for every body.
enum FlatBatch {
    static func items(_ body: [UInt8], decoder: RequestDecoder) -> [IngestItem]? {
        body.withUnsafeBufferPointer { items($0, decoder: decoder) }
    }

    private static let prefix = Array(#""events""#.utf8)

    private static func items(_ body: UnsafeBufferPointer<UInt8>, decoder: RequestDecoder) -> [IngestItem]? {
        let count = body.count
        var index = 0
        func skipSpace() {
            while index < count, isSpace(body[index]) { index += 1 }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < count, body[index] == byte else { return false }
            index += 1
            return true
        }
        guard expect(0x7B) else { return nil }
        skipSpace()
        guard index + prefix.count <= count, prefix.elementsEqual(body[index..<(index + prefix.count)]) else {
            return nil
        }
        index += prefix.count
        guard expect(0x3A), expect(0x5B) else { return nil }
        var items: [IngestItem] = []
        items.reserveCapacity(min(count / 100, decoder.limits.maxBatchEvents))
        while true {
            skipSpace()
            guard index < count, body[index] == 0x7B, let end = objectEnd(body, from: index) else { return nil }
            guard items.count < decoder.limits.maxBatchEvents,
                let item = item(UnsafeBufferPointer(rebasing: body[index..<end]), decoder: decoder)
            else { return nil }
            items.append(item)
            index = end
            skipSpace()
            guard index < count else { return nil }
            if body[index] == 0x2C {
                index += 1
                continue
            }
            guard body[index] == 0x5D else { return nil }
            index += 1
            break
        }
        guard expect(0x7D) else { return nil }
        skipSpace()
        return index == count ? items : nil
    }

    /// The index just past the object opening at `start`, or nil when it holds an escape, an array or an object
    /// nested deeper than one level (the general path takes those), or does not close.
    private static func objectEnd(_ body: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        var inString = false
        var depth = 1
        while index < body.count {
            let byte = body[index]
            if inString {
                if byte == 0x22 {
                    inString = false
                } else if byte == 0x5C {
                    return nil
                }
            } else if byte == 0x22 {
                inString = true
            } else if byte == 0x7D {
                depth -= 1
                if depth == 0 { return index + 1 }
            } else if byte == 0x7B {
                depth += 1
                if depth > 2 { return nil }
            } else if byte == 0x5B {
                return nil
            }
            index += 1
        }
        return nil
    }

    private static let propertiesKey = Array(#""properties""#.utf8)

    private static func item(_ object: UnsafeBufferPointer<UInt8>, decoder: RequestDecoder) -> IngestItem? {
        // An object without a nested one is the flat event itself; one with `properties` is decoded without
        // them, and the properties are read here.
        guard let nested = object.firstIndex(of: 0x7B, after: 1) else { return item(flat: object, decoder: decoder) }
        guard let (member, properties) = propertiesMember(object, nestedAt: nested, decoder: decoder) else {
            return nil
        }
        var rest = Array(object[..<member.lowerBound])
        rest.append(contentsOf: object[member.upperBound...])
        guard var decoded = rest.withUnsafeBufferPointer({ item(flat: $0, decoder: decoder) }) else { return nil }
        decoded.event.properties = properties
        return decoded
    }

    /// The bytes of the `"properties": {...}` member (with the comma that joins it to a neighbour) and its
    /// pairs, or nil unless it is an object of ASCII strings within the limits, with no key twice.
    private static func propertiesMember(
        _ object: UnsafeBufferPointer<UInt8>, nestedAt open: Int, decoder: RequestDecoder
    ) -> (Range<Int>, EventProperties)? {
        // Back from the nested object: `:`, then the key "properties", then `,` or the object's `{`.
        var index = open - 1
        func skipBack() { while index > 0, isSpace(object[index]) { index -= 1 } }
        skipBack()
        guard object[index] == 0x3A else { return nil }
        index -= 1
        skipBack()
        let keyEnd = index + 1
        guard keyEnd >= propertiesKey.count,
            propertiesKey.elementsEqual(object[(keyEnd - propertiesKey.count)..<keyEnd])
        else { return nil }
        index = keyEnd - propertiesKey.count - 1
        skipBack()
        let precededByComma = object[index] == 0x2C
        guard precededByComma || index == 0 else { return nil }
        var memberStart = precededByComma ? index : index + 1
        // Forward through the pairs: "key":"value", strings only (no escapes: objectEnd refused those).
        var pairs = EventProperties()
        var count = 0
        var at = open + 1
        func skip() { while at < object.count, isSpace(object[at]) { at += 1 } }
        func string() -> String? {
            skip()
            guard at < object.count, object[at] == 0x22 else { return nil }
            let start = at + 1
            guard let end = object.firstIndex(of: 0x22, after: start) else { return nil }
            let bytes = object[start..<end]
            guard end - start <= decoder.limits.maxTextLength, !bytes.contains(where: { $0 >= 0x80 || $0 < 0x20 })
            else { return nil }
            at = end + 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
        }
        skip()
        if at < object.count, object[at] == 0x7D {
            at += 1
        } else {
            while true {
                guard let key = string() else { return nil }
                skip()
                guard at < object.count, object[at] == 0x3A else { return nil }
                at += 1
                guard let value = string(), pairs[key] == nil, count < decoder.limits.maxProperties else { return nil }
                pairs[key] = value
                count += 1
                skip()
                guard at < object.count else { return nil }
                if object[at] == 0x2C {
                    at += 1
                    continue
                }
                guard object[at] == 0x7D else { return nil }
                at += 1
                break
            }
        }
        var memberEnd = at
        if !precededByComma {
            // The first member: take the comma after it instead.
            var after = at
            while after < object.count, isSpace(object[after]) { after += 1 }
            guard after < object.count else { return nil }
            if object[after] == 0x2C {
                memberEnd = after + 1
            } else {
                memberStart = index + 1
            }
        }
        return (memberStart..<memberEnd, pairs)
    }

    /// Whether `text` has at most `limit` characters: a text of at most `limit` UTF-8 bytes has, without walking
    /// its characters (a character is one byte or more).
    private static func fits(_ text: String, _ limit: Int) -> Bool { text.utf8.count <= limit || text.count <= limit }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D }

    private static func item(flat object: UnsafeBufferPointer<UInt8>, decoder: RequestDecoder) -> IngestItem? {
        guard case .event(let event, let receivedAt)? = FlatEventLine.record(object) else { return nil }
        let limit = decoder.limits.maxTextLength
        guard event.tenant == decoder.principal.tenant, fits(event.id, limit), fits(event.customer, limit),
            fits(event.metric, limit), fits(event.source, limit), fits(event.tenant, limit)
        else { return nil }
        if receivedAt != nil, decoder.principal.mode != .test { return nil }
        return IngestItem(event: event, receivedAt: receivedAt ?? decoder.now)
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The first index at or after `start` holding `byte`.
    fileprivate func firstIndex(of byte: UInt8, after start: Int) -> Int? {
        var index = start
        while index < count {
            if self[index] == byte { return index }
            index += 1
        }
        return nil
    }
}
