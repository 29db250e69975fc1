import Foundation
import Synchronization
import Tipi

/// Submits a sweep to Slurm with one `sbatch` call: a job array of as many tasks as points to run, at
/// most `parallel` at once (`--array=0-N%P`). Each task runs `EXECUTABLE sweep --task ID`, which takes the
/// next point from the sweep's record under its lock (``SweepTask``) — so grid, random and model-based
/// sweeps work alike, and a model-based point is decided when a task starts, from the points finished
/// by then. The batch script is kept in the sweep's folder (`batch.sh`); the tasks' output goes to
/// `logs/slurm-JOB_TASK.log`. With `[sweep.early_stop]` each task stops its own point
/// (``EarlyStopWatcher``), so early stopping needs no controller and works with `--detach`.
///
/// The script asks Slurm for a SIGINT 60 s before a task's time limit (`--signal=B:INT@60`), and `exec`s
/// the pipeline, so a task that times out or is cancelled (SIGTERM) records its run as interrupted; the
/// point runs again on `--resume`.
///
/// Unless `--detach`, the controller then follows the array with one `squeue` call per poll for all its
/// tasks, every 2 s at first and up to every 30 s while nothing changes.
struct SlurmLauncher {
    var prepared: SweepController.Prepared
    let store: RunStore
    let detach: Bool

