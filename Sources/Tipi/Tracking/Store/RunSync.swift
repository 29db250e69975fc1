import Foundation

/// Sends stored runs to backends later (`tipi runs sync`).
public enum RunSync {
    /// Sends the steps of `run` that MLflow has not received (all of them when it never reached this
    /// server), finishes the MLflow run with the run's status, and records the new state in `run.json`.
    public static func mlflow(_ run: RunStore.StoredRun, trackingURI: String, timeout: Double) throws
        -> RunMetadata.BackendState
    {
        let state = try MLflowBackend.sync(
            metadata: run.metadata, folder: run.folder, trackingURI: trackingURI,
            deadline: Date().timeIntervalSince1970 + timeout)
        var metadata = run.metadata
        metadata.backends["mlflow"] = state
        try RunStore.writeMetadata(metadata, to: run.folder)
        return state
    }
}
