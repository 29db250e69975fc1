import Foundation

/// An MLflow tracking server (`MLFLOW_TRACKING_URI`), through its REST API.
///
/// - the experiment is the run's project (created when missing); the MLflow run is named like the Tipi run
///   and tagged `tipi.run_id`;
/// - the config becomes params once (MLflow params are immutable): nested tables are flattened to dotted
///   keys, values longer than 6000 characters are cut;
/// - metrics go in `log-batch` requests of at most 1000 metrics, from this backend's own thread;
/// - if the server is down or goes away, requests are retried with backoff (0.5 s doubling to 30 s) while
///   training goes on; the run store stays complete. At finish, what could not be sent before the deadline
///   is recorded (`run.json`: `backends.mlflow.sentSteps`, `complete: false`), one warning says so, and
///   `tipi runs sync RUN --to mlflow` sends the rest later;
/// - the run ends as `FINISHED`, `FAILED` or `KILLED` (interrupted), with its end time.
///
/// NaN and infinities are sent the way MLflow's own client sends them, as the protobuf JSON strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"` (a bare `NaN` literal makes the server drop the rest of the batch
/// without an error). MLflow keeps NaN and stores infinities as ±1.7976931348623157e308.
final class MLflowBackend: TrackingBackend {
    let client: MLflowClient
    let trackingURI: String
    private var run: RunDescription?
    private var experimentID: String?
    private(set) var runID: String?
    private var paramsSent = false
    private var pending: [(step: Int, time: Double, key: Int32, value: Double, lastOfRow: Bool)] = []
    private var pendingStart = 0
    private var keys: [String] = []
    private(set) var sentRows = 0
    private var retryAt = 0.0
    private var backoff = 0.5
    private var lastError: String?
    private var refused: String?
    static let maximumPending = 2_000_000
    private var overflowed = false
    /// The run's artifact location (`mlflow-artifacts:/…` on a server that serves artifacts, or a path).
    private var artifactURI: String?
    /// Artifacts saved but not uploaded yet (the run did not exist yet, or the server was unavailable).
    private var pendingArtifacts: [ArtifactUpload] = []
    /// Uploads that failed for good, with the reason.
    private var failedArtifacts: [String] = []
    /// Why the run's artifact store cannot be written at all (said once; later artifacts are not tried).
    private var artifactStoreRefused: String?

    init(trackingURI: String, startingRow: Int = 0, existingRunID: String? = nil) throws {
        self.trackingURI = trackingURI
        client = try MLflowClient(trackingURI: trackingURI)
        sentRows = startingRow
        runID = existingRunID
        paramsSent = existingRunID != nil
    }

    var state: RunMetadata.BackendState {
        RunMetadata.BackendState(
            location: trackingURI, remoteID: runID, sentSteps: sentRows,
            complete: refused == nil && !overflowed && pendingStart >= pending.count && runID != nil,
            error: refused ?? lastError)
    }

    func start(_ run: RunDescription) throws {
        self.run = run
        _ = trySend(until: Date().timeIntervalSince1970 + 3)
    }

    func write(_ batch: MetricBatch, keys: [String]) throws {
        enqueue(batch, keys: keys)
        // A slow server must not hold up this backend's queue: send for at most half a second per batch
        // and keep the rest pending (bounded; beyond it the run is marked incomplete for `tipi runs sync`).
        _ = trySend(until: Date().timeIntervalSince1970 + 0.5)
    }

    /// Adds a batch to what is pending (bounded: beyond ``maximumPending`` values nothing more is taken, and
    /// the run is incomplete, so what was sent stays the first `sentRows` rows).
    private func enqueue(_ batch: MetricBatch, keys: [String]) {
        self.keys = keys
        if pending.count - pendingStart + batch.valueCount > Self.maximumPending {
            overflowed = true
        } else if !overflowed {
            for row in 0..<batch.rowCount {
                let range = batch.range(ofRow: row)
                for position in range {
                    pending.append(
                        (batch.rows[row].step, batch.rows[row].time, batch.entries[position].key, batch.entries[position].value,
                         position == range.upperBound - 1))
                }
            }
        }
    }

    /// Artifacts go to the run's artifact store on the server: through the server's `mlflow-artifacts`
    /// REST API when the run's artifact URI is `mlflow-artifacts:` (a server that serves artifacts), or
    /// into the folder when it is a local path (a server on this machine with a local artifact root, as
    /// MLflow's own client does). Uploads happen on this backend's thread; a failure is a warning and the
    /// run folder keeps the file.
    func saveArtifacts(_ uploads: [ArtifactUpload]) throws {
        pendingArtifacts += uploads
        try uploadArtifacts(until: Date().timeIntervalSince1970 + 60)
    }