    func run() async -> Int32 {
        var record = prepared.record
        let folder = store.sweepFolder(record.id)
        let logs = folder.appendingPathComponent("logs", isDirectory: true)
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let pending = record.points.filter { $0.status == "pending" }.count + max(prepared.sampler.count - record.points.count, 0)
        guard pending > 0 else {
            record.status = "finished"
            try? store.saveSweep(record)
            print("sweep \(record.id): every point is done; nothing to submit")
            return 0
        }
        guard let sbatch = Self.tool("sbatch") else {
            FileHandle.standardError.write(
                Data("error: sbatch is not on PATH: Slurm is not installed here (launcher = \"local\" runs the points on this machine)\n".utf8))
            return 2
        }
        let script = Self.batchScript(
            record: record, options: prepared.spec.slurm, tasks: pending, parallel: prepared.spec.parallel,
            executable: PointProcess.ownExecutable, store: store, logs: logs.path)
        let scriptPath = folder.appendingPathComponent("batch.sh").path
        guard FileManager.default.createFile(atPath: scriptPath, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755]) else {
            FileHandle.standardError.write(Data("error: cannot write \(scriptPath)\n".utf8))
            return 1
        }
        let submitted = Self.call(sbatch, ["--parsable", scriptPath], timeout: 60)
        guard submitted.status == 0, let job = submitted.output.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
            !job.isEmpty, job.allSatisfy(\.isNumber)
        else {
            let message = TerminalText.excerpt(TerminalText.printable(submitted.output.trimmingCharacters(in: .whitespacesAndNewlines)), limit: 400)
            FileHandle.standardError.write(Data("error: sbatch refused the sweep's batch script \(scriptPath): \(message)\n".utf8))
            return 1
        }
        do {
            try SweepLock.withLock(folder) {
                var saved = try store.loadSweep(record.id)
                saved.slurmJobs = (saved.slurmJobs ?? []) + [job]
                saved.status = "submitted"
                try store.saveSweep(saved)
                record = saved
            }
        } catch {
            Diagnostics.warn("the sweep's record could not be updated (\(error)); Slurm job \(job) runs it anyway")
        }
        print("sweep \(record.id): \(pending) points submitted to Slurm as job array \(job) (at most \(prepared.spec.parallel) at once)")
        print("batch script: \(scriptPath)")
        if detach {
            print("follow it: \(ToolCommand.tipi("sweeps show \(record.id)")); stop it: scancel \(job)")
            return 0
        }
        return await follow(job: job, record: record, total: pending)
    }

    /// Follows the job array until no task is left in `squeue`.
    private func follow(job: String, record initial: SweepRecord, total: Int) async -> Int32 {
        var record = initial
        let display = ProgressDisplay(textOutput: FileDescriptorOutput.standardOutput)
        let bar = ProgressBar(total: total, desc: "Sweep \(record.id)", leave: true, display: display)
        Lifecycle.installSignals()
        let stopRequested = Atomic<Bool>(false)
        let owner = Lifecycle.addStopOwner { stopRequested.store(true, ordering: .relaxed) }
        defer { Lifecycle.removeStopOwner(owner) }
        let squeue = Self.tool("squeue")
        var interval = 2.0
        var lastSeen = ""
        var doneBefore = 0
        let reader = SweepRunReader(store: store, sweepID: record.id, project: record.project)
        while !stopRequested.load(ordering: .relaxed) {
            let answer = squeue.map { Self.call($0, ["-h", "-r", "-j", job, "-o", "%T"], timeout: 30) }
            let states = answer.map { $0.status == 0 ? $0.output.split(separator: "\n").map(String.init) : [] } ?? []
            if let answer, answer.status != 0, !answer.output.contains("Invalid job id") {
                Diagnostics.warnOnce(
                    key: "squeue", "squeue is not answering (\(TerminalText.excerpt(answer.output, limit: 200))); retrying with backoff")
            }
            record = record.refreshed(from: reader.runs())
            let done = record.points.filter { $0.isDone || ["failed", "crashed", "interrupted"].contains($0.status) && $0.run != nil }.count
            if done > doneBefore {
                bar.update(done - doneBefore)
                doneBefore = done
            }
            let running = states.filter { $0 == "RUNNING" }.count
            let waiting = states.filter { $0 == "PENDING" }.count
            var text = "running \(running) · queued \(waiting)"
            if let best = record.best, let value = best.value { text += " · best \(record.metric) \(SweepValueText.short(value)) (#\(best.index))" }
            bar.setPostfix(text)
            if answer?.status == 0 || answer?.output.contains("Invalid job id") == true, states.isEmpty { break }
            // Backoff while nothing changes: 2 s, ×1.5 up to 30 s.
            let seen = states.joined(separator: ",") + "\(done)"
            interval = seen == lastSeen ? min(interval * 1.5, 30) : 2
            lastSeen = seen
            let until = Date().addingTimeInterval(interval)
            while Date() < until, !stopRequested.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(100)) }
        }
        if stopRequested.load(ordering: .relaxed) {
            Lifecycle.stopOwnerIsCleaningUp(owner)
            bar.close()
            display.write("stopped following; the sweep goes on as Slurm job \(job) (`scancel \(job)` stops it; \(ToolCommand.tipi("sweeps show \(record.id)")) shows it)")
            Lifecycle.endBySignal()
        }
        bar.close()
        var final = record
        do {
            try SweepLock.withLock(store.sweepFolder(record.id)) {
                var saved = try store.loadSweep(record.id).refreshed(from: store.runs(project: record.project, withConfig: false).runs)
                saved.status = saved.points.allSatisfy(\.isDone) && saved.points.count >= prepared.sampler.count ? "finished" : "failed"
                try store.saveSweep(saved)
                final = saved
            }
        } catch {
            Diagnostics.warn("the sweep's record could not be updated (\(error))")
        }
        let done = final.points.filter(\.isDone).count
        display.write("sweep \(final.id) \(final.status): \(done) of \(final.trials) points done")
        if let best = final.best, let value = best.value {
            display.write("best: point \(best.index) (run \(best.run ?? "-")) \(final.metric) = \(SweepValueText.short(value)): \(best.assignments.joined(separator: " "))")
        }
        if final.status != "finished" { display.write("run the missing points again: \(PipelineProgram.definition.name) sweep --resume \(final.id)") }
        return final.status == "finished" ? 0 : 1
    }

    /// The batch script of a sweep: one job array, its tasks each taking the next point.
    static func batchScript(
        record: SweepRecord, options: SlurmOptions, tasks: Int, parallel: Int, executable: String, store: RunStore, logs: String
    ) -> String {
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var lines = [
            "#!/bin/bash",
            "# The sweep \(record.id) of \(record.project) (\(record.method)), written by tipi: one array task per point to run.",
            "#SBATCH --job-name=tipi-\(record.id)",
            "#SBATCH --array=0-\(tasks - 1)%\(max(parallel, 1))",
            "#SBATCH --output=\(logs)/slurm-%A_%a.log",
            "#SBATCH --signal=B:INT@60",
            "#SBATCH --ntasks=1",
        ]
        lines += options.directives
        lines += [
            "export TIPI_DIR=\(quoted(store.root.path))",
            "cd \(quoted(FileManager.default.currentDirectoryPath))",
            "exec \(quoted(executable)) sweep --task \(record.id)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The first executable file `name` on `PATH`.
    static func tool(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a Slurm command; its standard output and error together (a timeout reads as status 124).
    static func call(_ path: String, _ arguments: [String], timeout: Double) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-slurm-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        guard let handle = try? FileHandle(forWritingTo: output) else { return (127, "cannot capture \(path)'s output") }
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (127, "cannot start \(path): \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            return (124, "\(path) did not answer within \(Int(timeout)) s")
        }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return (process.terminationStatus, String(text.prefix(64 * 1024)))
    }
}
