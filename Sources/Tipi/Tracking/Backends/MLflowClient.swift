import Foundation

/// A small synchronous client for MLflow's REST API 2.0 (`/api/2.0/mlflow/...`).
struct MLflowClient: Sendable {
    let base: URL
    let timeout: Double
    /// Sent with every request: `Authorization: Bearer …` from `MLFLOW_TRACKING_TOKEN`.
    let headers: [String]
    let security: HTTPExchange.Security

    /// - Parameter trackingURI: `http://127.0.0.1:5000` (a path prefix is kept).
    init(trackingURI: String, timeout: Double = 10, environment: (String) -> String? = Environment.value) throws {
        guard let url = URL(string: trackingURI), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else {
            throw TrackingError.backendNotConfigured(
                backend: "mlflow",
                reason: "MLFLOW_TRACKING_URI=\(trackingURI) is not an http(s) URL (for example http://127.0.0.1:5000)")
        }
        base = url.appendingPathComponent("api/2.0/mlflow")
        self.timeout = timeout
        (headers, security) = try Self.credentials(environment)
    }

    /// What MLflow's own client reads from the environment: `MLFLOW_TRACKING_TOKEN` (a bearer token),
    /// `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` (basic authentication),
    /// `MLFLOW_TRACKING_INSECURE_TLS` (`true`: the server's certificate is not verified) and
    /// `MLFLOW_TRACKING_SERVER_CERT_PATH` (a CA bundle to verify it with).
    static func credentials(_ environment: (String) -> String?) throws -> ([String], HTTPExchange.Security) {
        func refuse(_ reason: String) -> TrackingError { .backendNotConfigured(backend: "mlflow", reason: reason) }
        var headers: [String] = []
        var security = HTTPExchange.Security()
        for name in ["MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_SERVER_CERT_PATH"] {
            if let value = environment(name), value.contains(where: { $0.isNewline || $0 == "\0" }) {
                throw refuse("\(name) holds a line break or a NUL byte; set it to the value alone")
            }
        }
        if let token = environment("MLFLOW_TRACKING_TOKEN"), !token.isEmpty { headers.append("Authorization: Bearer " + token) }
        let user = environment("MLFLOW_TRACKING_USERNAME").flatMap { $0.isEmpty ? nil : $0 }
        let password = environment("MLFLOW_TRACKING_PASSWORD").flatMap { $0.isEmpty ? nil : $0 }
        switch (user, password) {
        case (let user?, let password?): security.basicAuth = user + ":" + password
        case (nil, nil): break
        case (nil, _?): throw refuse("MLFLOW_TRACKING_PASSWORD is set without MLFLOW_TRACKING_USERNAME; set both, or neither")
        case (_?, nil): throw refuse("MLFLOW_TRACKING_USERNAME is set without MLFLOW_TRACKING_PASSWORD; set both, or neither")
        }
        if let insecure = environment("MLFLOW_TRACKING_INSECURE_TLS")?.trimmingCharacters(in: .whitespaces).lowercased(), !insecure.isEmpty {
            switch insecure {
            case "true", "1", "yes": security.insecure = true
            case "false", "0", "no": break
            default:
                throw refuse(
                    "MLFLOW_TRACKING_INSECURE_TLS=\(TerminalText.excerpt(insecure, limit: 40)) is not true or false")
            }
        }
        if let path = environment("MLFLOW_TRACKING_SERVER_CERT_PATH"), !path.isEmpty {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw refuse("MLFLOW_TRACKING_SERVER_CERT_PATH=\(TerminalText.excerpt(path, limit: 200)) is not a readable file")
            }
            security.caFile = path
        }
        return (headers, security)
    }

    enum Failure: Error, CustomStringConvertible {
        /// The server could not be reached, or answered 5xx / 429: worth retrying.
        case unavailable(String)
        /// The server refused the request (4xx): retrying the same request will not help.
        case refused(status: Int, code: String, message: String)
        /// Nothing listens there (connection refused, unknown host): give up at once, do not retry.
        case unreachable(String)
        /// Nothing can be sent from this machine (libcurl is not installed): give up at once, do not retry.
        case cannotSend(String)

        var description: String {
            switch self {
            case .unavailable(let reason): return reason
            case .refused(let status, let code, let message): return "HTTP \(status) \(code): \(message)"
            case .unreachable(let reason), .cannotSend(let reason): return reason
            }
        }
    }

    /// Sends a request and decodes the JSON answer.
    func call(
        _ method: String, _ path: String, body: String? = nil, query: [String: String] = [:], timeout: Double? = nil
    ) throws(Failure) -> [String: Any] {
        let timeout = max(min(timeout ?? self.timeout, self.timeout), 0.2)
        var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        if !query.isEmpty { components?.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) } }
        guard let url = components?.url else { throw .unavailable("bad URL for \(path)") }
        var exchange = HTTPExchange(method: method, url: url, headers: headers, timeout: timeout, security: security)
        if let body {
            exchange.body = Data(body.utf8)
            exchange.headers.append("Content-Type: application/json")
        }
        let started = Date()
        let (status, data) = try answer(exchange, started: started)
        let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any]
        switch status {
        case 200..<300:
            return object ?? [:]
        case 429, 500...:
            throw .unavailable("HTTP \(status)")
        default:
            throw .refused(
                status: status, code: object?["error_code"] as? String ?? "",
                message: object?["message"] as? String ?? TerminalText.excerpt(String(decoding: data, as: UTF8.self)))
        }
    }

    /// Uploads a file to the server's artifact proxy: `PUT /api/2.0/mlflow-artifacts/artifacts/<path>`
    /// (`path` is the run's `mlflow-artifacts:` location and the artifact's name), streamed from disk.
    func upload(_ file: URL, toArtifactPath path: String, timeout: Double) throws(Failure) {
        var url = base.deletingLastPathComponent().appendingPathComponent("mlflow-artifacts/artifacts")
        for part in path.split(separator: "/") { url.appendPathComponent(String(part)) }
        let exchange = HTTPExchange(
            method: "PUT", url: url, headers: headers + ["Content-Type: application/octet-stream"], uploadFile: file,
            timeout: max(timeout, 1), security: security)
        let started = Date()
        let (status, data): (Int, Data)
        do {
            (status, data) = try answer(exchange, started: started)
        } catch .unavailable(let reason) where reason.hasPrefix("no answer") {
            throw .unavailable("the upload of \(file.lastPathComponent) did not finish within \(Self.seconds(timeout))")
        }
        switch status {
        case 200..<300:
            return
        case 429, 500...:
            throw .unavailable("HTTP \(status)")
        default:
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            throw .refused(
                status: status, code: object?["error_code"] as? String ?? "",
                message: object?["message"] as? String ?? TerminalText.excerpt(String(decoding: data, as: UTF8.self)))
        }
    }

    /// Sends `exchange`; the status and body of the answer, or why there is none.
    private func answer(_ exchange: HTTPExchange, started: Date) throws(Failure) -> (Int, Data) {
        let server = "\(base.host ?? "the server"):\(base.port.map(String.init) ?? (base.scheme == "https" ? "443" : "80"))"
        switch exchange.send() {
        case .answered(let status, let body):
            return (status, body)
        case .unreachable(let reason):
            throw .unreachable("cannot connect to \(server): \(reason)")
        case .noLibrary(let reason):
            // Given up at once, as for nothing listening: retrying cannot install libcurl.
            throw .cannotSend(reason)
        case .timedOut:
            throw .unavailable("no answer from \(base.host ?? "the server") within \(Self.seconds(Date().timeIntervalSince(started)))")
        case .failed(let reason):
            throw .unavailable("\(server): \(reason)")
        }
    }

    /// A duration as people read it: `0.4 s`, `3 s`.
    static func seconds(_ value: Double) -> String {
        value < 10 ? String(format: "%.1f s", value) : "\(Int(value.rounded())) s"
    }
}
