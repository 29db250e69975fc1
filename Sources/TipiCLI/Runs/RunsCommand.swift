import ArgumentParser
import Foundation
import Tipi

/// `tipi runs`: the runs in the local store.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, show, compare and plot the runs in the local run store.",
        discussion: "The store is TIPI_DIR, or ./tipi-runs. `tipi runs` alone runs `tipi runs list`, whose options are:\n"
            + RunsListCommand.optionsHelp,
        subcommands: [RunsListCommand.self, RunsShowCommand.self, RunsCompareCommand.self, RunsPlotCommand.self,
            RunsSyncCommand.self, RunsLogCommand.self],
        defaultSubcommand: RunsListCommand.self
    )
}

/// Options shared by the `runs` commands.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("dir"), help: "The run store (default: TIPI_DIR, or ./tipi-runs).")
    var directory: String?

    var store: RunStore {
        directory.map { RunStore(root: URL(fileURLWithPath: $0)) } ?? .default
    }

    /// The store; a `--dir` that is not a folder is an error (exit 1) rather than an empty store: it is
    /// most likely a typo. (A missing default store is only empty: nothing was recorded here yet.)
    func existingStore() throws -> RunStore {
        if let directory {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
            guard exists, isDirectory.boolValue else {
                throw CLIError(
                    TerminalText.printable(
                        "--dir \(directory): \(exists ? "a file, not a folder" : "no such folder"); "
                            + "give the run store's folder (TIPI_DIR, or ./tipi-runs by default)"))
            }
        }
        return store
    }

    /// The run `query` names (id, id prefix, folder, name or name prefix); a run that is not there is an
    /// error (exit 1, one line with a suggestion), not a usage error.
    func find(_ query: String) throws -> RunStore.StoredRun {
        let store = try existingStore()
        do {
            return try store.run(matching: query)
        } catch let error as TrackingError {
            // The suggestion is a run name from the store: printed escaped, like every name.
            throw CLIError(TerminalText.printable("\(error)"))
        }
    }
}

