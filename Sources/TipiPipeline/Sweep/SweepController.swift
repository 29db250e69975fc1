import ArgumentParser
import Foundation
import Synchronization
import Tipi

/// Runs a sweep: validates it, records it in `<store>/sweeps/<id>/`, and runs its points — here, as
/// child processes (``LocalLauncher``) — or resumes one that did not finish.
///
/// The sweep's folder holds `sweep.json` (the record: spec, points, status), `config.toml` (the config
/// the points run, copied when the sweep starts, so a resume runs the same config) and `logs/point-N.log`
/// (each point's output).
enum SweepController {
    struct Options: Sendable {
        var configFile: String
        var overrides: [String]
        var flags: SweepSpec.Flags
        /// The sweep's own flags as given, recorded for `--resume`.
        var arguments: [String]
        var resume: String?
        /// Return right after submitting (Slurm).
        var detach = false
        var store: RunStore = .default
    }

    /// Runs the sweep and returns the exit status: 0 when every point finished (or was stopped early),
    /// 1 when a point failed, 2 for an invalid spec; a stop signal ends the program (130 / 143).
    static func run(_ options: Options, definition: PipelineDefinition) async -> Int32 {
        let store = RunStore(root: URL(fileURLWithPath: options.store.root.path).standardizedFileURL)
        let prepared: Prepared
        do {
            prepared = try options.resume.map { try resume($0, store: store, definition: definition) }
                ?? create(options, store: store, definition: definition)
        } catch let problems as ConfigProblems {
            report(problems)
            return 2
        } catch {
            FileHandle.standardError.write(Data("error: \(TerminalText.printable("\(error)"))\n".utf8))
            return error is SweepError ? 2 : 1
        }
        switch prepared.spec.launcher {
        case .local:
            return await LocalLauncher(prepared: prepared, store: store).run()
        case .slurm:
            return await SlurmLauncher(prepared: prepared, store: store, detach: options.detach).run()
        }
    }

    /// A sweep ready to launch.
    struct Prepared: Sendable {
        var record: SweepRecord
        var spec: SweepSpec
        var sampler: any SweepSampler
        /// The config the points run (the copy in the sweep's folder).
        var configFile: String
    }

    /// Validates a new sweep and records it.
    static func create(_ options: Options, store: RunStore, definition: PipelineDefinition) throws -> Prepared {
        let document = try ConfigLoader.apply(overrides: options.overrides, to: try ConfigLoader.load(file: options.configFile))
        let (spec, built) = try validated(document, flags: options.flags, definition: definition)
        let id = try store.createSweepFolder()
        let folder = store.sweepFolder(id)
        let copy = folder.appendingPathComponent("config.toml").path
        guard let data = FileManager.default.contents(atPath: options.configFile), FileManager.default.createFile(atPath: copy, contents: data) else {
            throw SweepError("cannot copy \(options.configFile) into the sweep's folder \(folder.path)")
        }
        let sampler = makeSampler(spec)
        var points: [SweepRecord.Point] = []
        if sampler.isUpfront {
            points = (0..<sampler.count).map { point($0, values: sampler.point($0, after: []), spec: spec) }
        }
        let record = SweepRecord(
            id: id, project: built.settings.project ?? definition.name, method: spec.method.rawValue, metric: spec.metric ?? "",
            goal: spec.goal, launcher: spec.launcher.rawValue, parallel: spec.parallel, trials: sampler.count, seed: spec.seed ?? 0,
            configFile: options.configFile, overrides: options.overrides, arguments: options.arguments,
            parameters: spec.parameters.map(\.path), points: points, earlyStop: spec.earlyStop.map { _ in "asha" })
        try store.saveSweep(record)
        return Prepared(record: record, spec: spec, sampler: sampler, configFile: copy)
    }

