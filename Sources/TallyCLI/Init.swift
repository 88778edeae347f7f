import ArgumentParser
import Foundation
import TallySandbox

/// `tally init`: writes a commented starter scenario and its golden files.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a commented starter scenario, Scenarios/NAME.yaml, and its golden files.",
        discussion: """
            The starter has one plan, two customers, a month of traffic, a fault and an expect: \
            block whose totals are worked out by hand in its comment, so its first run passes. \
            Exits 2 when NAME is not a valid scenario name or the file already exists.
            """
    )

    @Argument(help: "The scenario's name: letters, digits, '-', '_' and '.'.")
    var name: String = "my-first-scenario"

    @Option(help: "The folder to write the scenario to; its golden files go to Fixtures/ beside it.")
    var folder: String = "Scenarios"

    func validate() throws {
        guard !name.isEmpty, !name.hasPrefix("."),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw ValidationError(
                "'\(name)' is not a scenario name: use only letters, digits, '-', '_' and '.', not starting with '.'")
        }
    }

    func run() throws {
        let file = (folder as NSString).appendingPathComponent("\(name).yaml")
        guard !FileManager.default.fileExists(atPath: file) else {
            StandardError.write("\(file): already exists; choose another name or remove it first\n")
            throw ExitCode(2)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(StarterScenario.yaml(name: name).utf8).write(
            to: URL(fileURLWithPath: file), options: .withoutOverwriting)
        print("wrote \(file)")

        // Run it once so the golden files exist: its expect: block holds the hand-worked totals.
        let scenario = try ScenarioSource.loadOrExit(file)
        let run: ScenarioRun
        do { run = try ScenarioRunner.run(scenario) } catch {
            StandardError.write("\(file): \(error)\n")
            throw ExitCode(1)
        }
        guard run.expectationFailures.isEmpty else {
            StandardError.write(run.expectationFailures.map { "\(file): expect: \($0)\n" }.joined())
            throw ExitCode(1)
        }
        let golden = GoldenFiles(fixtures: ScenarioFiles.fixtures(for: file, override: nil))
        _ = try golden.update(run)
        print("wrote \(golden.fixtures.appendingPathComponent(name).path)/ (invoices.json, rejections.json)")
        print("next: tally run \(file)")
    }
}

/// The text of the starter scenario `tally init` writes.
enum StarterScenario {
    static func yaml(name: String) -> String {
        """
        # yaml-language-server: $schema=../Schemas/scenario.schema.json
        #
        # \(name): a starter scenario written by `tally init`. Change it, work the new
        # totals out by hand here, put them in `expect:` at the bottom, then run
        #   tally run Scenarios/\(name).yaml             (fails where the invoices moved)
        #   tally run Scenarios/\(name).yaml --update    (rewrites Fixtures/\(name)/; read it before you commit)
        # Every key is described in Docs/ScenarioFormat.md.
        #
        # The plan "growth": $29 a month, 10,000 API calls included, then $0.002 per call.
        #   acme    25,000 calls: 29 + (25,000 - 10,000) x 0.002 = 29 + 30.00 = 59.00
        #   globex   6,000 calls: all inside the 10,000 included           = 29.00
        # 31,000 calls are generated; the fault below re-sends 100 of them, which
        # deduplication rejects: 31,100 events in, 31,000 accepted, 100 duplicates.
        name: \(name)
        description: A starter scenario, one plan and two customers over January 2026
        seed: 1                           # the same seed gives the same events, byte for byte
        start: 2026-01-01T00:00:00Z       # the first billing period starts here (UTC)
        periods: 1                        # one calendar month
        currency: USD                     # amounts round half-up to cents

        metrics:
          - { key: api_calls, aggregation: count }    # each accepted event counts 1

        plans:
          # Shorthand for a $29 flat fee plus a graduated charge whose first 10,000 calls are free.
          - { id: growth, base_fee: 29, included_units: 10000, overage_price: 0.002, metric: api_calls }

        customers:
          - { id: acme, plan: growth }
          - { id: globex, plan: growth }

        traffic:
          # Exact event counts per customer, spread over the month in a daily cycle.
          - { metric: api_calls, customers: [acme], events: 25000, arrival: diurnal, source: kong }
          - { metric: api_calls, customers: [globex], events: 6000, arrival: poisson, source: aws }

        faults:
          - { kind: duplicate, count: 100 }   # a gateway retry sends 100 events twice

        expect:
          accepted: 31000
          rejected: { duplicate: 100 }
          invoice_total: { acme: 59.00, globex: 29.00 }

        """
    }
}