/// `tipi runs list`.
struct RunsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List runs, newest first: name, status, age, duration, main metrics.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Only runs of this project.")
    var project: String?

    @Option(help: "Only the runs of this sweep (its id, as `tipi sweeps` lists it).")
    var sweep: String?

    @Option(parsing: .unconditional, help: "Show at most this many runs, newest first (0: all; default: 30, or all with --json).")
    var limit: Int?

    @Flag(help: "Print JSON: one object per run.")
    var json = false

    @Option(help: "Columns: run fields, config keys, metrics (loss = its last value, loss.min, loss.max), e.g. lr,epochs,val/loss.min.")
    var columns: String?

    @Option(name: .customLong("where"), help: "Only runs meeting conditions, e.g. 'val/loss.min<0.3, optimizer=adam' (<, <=, >, >=, =, !=, ~).")
    var condition: String?

    @Option(parsing: .unconditional, help: "Order by a column, smallest first (-COLUMN: largest first), e.g. val/loss.min.")
    var sort: String?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 (all runs) or more, not \(limit)") }
    }

    /// The OPTIONS section of this command's help (without `--help`), which `tipi runs --help` shows too:
    /// `tipi runs` alone runs this command.
    static var optionsHelp: String {
        let help = helpMessage(columns: 80)
        guard let start = help.range(of: "OPTIONS:\n") else { return "" }
        return help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("--help") && !$0.isEmpty }.joined(separator: "\n")
    }

    func run() throws {
        let runStore = try store.existingStore()
        let query = try RunsQuery(columns: columns, where: condition, sort: sort)
        let count = limit ?? (json ? 0 : 30)
        // Without filters or sorts, only the runs shown are listed (and checked against their run.json);
        // filters and sorts need them all.
        let newest = query.isEmpty && sweep == nil && count > 0 ? count : nil
        let listing = runStore.listing(project: project, withConfig: json || !query.isEmpty, newest: newest)
        let problems = listing.problems
        if !json, newest != nil, !listing.isEmpty {
            let now = Date().timeIntervalSince1970
            for line in RunsTable.list(Array(listing), now: now) { print(line) }
            if listing.count < listing.total { print("(\(listing.total - listing.count) older runs not shown; --limit 0 shows all)") }
            for problem in problems { Diagnostics.warn(problem) }
            return
        }
        if json, query.isEmpty, sweep == nil {
            // Every run (or the newest N) written as it is decoded.
            if let project, listing.isEmpty, problems.isEmpty { try Self.checkProject(project, in: runStore) }
            var bytes = RunsJSON.listBytes(listing)
            bytes.append(UInt8(ascii: "\n"))
            try? FileHandle.standardOutput.write(contentsOf: Data(bytes))
            for problem in problems { Diagnostics.warn(problem) }
            return
        }
        var runs = listing.decodedRuns()
        if let sweep {
            let id = (try? runStore.sweep(matching: sweep).id) ?? sweep
            runs = runs.filter { $0.metadata.sweep?.id == id }
        }
        if let project, runs.isEmpty, problems.isEmpty {
            try Self.checkProject(project, in: runStore)
        }
        let now = Date().timeIntervalSince1970
        if !query.isEmpty {
            try query.check(runs)
            runs = query.apply(runs, now: now)
        }
        // A script reading --json gets every run unless it asks for fewer; a table stops at a screenful.
        let shown = count > 0 ? Array(runs.prefix(count)) : runs
        if json {
            var bytes = RunsJSON.listBytes(shown)
            bytes.append(UInt8(ascii: "\n"))
            try? FileHandle.standardOutput.write(contentsOf: Data(bytes))
        } else if runs.isEmpty {
            print(TerminalText.printable("no runs in \(runStore.root.path)" + (project.map { " for project \($0)" } ?? "")
                + (query.conditions.isEmpty ? "" : " that meet --where")))
        } else {
            let lines = query.columns.isEmpty ? RunsTable.list(shown, now: now) : query.table(shown, now: now)
            for line in lines { print(line) }
            if shown.count < runs.count { print("(\(runs.count - shown.count) older runs not shown; --limit 0 shows all)") }
        }
        for problem in problems { Diagnostics.warn(problem) }
    }

    /// Throws when the store has runs but none of `project` (a typo, most likely), naming the nearest
    /// project; an empty store is not an error.
    static func checkProject(_ project: String, in store: RunStore) throws {
        let projects = Set(store.runs(withConfig: false).runs.map(\.metadata.project))
        guard !projects.isEmpty else { return }
        let suggestion = Suggestion.nearest(to: project, in: Array(projects))
        throw CLIError(
            TerminalText.printable(
                "no runs of project '\(project)' in \(store.root.path)" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                    + " (projects: \(projects.sorted().prefix(10).joined(separator: ", "))\(projects.count > 10 ? ", …" : ""))"))
    }
}

/// `tipi runs show RUN`.
struct RunsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a run: metadata, config, summary and every metric's history.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The run: its id, an id prefix, its folder name or its name.")
    var runName: String

    @Flag(help: "Print JSON, with each metric's full history (step, value, time).")
    var json = false

    func run() throws {
        let stored = try store.find(runName)
        let history: MetricHistory
        do {
            history = try RunStore.history(of: stored)
        } catch {
            // The metadata is still worth showing; say why the history is missing.
            Diagnostics.warn("\(error); showing the run without its metric history")
            history = MetricHistory()
        }
        if json {
            print(try RunsJSON.show(stored, history: history))
        } else {
            for line in RunsTable.show(stored, history: history) { print(line) }
        }
    }
}

/// `tipi runs compare RUN RUN…`.
struct RunsCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare runs: config differences, and each metric's last, min and max.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Two or more runs.")
    var runs: [String]

    @Flag(help: "Print JSON: one object with runs, configDifferences, configSame and metrics (last, min, max per run).")
    var json = false

    func validate() throws {
        guard runs.count >= 2 else { throw ValidationError("give at least two runs to compare") }
    }

    func run() throws {
        let comparison = RunsComparison(try runs.map(store.find))
        if json {
            print(try comparison.json())
        } else {
            for line in comparison.lines() { print(line) }
        }
    }
}

