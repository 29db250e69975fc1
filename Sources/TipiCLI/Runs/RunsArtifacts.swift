import Foundation
import Tipi

/// What `tipi runs show` says about a run's artifacts and kept console output.
enum RunsArtifacts {
    /// The lines of `tipi runs show` (after the folder): the console log, then each artifact.
    static func lines(_ run: RunStore.StoredRun) -> [String] {
        var lines: [String] = []
        if let log = run.outputLog {
            let size = (try? FileManager.default.attributesOfItem(atPath: log.path)[.size] as? NSNumber)?.int64Value ?? 0
            lines.append(
                "output:     \(TerminalText.printable(log.path)) (\(bytes(size))) — "
                    + "`\(ToolCommand.tipi("runs log \(run.metadata.id)"))` prints it")
        }
        let artifacts = run.artifacts
        guard !artifacts.isEmpty else { return lines }
        let total = artifacts.reduce(Int64(0)) { $0 + $1.size }
        lines.append(
            "artifacts:  \(artifacts.count) \(artifacts.count == 1 ? "file" : "files"), \(bytes(total)), in "
                + TerminalText.printable(run.folder.appendingPathComponent("artifacts").path))
        for artifact in artifacts {
            var text = "  \(TerminalText.printable(artifact.name))  \(bytes(artifact.size))  sha256:\(artifact.sha256.prefix(16))…"
            if let step = artifact.step { text += "  step \(step)" }
            if artifact.version > 0 { text += "  (saved \(artifact.version + 1) times)" }
            lines.append(text)
        }
        return lines
    }

    /// `1.5 MB`, `312 B`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
