import Foundation

extension RunStore.StoredRun {
    /// The run's artifacts, from `artifacts.json` in its folder (empty when it has none).
    public var artifacts: [Artifact] {
        ArtifactStore.recorded(inRunFolder: folder)
    }

    /// The run's kept console output (`output.log` in its folder), when there is one.
    public var outputLog: URL? {
        let url = folder.appendingPathComponent(ConsoleCapture.fileName)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}