/// `tipi runs plot RUN… METRIC`.
struct RunsPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Plot a metric of one or more runs in the terminal.",
        discussion: "Example: tipi runs plot baseline wide-net loss (the last argument is the metric).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "One or more runs, then the metric.")
    var arguments: [String]

    @Option(parsing: .unconditional, help: "Plot width in characters.")
    var width = 72

    @Option(parsing: .unconditional, help: "Plot height in lines.")
    var height = 16

    func validate() throws {
        guard arguments.count >= 2 else { throw ValidationError("give a run and a metric: tipi runs plot RUN METRIC") }
        guard (20...400).contains(width) else {
            throw ValidationError("--width must be 20 to 400 characters, not \(width) (for example --width 72)")
        }
        guard (4...100).contains(height) else {
            throw ValidationError("--height must be 4 to 100 lines, not \(height) (for example --height 16)")
        }
    }

    func run() throws {
        let metric = arguments[arguments.count - 1]
        var series: [TerminalPlot.Series] = []
        for query in arguments.dropLast() {
            let stored = try store.find(query)
            let history = try RunStore.history(of: stored)
            guard let points = history.series[metric] else {
                let suggestion = Suggestion.nearest(to: metric, in: Array(history.series.keys))
                throw CLIError(
                    TerminalText.printable(
                        "run \(stored.metadata.name) has no metric '\(metric)'"
                            + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                            + " (it has: \(history.series.keys.sorted().joined(separator: ", ")))"))
            }
            let label = TerminalText.printable("\(stored.metadata.name) (\(stored.metadata.id))")
            series.append(.init(label: label, steps: points.steps, values: points.values))
        }
        let colors = FileDescriptorOutput.standardOutput.isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        for line in TerminalPlot.render(series, title: TerminalText.printable(metric), width: width, height: height, colors: colors) {
            print(line)
        }
    }
}

/// `tipi runs sync RUN --to mlflow`.
struct RunsSyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Send a run's steps that a backend missed (MLflow) from the local store.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The run.")
    var runName: String

    @Option(help: "The backend to send to (mlflow).")
    var to: String = "mlflow"

    @Option(help: "The MLflow server (default: MLFLOW_TRACKING_URI).")
    var uri: String?

    @Option(parsing: .unconditional, help: "Seconds to keep trying.")
    var timeout = 60.0

    func validate() throws {
        guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
            throw ValidationError("--timeout \(timeout) is not a number of seconds from 0 to 86400 (for example --timeout 60)")
        }
    }

    func run() throws {
        guard to == "mlflow" else {
            throw ValidationError("only --to mlflow can be synced; TensorBoard, W&B and JSONL files are written locally (wandb sync uploads W&B runs)")
        }
        guard let uri = uri ?? ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"] else {
            throw ValidationError("set MLFLOW_TRACKING_URI or pass --uri http://HOST:PORT")
        }
        let stored = try store.find(runName)
        if let damage = stored.damage {
            // Sync records its progress in run.json: it would replace the damaged file with a guess.
            throw CLIError(
                TerminalText.printable(
                    "run \(stored.metadata.id) is damaged (\(damage)); sync needs its run.json. "
                        + "`\(ToolCommand.tipi("runs show \(stored.metadata.id) --json"))` still prints its metrics"))
        }
        let state = try RunSync.mlflow(stored, trackingURI: uri, timeout: timeout)
        if state.complete == true {
            print("run \(stored.metadata.id): \(state.sentSteps ?? 0) steps in MLflow run \(state.remoteID ?? "?") at \(uri)")
        } else {
            throw CLIError(
                "run \(stored.metadata.id): \(state.sentSteps ?? 0) steps sent, not all: \(state.error ?? "unknown reason"); run it again later")
        }
    }
}
