import TallyGateways
import TallyJSON
import TallyPipeline

/// The text formats `tally generate` writes a scenario's event stream in.
public enum EventExportFormat: String, CaseIterable, Sendable {
    /// JSON Lines: one compact canonical JSON object per event.
    case jsonl
    /// CSV with a header row (RFC 4180 quoting).
    case csv
    /// A gateway's own log records, one per line (Docs/Gateways.md): what its logging would have written.
    case kong, aws, azure, apigee, mulesoft

    /// The gateway whose records this format writes; nil for Tally's own formats.
    public var gateway: Gateway? { Gateway(rawValue: rawValue) }
}

/// Encodes stream items as JSON Lines or CSV rows, appending UTF-8 bytes to a buffer.
///
/// **JSON Lines.** Each line is the canonical compact JSON (``CanonicalJSON``,
/// `pretty: false`: keys sorted by their UTF-8 bytes, no spaces) of the event's
/// wire object (``Event/json``) plus a `received_at` member, the ISO-8601 ingest
/// time. A malformed event is its raw JSON object with `received_at` added the same
/// way; the field it lacks stays missing, so `Event(json:)` still refuses it (and a
/// raw text that is not a JSON object is written unchanged). Replaying each line
/// with `Meter.ingest(json:receivedAt:)` at its `received_at` gives the run's outcomes.
///
/// **CSV.** The header is ``csvHeader``. `properties` holds the event's properties
/// as a canonical compact JSON object (empty when it has none). A malformed event
/// fills only `received_at` and `raw`, its raw JSON text, since its fields cannot be
/// trusted; every other row leaves `raw` empty. Fields holding a comma, a quote or a
/// line break are quoted, with quotes doubled.
///
/// Output is a pure function of the items, so the same stream gives the same bytes.
public struct EventLineEncoder {
    public let format: EventExportFormat

    /// The CSV header row's columns.
    public static let csvHeader =
        "received_at,event_id,tenant_id,customer_id,metric,quantity,timestamp,source,properties,raw"

    /// The last day written, as `YYYY-MM-DD`, and where it starts: events come in time order,
    /// so nearly every timestamp falls on the day of the one before.
    private var dayStart: Int64 = .max
    private var dayText: (UInt64, UInt64) = (0, 0)

    /// AWS records per CloudWatch Logs subscription envelope; 0 writes one record per line.
    public let envelopeBatch: Int
    /// The records of the envelope being filled: each one's text and time.
    private var pendingMessages: [(text: String, timestamp: Instant)] = []

    /// The events per envelope of `tally generate --format aws --aws-envelope`.
    public static let defaultEnvelopeBatch = 100

    /// An encoder of `format`; with `envelopeBatch` above 0 (`aws` only) it writes CloudWatch Logs subscription
    /// envelopes of that many records each, the last one holding the rest (see ``finish(into:at:)``).
    public init(format: EventExportFormat, envelopeBatch: Int = 0) {
        self.format = format
        self.envelopeBatch = format == .aws ? max(0, envelopeBatch) : 0
    }

    /// Writes what is still held, the last envelope's records, into `out` from index `start` on;
    /// returns the index after it (`start` when nothing was held).
    public mutating func finish(into out: inout [UInt8], at start: Int) -> Int {
        guard !pendingMessages.isEmpty else { return start }
        let line = Array(Gateway.cloudWatchEnvelopeLine(pendingMessages).utf8)
        pendingMessages.removeAll(keepingCapacity: true)
        if out.count < start + line.count {
            out.append(contentsOf: repeatElement(0, count: start + line.count - out.count))
        }
        out.replaceSubrange(start..<(start + line.count), with: line)
        return start + line.count
    }

    /// The bytes before the first event: the CSV header line, nothing for JSON Lines.
    public func header(into out: inout [UInt8]) {
        guard format == .csv else { return }
        out.append(contentsOf: EventLineEncoder.csvHeader.utf8)
        out.append(Byte.newline)
    }

    /// Appends one item's line, newline included, to `out`.
    public mutating func encode(_ item: GeneratedItem, into out: inout [UInt8]) {
        let end = encode(item, into: &out, at: out.count)
        out.removeSubrange(end...)
    }

