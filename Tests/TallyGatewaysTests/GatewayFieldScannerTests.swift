import TallyJSON
import TallyPipeline
import Testing

@testable import TallyGateways

extension DecodedRecord {
    /// Every field of the record, for comparing two decodings of one line.
    var summary: String {
        switch self {
        case .event(let e, let receivedAt):
            let properties = e.properties.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            return
                "event \(e.id)|\(e.tenant)|\(e.customer)|\(e.metric)|\(e.quantity)|\(e.timestamp.millisecondsSinceEpoch)|\(e.source)|\(properties)|\(receivedAt.map { String($0.millisecondsSinceEpoch) } ?? "-")"
        case .notBilled(let status): return "not billed \(status)"
        case .undecodable(let raw, let problem): return "undecodable \(problem) <\(raw)>"
        }
    }
}

@Suite("Gateway records: the field scanner decodes exactly what the JSON tree does")
struct GatewayFieldScannerTests {
    /// What a line decodes to through the scanner (falling back on the tree), and through the tree alone.
    static func both(_ line: String, _ gateway: Gateway, mapping: GatewayMapping? = nil) -> (String, String) {
        both(Array(line.utf8), gateway, mapping: mapping)
    }

    static func both(_ line: [UInt8], _ gateway: Gateway, mapping: GatewayMapping? = nil) -> (String, String) {
        let mapping = mapping ?? gateway.writtenMapping
        let scanning = GatewayDecoder(gateway: gateway, mapping: mapping, tenant: "t0")
        let tree = GatewayDecoder(gateway: gateway, mapping: mapping, tenant: "t0", scanning: false)
        var bytes = line
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var viaScanner: [DecodedRecord] = []
            var viaTree: [DecodedRecord] = []
            scanning.decode(UnsafeBufferPointer(buffer), into: &viaScanner)
            tree.decode(UnsafeBufferPointer(buffer), into: &viaTree)
            return (
                viaScanner.map(\.summary).joined(separator: "\n"), viaTree.map(\.summary).joined(separator: "\n")
            )
        }
    }

    /// Whether the scanner reads the line itself (true) or leaves it to the tree.
    static func scans(_ line: String, _ gateway: Gateway, mapping: GatewayMapping? = nil) -> Bool {
        let mapping = mapping ?? gateway.writtenMapping
        guard let scanner = GatewayFieldScanner(mapping: mapping, envelopeKeys: gateway.envelopeKeys) else {
            return false
        }
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { scanner.fields(UnsafeBufferPointer($0)) != nil }
    }

    static let event = Event(
        id: "req-7f3a", tenant: "weatherco", customer: "acme", metric: "forecasts",
        quantity: ExactDecimal("2.5") ?? .one, timestamp: Instant(millisecondsSinceEpoch: 1_772_445_600_123),
        source: "kong", properties: ["region": "eu", "units": "metric"])

    @Test("every gateway's written record is scanned, and reads as the tree reads it", arguments: Gateway.allCases)
    func writtenRecords(_ gateway: Gateway) {
        for status in [200, 204, 429, 503] {
            let line = String(gateway.line(for: Self.event, status: status).dropLast())
            #expect(Self.scans(line, gateway), "\(line)")
            let (scanned, tree) = Self.both(line, gateway)
            #expect(scanned == tree)
            #expect(scanned.hasPrefix(status < 300 ? "event req-7f3a" : "not billed \(status)"))
        }
    }

    @Test("lines the scanner leaves to the tree, and lines it reads, decode alike")
    func kongVariants() {
        let line = String(Gateway.kong.line(for: Self.event).dropLast())
        let cases: [(String, Bool)] = [
            // (line, whether the scanner reads it)
            (line, true),
            (
                " \t" + line.replacingOccurrences(of: ",", with: " ,\t").replacingOccurrences(of: ":", with: " : ")
                    + " ", true
            ),
            (line.replacingOccurrences(of: #""x-tenant-id""#, with: #""X-Tenant-Id""#), false),
            (line.replacingOccurrences(of: #""host""#, with: #""x-tenant-id.x""#), false),
            (line.replacingOccurrences(of: #""client_ip""#, with: #""request.id""#), false),
            (line.replacingOccurrences(of: #""kong":1"#, with: #""kong":1,"kong":2"#), false),
            (line.replacingOccurrences(of: #""proxy""#, with: #""kong""#), false),
            (line.replacingOccurrences(of: "req-7f3a", with: #"req-7f3\u0061"#), false),
            (line.replacingOccurrences(of: "api.example.com", with: #"api\/example\u00e9\n"#), true),
            (line.replacingOccurrences(of: "api.example.com", with: #"api\ud800"#), false),
            (line.replacingOccurrences(of: "api.example.com", with: "api\u{e9}"), false),
            (line.replacingOccurrences(of: "api.example.com", with: "api\u{1}"), false),
            (line.replacingOccurrences(of: #""region":"eu""#, with: #""region":"e\"u""#), false),
            (line.replacingOccurrences(of: #""region":"eu""#, with: #""region":7,"r2":true,"r3":null,"r4":[1]"#), true),
            (line.replacingOccurrences(of: #""region":"eu""#, with: #""region":"eu","region":"us""#), false),
            (line.replacingOccurrences(of: #""querystring":{"#, with: #""querystring":{"a":{"b":1},"#), true),
            (
                line.replacingOccurrences(
                    of: #""querystring":{"region":"eu","units":"metric"}"#, with: #""querystring":"x""#), true
            ),
            (line.replacingOccurrences(of: #""size":"#, with: #""size":-0.5e+3,"s":"#), true),
            (line.replacingOccurrences(of: #""status":200"#, with: #""status":"200""#), true),
            (line.replacingOccurrences(of: #""status":200"#, with: #""status":2e2"#), true),
            (line.replacingOccurrences(of: #""status":200"#, with: #""status":null"#), true),
            (line.replacingOccurrences(of: #""started_at":"#, with: #""started_at":"x","y":"#), true),
            (line.replacingOccurrences(of: #""name":"forecasts""#, with: #""name":["forecasts"]"#), true),
            (line.replacingOccurrences(of: #""username":"acme""#, with: #""username":"""#), true),
            (line.replacingOccurrences(of: #""username":"acme""#, with: #""username":true"#), true),
            (line.replacingOccurrences(of: #""x-tenant-id":"weatherco""#, with: #""x-tenant-id":{}"#), true),
            (line.replacingOccurrences(of: #""x-tenant-id":"weatherco""#, with: #""x-tenant-id":"""#), true),
            (line.replacingOccurrences(of: #""service":{"name":"api"}"#, with: #""service":[[[[{"a":[]}]]]]"#), true),
            (
                line.replacingOccurrences(
                    of: #""service":{"name":"api"}"#,
                    with: String(repeating: "[", count: 40) + String(repeating: "]", count: 40)), false
            ),
            ("[" + line + "," + line + "]", false),
            (line + " x", false),
            (line + ",", false),
            (String(line.dropLast()), false),
            (line.replacingOccurrences(of: #"{"name":"api"}"#, with: #"{"name":"api",}"#), false),
            (line.replacingOccurrences(of: "120", with: "0120"), false),
            (line.replacingOccurrences(of: "120", with: "12."), false),
            (line.replacingOccurrences(of: #""GET""#, with: "tru"), false),
            ("", false),
        ]
        for (text, scanned) in cases {
            #expect(Self.scans(text, .kong) == scanned, "\(text)")
            let (viaScanner, viaTree) = Self.both(text, .kong)
            #expect(viaScanner == viaTree, "\(text)")
        }
    }

    @Test("an envelope or a records array is left to the tree, which unwraps it")
    func envelopes() {
        let azure = String(Gateway.azure.line(for: Self.event).dropLast())
        #expect(!Self.scans(#"{"records":[\#(azure)]}"#, .azure))
        #expect(!Self.scans(#"{"awslogs":{"data":"x"}}"#, .aws))
        #expect(Self.scans(#"{"awslogs":{"data":"x"}}"#, .kong))
        let (scanned, tree) = Self.both(#"{"records":[\#(azure),\#(azure)]}"#, .azure)
        #expect(scanned == tree)
        #expect(scanned.components(separatedBy: "\n").count == 2)
    }

    @Test("a thousand random corruptions of each gateway's record decode alike through the scanner and the tree")
    func corruptions() {
        // A fixed linear congruential sequence: the same corruptions on every run.
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet = Array(#"{}[]",:\ 0123456789.-eEtrufalsnx-"#.utf8) + [0x41, 0x80, 0x01]
        for gateway in Gateway.allCases {
            let line = Array(gateway.line(for: Self.event).dropLast().utf8)
            for _ in 0..<1000 {
                var bytes = line
                for _ in 0..<(1 + next(3)) {
                    let at = next(bytes.count)
                    switch next(3) {
                    case 0: bytes.remove(at: at)
                    case 1: bytes.insert(alphabet[next(alphabet.count)], at: at)
                    default: bytes[at] = alphabet[next(alphabet.count)]
                    }
                }
                let (viaScanner, viaTree) = Self.both(bytes, gateway)
                #expect(viaScanner == viaTree, "\(gateway): \(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }
}
