import Foundation
import Synchronization
import Testing

@testable import Tipi
import TipiTestSupport

/// The MLflow client's HTTP (libcurl loaded on first use): what a server receives and what the client makes
/// of each answer, against a small HTTP server in the test, Python's HTTPS server, and the linked libraries.
@Suite("HTTP exchange")
struct HTTPExchangeTests {
    /// A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1 that records each request and answers with
    /// `respond`'s bytes (or never, when it returns nil).
    final class Server: @unchecked Sendable {
        struct Request {
            var head: String
            var body: [UInt8]
            var requestLine: String { head.components(separatedBy: "\r\n").first ?? "" }
            func header(_ name: String) -> String? {
                for line in head.components(separatedBy: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
                }
                return nil
            }
        }

        /// The requests received, in order.
        final class Received: @unchecked Sendable {
            private let lock = NSLock()
            private var requests: [Request] = []
            func append(_ request: Request) { lock.withLock { requests.append(request) } }
            var first: Request? { lock.withLock { requests.first } }
        }

        let port: Int
        let received = Received()
        private let socket: Int32

        init(respond: @escaping @Sendable (Request) -> [UInt8]?) throws {
            let (port, listening) = try LoopbackListener.open(backlog: 8)
            socket = listening
            self.port = port
            let thread = Thread { [received] in
                while true {
                    let connection = accept(listening, nil, nil)
                    if connection < 0 {
                        // Closed here, not in deinit: the number must not go to another test's socket while
                        // this thread may still accept on it.
                        close(listening)
                        return
                    }
                    var incoming: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    var request: Request?
                    while request == nil {
                        let count = read(connection, &buffer, buffer.count)
                        if count <= 0 { break }
                        incoming += buffer[0..<count]
                        guard let end = Self.headEnd(incoming) else { continue }
                        let head = String(decoding: incoming[0..<end], as: UTF8.self)
                        let partial = Request(head: head, body: [])
                        let length = Int(partial.header("Content-Length") ?? "0") ?? 0
                        if incoming.count - (end + 4) >= length {
                            request = Request(head: head, body: Array(incoming[(end + 4)..<(end + 4 + length)]))
                        }
                    }
                    guard let request else {
                        close(connection)
                        continue
                    }
                    received.append(request)
                    if let answer = respond(request) {
                        answer.withUnsafeBytes { bytes in
                            var sent = 0
                            while sent < bytes.count {
                                let count = write(connection, bytes.baseAddress! + sent, bytes.count - sent)
                                if count <= 0 { break }
                                sent += count
                            }
                        }
                        close(connection)
                    } else {
                        // Never answers: the connection stays open until the test ends.
                        Thread.sleep(forTimeInterval: 30)
                        close(connection)
                    }
                }
            }
            thread.start()
        }

        /// Wakes the accepting thread, which then closes the socket.
        deinit { shutdown(socket, Int32(SHUT_RDWR)) }

        var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

