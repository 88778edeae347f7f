import ArgumentParser

@main
struct Tally: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "A deterministic billing sandbox: run usage scenarios through the billing pipeline and compare invoices with golden files.",
        version: "0.1.0"
    )
}
