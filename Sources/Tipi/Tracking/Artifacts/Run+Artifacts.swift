import Foundation

extension Run {
    /// Saves a file, or a folder with everything in it, into the run: `artifacts/<name>` in its folder,
    /// recorded with size and SHA-256 in `artifacts.json`, shown by `tipi runs show`, and handed to the
    /// W&B and MLflow backends when they are on (their uploads never hold up `log`).
    ///
    /// ```swift
    /// try run.saveArtifact(URL(fileURLWithPath: "model.bin"), name: "checkpoint.bin", step: epoch)
    /// ```
    ///
    /// Saving a name again replaces the artifact (atomically) and increments its ``Artifact/version``.
    ///
    /// - Parameters:
    ///   - file: A file or a folder. A folder's files are saved as `name/…`; links inside it are followed
    ///     only to files inside it.
    ///   - name: The path inside `artifacts/` (`model/weights.bin`); the file's own name by default.
    ///   - step: The step or epoch it belongs to, recorded with it (``latestArtifact(named:earlier:)`` returns it).
    ///   - transfer: Copy, hard-link or move the file; by default large files (64 MiB and more) are
    ///     hard-linked when possible and smaller ones copied.
    /// - Returns: What was recorded: one artifact for a file, one per file for a folder.
    /// - Throws: ``ArtifactError`` when the name is unusable (absolute, `..`, NUL or other control
    ///   characters, empty parts), the file cannot be read, a link in a folder points outside it, the run
    ///   folder cannot be written, or the run is finished. Nothing half-written is left behind.
    @discardableResult
    public func saveArtifact(
        _ file: URL, name: String? = nil, step: Int? = nil, transfer: ArtifactTransfer = .automatic
    ) throws(ArtifactError) -> [Artifact] {
        guard !isFinished else {
            throw ArtifactError(
                "cannot save \(file.path) as an artifact: run \(id) is finished (artifacts are saved before finish(); start() begins a new run)")
        }
        let saved = try artifactStore.save(file, name: name, step: step, transfer: transfer)
        sendArtifacts(saved)
        return saved
    }

    /// A folder the program may write files into directly (`artifacts/` in the run's folder): what is
    /// there when the run finishes is recorded with size and SHA-256, as if saved with ``saveArtifact(_:name:step:transfer:)``.
    /// Created on first use.
    public var artifactsFolder: URL {
        try? FileManager.default.createDirectory(at: artifactStore.directory, withIntermediateDirectories: true)
        return artifactStore.directory
    }

    /// The artifacts recorded so far (files written into ``artifactsFolder`` are added at finish).
    public var artifacts: [Artifact] {
        ArtifactStore.recorded(inRunFolder: folder)
    }

    /// The latest artifact saved under `name`: in this run, else in the run it continues (a resumed
    /// pipeline's `resumed_from`), and so on back, else in the runs of `earlier` (ids), in that order.
    ///
    /// The checkpoint pattern: save every few epochs under one name, and on start load the latest:
    ///
    /// ```swift
    /// if let checkpoint = logger.latestArtifact(named: "checkpoint.json") {
    ///     state = try JSONDecoder().decode(State.self, from: Data(contentsOf: checkpoint.url))
    /// }
    /// ```
    ///
    /// A file whose size no longer matches the record (changed after it was saved) is skipped.
    public func latestArtifact(named name: String, earlier: [String] = []) -> StoredArtifact? {
        var visited: Set<String> = []
        var folderToSearch: URL? = folder
        var runID = id
        let store = RunStore(root: folder.deletingLastPathComponent().deletingLastPathComponent())
        var queue = earlier
        while let current = folderToSearch, visited.insert(runID).inserted {
            if let found = Self.artifact(named: name, in: current, runID: runID) { return found }
            let next = runID == id ? Self.continuedRun(of: metadata) : Self.continuedRun(inFolder: current)
            if let next, let stored = try? store.run(matching: next) {
                folderToSearch = stored.folder
                runID = stored.metadata.id
            } else if !queue.isEmpty, let stored = try? store.run(matching: queue.removeFirst()) {
                folderToSearch = stored.folder
                runID = stored.metadata.id
            } else {
                folderToSearch = nil
            }
        }
        return nil
    }

    private static func artifact(named name: String, in folder: URL, runID: String) -> StoredArtifact? {
        guard let artifact = ArtifactStore.recorded(inRunFolder: folder).first(where: { $0.name == name }) else { return nil }
        let url = folder.appendingPathComponent(ArtifactStore.folderName).appendingPathComponent(name)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            (attributes[.size] as? NSNumber)?.int64Value == artifact.size
        else { return nil }
        return StoredArtifact(artifact: artifact, url: url, runID: runID)
    }

    /// The run a run continues: `resumed_from`, or the pipeline's `resumedFrom`.
    static func continuedRun(of metadata: RunMetadata) -> String? {
        guard let data = try? JSONEncoder().encode(metadata) else { return metadata.pipeline?.resumedFrom }
        return continuedRun(json: data) ?? metadata.pipeline?.resumedFrom
    }

    static func continuedRun(inFolder folder: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(RunStore.metadataFile).path) else {
            return nil
        }
        return continuedRun(json: data)
    }

    private static func continuedRun(json data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        if let id = object["resumed_from"] as? String, !id.isEmpty { return id }
        if let id = (object["pipeline"] as? [String: Any])?["resumedFrom"] as? String, !id.isEmpty { return id }
        return nil
    }

    /// Records the files written straight into `artifacts/` and hands them to the backends (at finish).
    func recordArtifactsFolder() {
        let (recorded, problems) = artifactStore.recordUnlisted()
        for problem in problems { Diagnostics.warn(problem) }
        sendArtifacts(recorded)
    }

    private func sendArtifacts(_ artifacts: [Artifact]) {
        let directory = artifactStore.directory
        sendToBackends(artifacts.map { ArtifactUpload(artifact: $0, file: directory.appendingPathComponent($0.name)) })
    }
}

/// An artifact handed to a backend: its record and its file in the run folder.
struct ArtifactUpload: Sendable {
    var artifact: Artifact
    var file: URL
}
