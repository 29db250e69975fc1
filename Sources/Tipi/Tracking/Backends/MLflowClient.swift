import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A small synchronous client for MLflow's REST API 2.0 (`/api/2.0/mlflow/...`).
struct MLflowClient: Sendable {
    let base: URL
    let timeout: Double

    /// - Parameter trackingURI: `http://127.0.0.1:5000` (a path prefix is kept).
    init(trackingURI: String, timeout: Double = 10) throws {
        guard let url = URL(string: trackingURI), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else {
            throw TrackingError.backendNotConfigured(
                backend: "mlflow",
                reason: "MLFLOW_TRACKING_URI=\(trackingURI) is not an http(s) URL (for example http://127.0.0.1:5000)")
        }
        base = url.appendingPathComponent("api/2.0/mlflow")
        self.timeout = timeout
    }

    enum Failure: Error, CustomStringConvertible {
        /// The server could not be reached, or answered 5xx / 429: worth retrying.
        case unavailable(String)
        /// The server refused the request (4xx): retrying the same request will not help.
        case refused(status: Int, code: String, message: String)
        /// Nothing listens there (connection refused, unknown host): give up at once, do not retry.
        case unreachable(String)

        var description: String {
            switch self {
            case .unavailable(let reason): return reason
            case .refused(let status, let code, let message): return "HTTP \(status) \(code): \(message)"
            case .unreachable(let reason): return reason
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
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(data: data, response: response as? HTTPURLResponse, error: error)
            done.signal()
        }
        let started = Date()
        task.resume()
        if done.wait(timeout: .now() + timeout + 0.1) == .timedOut {
            task.cancel()
            throw .unavailable("no answer from \(base.host ?? "the server") within \(Self.seconds(Date().timeIntervalSince(started)))")
        }
        let (data, response, error) = box.get()
        if let error {
            let code = (error as? URLError)?.code
            if code == .cannotConnectToHost || code == .cannotFindHost || code == .dnsLookupFailed {
                throw .unreachable("cannot connect to \(base.host ?? "the server"):\(base.port.map(String.init) ?? "?"): \(error.localizedDescription)")
            }
            if code == .timedOut {
                throw .unavailable("no answer from \(base.host ?? "the server") within \(Self.seconds(Date().timeIntervalSince(started)))")
            }
            throw .unavailable(error.localizedDescription)
        }
        guard let response else { throw .unavailable("no HTTP response") }
        let object = data.flatMap { try? JSONSerialization.jsonObject(with: $0, options: [.fragmentsAllowed]) } as? [String: Any]
        switch response.statusCode {
        case 200..<300:
            return object ?? [:]
        case 429, 500...:
            throw .unavailable("HTTP \(response.statusCode)")
        default:
            throw .refused(
                status: response.statusCode, code: object?["error_code"] as? String ?? "",
                message: object?["message"] as? String ?? String(decoding: data ?? Data(), as: UTF8.self))
        }
    }

    /// Uploads a file to the server's artifact proxy: `PUT /api/2.0/mlflow-artifacts/artifacts/<path>`
    /// (`path` is the run's `mlflow-artifacts:` location and the artifact's name), streamed from disk.
    func upload(_ file: URL, toArtifactPath path: String, timeout: Double) throws(Failure) {
        var url = base.deletingLastPathComponent().appendingPathComponent("mlflow-artifacts/artifacts")
        for part in path.split(separator: "/") { url.appendPathComponent(String(part)) }
        var request = URLRequest(url: url, timeoutInterval: max(timeout, 1))
        request.httpMethod = "PUT"
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.uploadTask(with: request, fromFile: file) { data, response, error in
            box.set(data: data, response: response as? HTTPURLResponse, error: error)
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + max(timeout, 1) + 0.1) == .timedOut {
            task.cancel()
            throw .unavailable("the upload of \(file.lastPathComponent) did not finish within \(Self.seconds(timeout))")
        }
        let (data, response, error) = box.get()
        if let error {
            let code = (error as? URLError)?.code
            if code == .cannotConnectToHost || code == .cannotFindHost {
                throw .unreachable("cannot connect to \(base.host ?? "the server"): \(error.localizedDescription)")
            }
            throw .unavailable(error.localizedDescription)
        }
        guard let response else { throw .unavailable("no HTTP response") }
        switch response.statusCode {
        case 200..<300:
            return
        case 429, 500...:
            throw .unavailable("HTTP \(response.statusCode)")
        default:
            let object = data.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]
            throw .refused(
                status: response.statusCode, code: object?["error_code"] as? String ?? "",
                message: object?["message"] as? String ?? TerminalText.excerpt(String(decoding: data ?? Data(), as: UTF8.self)))
        }
    }

    /// A duration as people read it: `0.4 s`, `3 s`.
    static func seconds(_ value: Double) -> String {
        value < 10 ? String(format: "%.1f s", value) : "\(Int(value.rounded())) s"
    }

    private final class ResponseBox: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        private var response: HTTPURLResponse?
        private var error: (any Error)?

        func set(data: Data?, response: HTTPURLResponse?, error: (any Error)?) {
            lock.lock()
            defer { lock.unlock() }
            self.data = data
            self.response = response
            self.error = error
        }

        func get() -> (Data?, HTTPURLResponse?, (any Error)?) {
            lock.lock()
            defer { lock.unlock() }
            return (data, response, error)
        }
    }
}
