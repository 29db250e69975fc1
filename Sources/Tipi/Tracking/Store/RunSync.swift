import Foundation

/// Sends stored runs to backends later (`tipi runs sync`).
public enum RunSync {
    /// Sends the steps of `run` that MLflow has not received (all of them when it never reached this
    /// server), finishes the MLflow run with the run's status, and records the new state in `run.json`.
    ///
    /// Bounded by `timeout` seconds (a server that is not there at all — connection refused — is given up
    /// at once); an incomplete state's `error` says why and after how long.
    public static func mlflow(_ run: RunStore.StoredRun, trackingURI: String, timeout: Double) throws
        -> RunMetadata.BackendState
    {
        let started = Date()
        var state = try MLflowBackend.sync(
            metadata: run.metadata, folder: run.folder, trackingURI: trackingURI,
            deadline: started.timeIntervalSince1970 + timeout)
        if state.complete != true {
            let elapsed = MLflowClient.seconds(Date().timeIntervalSince(started))
            state.error = "\(state.error ?? "not everything was sent") (gave up after \(elapsed) of a \(MLflowClient.seconds(timeout)) timeout)"
        }
        var metadata = run.metadata
        metadata.backends["mlflow"] = state
        try RunStore.writeMetadata(metadata, to: run.folder)
        return state
    }
}
