import TallyPipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Pulls a gateway record's mapped fields straight from its line's bytes, without building its JSON tree.
///
/// It reads the shape gateway logs write: one object per line, ASCII, keys without escapes,
/// nesting at most ``maxDepth`` deep. Any other line, and any line that is not valid JSON, gets
/// nil, and the decoder parses it into a tree, which then decides the record and its problem: a
/// bad record reads the same either way. Where the tree's path lookup could find something the
/// scan would not (a key holding a dot, a key equal to a mapped one only ignoring case, an
/// envelope's key), the scan gives up too.
final class GatewayFieldScanner {
    /// Deeper records take the tree (whose own limit is far above this).
    static let maxDepth = 32
    /// An object with more members takes the tree, which bounds the cost of finding a repeated key.
    static let maxMembers = 64
    /// A properties object with more scalar members takes the tree.
    static let maxProperties = 64

    /// One pointer to the tables, so that the recursive scan never copies them.
    private let tables: UnsafeMutablePointer<Tables>

    /// A scanner for `mapping`'s paths; nil when a path cannot be matched byte for byte (a non-ASCII key).
    ///
    /// - Parameter envelopeKeys: top-level keys that make a line a batch or envelope, which the tree unwraps.
    init?(mapping: GatewayMapping, envelopeKeys: [String]) {
        var nodes = [TrieNode(key: [])]
        func child(of parent: Int, _ key: [UInt8]) -> Int {
            if let found = nodes[parent].children.first(where: { nodes[$0].key == key }) { return found }
            nodes.append(TrieNode(key: key))
            nodes[parent].children.append(nodes.count - 1)
            return nodes.count - 1
        }
        for field in MappedField.allCases {
            guard let path = mapping.path(field) else { continue }
            guard path.text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
            var node = 0
            for component in path.text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
                node = child(of: node, Array(component))
            }
            nodes[node].fields |= 1 << field.rawValue
        }
        for key in envelopeKeys { nodes[child(of: 0, Array(key.utf8))].isEnvelope = true }
        tables = .allocate(capacity: 1)
        tables.initialize(to: Tables(nodes: nodes, properties: mapping.path(.properties) != nil))
    }

    deinit {
        tables.pointee.deallocate()
        tables.deallocate()
    }

    /// The mapped fields of `line`, valid until the next call; nil when the line needs the tree.
    func fields(_ line: UnsafeBufferPointer<UInt8>) -> ScannedFields? {
        guard let base = line.baseAddress else { return nil }
        var scan = Scan(bytes: base, end: line.count, tables: tables)
        guard scan.document() else { return nil }
        return ScannedFields(bytes: base, tablesPointer: tables, propertyCount: scan.propertyCount)
    }
}

/// One key of a mapped path: its bytes, the fields whose path ends there, whether it is an envelope's, its children.
private struct TrieNode {
    var key: [UInt8]
    var fields: UInt16 = 0
    var isEnvelope = false
    var children: [Int] = []
}

/// What a mapped field's value is.
enum ValueKind: UInt8 {
    case missing, string, number, isTrue, isFalse, null, container
}

/// The scanner's trie of mapped keys and its scratch space, in flat buffers the scan reads without reference counting.
private struct Tables {
    /// Per node: the start and end of its key in `keyBytes`, its first child and child count, its fields.
    let keyStart, keyEnd, childStart, childCount: UnsafeMutableBufferPointer<Int>
    let fields: UnsafeMutableBufferPointer<UInt16>
    let isEnvelope: UnsafeMutableBufferPointer<Bool>
    let keyBytes: UnsafeMutableBufferPointer<UInt8>
    /// Per node: its key's hash (``Words/keyHash(_:count:readable:)``), which a record's key must share to
    /// match it, exactly or ignoring case.
    let keyHash: UnsafeMutableBufferPointer<UInt64>
    /// The node whose object's members are the event's properties, or -1.
    let propertiesNode: Int
    /// Per mapped field: the kind of value found, and its bytes' start and end.
    let slotKind: UnsafeMutableBufferPointer<ValueKind>
    let slotStart, slotEnd: UnsafeMutableBufferPointer<Int>
    /// The keys of the objects being read, for finding a repeated one: start, end and hash of each.
    let memberStart, memberEnd: UnsafeMutableBufferPointer<Int>
    let memberHash: UnsafeMutableBufferPointer<UInt64>
    /// The properties found: key start and end, value kind, value start and end.
    let propertyKeyStart, propertyKeyEnd, propertyStart, propertyEnd: UnsafeMutableBufferPointer<Int>
    let propertyKind: UnsafeMutableBufferPointer<ValueKind>

