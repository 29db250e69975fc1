import Foundation

/// Text snapshots kept in `__Snapshots__/<name>.txt` beside the test file.
///
/// A missing snapshot is written and reported as a failure (so a new snapshot is always looked at);
/// `TIPI_RECORD_SNAPSHOTS=1` rewrites them all. Under CI (`CI=true`) nothing is ever written.
public enum Snapshot {
    /// Compares `actual` with the stored snapshot; returns a failure message, or `nil` when they match.
    public static func verify(_ actual: String, named name: String, filePath: String = #filePath) -> String? {
        let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
        let file = directory.appendingPathComponent("\(name).txt")
        let environment = ProcessInfo.processInfo.environment
        let recording = environment["TIPI_RECORD_SNAPSHOTS"] == "1" && environment["CI"] != "true"
        let stored = try? String(contentsOf: file, encoding: .utf8)
        if let stored, !recording {
            return stored == actual ? nil : "snapshot \(file.path) differs:\n--- stored\n\(stored)\n--- actual\n\(actual)"
        }
        if environment["CI"] == "true" { return "snapshot \(file.path) is missing" }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? actual.write(to: file, atomically: true, encoding: .utf8)
        return recording ? nil : "snapshot \(file.path) was missing and has been recorded; check it and run again"
    }
}
