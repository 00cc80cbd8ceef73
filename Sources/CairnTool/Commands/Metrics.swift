import ArgumentParser
import Cairn

/// `cairn metrics DB`: Prometheus text exposition.
struct MetricsCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Print the metrics in Prometheus' text format.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions

    func run(in context: CommandContext) throws {
        if context.output.json {
            context.output.report(try JSONValue.parse(try context.db.statsJSON(), what: "stats"))
        } else {
            var text = try context.db.prometheusMetrics()
            if text.hasSuffix("\n") { text.removeLast() }
            context.output.line(text)
        }
    }
}
