/// Why tracking could not do what was asked. Every case says what to do about it.
public enum TrackingError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The run store (or a run folder in it) cannot be written.
    case storeNotWritable(path: String, reason: String)
    /// No run matches a name or id.
    case runNotFound(String, store: String, suggestion: String?)
    /// Several runs match an id or name prefix.
    case ambiguousRun(String, candidates: [String])
    /// `TIPI_BACKENDS` or `backends:` names a backend that does not exist.
    case unknownBackend(String, suggestion: String?)
    /// A backend needs a setting that is missing (e.g. `MLFLOW_TRACKING_URI`).
    case backendNotConfigured(backend: String, reason: String)
    /// A config passed to `start(config:)` cannot be recorded as named fields.
    case configNotEncodable(type: String, reason: String)

    public var description: String {
        switch self {
        case .storeNotWritable(let path, let reason):
            return "cannot write the run store at \(path): \(reason); set TIPI_DIR to a writable folder"
        case .runNotFound(let query, let store, let suggestion):
            return "no run '\(query)' in \(store)" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                + " (`\(ToolCommand.tipi("runs"))` lists the runs; TIPI_DIR selects the store)"
        case .ambiguousRun(let query, let candidates):
            let shown = candidates.prefix(8).joined(separator: ", ") + (candidates.count > 8 ? ", … (\(candidates.count - 8) more)" : "")
            return "'\(query)' matches several runs: \(shown); give more of the id or name"
        case .unknownBackend(let name, let suggestion):
            return "unknown backend '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                + " (known: tensorboard, wandb, mlflow, jsonl)"
        case .backendNotConfigured(let backend, let reason):
            return "the \(backend) backend cannot start: \(reason)"
        case .configNotEncodable(let type, let reason):
            return "the config \(type) cannot be recorded: \(reason)"
        }
    }
}
