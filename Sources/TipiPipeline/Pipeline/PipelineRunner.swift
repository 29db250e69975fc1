import Foundation
import Tipi

/// Runs or validates a pipeline from code (Python tipi's `PipelineRunner(name, config).run()`).
///
/// ```swift
/// let runner = PipelineRunner(name: "spirals", processes: #processes(train, evaluate), permanences: [Dataset.self])
/// let problems = runner.validate(file: "configs/pipeline.toml")       // [] when valid
/// let run = try await runner.run(file: "configs/pipeline.toml", overrides: ["processes.training.params.epochs=3"])
/// ```
public struct PipelineRunner: Sendable {
    public let definition: PipelineDefinition

    public init(name: String, processes: [any PipelineProcess.Type], permanences: [any Permanence.Type] = []) {
        definition = PipelineDefinition(name: name, processes: processes, permanences: permanences)
    }

    /// Every problem of a config file (empty when it is valid); nothing runs.
    public func validate(file: String, overrides: [String] = []) -> [ConfigProblem] {
        do {
            return problems(try ConfigLoader.apply(overrides: overrides, to: try ConfigLoader.load(file: file)))
        } catch {
            return error.problems
        }
    }

    /// Every problem of config text (empty when it is valid); nothing runs.
    public func validate(text: String, file: String = "config.toml") -> [ConfigProblem] {
        do {
            return problems(try ConfigLoader.parse(text: text, file: file))
        } catch {
            return error.problems
        }
    }

    private func problems(_ document: ConfigTable) -> [ConfigProblem] {
        switch PipelineBuilder.build(document, definition: definition) {
        case .success: return []
        case .failure(let problems): return problems.problems
        }
    }

    /// Validates, then runs a config file; returns the finished run. With `resume`, continues that run with
    /// the config it recorded (its `--set` values, then `overrides`), as `run --resume` does (`from`: as
    /// `--from`).
    ///
    /// On Ctrl-C, SIGTERM or SIGHUP (handled by Tipi when the program has no handler of its own) the
    /// running process stops at a safe point, the permanences are cleaned up, the run is recorded as
    /// interrupted, and the program ends by the signal, as with ``PipelineMain``.
    /// - Throws: ``ConfigProblems`` when the config is invalid, a resume is refused, or a process fails.
    @discardableResult
    public func run(
        file: String, overrides: [String] = [], resume: String? = nil, from: String? = nil, store: RunStore = .default
    ) async throws -> Run {
        if let resume {
            let prepared = try Resume.prepare(run: resume, config: file, overrides: overrides, from: from, definition: definition, store: store)
            return try await execute(
                prepared.pipeline,
                .init(
                    name: definition.name, configFile: prepared.configFile, overrides: prepared.overrides, plan: prepared.plan,
                    configText: prepared.configText, store: store))
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        return try await run(
            try ConfigLoader.apply(overrides: overrides, to: try ConfigLoader.load(file: file)), text: text, file: file, overrides: overrides,
            store: store)
    }

    /// Validates, then runs config text.
    @discardableResult
    public func run(text: String, file: String = "config.toml", store: RunStore = .default, display: ProgressDisplay? = nil) async throws -> Run {
        try await run(try ConfigLoader.parse(text: text, file: file), text: text, file: file, overrides: [], store: store, display: display)
    }

    private func run(
        _ document: ConfigTable, text: String, file: String, overrides: [String], store: RunStore, display: ProgressDisplay? = nil
    ) async throws -> Run {
        let built: BuiltPipeline
        switch PipelineBuilder.build(document, definition: definition) {
        case .success(let value): built = value
        case .failure(let problems): throw problems
        }
        return try await execute(
            built, .init(name: definition.name, configFile: file, overrides: overrides, configText: text, store: store, display: display))
    }

    private func execute(_ built: BuiltPipeline, _ options: PipelineExecutor.Options) async throws -> Run {
        switch await PipelineExecutor.run(built, options: options) {
        case .completed(let run): return run
        case .failed(_, let problems): throw ConfigProblems(problems)
        }
    }
}