    init(nodes: [TrieNode], properties: Bool) {
        // Breadth first, so that each node's children sit side by side.
        var order = [0]
        var index = 0
        while index < order.count {
            order.append(contentsOf: nodes[order[index]].children)
            index += 1
        }
        var newIndex = [Int](repeating: 0, count: nodes.count)
        for (position, node) in order.enumerated() { newIndex[node] = position }
        let count = nodes.count
        keyStart = .allocate(capacity: count)
        keyEnd = .allocate(capacity: count)
        childStart = .allocate(capacity: count)
        childCount = .allocate(capacity: count)
        fields = .allocate(capacity: count)
        isEnvelope = .allocate(capacity: count)
        keyBytes = .allocate(capacity: max(1, nodes.reduce(0) { $0 + $1.key.count }))
        keyHash = .allocate(capacity: count)
        var propertiesNode = -1
        var byte = 0
        for (position, old) in order.enumerated() {
            let node = nodes[old]
            keyStart[position] = byte
            for value in node.key {
                keyBytes[byte] = value
                byte += 1
            }
            keyEnd[position] = byte
            // Eight bytes of padding, so that the key's words are read as a line's are.
            keyHash[position] = (node.key + [UInt8](repeating: 0, count: 8)).withUnsafeBufferPointer { padded in
                guard let base = padded.baseAddress else { return 0 }
                return Words.keyHash(base, count: node.key.count, readable: padded.count).hash
            }
            childStart[position] = node.children.first.map { newIndex[$0] } ?? 0
            childCount[position] = node.children.count
            fields[position] = node.fields
            isEnvelope[position] = node.isEnvelope
            if properties, node.fields & (1 << MappedField.properties.rawValue) != 0 { propertiesNode = position }
        }
        self.propertiesNode = propertiesNode
        let fieldCount = MappedField.allCases.count
        slotKind = .allocate(capacity: fieldCount)
        slotStart = .allocate(capacity: fieldCount)
        slotEnd = .allocate(capacity: fieldCount)
        let members = GatewayFieldScanner.maxMembers * (GatewayFieldScanner.maxDepth + 1)
        memberStart = .allocate(capacity: members)
        memberEnd = .allocate(capacity: members)
        memberHash = .allocate(capacity: members)
        let propertyCount = GatewayFieldScanner.maxProperties
        propertyKeyStart = .allocate(capacity: propertyCount)
        propertyKeyEnd = .allocate(capacity: propertyCount)
        propertyStart = .allocate(capacity: propertyCount)
        propertyEnd = .allocate(capacity: propertyCount)
        propertyKind = .allocate(capacity: propertyCount)
    }

    func deallocate() {
        for buffer in [
            keyStart, keyEnd, childStart, childCount, slotStart, slotEnd, memberStart, memberEnd, propertyKeyStart,
            propertyKeyEnd, propertyStart, propertyEnd,
        ] {
            buffer.deallocate()
        }
        fields.deallocate()
        isEnvelope.deallocate()
        keyBytes.deallocate()
        keyHash.deallocate()
        memberHash.deallocate()
        slotKind.deallocate()
        propertyKind.deallocate()
    }
}

