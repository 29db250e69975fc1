import Foundation

extension ExperimentLogger {
    /// Saves a file or a folder into the current run (starting one if none was started yet, as `log`
    /// does; inside a pipeline, the pipeline's run). See ``Run/saveArtifact(_:name:step:transfer:)``.
    ///
    /// ```swift
    /// try logger.saveArtifact(URL(fileURLWithPath: "model.bin"), name: "checkpoint.bin", step: epoch)
    /// ```
    @discardableResult
    public func saveArtifact(
        _ file: URL, name: String? = nil, step: Int? = nil, transfer: ArtifactTransfer = .automatic
    ) throws(ArtifactError) -> [Artifact] {
        guard let run = startedRun() else {
            throw ArtifactError("cannot save \(file.path) as an artifact: no run could be started (see the warning above)")
        }
        return try run.saveArtifact(file, name: name, step: step, transfer: transfer)
    }

    /// ``saveArtifact(_:name:step:transfer:)-(URL,_,_,_)`` for a path given as text.
    @discardableResult
    public func saveArtifact(
        _ path: String, name: String? = nil, step: Int? = nil, transfer: ArtifactTransfer = .automatic
    ) throws(ArtifactError) -> [Artifact] {
        try saveArtifact(URL(fileURLWithPath: path), name: name, step: step, transfer: transfer)
    }

    /// The current run's folder for files written directly (`artifacts/`), recorded when the run
    /// finishes; starts a run if none was started yet. `nil` only when no run could be started.
    public var artifactsFolder: URL? {
        startedRun()?.artifactsFolder
    }

    /// The latest artifact saved under `name` in the current run or the runs it continues (then in the
    /// runs of `earlier`); `nil` when there is none, or no run. See ``Run/latestArtifact(named:earlier:)``.
    public func latestArtifact(named name: String, earlier: [String] = []) -> StoredArtifact? {
        startedRun()?.latestArtifact(named: name, earlier: earlier)
    }
}
