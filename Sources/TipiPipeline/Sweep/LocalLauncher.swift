import Foundation
import Synchronization
import Tipi

/// Runs a sweep's points on this machine: `parallel` child processes at once, each the pipeline
/// executable's `run` with the point's values, `TIPI_SWEEP_ID` and `TIPI_SWEEP_INDEX`. Each point takes
/// its device with `getDevice()`, whose claims across processes give every point a GPU of its own while
/// one is free (on a CPU-only machine they share the CPU).
///
/// One progress bar shows the sweep (points done, running, failed, stopped, and the best so far); each
/// point's output goes to `logs/point-N.log` in the sweep's folder. On Ctrl-C (or SIGTERM, SIGHUP) each
/// running point gets one SIGINT — its run is recorded as interrupted — the sweep is recorded as
/// interrupted, resumable with `sweep --resume ID`, and the program ends by the signal (exit 130).
struct LocalLauncher {
    var prepared: SweepController.Prepared
    let store: RunStore

    /// Seconds between two reads of the store (points' status and metrics) while points run.
    static let refreshInterval = 0.5

    func run() async -> Int32 {
        var record = prepared.record
        let spec = prepared.spec
        let folder = store.sweepFolder(record.id)
        let logs = folder.appendingPathComponent("logs", isDirectory: true)
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var queue = record.points.filter { $0.status == "pending" }.map(\.index)
        let toRun = queue.count + max(prepared.sampler.count - record.points.count, 0)

        let display = ProgressDisplay(textOutput: FileDescriptorOutput.standardOutput)
        display.write(
            "sweep \(record.id): \(record.points.count == 0 ? prepared.sampler.count : record.points.count) points (\(record.method) over "
                + "\(record.parameters.joined(separator: ", "))), \(toRun) to run, \(spec.parallel) at once; logs in \(logs.path)")
        let bar = ProgressBar(total: toRun, desc: "Sweep \(record.id)", leave: true, display: display)

        Lifecycle.installSignals()
        let stopRequested = Atomic<Bool>(false)
        // Signalled once per point that ends (and on a stop); the loop waits on it, at most a refresh interval.
        let exits = DispatchSemaphore(value: 0)
        let owner = Lifecycle.addStopOwner {
            stopRequested.store(true, ordering: .relaxed)
            exits.signal()
        }
        defer { Lifecycle.removeStopOwner(owner) }

        var running: [Int: PointProcess] = [:]
        var failures = 0
        var warnedMetric = false
        var lastRefresh = 0.0
        let executable = PointProcess.ownExecutable
        let environment = ["TIPI_DIR": store.root.path, "TIPI_SWEEP_ID": record.id]

        func save() {
            do {
                try store.saveSweep(record)
            } catch {
                Diagnostics.warnOnce(key: "sweep-save", "the sweep's record could not be written (\(error)); its points' runs are kept in the store")
            }
        }
        let reader = SweepRunReader(store: store, sweepID: record.id, project: record.project)
        var sweepRuns: [RunStore.StoredRun] = []
        func refresh() {
            sweepRuns = reader.runs()
            record = record.refreshed(from: sweepRuns)
        }
        func describe(_ point: SweepRecord.Point) -> String {
            point.assignments.map { assignment in
                let parts = assignment.split(separator: "=", maxSplits: 1)
                let key = parts.first.map { String($0.split(separator: ".").last ?? $0) } ?? assignment
                return "\(key)=\(parts.count > 1 ? String(parts[1]) : "")"
            }.joined(separator: " ")
        }
        func postfix() {
            let done = record.points.filter { $0.status == "finished" && $0.stopped != true }.count
            let failed = record.points.filter { ["failed", "crashed", "damaged"].contains($0.status) }.count
            let stopped = record.points.filter { $0.stopped == true }.count
            var text = "done \(done) · running \(running.count) · failed \(failed) · stopped \(stopped)"
            if let best = record.best, let value = best.value { text += " · best \(record.metric) \(SweepValueText.short(value)) (#\(best.index))" }
            bar.setPostfix(text)
        }
        func next() -> Int? {
            if !queue.isEmpty { return queue.removeFirst() }
            guard record.points.count < prepared.sampler.count else { return nil }
            let index = record.points.count
            let values = prepared.sampler.point(index, after: SweepController.observations(record, spec: spec))
            record.points.append(SweepController.point(index, values: values, spec: spec))
            save()
            return index
        }
        func position(_ index: Int) -> Int? { record.points.firstIndex { $0.index == index } }

        while !stopRequested.load(ordering: .relaxed) {
            // Start points while there is room.
            while running.count < spec.parallel, !stopRequested.load(ordering: .relaxed), let index = next() {
                guard let at = position(index) else { continue }
                let log = logs.appendingPathComponent("point-\(index).log").path
                let arguments = ["run", prepared.configFile] + record.overrides.flatMap { ["--set", $0] }
                    + record.points[at].assignments.flatMap { ["--sweep-value", $0] }
                var env = environment
                env["TIPI_SWEEP_INDEX"] = String(index)
                do {
                    running[index] = try PointProcess.start(
                        index: index, executable: executable, arguments: arguments, environment: env, log: log, ended: exits)
                    record.points[at].status = "running"
                    record.points[at].run = nil
                } catch {
                    record.points[at].status = "failed"
                    failures += 1
                    display.write("point \(index) failed to start: \(error)")
                    bar.update()
                }
                save()
            }
            if running.isEmpty { break }

            // Reap the points that ended.
            var ended: [(Int, PointProcess.Exit)] = []
            for (index, process) in running {
                if let exit = process.poll() { ended.append((index, exit)) }
            }
            let now = Date().timeIntervalSince1970
            var refreshed = false
            if !ended.isEmpty || now - lastRefresh >= Self.refreshInterval {
                refresh()
                lastRefresh = now
                refreshed = true
            }
            for (index, exit) in ended.sorted(by: { $0.0 < $1.0 }) {
                guard let process = running.removeValue(forKey: index), let at = position(index) else { continue }
                var point = record.points[at]
                if point.run == nil || point.status == "running" {
                    // The process ended without a run, or before its run was ended: a failed point.
                    point.status = "failed"
                }
                record.points[at] = point
                let outcome: String
                if point.stopped == true {
                    outcome = "stopped early at step \(point.step.map(String.init) ?? "?")"
                } else if point.status == "finished", exit == .status(0) {
                    outcome = "finished"
                } else {
                    failures += 1
                    outcome = "failed (\(exit.text)); its output: \(process.log)"
                }
                let value = point.value.map { " → \(record.metric) \(SweepValueText.short($0))" } ?? ""
                display.write("point \(index) \(outcome): \(describe(point))\(value)\(point.run.map { " (run \($0))" } ?? "")")
                if !warnedMetric, !record.metric.isEmpty, point.status == "finished", point.value == nil, let run = point.run {
                    warnedMetric = true
                    warnMissingMetric(record.metric, run: run, project: record.project)
                }
                bar.update()
                save()
            }
            if refreshed, let rule = spec.earlyStop, !record.metric.isEmpty {
                applyEarlyStopping(rule, record: &record, running: running, runs: sweepRuns)
            }
            postfix()
            // A point that ended makes room: start the next one at once; otherwise wait for an exit.
            if ended.isEmpty { _ = await Self.wait(exits, seconds: Self.refreshInterval) }
        }

        if stopRequested.load(ordering: .relaxed) {
            Lifecycle.stopOwnerIsCleaningUp(owner)
            for process in running.values { process.send(SIGINT) }
            let deadline = Date().addingTimeInterval(Lifecycle.stopGrace + 5)
            while !running.isEmpty {
                for (index, process) in running where process.poll() != nil { running[index] = nil }
                if Date() > deadline {
                    for process in running.values { process.send(SIGKILL) }
                }
                if !running.isEmpty { usleep(20_000) }
            }
            refresh()
            record.status = "interrupted"
            save()
            bar.close()
            display.write(
                "sweep \(record.id) interrupted: \(record.points.filter(\.isDone).count) of \(record.trials) points done; "
                    + "continue with `\(PipelineProgram.definition.name) sweep --resume \(record.id)`")
            Lifecycle.endBySignal()
        }

        refresh()
        record.status = record.points.allSatisfy(\.isDone) && record.points.count >= prepared.sampler.count ? "finished" : "failed"
        save()
        postfix()
        bar.close()
        display.write(summary(record))
        return failures > 0 || record.status != "finished" ? 1 : 0
    }

