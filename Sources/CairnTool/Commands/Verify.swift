import ArgumentParser
import Cairn

/// `cairn verify DB`: reads every table and log segment of the directory,
/// checking every checksum, and reports damage by file. Exit status 1 when
/// anything is damaged. Takes no lock: on a database another process is
/// writing, a file the writer deletes meanwhile is reported as gone; the
/// shell's `verify` checks its own open database instead.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify",
        abstract: "Check every checksum of every table and log segment, and report damage by file.")
    @Argument(help: "The database directory.") var database: String

    func run() throws {
        let report: VerifyReport
        do {
            report = try Database.verify(path: database)
        } catch let error as CairnError {
            throw ToolFailure(error)
        }
        let output = Output(mode: .json, json: true)
        output.report(try parseJSON(report.json, what: "verify report"))
        output.finish()
        if !report.ok { throw ToolFailure("the database is damaged (see the files above)") }
    }
}