/// Eight bytes at a time: which bytes end a plain run of string text, and a key's hash.
///
/// A line's bytes are read as little-endian words wherever eight of them lie inside the line;
/// the first byte of a word that is a quote, a backslash, a control or a non-ASCII byte is found
/// with the classic bit tricks (the lowest byte they mark is always a true one).
private enum Words {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each zero byte of `word` set (and perhaps of bytes above the lowest one).
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }

    /// The high bit set of each byte that ends a plain run: a quote, a backslash, below 0x20 or above 0x7F.
    @inline(__always)
    static func stops(_ word: UInt64) -> UInt64 {
        let quote = zeroBytes(word ^ (ones &* 0x22))
        let backslash = zeroBytes(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs
        return (quote | backslash | control | word) & highs
    }

    /// The first `count` (0 to 8) bytes at `pointer` as a little-endian word, zero above them;
    /// `readable` says how many bytes from `pointer` may be read.
    @inline(__always)
    static func word(_ pointer: UnsafePointer<UInt8>, count: Int, readable: Int) -> UInt64 {
        if readable >= 8 {
            let word = UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self).littleEndian
            return count >= 8 ? word : word & ((1 << UInt64(count * 8)) &- 1)
        }
        var word: UInt64 = 0
        for index in 0..<count { word |= UInt64(pointer[index]) << UInt64(index * 8) }
        return word
    }

    /// A key's hash, alike for keys equal exactly or ignoring ASCII case, and whether the key holds a dot.
    ///
    /// `readable` bytes from `key` may be read (at least `count`).
    ///
    /// A key is folded by setting bit 0x20 of every byte, which makes `A` `a` (and makes other pairs
    /// alike, which only costs a byte comparison): its first and last eight bytes and its length.
    static func keyHash(_ key: UnsafePointer<UInt8>, count: Int, readable: Int) -> (hash: UInt64, hasDot: Bool) {
        let fold = ones &* 0x20
        let dots = ones &* 0x2E
        let first = word(key, count: min(count, 8), readable: readable)
        let last = count > 8 ? word(key + count - 8, count: 8, readable: readable - count + 8) : 0
        let firstMask: UInt64 = count >= 8 ? ~0 : (1 << UInt64(count * 8)) &- 1
        var hasDot = zeroBytes(first ^ dots) & firstMask != 0 || (count > 8 && zeroBytes(last ^ dots) != 0)
        if count > 16, !hasDot { hasDot = memchr(key + 8, 0x2E, count - 16) != nil }
        var hash = ((first | fold) & firstMask) &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ (hash >> 29) ^ (count > 8 ? (last | fold) : 0)) &* 0xBF58_476D_1CE4_E5B9
        return (hash ^ UInt64(count), hasDot)
    }
}

/// One line's scan: a strict RFC 8259 reader of the subset the scanner takes, noting the mapped fields' places.
private struct Scan {
    let bytes: UnsafePointer<UInt8>
    let end: Int
    let tablesPointer: UnsafeMutablePointer<Tables>
    var tables: Tables { _read { yield tablesPointer.pointee } }
    var pos = 0
    var depth = 0
    var memberCount = 0
    var propertyCount = 0

    init(bytes: UnsafePointer<UInt8>, end: Int, tables: UnsafeMutablePointer<Tables>) {
        self.bytes = bytes
        self.end = end
        tablesPointer = tables
    }

    /// Reads the line as one object and nothing after it but whitespace; false when the tree must decide.
    mutating func document() -> Bool {
        for slot in 0..<tables.slotKind.count { tables.slotKind[slot] = .missing }
        skipSpace()
        guard pos < end, bytes[pos] == 0x7B, object(node: 0) else { return false }
        skipSpace()
        return pos == end
    }

    private mutating func skipSpace() {
        while pos < end {
            let byte = bytes[pos]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A else { return }
            pos += 1
        }
    }

