import ArgumentParser
import Foundation
import TallyServer

@main
struct TallyServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally-server",
        abstract:
            "The metering and entitlement service: gateways send usage events and ask canAccess; invoices are read back.",
        discussion:
            "Docs/Server.md tells how to start it, create a key and point a gateway at it; Docs/openapi.yaml lists the API.",
        subcommands: [Serve.self, CreateKey.self],
        defaultSubcommand: Serve.self
    )
}

/// `tally-server [serve] --catalog FILE... --ledger FILE --keys FILE [--host H] [--port P]`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API (the default).")

    @Option(help: "A scenario file whose catalog bills one tenant (its tenant: key); repeat for more tenants.")
    var catalog: [String]

    @Option(help: "The SQLite ledger: created if missing; the meters are rebuilt from it at start.")
    var ledger: String

    @Option(help: "The keys file (create keys with tally-server create-key).")
    var keys: String

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(help: "Seconds an Idempotency-Key is kept after its answer (a retry within them gets the same answer).")
    var idempotencyWindow = 86_400

    func validate() throws {
        if catalog.isEmpty { throw ValidationError("give at least one --catalog") }
        guard idempotencyWindow > 0 else { throw ValidationError("--idempotency-window must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() async throws {
        let configuration: ServiceConfiguration
        let service: TallyService
        do {
            let files = try catalog.map { path in try CatalogFile.load(yaml: try Files.text(path), file: path) }
            let store = try KeyStore.load(yaml: try Files.text(keys), file: keys)
            var settings = ServiceConfiguration(
                host: host, port: port, catalogs: files, ledgerPath: ledger, keys: store)
            settings.idempotencyWindow = .seconds(idempotencyWindow)
            configuration = settings
            service = try TallyService(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let tenants = configuration.catalogs.map(\.tenant).joined(separator: ", ")
        try await service.run { port in
            // Written straight to the file descriptor, unbuffered: scripts wait for this line.
            FileHandle.standardOutput.write(
                Data(
                    "tally-server listening on http://\(configuration.host):\(port) (tenants: \(tenants); ledger \(configuration.ledgerPath))\n"
                        .utf8))
        }
    }
}

/// `tally-server create-key --keys FILE --tenant T [--mode test|live] [--id ID]`.
struct CreateKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-key",
        abstract: "Make a new API key: prints it once and appends its SHA-256 to the keys file.",
        discussion:
            "The key itself is stored nowhere: keep it in the gateway's secret store. Restart the service to load it."
    )

    @Option(help: "The keys file to append to (created if missing).")
    var keys: String

    @Option(help: "The tenant the key acts for.")
    var tenant: String

    @Option(help: "live, or test (test keys may carry a simulated received-at instant).")
    var mode: String = "live"

    @Option(help: "A name for the key (default: tenant-mode-<first 8 hex digits of its hash>).")
    var id: String?

    func run() throws {
        guard let keyMode = KeyMode(rawValue: mode) else { throw ValidationError("--mode must be live or test") }
        let key = KeyStore.newKey(mode: keyMode)
        let name = id ?? "\(tenant)-\(mode)-\(KeyStore.hash(key: key).prefix(8))"
        var text = FileManager.default.fileExists(atPath: keys) ? try Files.text(keys) : ""
        if !text.contains("keys:") { text += (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "keys:\n" }
        guard text.hasSuffix("\n") || text.isEmpty else { throw ValidationError("\(keys) must end with a line break") }
        text += KeyStore.fileEntry(id: name, tenant: tenant, mode: keyMode, key: key)
        // The file is checked as the service will read it before it is written.
        _ = try KeyStore.load(yaml: text, file: keys)
        try Data(text.utf8).write(to: URL(fileURLWithPath: keys), options: .atomic)
        print(key)
    }
}

enum Files {
    static func text(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(path): the file is not UTF-8 text")
        }
        return text
    }
}
