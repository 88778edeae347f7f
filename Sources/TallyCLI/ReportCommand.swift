import ArgumentParser

/// `tally report`: runs scenarios and writes their HTML report, as `tally run --report` does.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Run scenarios and write their HTML report: a page per scenario and an index.",
        discussion: """
            The same run as `tally run PATH... --report DIR`, with the same summary and exit codes: \
            0 all pass, 1 a scenario differs from its golden files or expect: checks, 2 a scenario is invalid.
            """
    )

    @Argument(help: "Scenario files or folders (default: every scenario in Scenarios/).")
    var paths: [String] = []

    @Option(help: "The folder to write the report to (index.html and one page per scenario).")
    var out: String

    @Option(help: "The golden files' folder (default: Fixtures/ beside the scenarios' folder).")
    var fixtures: String?

    @Option(help: "Threads to run each scenario on (results are identical for any count).")
    var threads: Int = 1

    func run() throws {
        var arguments = ["--report", out, "--threads", String(threads)]
        if let fixtures { arguments += ["--fixtures", fixtures] }
        arguments += ["--"] + paths
        let command = try Run.parse(arguments)
        try command.validate()
        try command.run()
    }
}