        static func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index
            }
            return nil
        }

        static func answer(status: String = "200 OK", body: String, chunked: Bool = false) -> [UInt8] {
            let payload = Array(body.utf8)
            if chunked {
                let half = payload.count / 2
                var text = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                for part in [payload[0..<half], payload[half...]] where !part.isEmpty {
                    text += String(part.count, radix: 16) + "\r\n" + String(decoding: part, as: UTF8.self) + "\r\n"
                }
                return Array((text + "0\r\n\r\n").utf8)
            }
            return Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8) + payload
        }
    }

    @Test("a POST arrives with its body and headers; a chunked answer is read whole")
    func postAndChunkedAnswer() throws {
        let server = try Server { _ in Server.answer(body: "{\"run\": {\"info\": {\"run_id\": \"abc\"}}}", chunked: true) }
        let client = try MLflowClient(trackingURI: server.url.absoluteString, environment: { ["MLFLOW_TRACKING_TOKEN": "s3cret"][$0] })
        let body = "{\"experiment_id\": \"0\", \"name\": \"ünïcode ✓\"}"
        let answer = try client.call("POST", "runs/create", body: body)
        #expect((answer["run"] as? [String: Any]).flatMap { $0["info"] as? [String: Any] }?["run_id"] as? String == "abc")
        let request = try #require(server.received.first)
        #expect(request.requestLine == "POST /api/2.0/mlflow/runs/create HTTP/1.1")
        #expect(request.body == Array(body.utf8))
        #expect(request.header("Authorization") == "Bearer s3cret")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("Expect") == nil)
    }

    @Test("a GET carries its query; a 4xx answer is refused with MLflow's error code and message")
    func getAndRefusal() throws {
        let server = try Server { _ in
            Server.answer(status: "404 Not Found", body: "{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"no experiment\"}")
        }
        let client = try MLflowClient(trackingURI: server.url.absoluteString + "/prefix", environment: { ["MLFLOW_TRACKING_USERNAME": "ada", "MLFLOW_TRACKING_PASSWORD": "pw"][$0] })
        do {
            _ = try client.call("GET", "experiments/get-by-name", query: ["experiment_name": "a b&c"])
            Issue.record("a 404 was accepted")
        } catch {
            guard case .refused(let status, let code, let message) = error else { throw error }
            #expect(status == 404 && code == "RESOURCE_DOES_NOT_EXIST" && message == "no experiment")
        }
        let request = try #require(server.received.first)
        #expect(request.requestLine == "GET /prefix/api/2.0/mlflow/experiments/get-by-name?experiment_name=a%20b%26c HTTP/1.1")
        #expect(request.header("Authorization") == "Basic " + Data("ada:pw".utf8).base64EncodedString())
    }

    @Test("a 5xx answer is worth retrying; nothing listening is unreachable at once")
    func unavailableAndUnreachable() throws {
        let server = try Server { _ in Server.answer(status: "503 Service Unavailable", body: "busy") }
        let client = try MLflowClient(trackingURI: server.url.absoluteString, environment: { _ in nil })
        #expect {
            _ = try client.call("GET", "runs/get")
        } throws: { error in
            if case .unavailable(let reason) = error as? MLflowClient.Failure { return reason == "HTTP 503" }
            return false
        }
        // A port nobody listens on: the server's own, once it is closed.
        let closed: Int
        do {
            let gone = try Server { _ in nil }
            closed = gone.port
        }
        let nobody = try MLflowClient(trackingURI: "http://127.0.0.1:\(closed)", environment: { _ in nil })
        let started = Date()
        #expect {
            _ = try nobody.call("GET", "runs/get", timeout: 5)
        } throws: { error in
            if case .unreachable(let reason) = error as? MLflowClient.Failure { return reason.contains("cannot connect to 127.0.0.1:\(closed)") }
            return false
        }
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test("a server that never answers times out within the timeout")
    func timeout() throws {
        let server = try Server { _ in nil }
        let client = try MLflowClient(trackingURI: server.url.absoluteString, environment: { _ in nil })
        let started = Date()
        #expect {
            _ = try client.call("GET", "runs/get", timeout: 0.5)
        } throws: { error in
            if case .unavailable(let reason) = error as? MLflowClient.Failure { return reason.hasPrefix("no answer from 127.0.0.1 within") }
            return false
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.4 && elapsed < 3)
    }

    @Test("an upload streams the file as the PUT body, byte for byte")
    func upload() throws {
        let server = try Server { _ in Server.answer(body: "{}") }
        let client = try MLflowClient(trackingURI: server.url.absoluteString, environment: { _ in nil })
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-upload-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: file)
        try client.upload(file, toArtifactPath: "1/abc/artifacts/model weights.bin", timeout: 10)
        let request = try #require(server.received.first)
        #expect(request.requestLine == "PUT /api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model%20weights.bin HTTP/1.1")
        #expect(request.body == bytes)
        #expect(request.header("Content-Type") == "application/octet-stream")
    }

    @Test("an answer larger than the limit is refused, not read into memory")
    func hugeAnswer() throws {
        let server = try Server { _ in Server.answer(body: String(repeating: "x", count: 8192)) }
        var exchange = HTTPExchange(method: "GET", url: server.url, timeout: 5)
        exchange.maximumAnswer = 1024
        guard case .failed(let reason) = exchange.send() else {
            Issue.record("an 8 KB answer passed a 1 KB limit")
            return
        }
        #expect(reason == "the answer is larger than 1024 bytes")
    }

    @Test("MLflow's credential variables: read as MLflow reads them, refused with a reason when malformed")
    func credentials() throws {
        func refusal(_ environment: [String: String]) -> String? {
            do {
                _ = try MLflowClient.credentials { environment[$0] }
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(["MLFLOW_TRACKING_INSECURE_TLS": "maybe"])?.contains("MLFLOW_TRACKING_INSECURE_TLS=maybe is not true or false") == true)
        #expect(refusal(["MLFLOW_TRACKING_USERNAME": "ada"])?.contains("without MLFLOW_TRACKING_PASSWORD") == true)
        #expect(refusal(["MLFLOW_TRACKING_PASSWORD": "pw"])?.contains("without MLFLOW_TRACKING_USERNAME") == true)
        #expect(refusal(["MLFLOW_TRACKING_TOKEN": "a\r\nX-Injected: 1"])?.contains("line break") == true)
        #expect(refusal(["MLFLOW_TRACKING_SERVER_CERT_PATH": "/nonexistent/ca.pem"])?.contains("not a readable file") == true)
        let (headers, security) = try MLflowClient.credentials { ["MLFLOW_TRACKING_INSECURE_TLS": " TRUE ", "MLFLOW_TRACKING_TOKEN": ""][$0] }
        #expect(headers.isEmpty && security.insecure && security.basicAuth == nil && security.caFile == nil)
    }

    @Test("HTTPS: verified with MLFLOW_TRACKING_SERVER_CERT_PATH, refused without it, accepted with MLFLOW_TRACKING_INSECURE_TLS")
    func https() throws {
        let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            if isCI { Issue.record("the HTTPS test needs /usr/bin/openssl and /usr/bin/python3 (scripts/test.sh installs them)") }
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-https-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let made = try Executables.run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", key, "-out", certificate], removing: [])
        #expect(made.status == 0, "\(made.standardError)")
        let script = """
            import http.server, ssl, sys
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = b'{"experiment": {"experiment_id": "7"}}'
                    self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *args): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); context.load_cert_chain(sys.argv[1], sys.argv[2])
            server.socket = context.wrap_socket(server.socket, server_side=True)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        let running = try Executables.start("/usr/bin/python3", ["-c", script, certificate, key], removing: [])
        defer { kill(running.pid, SIGKILL); _ = running.wait() }
        var port = ""
        for _ in 0..<100 where port.isEmpty {
            port = running.standardOutputSoFar.trimmingCharacters(in: .whitespacesAndNewlines)
            if port.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
        }
        let uri = "https://127.0.0.1:\(try #require(Int(port)))"
        let verified = try MLflowClient(trackingURI: uri, environment: { ["MLFLOW_TRACKING_SERVER_CERT_PATH": certificate][$0] })
        #expect((try verified.call("GET", "experiments/get-by-name")["experiment"] as? [String: Any])?["experiment_id"] as? String == "7")
        let unverified = try MLflowClient(trackingURI: uri, environment: { _ in nil })
        #expect {
            _ = try unverified.call("GET", "experiments/get-by-name")
        } throws: { error in
            if case .unavailable(let reason) = error as? MLflowClient.Failure { return reason.lowercased().contains("certificate") }
            return false
        }
        let insecure = try MLflowClient(trackingURI: uri, environment: { ["MLFLOW_TRACKING_INSECURE_TLS": "true"][$0] })
        #expect((try insecure.call("GET", "experiments/get-by-name")["experiment"] as? [String: Any])?["experiment_id"] as? String == "7")
    }

    @Test("neither a program linking Tipi nor the tipi tool loads libcurl or FoundationNetworking at start")
    func noNetworkingAtStart() throws {
        // Loading them cost ~11 ms at the start of every `tipi` command (the dashboard's server is Tipi's own).
        for product in ["TipiFixture", "tipi"] {
            let path = try #require(Executables.path(of: product), "build \(product) first (swift build)")
            let libraries = try Executables.run("/usr/bin/ldd", [path], removing: [])
            #expect(libraries.status == 0)
            #expect(!libraries.standardOutput.contains("libFoundationNetworking"), "\(product) links FoundationNetworking")
            #expect(!libraries.standardOutput.contains("libcurl"), "\(product) links libcurl")
        }
    }
}
