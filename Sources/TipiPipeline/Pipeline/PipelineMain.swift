import ArgumentParser
import Foundation
import Synchronization
import Tipi

/// Makes an executable a pipeline program (level 5):
///
/// ```swift
/// @main
/// struct Spirals: PipelineMain {
///     static let processes = #processes(train, evaluate)
///     static let permanences: [any Permanence.Type] = [Dataset.self]
/// }
/// ```
///
/// The program then answers:
/// - `run [CONFIG] [--set KEY=VALUE]… [--resume RUN [--from PROCESS]] [--debug]` — validate everything, then
///   run (a resume continues a run with the config it recorded, restoring its permanences, or refuses);
/// - `validate [CONFIG] [--set KEY=VALUE]…` — report every problem with file:line:column, or say it is valid;
/// - `sweep [CONFIG] [--sweep KEY=V1,V2,…]… [--resume SWEEP]` — many runs with values varied (see `[sweep]`);
/// - `inspect [--json]` — the processes and permanences, their params with types, defaults and docs, and a
///   config template.
///
/// CONFIG defaults to ``defaultConfig`` (`configs/pipeline.toml`, or Python tipi's
/// `configs/pipeline_config.toml`). Exit status: 0 success, 1 a process failed, 2 the config is invalid,
/// 130/143 interrupted.
public protocol PipelineMain {
    /// The process types (`#processes(train, evaluate)`).
    static var processes: [any PipelineProcess.Type] { get }
    /// The permanence types configs may name (the built-in `Device` is always available).
    static var permanences: [any Permanence.Type] { get }
    /// The pipeline's name (the default project of its runs); the executable's name by default.
    static var pipelineName: String { get }
    /// The config used when none is given.
    static var defaultConfig: String { get }
}

extension PipelineMain {
    public static var permanences: [any Permanence.Type] { [] }
    public static var pipelineName: String {
        URL(fileURLWithPath: CommandLine.arguments.first ?? "pipeline").lastPathComponent
    }
    public static var defaultConfig: String { "configs/pipeline.toml" }

    /// The entry point: parses the command line and runs the command.
    public static func main() async {
        PipelineProgram.install(
            PipelineDefinition(name: pipelineName, processes: processes, permanences: permanences), defaultConfig: defaultConfig)
        await PipelineCommand.main()
    }
}

/// The definition of the running pipeline program, for its commands.
enum PipelineProgram {
    private static let current = Mutex<(PipelineDefinition, String)?>(nil)

    static func install(_ definition: PipelineDefinition, defaultConfig: String) {
        current.withLock { $0 = (definition, defaultConfig) }
    }

    static var definition: PipelineDefinition {
        current.withLock { $0?.0 } ?? PipelineDefinition(name: "pipeline", processes: [], permanences: [])
    }

    static var defaultConfig: String {
        let configured = current.withLock { $0?.1 } ?? "configs/pipeline.toml"
        if !FileManager.default.fileExists(atPath: configured),
            FileManager.default.fileExists(atPath: "configs/pipeline_config.toml")
        {
            return "configs/pipeline_config.toml"
        }
        return configured
    }
}

struct PipelineCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: PipelineProgram.definition.name,
            abstract: "The \(PipelineProgram.definition.name) pipeline: run it, validate a config, or inspect its processes.",
            subcommands: [PipelineRunCommand.self, PipelineSweepCommand.self, PipelineValidateCommand.self, PipelineInspectCommand.self])
    }
}

