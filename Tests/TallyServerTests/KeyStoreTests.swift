import Foundation
import TallyServer
import Testing

@Suite struct KeyStoreTests {
    @Test func keysAreStoredAsTheirSHA256() throws {
        // FIPS 180-2's first vector: SHA-256("abc").
        #expect(KeyStore.hash(key: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let store = try KeyStore.load(
            yaml: "keys:\n" + KeyStore.fileEntry(id: "k1", tenant: "acme", mode: .test, key: "abc"),
            file: "keys.yaml")
        let principal = try #require(store.principal(forKey: "abc"))
        #expect(principal.tenant == "acme" && principal.mode == .test && principal.id == "k1")
        #expect(store.principal(forKey: "abd") == nil)
        #expect(store.principal(forKey: "") == nil)
    }

    @Test func newKeysAreRandomAndNameTheirMode() {
        let a = KeyStore.newKey(mode: .live)
        let b = KeyStore.newKey(mode: .live)
        #expect(a != b)
        #expect(a.hasPrefix("tally_live_") && a.count == "tally_live_".count + 64)
        #expect(KeyStore.newKey(mode: .test).hasPrefix("tally_test_"))
    }

    @Test(arguments: [
        ("keys:\n  - { id: k, tenant: t, sha256: abc }\n", "sha256"),
        ("keys:\n  - { id: k, tenant: t, mode: root, sha256: \(String(repeating: "0", count: 64)) }\n", "mode"),
        ("keys:\n  - { id: k, tenant: t, colour: red, sha256: \(String(repeating: "0", count: 64)) }\n", "colour"),
        ("keys:\n  - { tenant: t, sha256: \(String(repeating: "0", count: 64)) }\n", "missing id"),
        ("signing_secrets:\n  - { id: s, tenant: t, secret: short }\n", "secret"),
        ("tokens: []\n", "unknown section"),
    ])
    func aBrokenKeysFileNamesTheEntryAndField(yaml: String, mentions: String) {
        do {
            _ = try KeyStore.load(yaml: yaml, file: "keys.yaml")
            Issue.record("accepted a broken keys file")
        } catch {
            #expect("\(error)".hasPrefix("keys.yaml:"))
            #expect("\(error)".contains(mentions))
        }
    }

    @Test func signaturesAreHMACSHA256OfTimeDotBody() throws {
        // Worked out by another implementation:
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"kong-signing-secret-0123456789",
        //     b"1767225600.{\"events\":[]}",hashlib.sha256).hexdigest())'
        let header = RequestSignature.header(
            body: Array(#"{"events":[]}"#.utf8), secret: Array("kong-signing-secret-0123456789".utf8),
            timestamp: 1_767_225_600)
        #expect(header == "t=1767225600,v1=eeb5d861e439f63313810f80ad00760cbcfaec512c00fd5f42ff04a7fe737b94")
        let parsed = try #require(RequestSignature(header: "t=1767225600, v1=" + String(repeating: "ab", count: 32)))
        #expect(parsed.timestamp == 1_767_225_600)
        #expect(RequestSignature(header: "t=1767225600") == nil)
        #expect(RequestSignature(header: "t=x,v1=" + String(repeating: "ab", count: 32)) == nil)
        #expect(RequestSignature(header: "t=1,v1=abcd") == nil)
    }

    @Test func theServiceReadsTheCatalogOfABundledScenario() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scenarios/weather-api.yaml")
        let file = try CatalogFile.load(yaml: String(contentsOf: url, encoding: .utf8), file: "weather-api.yaml")
        #expect(file.name == "weather-api")
        #expect(file.tenant == "default")
        #expect(file.catalog.currency.code == "USD")
        do {
            _ = try CatalogFile.load(
                yaml: "name: x\nstart: 2026-01-01T00:00:00Z\ncurrency: XXX\nmetrics: []\nplans: []\ncustomers: []\n",
                file: "bad.yaml")
            Issue.record("accepted an unknown currency")
        } catch {
            #expect("\(error)".contains("bad.yaml:3:11: unknown currency 'XXX'"))
        }
    }

    @Test func theServiceReadsAnniversaryAnchors() throws {
        // The scenario's `anchor: anniversary` is the default of its customers; b sets its own calendar one.
        let yaml = """
            name: x
            start: 2026-01-01T00:00:00Z
            anchor: anniversary
            currency: USD
            metrics: [{ key: c, aggregation: count }]
            plans: [{ id: p }]
            customers: [{ id: a, plan: p, start: 2026-01-20T00:00:00Z }, { id: b, plan: p, anchor: calendar }]

            """
        let file = try CatalogFile.load(yaml: yaml, file: "anchored.yaml")
        #expect(file.catalog.customers.map(\.anchor) == [.anniversary, .calendar])
        // a's own first period: Jan 20 - Feb 20 (a monthly schedule from its start).
        let own = file.schedule.schedule(for: file.catalog.customers[0])
        #expect(own.periods.first?.description == "2026-01-20T00:00:00Z..<2026-02-20T00:00:00Z")
    }
}