    /// Uploads the pending artifacts in order until `deadline`; an unavailable server keeps them pending
    /// (retried at finish). Throws once for the ones that failed for good.
    private func uploadArtifacts(until deadline: Double) throws {
        if artifactStoreRefused != nil { pendingArtifacts.removeAll() }
        guard refused == nil, !pendingArtifacts.isEmpty else { return }
        do throws(MLflowClient.Failure) {
            try ensureRun(deadline: deadline)
            if artifactURI == nil, let runID {
                let answer = try client.call("GET", "runs/get", query: ["run_id": runID], timeout: deadline - Date().timeIntervalSince1970)
                artifactURI = ((answer["run"] as? [String: Any])?["info"] as? [String: Any])?["artifact_uri"] as? String
            }
        } catch {
            lastError = "artifacts not uploaded yet: \(error)"
            return
        }
        var failures: [String] = []
        while let upload = pendingArtifacts.first {
            guard Date().timeIntervalSince1970 < deadline else { break }
            do throws(MLflowClient.Failure) {
                try store(upload, deadline: deadline)
                pendingArtifacts.removeFirst()
            } catch {
                if case .unavailable = error {
                    lastError = "artifacts not uploaded yet: \(error)"
                    break
                }
                pendingArtifacts.removeFirst()
                if case .refused(_, let code, let message) = error, code == "UNSUPPORTED_ARTIFACT_STORE" {
                    artifactStoreRefused = message
                    let count = pendingArtifacts.count + 1
                    pendingArtifacts.removeAll()
                    failedArtifacts.append(message)
                    throw ArtifactError("\(count) artifacts were not uploaded: \(message)")
                }
                failures.append("\(upload.artifact.name): \(error)")
            }
        }
        if !failures.isEmpty {
            failedArtifacts += failures
            throw ArtifactError("\(failures.count) artifacts were not uploaded to \(trackingURI) (\(failures.joined(separator: "; ")))")
        }
    }

