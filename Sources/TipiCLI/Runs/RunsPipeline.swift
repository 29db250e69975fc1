import Tipi

/// The pipeline part of `tipi runs show RUN`: the config it ran with and each process's status, time, and
/// for a failure its error (for a process a resume skipped: the run that completed it).
enum RunsPipeline {
    /// `running`: whether the run is still running (a run that ended without a process record never had one).
    static func lines(_ pipeline: RunMetadata.PipelineRecord, running: Bool) -> [String] {
        var lines = ["", "pipeline \(pipeline.name)"]
        if let file = pipeline.configFile { lines.append("  config:  \(file)") }
        for override in pipeline.overrides { lines.append("  --set    \(TerminalText.excerpt(override, limit: 200))") }
        // A pipeline's first `run.json` names no process: the list follows within a second (or with the last
        // `run.json` of a shorter run), unless the process was killed before.
        if pipeline.processes.isEmpty {
            lines.append(
                running
                    ? "  no process recorded yet (the processes are recorded within a second of the start)"
                    : "  no process was recorded (the run ended within its first second without finishing: killed or crashed)")
            return lines
        }
        var rows = [["PROCESS", "TYPE", "STATUS", "TIME", ""]]
        for process in pipeline.processes {
            var note = ""
            if let error = process.error {
                note = TerminalText.excerpt(error, limit: 200)
            } else if let run = process.completedIn {
                note = "completed in run \(run)"
            }
            rows.append([
                process.key, process.type, process.status, process.status == "skipped" ? "-" : process.seconds.map { RunsTable.duration($0) } ?? "-", note,
            ])
        }
        lines += RunsTable.table(rows).map { "  " + $0 }
        return lines
    }
}
