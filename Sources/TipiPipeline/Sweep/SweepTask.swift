import Foundation
import Tipi

/// One array task of a Slurm sweep (`sweep --task ID`): takes the next point from the sweep's record
/// under its lock — a pending point, or, while the sweep has fewer points than trials, a new one from the
/// sampler (a model-based sampler sees the points finished by then) — and runs it in this process as
/// `run` would, with `TIPI_SWEEP_ID` and `TIPI_SWEEP_INDEX` set. With `[sweep.early_stop]`, an
/// ``EarlyStopWatcher`` stops the point when it falls clearly behind its peers.
enum SweepTask {
    static func run(_ id: String, definition: PipelineDefinition, store: RunStore = .default) async -> Int32 {
        let taken: (SweepController.Prepared, SweepRecord.Point)?
        do {
            taken = try take(id, store: store, definition: definition)
        } catch let problems as ConfigProblems {
            reportFailure(problems)
            return 2
        } catch {
            FileHandle.standardError.write(Data("error: \(TerminalText.printable("\(error)"))\n".utf8))
            return 1
        }
        guard let (prepared, point) = taken else {
            print("sweep \(id): no point left to run")
            return 0
        }
        setenv("TIPI_SWEEP_ID", prepared.record.id, 1)
        setenv("TIPI_SWEEP_INDEX", String(point.index), 1)
        print("sweep \(id): point \(point.index): \(point.assignments.joined(separator: " "))")
        let overrides = prepared.record.overrides + point.assignments
        let built: BuiltPipeline
        do {
            let document = try ConfigLoader.apply(
                overrides: point.assignments,
                to: try ConfigLoader.apply(overrides: prepared.record.overrides, to: try ConfigLoader.load(file: prepared.configFile)),
                origin: "sweep")
            switch PipelineBuilder.build(document, definition: definition) {
            case .success(let value): built = value
            case .failure(let problems): throw problems
            }
        } catch {
            reportFailure(error)
            return 2
        }
        // ASHA: no controller watches this point (there is none with `--detach`); the task watches itself.
        let watcher = prepared.spec.earlyStop.flatMap { rule in
            prepared.record.metric.isEmpty
                ? nil
                : EarlyStopWatcher.start(rule: rule, sweepID: prepared.record.id, index: point.index, project: prepared.record.project, store: store)
        }
        let outcome = await PipelineExecutor.run(
            built,
            options: .init(
                name: definition.name, configFile: prepared.configFile, overrides: overrides,
                configText: FileManager.default.contents(atPath: prepared.configFile).map { String(decoding: $0, as: UTF8.self) }))
        watcher?.cancel()
        switch outcome {
        case .completed: return 0
        case .failed(_, let problems):
            reportFailure(ConfigProblems(problems))
            return 1
        }
    }

    /// The next point, marked `running` in the record (nil when none is left).
    static func take(_ id: String, store: RunStore, definition: PipelineDefinition) throws -> (SweepController.Prepared, SweepRecord.Point)? {
        let folder = store.sweepFolder(id)
        return try SweepLock.withLock(folder) {
            let saved = try store.loadSweep(id)
            var record = saved.refreshed(from: store.runs(project: saved.project, withConfig: false).runs)
            let copy = folder.appendingPathComponent("config.toml").path
            let document = try ConfigLoader.apply(overrides: record.overrides, to: try ConfigLoader.load(file: copy))
            var flags = try SweepCommandFlags.parse(record.arguments).flags
            flags.seed = record.seed
            let (spec, _) = try SweepController.validated(document, flags: flags, definition: definition)
            let sampler = SweepController.makeSampler(spec)
            let point: SweepRecord.Point
            if let position = record.points.firstIndex(where: { $0.status == "pending" }) {
                record.points[position].status = "running"
                point = record.points[position]
            } else if record.points.count < sampler.count {
                let index = record.points.count
                var fresh = SweepController.point(index, values: sampler.point(index, after: SweepController.observations(record, spec: spec)), spec: spec)
                fresh.status = "running"
                record.points.append(fresh)
                point = fresh
            } else {
                return nil
            }
            try store.saveSweep(record)
            return (SweepController.Prepared(record: record, spec: spec, sampler: sampler, configFile: copy), point)
        }
    }
}

/// Prints config problems (or any other error) on standard error.
private func reportFailure(_ error: any Error) {
    let text = (error as? ConfigProblems)?.description ?? "error: \(TerminalText.printable("\(error)"))"
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
