import ArgumentParser
import Foundation
import Tipi

/// `tipi runs`: the runs in the local store.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, show, compare and plot the runs in the local run store.",
        discussion: "The store is TIPI_DIR, or ./tipi-runs. `tipi runs` alone lists the newest runs.",
        subcommands: [RunsListCommand.self, RunsShowCommand.self, RunsCompareCommand.self, RunsPlotCommand.self,
            RunsSyncCommand.self],
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

    func find(_ query: String) throws -> RunStore.StoredRun {
        do {
            return try store.run(matching: query)
        } catch let error as TrackingError {
            // The suggestion is a run name from the store: printed escaped, like every name.
            throw ValidationError(TerminalText.printable("\(error)"))
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

    @Option(help: "Show at most this many runs (0: all).")
    var limit = 30

    @Flag(help: "Print JSON: one object per run.")
    var json = false

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all runs) or more, not \(limit)") }
    }

    func run() throws {
        let (runs, problems) = store.store.runs(project: project, withConfig: json)
        let shown = limit > 0 && !json ? Array(runs.prefix(limit)) : runs
        if json {
            print(try RunsJSON.list(shown))
        } else if runs.isEmpty {
            print(TerminalText.printable("no runs in \(store.store.root.path)" + (project.map { " for project \($0)" } ?? "")))
        } else {
            for line in RunsTable.list(shown, now: Date().timeIntervalSince1970) { print(line) }
            if shown.count < runs.count { print("(\(runs.count - shown.count) older runs not shown; --limit 0 shows all)") }
        }
        for problem in problems { Diagnostics.warn(problem) }
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
        commandName: "compare", abstract: "Compare runs: config differences and final metrics side by side.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Two or more runs.")
    var runs: [String]

    func validate() throws {
        guard runs.count >= 2 else { throw ValidationError("give at least two runs to compare") }
    }

    func run() throws {
        let stored = try runs.map(store.find)
        for line in RunsTable.compare(stored) { print(line) }
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

    @Option(help: "Plot width in characters.")
    var width = 72

    @Option(help: "Plot height in lines.")
    var height = 16

    func validate() throws {
        guard arguments.count >= 2 else { throw ValidationError("give a run and a metric: tipi runs plot RUN METRIC") }
        guard (20...400).contains(width), (4...100).contains(height) else {
            throw ValidationError("--width must be 20…400 and --height 4…100")
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
                throw ValidationError(
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

    @Option(help: "Seconds to keep trying.")
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
            throw ValidationError(
                TerminalText.printable(
                    "run \(stored.metadata.id) is damaged (\(damage)); sync needs its run.json. "
                        + "`\(ToolCommand.tipi("runs show \(stored.metadata.id) --json"))` still prints its metrics"))
        }
        let state = try RunSync.mlflow(stored, trackingURI: uri, timeout: timeout)
        if state.complete == true {
            print("run \(stored.metadata.id): \(state.sentSteps ?? 0) steps in MLflow run \(state.remoteID ?? "?") at \(uri)")
        } else {
            throw ValidationError(
                "run \(stored.metadata.id): \(state.sentSteps ?? 0) steps sent, not all: \(state.error ?? "unknown reason"); run it again later")
        }
    }
}