    /// Writes one item's line into `out` from index `start` on, and returns the index after it.
    ///
    /// `out` is a reused buffer whose bytes past `start` are scratch: it is lengthened
    /// (zero-filled) only when the line might not fit, and never shortened, so a writer
    /// can keep one buffer and its own count of the bytes in use.
    public mutating func encode(_ item: GeneratedItem, into out: inout [UInt8], at start: Int) -> Int {
        if let gateway = format.gateway, envelopeBatch > 0 {
            // One log event per item, its message the record's text (a malformed event's raw text).
            switch item.payload {
            case .event(let event):
                pendingMessages.append((String(gateway.line(for: event).dropLast()), item.receivedAt))
            case .malformed(let raw), .undecodable(let raw, _): pendingMessages.append((raw, item.receivedAt))
            }
            return pendingMessages.count < envelopeBatch ? start : finish(into: &out, at: start)
        }
        if let gateway = format.gateway {
            // A gateway's record has no ingest time; a malformed event stays the raw text it was.
            var line: [UInt8]
            switch item.payload {
            case .event(let event): line = Array(gateway.line(for: event).utf8)
            case .malformed(let raw), .undecodable(let raw, _): line = Array(raw.utf8) + [Byte.newline]
            }
            if out.count < start + line.count {
                out.append(contentsOf: repeatElement(0, count: start + line.count - out.count))
            }
            out.replaceSubrange(start..<(start + line.count), with: line)
            return start + line.count
        }
        switch item.payload {
        case .event(let event):
            // Every string byte may become a 6-byte JSON escape, or in CSV a doubled quote
            // inside an escaped JSON object: 12 per byte is a safe bound, plus the fixed text.
            var variable =
                event.id.utf8.count + event.tenant.utf8.count + event.customer.utf8.count
                + event.metric.utf8.count + event.source.utf8.count
            for pair in event.properties { variable += pair.key.utf8.count + pair.value.utf8.count + 6 }
            let bound = 12 * variable + 512
            if out.count < start + bound { out.append(contentsOf: repeatElement(0, count: start + bound - out.count)) }
            return out.withUnsafeMutableBufferPointer { buffer -> Int in
                // The buffer is at least start + bound long, checked above.
                var writer = RawWriter(base: buffer.baseAddress.unsafelyUnwrapped, at: start)
                if format == .jsonl {
                    jsonLine(event, receivedAt: item.receivedAt, &writer)
                } else {
                    csvRow(event, receivedAt: item.receivedAt, &writer)
                }
                return writer.at
            }
        case .malformed(let raw), .undecodable(let raw, _):
            // Rare: built the simple way, then copied in.
            var line: [UInt8] = []
            if format == .jsonl {
                malformedJSONLine(raw, receivedAt: item.receivedAt, into: &line)
            } else {
                malformedCSVRow(raw, receivedAt: item.receivedAt, into: &line)
            }
            if out.count < start + line.count {
                out.append(contentsOf: repeatElement(0, count: start + line.count - out.count))
            }
            out.replaceSubrange(start..<(start + line.count), with: line)
            return start + line.count
        }
    }

    // MARK: JSON Lines

