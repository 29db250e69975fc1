import ArgumentParser
import Foundation
import Tipi

/// `tipi sweeps`: the sweeps recorded in the run store.
struct SweepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweeps",
        abstract: "List the sweeps in the run store, or show one: its points sorted by the metric, best first.",
        subcommands: [SweepsListCommand.self, SweepsShowCommand.self],
        defaultSubcommand: SweepsListCommand.self
    )
}

/// `tipi sweeps list`.
struct SweepsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List sweeps, newest first.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print JSON: one object per sweep.")
    var json = false

    func run() throws {
        let runStore = try store.existingStore()
        let (sweeps, problems) = runStore.sweeps()
        if json {
            print(try SweepsJSON.list(sweeps, store: runStore))
        } else if sweeps.isEmpty {
            print(TerminalText.printable("no sweeps in \(runStore.root.path)"))
        } else {
            for line in SweepsTable.list(sweeps) { print(line) }
        }
        for problem in problems { Diagnostics.warn(problem) }
    }
}

/// `tipi sweeps show SWEEP`.
struct SweepsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a sweep: its points with their values, run, status and metric, best first.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The sweep's id (or a unique prefix).")
    var sweep: String

    @Flag(help: "Print JSON: id, project, method, metric, goal, status, points and best.")
    var json = false

    func run() throws {
        let runStore = try store.existingStore()
        let record: SweepRecord
        do {
            record = try runStore.sweep(matching: sweep)
        } catch let error as SweepStoreError {
            throw CLIError(TerminalText.printable("\(error)"))
        }
        if json {
            print(try SweepsJSON.show(record, store: runStore))
        } else {
            for line in SweepsTable.show(record) { print(line) }
        }
    }
}