    /// The value at `pos`, under trie node `node` (-1: a place no mapped path reaches).
    private mutating func value(node: Int) -> Bool {
        guard pos < end else { return false }
        let start = pos
        let kind: ValueKind
        var valueStart = start
        var valueEnd: Int
        switch bytes[pos] {
        case 0x22:
            // A mapped string must read as it stands; an escape elsewhere only needs to be valid.
            guard let close = string(escapes: node < 0 || tables.fields[node] == 0) else { return false }
            kind = .string
            valueStart = start + 1
            valueEnd = close
        case 0x7B:
            let tracked = node >= 0 && (tables.childCount[node] > 0 || node == tables.propertiesNode)
            guard object(node: tracked ? node : -1) else { return false }
            kind = .container
            valueEnd = pos
        case 0x5B:
            guard array() else { return false }
            kind = .container
            valueEnd = pos
        case 0x74:
            guard literal(0x74, 0x72, 0x75, 0x65) else { return false }
            kind = .isTrue
            valueEnd = pos
        case 0x66:
            guard literal(0x66, 0x61, 0x6C, 0x73), pos < end, bytes[pos] == 0x65 else { return false }
            pos += 1
            kind = .isFalse
            valueEnd = pos
        case 0x6E:
            guard literal(0x6E, 0x75, 0x6C, 0x6C) else { return false }
            kind = .null
            valueEnd = pos
        case 0x2D, 0x30...0x39:
            guard number() else { return false }
            kind = .number
            valueEnd = pos
        default:
            return false
        }
        if node >= 0 {
            var fields = tables.fields[node]
            while fields != 0 {
                let slot = fields.trailingZeroBitCount
                fields &= fields - 1
                tables.slotKind[slot] = kind
                tables.slotStart[slot] = valueStart
                tables.slotEnd[slot] = valueEnd
            }
        }
        return true
    }

