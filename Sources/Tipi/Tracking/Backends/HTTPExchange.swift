import Foundation

#if os(Linux)
    internal import CTipiHTTP
#endif

/// One HTTP request and its answer, for the MLflow client.
///
/// On Linux the request goes through libcurl, loaded on the first request (`CTipiHTTP`): linking
/// FoundationNetworking instead would load libcurl and its TLS, LDAP, Kerberos and SSH libraries at the
/// start of every program that links Tipi (~6 ms of a ~14 ms start), while only runs that send to MLflow
/// use them. On Apple platforms URLSession (part of Foundation there) sends it.
struct HTTPExchange: Sendable {
    var method: String
    var url: URL
    /// Header lines: `Content-Type: application/json`.
    var headers: [String] = []
    var body: Data?
    /// A file sent as the body (streamed from disk), instead of ``body``.
    var uploadFile: URL?
    /// Seconds for the whole exchange.
    var timeout: Double
    var security = Security()
    /// Answers larger than this are refused (a misconfigured URL can point at anything).
    var maximumAnswer = 64 << 20

    /// How the server is trusted and who the client is (MLflow's `MLFLOW_TRACKING_*` variables).
    struct Security: Sendable {
        /// A CA bundle to verify the server with (`MLFLOW_TRACKING_SERVER_CERT_PATH`).
        var caFile: String?
        /// Do not verify the server's certificate (`MLFLOW_TRACKING_INSECURE_TLS=true`).
        var insecure = false
        /// `user:password` for basic authentication (`MLFLOW_TRACKING_USERNAME`, `…_PASSWORD`).
        var basicAuth: String?
    }

    enum Outcome: Sendable {
        case answered(status: Int, body: Data)
        /// Nothing listens there, or the name does not resolve.
        case unreachable(String)
        /// No HTTP library to send with (libcurl is not installed): no later request can succeed either.
        case noLibrary(String)
        case timedOut
        case failed(String)
    }

    func send() -> Outcome {
        #if os(Linux)
            return sendWithCurl()
        #else
            return sendWithURLSession()
        #endif
    }

    #if os(Linux)
        private func sendWithCurl() -> Outcome {
            var response = tipi_http_response()
            let cHeaders = headers.map { strdup($0) }
            defer { cHeaders.forEach { free($0) } }
            let url = self.url.absoluteString
            cHeaders.map { UnsafePointer($0) }.withUnsafeBufferPointer { headerLines in
                withOptionalCString(uploadFile?.path) { uploadPath in
                    withOptionalCString(security.caFile) { caFile in
                        withOptionalCString(security.basicAuth) { basicAuth in
                            (body ?? Data()).withUnsafeBytes { bodyBytes in
                                var request = tipi_http_request()
                                request.method = nil
                                request.header_count = headerLines.count
                                request.headers = headerLines.baseAddress
                                // An empty body is still a body (an empty POST), so never a null pointer then.
                                request.body = body == nil ? nil : (bodyBytes.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start))
                                request.body_length = bodyBytes.count
                                request.upload_path = uploadPath
                                request.timeout = timeout
                                request.ca_file = caFile
                                request.insecure = security.insecure ? 1 : 0
                                request.user_password = basicAuth
                                request.max_response = maximumAnswer
                                method.withCString { method in
                                    url.withCString { url in
                                        request.method = method
                                        request.url = url
                                        tipi_http_send(&request, &response)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            defer { tipi_http_free(&response) }
            let message = withUnsafeBytes(of: response.message) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            switch response.outcome {
            case TIPI_HTTP_OK:
                let body = response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
                return .answered(status: response.status, body: body)
            case TIPI_HTTP_UNREACHABLE: return .unreachable(message)
            case TIPI_HTTP_NO_LIBRARY: return .noLibrary(message.isEmpty ? "libcurl could not be loaded" : message)
            case TIPI_HTTP_TIMED_OUT: return .timedOut
            default: return .failed(message)
            }
        }

        private func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
            guard let text else { return body(nil) }
            return text.withCString { body($0) }
        }
    #else
        private func sendWithURLSession() -> Outcome {
            var request = URLRequest(url: url, timeoutInterval: timeout)
            request.httpMethod = method
            for line in headers {
                guard let colon = line.firstIndex(of: ":") else { continue }
                request.setValue(
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces), forHTTPHeaderField: String(line[..<colon]))
            }
            if let basicAuth = security.basicAuth {
                request.setValue("Basic " + Data(basicAuth.utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
            }
            let box = Box()
            let done = DispatchSemaphore(value: 0)
            let handler: @Sendable (Data?, URLResponse?, (any Error)?) -> Void = { data, response, error in
                box.set((data, response as? HTTPURLResponse, error))
                done.signal()
            }
            let task: URLSessionTask
            if let uploadFile {
                task = URLSession.shared.uploadTask(with: request, fromFile: uploadFile, completionHandler: handler)
            } else {
                request.httpBody = body
                task = URLSession.shared.dataTask(with: request, completionHandler: handler)
            }
            task.resume()
            if done.wait(timeout: .now() + timeout + 0.1) == .timedOut {
                task.cancel()
                return .timedOut
            }
            let (data, response, error) = box.get()
            if let error {
                let code = (error as? URLError)?.code
                if code == .cannotConnectToHost || code == .cannotFindHost || code == .dnsLookupFailed {
                    return .unreachable(error.localizedDescription)
                }
                if code == .timedOut { return .timedOut }
                return .failed(error.localizedDescription)
            }
            guard let response else { return .failed("no HTTP response") }
            return .answered(status: response.statusCode, body: data ?? Data())
        }

        private final class Box: @unchecked Sendable {
            private let lock = NSLock()
            private var value: (Data?, HTTPURLResponse?, (any Error)?) = (nil, nil, nil)
            func set(_ value: (Data?, HTTPURLResponse?, (any Error)?)) { lock.withLock { self.value = value } }
            func get() -> (Data?, HTTPURLResponse?, (any Error)?) { lock.withLock { value } }
        }
    #endif
}