/// Options shared by `run` and `validate`.
struct ConfigOptions: ParsableArguments {
    @Argument(help: "The config file (default: configs/pipeline.toml).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value, e.g. processes.training.params.epochs=3.", valueName: "key=value"))
    var overrides: [String] = []

    /// The values of a sweep's point (`KEY=VALUE`), given by the sweep's launcher: applied after `--set`, and
    /// recorded with the source `sweep`.
    @Option(name: .customLong("sweep-value"), help: .hidden)
    var sweepValues: [String] = []

    var path: String { config ?? PipelineProgram.defaultConfig }

    /// The overrides a run records (and a resume applies again): `--set` values, then the sweep's.
    var recordedOverrides: [String] { overrides + sweepValues }

    /// Loads, overrides and pre-flights the config; prints every problem and exits 2 when it is invalid.
    func build() throws -> (BuiltPipeline, String) {
        try checked { () throws(ConfigProblems) in try built() }
    }

    /// The pipeline of this config and `--set` values, or its problems.
    func built() throws(ConfigProblems) -> (BuiltPipeline, String) {
        let path = self.path
        let document = try ConfigLoader.apply(
            overrides: sweepValues, to: try ConfigLoader.apply(overrides: overrides, to: try ConfigLoader.load(file: path)), origin: "sweep")
        switch PipelineBuilder.build(document, definition: PipelineProgram.definition) {
        case .success(let built): return (built, path)
        case .failure(let problems): throw problems
        }
    }

    /// The result of `body`, or its problems printed and exit 2.
    func checked<T>(_ body: () throws(ConfigProblems) -> T) throws -> T {
        do {
            return try body()
        } catch {
            report(error)
            throw ExitCode(2)
        }
    }
}

func report(_ error: ConfigProblems) {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
}

struct PipelineRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Validate the config, then run the pipeline.")

    @OptionGroup var config: ConfigOptions

    @Option(
        help: ArgumentHelp(
            "Continue an earlier run with the config it recorded (its --set values, then these): the processes it completed are skipped and the permanences they changed restored, or the resume is refused.",
            valueName: "run"))
    var resume: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("With --resume: run again from this process (the earlier ones' permanence state is restored).", valueName: "process"))
    var from: String?

    @Flag(help: "Print a failing process's error with all its details (its type and fields).")
    var debug = false

    func validate() throws {
        if from != nil, resume == nil { throw ValidationError("--from needs --resume RUN (it names where the resumed run starts)") }
    }

    func run() async throws {
        let options: PipelineExecutor.Options
        let built: BuiltPipeline
        let definition = PipelineProgram.definition
        if let resume {
            let prepared = try config.checked { () throws(ConfigProblems) in
                try Resume.prepare(
                    run: resume, config: config.path, overrides: config.overrides, from: from, definition: definition, store: .default)
            }
            for note in prepared.notes { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            built = prepared.pipeline
            options = .init(
                name: definition.name, configFile: prepared.configFile, overrides: prepared.overrides, plan: prepared.plan,
                configText: prepared.configText, debug: debug)
        } else {
            let path: String
            (built, path) = try config.build()
            options = .init(
                name: definition.name, configFile: path, overrides: config.recordedOverrides,
                configText: FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }, debug: debug)
        }
        let outcome = await PipelineExecutor.run(built, options: options)
        switch outcome {
        case .completed:
            return
        case .failed(_, let problems):
            report(ConfigProblems(problems))
            throw ExitCode(problems.contains { $0.code == "CFG005" } ? 2 : 1)
        }
    }
}

struct PipelineValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a config without running anything: every problem, with its place.")

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let (built, path) = try config.build()
        try SweepController.validate(built.document, definition: PipelineProgram.definition)
        print("\(path) is valid: \(built.permanences.count) permanence\(built.permanences.count == 1 ? "" : "s"), \(built.processes.count) process\(built.processes.count == 1 ? "" : "es") (\(built.processes.map(\.key).joined(separator: " → ")))")
        for key in built.settings.ignored {
            print("note: \(key) is accepted for compatibility with Python tipi and not used")
        }
    }
}

struct PipelineInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show the processes and permanences, their params, and a config template.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let definition = PipelineProgram.definition
        print(json ? try Inspection.json(definition) : Inspection.text(definition))
    }
}