    /// One artifact into the run's artifact location.
    private func store(_ upload: ArtifactUpload, deadline: Double) throws(MLflowClient.Failure) {
        let location = artifactURI ?? ""
        if location.hasPrefix("mlflow-artifacts:") {
            var path = Substring(location.dropFirst("mlflow-artifacts:".count))
            if path.hasPrefix("//") {
                path = path.dropFirst(2)
                path = path.firstIndex(of: "/").map { path[$0...] } ?? ""
            }
            let root = path.split(separator: "/").joined(separator: "/")
            try client.upload(upload.file, toArtifactPath: root + "/" + upload.artifact.name, timeout: deadline - Date().timeIntervalSince1970)
            return
        }
        let folder: String?
        if location.hasPrefix("file://") {
            folder = URL(string: location)?.path
        } else if location.hasPrefix("/") {
            folder = location
        } else {
            folder = nil
        }
        guard let folder else {
            throw .refused(
                status: 0, code: "UNSUPPORTED_ARTIFACT_STORE",
                message: "the run's artifact location \(TerminalText.excerpt(location, limit: 80)) is neither mlflow-artifacts: "
                    + "nor a local folder; start the server with --serve-artifacts (the default) to let Tipi upload")
        }
        let target = URL(fileURLWithPath: folder).appendingPathComponent(upload.artifact.name)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: upload.file, to: target)
        } catch {
            throw .refused(
                status: 0, code: "LOCAL_ARTIFACT_STORE",
                message: "cannot write \(target.path) (the run's artifact location is a folder on the server's machine): \(error.localizedDescription)")
        }
    }

    func finish(status: RunStatus, summary: [String: MetricSummary], deadline: Double) throws {
        _ = sendAll(until: deadline)
        var artifactProblem: (any Error)?
        do { try uploadArtifacts(until: deadline) } catch { artifactProblem = error }
        if !pendingArtifacts.isEmpty {
            artifactProblem = ArtifactError(
                "\(pendingArtifacts.count) artifacts were not uploaded to \(trackingURI) before the finish timeout (\(lastError ?? "no answer")); the run folder has them")
        }
        guard let runID, refused == nil else {
            if let artifactProblem { throw artifactProblem }
            return
        }
        let mlflowStatus = status == .finished ? "FINISHED" : (status == .interrupted ? "KILLED" : "FAILED")
        let end = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            _ = try client.call(
                "POST", "runs/update", body: "{\"run_id\":\(JSONNumber.quote(runID)),\"status\":\"\(mlflowStatus)\",\"end_time\":\(end)}",
                timeout: max(deadline - Date().timeIntervalSince1970, 1))
        } catch {
            lastError = "could not set the run's status: \(error)"
        }
        if let artifactProblem { throw artifactProblem }
    }

    /// Sends what is pending, retrying with backoff until `deadline`; `true` when everything was sent.
    /// Returns at once when the server refused or cannot be reached at all.
    private func sendAll(until deadline: Double) -> Bool {
        retryAt = 0
        while !trySend(until: deadline) {
            let now = Date().timeIntervalSince1970
            guard now < deadline - 0.05, refused == nil else { return runID != nil && pendingStart >= pending.count }
            let wait = min(max(retryAt - now, 0.05), max(deadline - now, 0))
            usleep(UInt32(wait * 1_000_000))
        }
        return true
    }

    /// Sends what is pending, in order; `true` when nothing is left. Gives up for now (until `retryAt`)
    /// when the server is unavailable.
    private func trySend(until deadline: Double) -> Bool {
        guard refused == nil else { return false }
        let now = Date().timeIntervalSince1970
        // Nothing is started that the deadline would cut off at once (a caller's timeout is honoured).
        guard now >= retryAt, now < deadline - 0.05 else { return false }
        do throws(MLflowClient.Failure) {
            try ensureRun(deadline: deadline)
            while pendingStart < pending.count {
                if Date().timeIntervalSince1970 > deadline { return false }
                let end = min(pendingStart + 1000, pending.count)
                let slice = pending[pendingStart..<end]
                var body = "{\"run_id\":\(JSONNumber.quote(runID ?? "")),\"metrics\":["
                body += slice.map { point in
                    "{\"key\":\(JSONNumber.quote(Self.metricKey(keys[Int(point.key)]))),\"value\":\(Self.protobufJSON(point.value)),"
                        + "\"timestamp\":\(Int64(point.time * 1000)),\"step\":\(point.step)}"
                }.joined(separator: ",")
                body += "]}"
                _ = try client.call("POST", "runs/log-batch", body: body, timeout: deadline - Date().timeIntervalSince1970)
                sentRows += slice.filter(\.lastOfRow).count
                pendingStart = end
                if pendingStart > 100_000 {
                    pending.removeFirst(pendingStart)
                    pendingStart = 0
                }
            }
            backoff = 0.5
            lastError = nil
            return true
        } catch {
            switch error {
            case .unavailable(let reason):
                lastError = "server unavailable: \(reason)"
                retryAt = Date().timeIntervalSince1970 + backoff
                backoff = min(backoff * 2, 30)
            case .refused(let status, let code, let message):
                refused = "the MLflow server refused a request (HTTP \(status) \(code)): \(message)"
            case .unreachable(let reason):
                // Nothing listens there: retrying would only add the whole finish timeout to the run.
                refused = "no MLflow server at \(trackingURI) (\(reason)); gave up at once"
            case .cannotSend(let reason):
                // No HTTP library here: no later request could succeed.
                refused = "cannot send to the MLflow server at \(trackingURI): \(reason); gave up at once"
            }
            return false
        }
    }

    /// Gets or creates the experiment, creates the run, and logs the params: once.
    private func ensureRun(deadline: Double) throws(MLflowClient.Failure) {
        let left = { deadline - Date().timeIntervalSince1970 }
        guard let run else { return }
        let metadata = run.metadata
        if runID == nil {
            let experiment: String
            if let known = experimentID {
                experiment = known
            } else {
                experiment = try findOrCreateExperiment(metadata.project, timeout: left())
            }
            experimentID = experiment
            var tags: [(String, String)] = [
                ("mlflow.runName", metadata.name), ("mlflow.source.name", metadata.command.first ?? ""),
                ("mlflow.source.type", "LOCAL"), ("tipi.run_id", metadata.id), ("tipi.host", metadata.host),
            ]
            if let user = Environment.value("USER") { tags.append(("mlflow.user", user)) }
            if let git = metadata.git { tags.append(("mlflow.source.git.commit", git.commit)) }
            if let notes = metadata.notes { tags.append(("mlflow.note.content", notes)) }
            for tag in metadata.tags { tags.append((tag, "")) }
            let tagJSON = tags.map { "{\"key\":\(JSONNumber.quote($0.0)),\"value\":\(JSONNumber.quote($0.1))}" }
            let body =
                "{\"experiment_id\":\(JSONNumber.quote(experiment)),\"run_name\":\(JSONNumber.quote(metadata.name)),"
                + "\"start_time\":\(Int64(metadata.startTime * 1000)),\"tags\":[\(tagJSON.joined(separator: ","))]}"
            let answer = try client.call("POST", "runs/create", body: body, timeout: left())
            guard let info = (answer["run"] as? [String: Any])?["info"] as? [String: Any],
                let id = info["run_id"] as? String ?? info["run_uuid"] as? String
            else { throw .unavailable("runs/create answered without a run id") }
            runID = id
            artifactURI = info["artifact_uri"] as? String
        }
        if !paramsSent {
            let params = ConfigValue.flatten(metadata.config).map { key, value -> String in
                var text = value.description
                if text.count > 6000 { text = String(text.prefix(6000)) }
                return "{\"key\":\(JSONNumber.quote(String(key.prefix(250)))),\"value\":\(JSONNumber.quote(text))}"
            }
            var start = 0
            while start < params.count {
                let chunk = params[start..<min(start + 100, params.count)]
                _ = try client.call(
                    "POST", "runs/log-batch",
                    body: "{\"run_id\":\(JSONNumber.quote(runID ?? "")),\"params\":[\(chunk.joined(separator: ","))]}",
                    timeout: left())
                start += 100
            }
            paramsSent = true
        }
    }

    private func findOrCreateExperiment(_ name: String, timeout: Double) throws(MLflowClient.Failure) -> String {
        do throws(MLflowClient.Failure) {
            let answer = try client.call("GET", "experiments/get-by-name", query: ["experiment_name": name], timeout: timeout)
            if let id = (answer["experiment"] as? [String: Any])?["experiment_id"] as? String { return id }
        } catch .refused(_, let code, _) where code == "RESOURCE_DOES_NOT_EXIST" {
            // create it below
        }
        do throws(MLflowClient.Failure) {
            let answer = try client.call("POST", "experiments/create", body: "{\"name\":\(JSONNumber.quote(name))}", timeout: timeout)
            if let id = answer["experiment_id"] as? String { return id }
        } catch .refused(_, let code, _) where code == "RESOURCE_ALREADY_EXISTS" {
            // another process created it at the same moment
        }
        let answer = try client.call("GET", "experiments/get-by-name", query: ["experiment_name": name], timeout: timeout)
        guard let id = (answer["experiment"] as? [String: Any])?["experiment_id"] as? String else {
            throw .unavailable("could not find or create the experiment \(name)")
        }
        return id
    }

    /// A double in protobuf's JSON mapping: special values as strings.
    static func protobufJSON(_ value: Double) -> String {
        value.isFinite ? JSONNumber.text(value) : "\"\(JSONNumber.text(value))\""
    }

    /// MLflow keys allow letters, digits, `_ - . / :` and spaces, up to 250 characters; others become `_`.
    static func metricKey(_ key: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./: ")
        return String(String(key.map { allowed.contains($0) ? $0 : "_" }).prefix(250))
    }

    /// Sends a stored run's steps from `fromRow` on (used by `tipi runs sync`). Returns the new state.
    static func sync(
        metadata: RunMetadata, folder: URL, trackingURI: String, deadline: Double
    ) throws -> RunMetadata.BackendState {
        let previous = metadata.backends["mlflow"]
        let backend = try MLflowBackend(
            trackingURI: trackingURI, startingRow: previous?.remoteID == nil ? 0 : (previous?.sentSteps ?? 0),
            existingRunID: previous?.location == trackingURI ? previous?.remoteID : nil)
        if previous?.location != trackingURI { backend.sentRows = 0 }
        backend.run = RunDescription(metadata: metadata, folder: folder)
        let contents = try MetricLog.read(folder.appendingPathComponent(RunStore.metricsFile).path)
        // In slices that fit the backend's bounded buffer (all of a long run at once would overflow it and
        // send nothing), each sent before the next is read.
        let rows = contents.batch.rowCount
        var from = min(backend.sentRows, rows)
        while from < rows {
            var end = from
            var values = 0
            while end < rows, end == from || values + contents.batch.range(ofRow: end).count <= maximumPending / 2 {
                values += contents.batch.range(ofRow: end).count
                end += 1
            }
            backend.enqueue(contents.batch.slice(rows: from..<end), keys: contents.keys)
            guard backend.sendAll(until: deadline) else {
                backend.overflowed = true
                if backend.lastError == nil, backend.refused == nil { backend.lastError = "the timeout ran out" }
                break
            }
            from = end
        }
        let status = RunStore.effectiveStatus(metadata)
        try backend.finish(status: status == .running ? .finished : status, summary: metadata.summary, deadline: deadline)
        return backend.state
    }
}
