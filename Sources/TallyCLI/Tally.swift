import ArgumentParser

@main
struct Tally: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract:
            "A deterministic billing sandbox: runs usage scenarios through the billing pipeline and compares the invoices with golden files.",
        discussion: """
            Exit codes: 0 all scenarios pass, 1 a scenario differs from its golden files or \
            its expect: checks, 2 a scenario file is invalid, missing or unreadable (for every command), \
            64 a usage error (an unknown option or a bad option value).
            """,
        version: "0.1.0",
        subcommands: [
            Run.self, Check.self, Init.self, ReportCommand.self, DeadLetters.self, Rerate.self, Reconcile.self,
            Generate.self,
            Bench.self, Replay.self,
        ],
        defaultSubcommand: nil
    )
}
