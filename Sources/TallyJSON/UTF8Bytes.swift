/// Whether two strings have the same UTF-8 bytes.
///
/// `String.==` uses Unicode canonical equivalence, which would let two keys
/// that differ on the wire collide; JSON keys and values are compared as bytes.
func utf8Equal(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
}

/// Byte-wise lexicographic comparison of UTF-8: negative, zero or positive.
func utf8Compare(_ a: String, _ b: String) -> Int {
    var left = a.utf8.makeIterator()
    var right = b.utf8.makeIterator()
    while true {
        switch (left.next(), right.next()) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (x?, y?) where x != y: return x < y ? -1 : 1
        default: continue
        }
    }
}

/// A string hashed and compared by its UTF-8 bytes, for duplicate-key detection in large objects.
struct UTF8Key: Hashable {
    let string: String

    static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool {
        utf8Equal(lhs.string, rhs.string)
    }

    func hash(into hasher: inout Hasher) {
        for byte in string.utf8 { hasher.combine(byte) }
    }
}

/// The two uppercase hex digits of a byte, for error messages.
func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
}