    private mutating func jsonLine(_ event: Event, receivedAt: Instant, _ out: inout RawWriter) {
        // Keys in canonical (byte) order.
        out.literal(#"{"customer_id":"#)
        out.jsonString(event.customer)
        out.literal(#","event_id":"#)
        out.jsonString(event.id)
        out.literal(#","metric":"#)
        out.jsonString(event.metric)
        if !event.properties.isEmpty {
            out.literal(#","properties":"#)
            Self.jsonProperties(event.properties, &out)
        }
        out.literal(#","quantity":"#)
        out.decimal(event.quantity)
        out.literal(#","received_at":""#)
        instant(receivedAt, &out)
        out.literal(#"","source":"#)
        out.jsonString(event.source)
        out.literal(#","tenant_id":"#)
        out.jsonString(event.tenant)
        out.literal(#","timestamp":""#)
        instant(event.timestamp, &out)
        out.literal("\"}\n")
    }

    /// Parses the raw text, adds `received_at`, and writes it canonically; text that is not an object goes out as it is.
    private func malformedJSONLine(_ raw: String, receivedAt: Instant, into out: inout [UInt8]) {
        if case .object(let object)? = try? JSONValue.parse(raw), object["received_at"] == nil {
            var members = object.members
            members.append((key: "received_at", value: .string(receivedAt.iso8601)))
            out.append(contentsOf: CanonicalJSON.write(.object(JSONObject(members)), pretty: false).utf8)
        } else {
            out.append(contentsOf: raw.utf8)
            out.append(Byte.newline)
        }
    }

    private static func jsonProperties(_ properties: EventProperties, _ out: inout RawWriter) {
        // EventProperties sorts by String order, which is byte order for ASCII keys; canonical
        // JSON wants byte order for any key, so re-sort only when they differ.
        let pairs = properties.pairs
        var sorted = true
        if pairs.count > 1 {
            for index in 1..<pairs.count
            where !pairs[index - 1].key.utf8.lexicographicallyPrecedes(pairs[index].key.utf8) {
                sorted = false
                break
            }
        }
        let ordered = sorted ? pairs : pairs.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        out.byte(Byte.openBrace)
        for index in ordered.indices {
            if index > 0 { out.byte(Byte.comma) }
            out.jsonString(ordered[index].key)
            out.byte(Byte.colon)
            out.jsonString(ordered[index].value)
        }
        out.byte(Byte.closeBrace)
    }

    // MARK: CSV

    private mutating func csvRow(_ event: Event, receivedAt: Instant, _ out: inout RawWriter) {
        instant(receivedAt, &out)
        out.byte(Byte.comma)
        out.csvField(event.id)
        out.byte(Byte.comma)
        out.csvField(event.tenant)
        out.byte(Byte.comma)
        out.csvField(event.customer)
        out.byte(Byte.comma)
        out.csvField(event.metric)
        out.byte(Byte.comma)
        out.decimal(event.quantity)
        out.byte(Byte.comma)
        instant(event.timestamp, &out)
        out.byte(Byte.comma)
        out.csvField(event.source)
        out.byte(Byte.comma)
        if !event.properties.isEmpty {
            // The JSON object, then quoted in place: it always holds quotes.
            let objectStart = out.at
            Self.jsonProperties(event.properties, &out)
            out.quoteInPlace(from: objectStart)
        }
        // The raw column stays empty for a well-formed event.
        out.literal(",\n")
    }

    private mutating func malformedCSVRow(_ raw: String, receivedAt: Instant, into out: inout [UInt8]) {
        out.append(contentsOf: receivedAt.iso8601.utf8)
        out.append(contentsOf: ",,,,,,,,,".utf8)
        let bytes = Array(raw.utf8)
        if bytes.contains(where: RawWriter.needsCSVQuotes) {
            out.append(Byte.quote)
            for byte in bytes {
                if byte == Byte.quote { out.append(Byte.quote) }
                out.append(byte)
            }
            out.append(Byte.quote)
        } else {
            out.append(contentsOf: bytes)
        }
        out.append(Byte.newline)
    }

    // MARK: Times

    /// `2026-01-03T10:00:00Z`, with `.123` only when the milliseconds are not zero: ``Instant/iso8601``.
    private mutating func instant(_ instant: Instant, _ out: inout RawWriter) {
        let ms = instant.millisecondsSinceEpoch
        let day: Int64 = 86_400_000
        if ms < dayStart || ms - dayStart >= day {
            let date = instant.civilDate
            // Years outside 0...9999 are not worth a fast path.
            guard (0...9999).contains(date.year) else {
                out.string(instant.iso8601)
                return
            }
            dayStart = date.daysSinceEpoch * day
            withUnsafeMutableBytes(of: &dayText) { text in
                let digits = [date.year / 1000, date.year / 100 % 10, date.year / 10 % 10, date.year % 10]
                for (index, digit) in digits.enumerated() { text[index] = UInt8(truncatingIfNeeded: digit) + Byte.zero }
                text[4] = UInt8(ascii: "-")
                text[5] = UInt8(truncatingIfNeeded: date.month / 10) + Byte.zero
                text[6] = UInt8(truncatingIfNeeded: date.month % 10) + Byte.zero
                text[7] = UInt8(ascii: "-")
                text[8] = UInt8(truncatingIfNeeded: date.day / 10) + Byte.zero
                text[9] = UInt8(truncatingIfNeeded: date.day % 10) + Byte.zero
                text[10] = UInt8(ascii: "T")
            }
        }
        withUnsafeBytes(of: dayText) { text in out.bytes(UnsafeRawBufferPointer(rebasing: text[0..<11])) }
        let ofDay = Int(ms - dayStart)
        out.twoDigits(ofDay / 3_600_000)
        out.byte(Byte.colon)
        out.twoDigits(ofDay / 60_000 % 60)
        out.byte(Byte.colon)
        out.twoDigits(ofDay / 1_000 % 60)
        let fraction = ofDay % 1_000
        if fraction != 0 {
            out.byte(UInt8(ascii: "."))
            out.byte(UInt8(truncatingIfNeeded: fraction / 100) + Byte.zero)
            out.twoDigits(fraction % 100)
        }
        out.byte(UInt8(ascii: "Z"))
    }
}

/// Writes bytes through a pointer into a buffer the caller has made long enough.
struct RawWriter {
    let base: UnsafeMutablePointer<UInt8>
    var at: Int

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        base[at] = value
        at += 1
    }

    @inline(__always)
    mutating func literal(_ text: StaticString) {
        (base + at).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        at += text.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        UnsafeMutableRawPointer(base + at).copyMemory(from: source, byteCount: bytes.count)
        at += bytes.count
    }

    @inline(__always)
    mutating func bytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes(UnsafeRawBufferPointer(bytes))
    }

    /// The string's UTF-8 bytes as they are.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// A JSON string literal, escaped by ``CanonicalJSON/emitString(_:_:)``.
    @inline(__always)
    mutating func jsonString(_ text: String) {
        // Nearly every string needs no escape: copy its bytes whole.
        let plain = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for value in utf8 where value < 0x20 || value == Byte.quote || value == Byte.backslash { return false }
            byte(Byte.quote)
            bytes(utf8)
            byte(Byte.quote)
            return true
        }
        if plain != true { CanonicalJSON.emitString(text) { byte($0) } }
    }

    @inline(__always)
    static func needsCSVQuotes(_ value: UInt8) -> Bool {
        value == Byte.comma || value == Byte.quote || value == Byte.newline || value == 0x0D
    }

    /// A CSV field, quoted only when it holds a comma, a quote or a line break.
    mutating func csvField(_ text: String) {
        let start = at
        string(text)
        for index in start..<at where RawWriter.needsCSVQuotes(base[index]) {
            quoteInPlace(from: start)
            return
        }
    }

    /// Quotes the bytes written since `start` as one CSV field, doubling the quotes in it.
    mutating func quoteInPlace(from start: Int) {
        var quotes = 0
        for index in start..<at where base[index] == Byte.quote { quotes += 1 }
        // Fill from the end, so every byte moves right before anything overwrites it.
        var source = at - 1
        var target = at + quotes + 1
        base[target] = Byte.quote
        target -= 1
        while source >= start {
            base[target] = base[source]
            target -= 1
            if base[source] == Byte.quote {
                base[target] = Byte.quote
                target -= 1
            }
            source -= 1
        }
        base[target] = Byte.quote
        at += quotes + 2
    }

    private static let pairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// `value` (0 to 99) in two digits.
    @inline(__always)
    mutating func twoDigits(_ value: Int) {
        (base + at).update(from: RawWriter.pairs.utf8Start + 2 * value, count: 2)
        at += 2
    }

    /// The decimal's text, as `ExactDecimal.description` writes it: normalized, no exponent.
    mutating func decimal(_ value: ExactDecimal) {
        var significand = value.significand
        var scale = value.scale
        while scale > 0 && significand % 10 == 0 {
            significand /= 10
            scale -= 1
        }
        if significand < 0 { byte(UInt8(ascii: "-")) }
        let magnitude = significand.magnitude
        // Digits, least significant first, in a fixed-size scratch (a UInt128 has at most 39).
        var digits: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var n = 0
            if magnitude <= UInt128(UInt64.max) {
                var small = UInt64(magnitude)
                repeat {
                    scratch[n] = UInt8(truncatingIfNeeded: small % 10) + Byte.zero
                    small /= 10
                    n += 1
                } while small > 0
            } else {
                var large = magnitude
                repeat {
                    scratch[n] = UInt8(truncatingIfNeeded: large % 10) + Byte.zero
                    large /= 10
                    n += 1
                } while large > 0
            }
            return n
        }
        withUnsafeBytes(of: digits) { scratch in
            // At least one digit before the point: 0.0015, not .0015.
            let total = Swift.max(count, scale + 1)
            for position in stride(from: total - 1, through: 0, by: -1) {
                if position == scale - 1 { byte(UInt8(ascii: ".")) }
                byte(position < count ? scratch[position] : Byte.zero)
            }
        }
    }
}

/// ASCII bytes the encoder writes.
enum Byte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let newline = UInt8(ascii: "\n")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let zero = UInt8(ascii: "0")
}