    /// Reads the sweep `query` names again, from the config kept in its folder and its recorded flags.
    static func resume(_ query: String, store: RunStore, definition: PipelineDefinition) throws -> Prepared {
        var record = try store.sweep(matching: query)
        let copy = store.sweepFolder(record.id).appendingPathComponent("config.toml").path
        let document = try ConfigLoader.apply(overrides: record.overrides, to: try ConfigLoader.load(file: copy))
        var flags = try SweepCommandFlags.parse(record.arguments).flags
        flags.seed = record.seed
        let (spec, _) = try validated(document, flags: flags, definition: definition)
        let sampler = makeSampler(spec)
        record.status = "running"
        // Points that started and did not finish run again; the others keep their run.
        let now = Date().timeIntervalSince1970
        for position in record.points.indices where !record.points[position].isDone && record.points[position].status != "pending" {
            record.points[position].status = "pending"
            record.points[position].run = nil
            record.points[position].value = nil
            record.points[position].since = now
        }
        try store.saveSweep(record)
        return Prepared(record: record, spec: spec, sampler: sampler, configFile: copy)
    }

    /// The spec of `document` and flags, checked against the pipeline; throws every problem together.
    static func validated(_ document: ConfigTable, flags: SweepSpec.Flags, definition: PipelineDefinition) throws -> (SweepSpec, BuiltPipeline) {
        var spec: SweepSpec
        switch SweepSpec.read(document, flags: flags) {
        case .success(let value): spec = value
        case .failure(let problems): throw problems
        }
        let built: BuiltPipeline
        switch PipelineBuilder.build(document, definition: definition) {
        case .success(let value): built = value
        case .failure(let problems): throw problems
        }
        let problems = spec.problems(in: document, definition: definition)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        if spec.seed == nil { spec.seed = UInt64.random(in: 0...UInt64(Int64.max)) }
        return (spec, built)
    }

    /// `validate`'s check of a config's `[sweep]`, when it has one: every problem printed, exit 2.
    static func validate(_ document: ConfigTable, definition: PipelineDefinition) throws {
        guard document["sweep"] != nil else { return }
        do {
            _ = try validated(document, flags: .init(), definition: definition)
        } catch let problems as ConfigProblems {
            report(problems)
            throw ExitCode(2)
        }
    }

    static func makeSampler(_ spec: SweepSpec) -> any SweepSampler {
        switch spec.method {
        case .grid: return GridSampler(spec.parameters)
        case .random: return RandomSampler(domains: spec.parameters.map(\.domain), count: spec.trials ?? 10, seed: spec.seed ?? 0)
        case .tpe:
            return TPESampler(domains: spec.parameters.map(\.domain), count: spec.trials ?? 10, seed: spec.seed ?? 0, maximize: spec.goal == "maximize")
        }
    }

    /// A point's record from its values.
    static func point(_ index: Int, values: [ConfigNode], spec: SweepSpec) -> SweepRecord.Point {
        var params: [String: ConfigValue] = [:]
        var assignments: [String] = []
        for (parameter, value) in zip(spec.parameters, values) {
            params[parameter.path] = value.configValue
            assignments.append("\(parameter.path)=\(SweepValueText.toml(value))")
        }
        return SweepRecord.Point(index: index, params: params, assignments: assignments)
    }

    /// The finished points as a sampler sees them.
    static func observations(_ record: SweepRecord, spec: SweepSpec) -> [SweepObservation] {
        record.points.compactMap { point in
            guard point.status == "finished" || point.stopped == true, let value = point.value, !value.isNaN else { return nil }
            let values = spec.parameters.map { parameter in node(point.params[parameter.path]) }
            return SweepObservation(values: values, value: value)
        }
    }

    private static func node(_ value: ConfigValue?) -> ConfigNode {
        switch value {
        case .int(let number)?: return .int(number, nil)
        case .double(let number)?: return .double(number, nil)
        case .string(let text)?: return .string(text, nil)
        case .bool(let flag)?: return .bool(flag, nil)
        case .array(let values)?: return .array(values.map { node($0) }, nil)
        case .table(let table)?: return .table(ConfigTable(entries: table.sorted { $0.key < $1.key }.map { ($0.key, node($0.value)) }), nil)
        case nil: return .string("", nil)
        }
    }
}
