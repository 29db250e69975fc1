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

    /// Validates, then runs a config file; returns the finished run.
    ///
    /// On Ctrl-C, SIGTERM or SIGHUP (handled by Tipi when the program has no handler of its own) the
    /// running process stops at a safe point, the permanences are cleaned up, the run is recorded as
    /// interrupted, and the program ends by the signal, as with ``PipelineMain``.
    /// - Throws: ``ConfigProblems`` when the config is invalid or a process fails.
    @discardableResult
    public func run(file: String, overrides: [String] = [], resume: String? = nil, store: RunStore = .default) async throws -> Run {
        try await run(try ConfigLoader.apply(overrides: overrides, to: try ConfigLoader.load(file: file)), file: file, overrides: overrides, resume: resume, store: store)
    }

    /// Validates, then runs config text.
    @discardableResult
    public func run(text: String, file: String = "config.toml", store: RunStore = .default, display: ProgressDisplay? = nil) async throws -> Run {
        try await run(try ConfigLoader.parse(text: text, file: file), file: file, overrides: [], resume: nil, store: store, display: display)
    }

    private func run(
        _ document: ConfigTable, file: String, overrides: [String], resume: String?, store: RunStore, display: ProgressDisplay? = nil
    ) async throws -> Run {
        let built: BuiltPipeline
        switch PipelineBuilder.build(document, definition: definition) {
        case .success(let value): built = value
        case .failure(let problems): throw problems
        }
        let outcome = await PipelineExecutor.run(
            built, options: .init(name: definition.name, configFile: file, overrides: overrides, resume: resume, store: store, display: display))
        switch outcome {
        case .completed(let run): return run
        case .failed(_, let problems): throw ConfigProblems(problems)
        }
    }
}