    /// Four bytes of `true`, `null` or the start of `false`.
    private mutating func literal(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Bool {
        guard pos + 4 <= end, bytes[pos] == a, bytes[pos + 1] == b, bytes[pos + 2] == c, bytes[pos + 3] == d
        else { return false }
        pos += 4
        return true
    }

    /// A string from its opening quote: the offset of its closing quote, `pos` left past it.
    ///
    /// Only ASCII; escapes only where `escapes` (and `\u` only outside the surrogates).
    private mutating func string(escapes: Bool) -> Int? {
        var at = pos + 1
        while true {
            at = plainEnd(from: at)
            guard at < end else { return nil }
            let byte = bytes[at]
            if byte == 0x22 {
                pos = at + 1
                return at
            }
            guard byte == 0x5C, escapes, at + 1 < end else { return nil }
            switch bytes[at + 1] {
            case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: at += 2
            case 0x75:
                guard at + 6 <= end else { return nil }
                var unit = 0
                for offset in 2..<6 {
                    let digit = bytes[at + offset]
                    switch digit {
                    case 0x30...0x39: unit = unit << 4 | Int(digit - 0x30)
                    case 0x41...0x46: unit = unit << 4 | Int(digit - 0x37)
                    case 0x61...0x66: unit = unit << 4 | Int(digit - 0x57)
                    default: return nil
                    }
                }
                guard !(0xD800...0xDFFF).contains(unit) else { return nil }
                at += 6
            default: return nil
            }
        }
    }

    /// The offset of the first byte from `start` that ends a plain run of string text (a quote, a
    /// backslash, a control or a non-ASCII byte), or `end`.
    @inline(__always)
    private func plainEnd(from start: Int) -> Int {
        var at = start
        while at + 8 <= end {
            let stops = Words.stops(UnsafeRawPointer(bytes + at).loadUnaligned(as: UInt64.self).littleEndian)
            if stops != 0 { return at + stops.trailingZeroBitCount >> 3 }
            at += 8
        }
        while at < end {
            let byte = bytes[at]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80 { return at }
            at += 1
        }
        return end
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, the parser's grammar.
    private mutating func number() -> Bool {
        func isDigit(_ at: Int) -> Bool { at < end && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
        if bytes[pos] == 0x2D { pos += 1 }
        guard isDigit(pos) else { return false }
        if bytes[pos] == 0x30 {
            pos += 1
            if isDigit(pos) { return false }
        } else {
            while isDigit(pos) { pos += 1 }
        }
        if pos < end, bytes[pos] == 0x2E {
            pos += 1
            guard isDigit(pos) else { return false }
            while isDigit(pos) { pos += 1 }
        }
        if pos < end, bytes[pos] == 0x65 || bytes[pos] == 0x45 {
            pos += 1
            if pos < end, bytes[pos] == 0x2B || bytes[pos] == 0x2D { pos += 1 }
            guard isDigit(pos) else { return false }
            while isDigit(pos) { pos += 1 }
        }
        return true
    }

    /// Steps into the array or object at `pos`: true when it is empty (and closed), nil when nested too deep.
    private mutating func enter(closingWith close: UInt8) -> Bool? {
        depth += 1
        guard depth <= GatewayFieldScanner.maxDepth else { return nil }
        pos += 1
        skipSpace()
        guard pos < end, bytes[pos] == close else { return false }
        pos += 1
        depth -= 1
        return true
    }

    /// After a member or element: true when a comma says another follows, false when `close` ends the
    /// container (stepping out of it), nil for anything else.
    private mutating func another(closingWith close: UInt8) -> Bool? {
        skipSpace()
        guard pos < end else { return nil }
        if bytes[pos] == close {
            pos += 1
            depth -= 1
            return false
        }
        guard bytes[pos] == 0x2C else { return nil }
        pos += 1
        skipSpace()
        return true
    }

    private mutating func array() -> Bool {
        guard let empty = enter(closingWith: 0x5D) else { return false }
        if empty { return true }
        while true {
            // No mapped path goes through an array.
            guard value(node: -1), let more = another(closingWith: 0x5D) else { return false }
            if !more { return true }
        }
    }

    /// An object from its opening brace, under trie node `node` (-1: no mapped path goes through it).
    private mutating func object(node: Int) -> Bool {
        guard let empty = enter(closingWith: 0x7D) else { return false }
        if empty { return true }
        let firstMember = memberCount
        let collectsProperties = node >= 0 && node == tables.propertiesNode
        while true {
            guard pos < end, bytes[pos] == 0x22 else { return false }
            let keyStart = pos + 1
            guard let (keyEnd, hash, hasDot) = key(), isNewKey(keyStart, keyEnd, hash, since: firstMember) else {
                return false
            }
            var child = -1
            if node >= 0 {
                guard let found = match(keyStart, keyEnd, hash, hasDot, under: node) else { return false }
                child = found
            }
            skipSpace()
            guard pos < end, bytes[pos] == 0x3A else { return false }
            pos += 1
            skipSpace()
            let valueStart = pos
            guard value(node: child) else { return false }
            if collectsProperties, !addProperty(keyStart, keyEnd, valueStart) { return false }
            guard let more = another(closingWith: 0x7D) else { return false }
            if !more { break }
        }
        memberCount = firstMember
        return true
    }

    /// A key from its opening quote at `pos`: its closing quote's offset, its hash and whether it holds a dot.
    ///
    /// `pos` is left past it. Only ASCII without escapes, as ``string(escapes:)`` with `false`.
    private mutating func key() -> (end: Int, hash: UInt64, hasDot: Bool)? {
        let start = pos + 1
        let close = plainEnd(from: start)
        guard close < end, bytes[close] == 0x22 else { return nil }
        pos = close + 1
        let (hash, hasDot) = Words.keyHash(bytes + start, count: close - start, readable: end - start)
        return (close, hash, hasDot)
    }

    /// Notes a key of the object whose keys start at `firstMember`; false if it repeats one or there are too many.
    private mutating func isNewKey(_ start: Int, _ end: Int, _ hash: UInt64, since firstMember: Int) -> Bool {
        guard memberCount - firstMember < GatewayFieldScanner.maxMembers else { return false }
        let length = end - start
        for member in firstMember..<memberCount
        where tables.memberHash[member] == hash && tables.memberEnd[member] - tables.memberStart[member] == length
            && memcmp(bytes + tables.memberStart[member], bytes + start, length) == 0
        {
            return false
        }
        tables.memberStart[memberCount] = start
        tables.memberEnd[memberCount] = end
        tables.memberHash[memberCount] = hash
        memberCount += 1
        return true
    }

    /// The child of `node` whose key is exactly `start..<end` (whose hash is `hash`), -1 for none; nil
    /// when the tree's lookup could see what the scan cannot: a key with a dot, an envelope, or a key equal to
    /// a child's only ignoring case.
    private func match(_ start: Int, _ end: Int, _ hash: UInt64, _ hasDot: Bool, under node: Int) -> Int? {
        let first = tables.childStart[node]
        let count = tables.childCount[node]
        guard count > 0 else { return -1 }
        let length = end - start
        if hasDot { return nil }
        func lowered(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
        for child in first..<(first + count) where tables.keyHash[child] == hash {
            let keyStart = tables.keyStart[child]
            guard tables.keyEnd[child] - keyStart == length else { continue }
            var exact = true
            var folded = true
            for offset in 0..<length {
                let a = bytes[start + offset]
                let b = tables.keyBytes[keyStart + offset]
                guard a != b else { continue }
                exact = false
                guard lowered(a) == lowered(b) else {
                    folded = false
                    break
                }
            }
            if exact { return tables.isEnvelope[child] ? nil : child }
            if folded { return nil }
        }
        return -1
    }

    /// Notes a member of the properties object, if its value is a scalar.
    private mutating func addProperty(_ keyStart: Int, _ keyEnd: Int, _ valueStart: Int) -> Bool {
        let kind: ValueKind
        switch bytes[valueStart] {
        case 0x22: kind = .string
        case 0x74: kind = .isTrue
        case 0x66: kind = .isFalse
        case 0x2D, 0x30...0x39: kind = .number
        default: return true  // null, an array or an object: not a property
        }
        guard propertyCount < GatewayFieldScanner.maxProperties else { return false }
        var start = valueStart
        var end = pos
        if kind == .string {
            start += 1
            end -= 1
            // A property's text must read as it stands.
            guard memchr(bytes + start, 0x5C, end - start) == nil else { return false }
        }
        tables.propertyKeyStart[propertyCount] = keyStart
        tables.propertyKeyEnd[propertyCount] = keyEnd
        tables.propertyKind[propertyCount] = kind
        tables.propertyStart[propertyCount] = start
        tables.propertyEnd[propertyCount] = end
        propertyCount += 1
        return true
    }
}

/// The mapped fields a ``GatewayFieldScanner`` found in one line.
struct ScannedFields: MappedFields {
    fileprivate let bytes: UnsafePointer<UInt8>
    fileprivate let tablesPointer: UnsafeMutablePointer<Tables>
    private var tables: Tables { _read { yield tablesPointer.pointee } }
    fileprivate let propertyCount: Int

    func value(_ field: MappedField) -> MappedValue {
        let slot = field.rawValue
        return Self.value(tables.slotKind[slot], bytes, tables.slotStart[slot], tables.slotEnd[slot])
    }

    func properties() -> EventProperties {
        var properties = EventProperties()
        for index in 0..<propertyCount {
            let key = text(tables.propertyKeyStart[index], tables.propertyKeyEnd[index])
            if case .scalar(let value) = Self.value(
                tables.propertyKind[index], bytes, tables.propertyStart[index], tables.propertyEnd[index])
            {
                properties[key] = value
            }
        }
        return properties
    }

    private func text(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: bytes + start, count: end - start), as: UTF8.self)
    }

    private static func value(_ kind: ValueKind, _ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> MappedValue
    {
        switch kind {
        case .missing: .missing
        case .string, .number:
            .scalar(String(decoding: UnsafeBufferPointer(start: bytes + start, count: end - start), as: UTF8.self))
        case .isTrue: .scalar("true")
        case .isFalse: .scalar("false")
        case .null, .container: .notScalar
        }
    }
}
