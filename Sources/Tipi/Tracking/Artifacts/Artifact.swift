import Foundation

/// A file saved into a run: `artifacts/<name>` in the run's folder, listed in `artifacts.json` beside
/// `run.json` with its size and SHA-256.
///
/// Saving the same name again replaces the file (atomically: a reader sees the old or the new one, never
/// a mix) and increments ``version``: a checkpoint saved every few epochs under one name is always the
/// latest one.
public struct Artifact: Sendable, Codable, Equatable {
    /// The artifact's path inside `artifacts/`, with `/` between folders (`model/weights.bin`).
    public var name: String
    /// Size in bytes.
    public var size: Int64
    /// The SHA-256 of the content, as 64 lowercase hexadecimal digits (what `sha256sum` prints).
    public var sha256: String
    /// The step (or epoch) given when it was saved, if any.
    public var step: Int?
    /// When it was saved (Unix seconds).
    public var time: Double
    /// 0 for the first save under this name, then 1, 2, … for each replacement.
    public var version: Int

    /// An artifact record.
    public init(name: String, size: Int64, sha256: String, step: Int? = nil, time: Double, version: Int = 0) {
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.step = step
        self.time = time
        self.version = version
    }
}

/// A saved artifact and where its file is: in the current run, or in a run the current one continues.
public struct StoredArtifact: Sendable, Equatable {
    /// What was recorded about it.
    public var artifact: Artifact
    /// The file (read it; do not change it in place: it may share its data with the saved source).
    public var url: URL
    /// The id of the run that holds it.
    public var runID: String
}

/// How ``ExperimentLogger/saveArtifact(_:name:step:transfer:)-(URL,_,_,_)`` puts a file into the run.
public enum ArtifactTransfer: Sendable, Equatable {
    /// Large files (64 MiB and more) are hard-linked when the run is on the same file system, smaller
    /// ones copied. The default.
    case automatic
    /// Always a copy: later changes to the source never reach the artifact.
    case copy
    /// A hard link when possible (no data copied; the source must then not be changed in place), else a copy.
    case link
    /// The source is moved into the run (a rename on the same file system, else a copy and a delete).
    case move
}

/// Why an artifact could not be saved: the message names the artifact or the file, and what to do.
public struct ArtifactError: Error, CustomStringConvertible, Equatable {
    /// The message, one line.
    public let description: String

    init(_ description: String) {
        self.description = TerminalText.printable(description)
    }
}