    /// Waits until `semaphore` is signalled or `seconds` pass, on a thread of its own (the cooperative pool
    /// is not blocked); `true` when it was signalled.
    private static func wait(_ semaphore: DispatchSemaphore, seconds: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: semaphore.wait(timeout: .now() + seconds) == .success) }
        }
    }

    /// Stops the running points that ASHA finds clearly worse than their peers at their last rung.
    private func applyEarlyStopping(_ rule: EarlyStopRule, record: inout SweepRecord, running: [Int: PointProcess], runs: [RunStore.StoredRun]) {
        let histories = EarlyStopRule.histories(of: record, runs: runs)
        for (index, process) in running {
            guard let at = record.points.firstIndex(where: { $0.index == index }), record.points[at].stopped != true else { continue }
            if rule.shouldStop(index, histories: histories, record: record) {
                record.points[at].stopped = true
                process.send(SIGINT)
            }
        }
    }

    /// Says, once, that the first finished point logged no value of the sweep's metric.
    private func warnMissingMetric(_ metric: String, run: String, project: String) {
        let logged = (try? store.run(matching: run, project: project))?.metadata.summary.keys.sorted() ?? []
        let suggestion = Suggestion.nearest(to: metric, in: logged).map { "; did you mean '\($0)'?" } ?? ""
        Diagnostics.warn(
            "the sweep's metric '\(metric)' was not logged by its first finished point (run \(run)); it logged "
                + (logged.isEmpty ? "no metrics" : logged.prefix(10).joined(separator: ", ")) + suggestion
                + " — the points run on, but have no value to rank them")
    }

    /// The lines printed at the end: the best point and where to look.
    private func summary(_ record: SweepRecord) -> String {
        var lines: [String] = []
        let done = record.points.filter(\.isDone).count
        lines.append("sweep \(record.id) \(record.status): \(done) of \(record.points.count) points done")
        if let best = record.best, let value = best.value {
            lines.append("best: point \(best.index) (run \(best.run ?? "-")) \(record.metric) = \(SweepValueText.short(value)): \(best.assignments.joined(separator: " "))")
        }
        lines.append("see: \(ToolCommand.tipi("sweeps show \(record.id)"))")
        return lines.joined(separator: "\n")
    }
}
