import Foundation
import Testing
import TipiUI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("HTTP request heads")
struct HTTPRequestHeadTests {
    func parse(_ text: String, limit: Int = 64 * 1024) -> HTTPRequestHead.Parse {
        Array(text.utf8).withUnsafeBytes { HTTPRequestHead.parse($0, limit: limit) }
    }

    func head(_ text: String) throws -> HTTPRequestHead {
        guard case .complete(let head, _) = parse(text) else { throw HTTPTestError("not a complete head: \(parse(text))") }
        return head
    }

    func status(_ text: String) -> Int? {
        if case .invalid(let status, _) = parse(text) { return status }
        return nil
    }

    @Test("a head with CRLF or bare LF lines, blank lines before it, fields trimmed, its length")
    func valid() throws {
        let text = "GET /api/runs?limit=2 HTTP/1.1\r\nHost: 127.0.0.1:8321\r\nAccept:  */*  \r\n\r\nNEXT"
        guard case .complete(let parsed, let length) = parse(text) else { Issue.record("\(parse(text))"); return }
        #expect(parsed.method == "GET" && parsed.target == "/api/runs?limit=2" && parsed.minorVersion == 1)
        #expect(parsed.fields == [.init(name: "Host", value: "127.0.0.1:8321"), .init(name: "Accept", value: "*/*")])
        #expect(length == text.utf8.count - 4)
        #expect(parsed.value(of: "host") == "127.0.0.1:8321")
        let bare = try head("\r\n\nGET / HTTP/1.0\nX-A: b\n\n")
        #expect(bare.target == "/" && bare.minorVersion == 0 && bare.value(of: "x-a") == "b")
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\n") == .incomplete)
        #expect(parse("") == .incomplete)
        #expect(parse("GET / HT") == .incomplete)
    }

    @Test("keep-alive and body rules of HTTP/1.1 and 1.0")
    func connectionRules() throws {
        #expect(try head("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keepsAlive)
        #expect(try !head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keepsAlive)
        #expect(try !head("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n").keepsAlive)
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").keepsAlive)
        #expect(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepsAlive)
        #expect(try head("GET / HTTP/1.1\r\nHost: a\r\n\r\n").body == .none)
        #expect(try head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").body == .length(12))
        #expect(try head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12, 12\r\n\r\n").body == .length(12))
        #expect(try head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").body == .unreadable)
    }

    @Test("what is refused, and with which status")
    func refused() {
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n") == 400)  // NUL
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n") == 400)  // a bare CR
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n") == 400)  // obsolete folding
        #expect(status("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400)  // space before the colon
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n") == 400)  // a space in the target
        #expect(status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET /\u{1} HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET /é HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GARBAGE\r\n\r\n") == 400)
        #expect(status("GET / FTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505)
        #expect(status("GET / HTTP/1.1\r\n\r\n") == 400)  // HTTP/1.1 without Host
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400)
        // Longer than the limit: refused whether or not its end has come.
        let long = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "a", count: 200)
        #expect(status(long) == nil)
        if case .invalid(let code, _) = parse(long, limit: 100) { #expect(code == 431) } else { Issue.record("not refused") }
        if case .invalid(let code, _) = parse(long + "\r\n\r\n", limit: 100) { #expect(code == 431) } else { Issue.record("not refused") }
    }

    @Test("random bytes never crash the parser, and a valid head after blank lines always parses")
    func randomBytes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("GET / HTTP/1.1\r\n\0:Host a\t é".utf8)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0..<120, using: &generator)
            let bytes = (0..<count).map { _ in Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator) }
            _ = bytes.withUnsafeBytes { HTTPRequestHead.parse($0, limit: 64) }
        }
    }
}

@Suite("The dashboard's HTTP server over real sockets", .serialized)
struct HTTPServerTests {
    /// A server answering `method target` in the body, with the `Host` it was sent.
    func server(timeout: Double = 30) throws -> HTTPServer {
        let server = try HTTPServer(address: "127.0.0.1", port: 0, timeout: timeout) { head in
            HTTPServer.Response(
                status: head.target == "/missing" ? 404 : 200, headers: ["Content-Type": "text/plain", "X-Bad": "a\r\nInjected: yes"],
                body: Data("\(head.method) \(head.target) \(head.value(of: "host") ?? "-")".utf8))
        }
        server.start()
        return server
    }

    @Test("keep-alive: requests one after another, pipelined in one write, and a body skipped")
    func keepAlive() async throws {
        let server = try server()
        let client = try RawClient(port: server.port)
        try client.transmit("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        let first = try client.response()
        #expect(first.status == 200 && first.body == "GET /a h" && first.headers["connection"] == "keep-alive")
        #expect(first.headers["x-bad"] == nil && first.headers["injected"] == nil, "a header with a line break was sent")
        try client.transmit("GET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /missing HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try client.response().body == "GET /b h")
        #expect(try client.response().status == 404)
        #expect(try client.response().body == "POST /c h")
        try client.transmit("GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        let last = try client.response()
        #expect(last.body == "GET /d h" && last.headers["connection"] == "close")
        #expect(try client.closed())
        await server.stop()
    }

    @Test("a malformed request gets 400 and the connection closes; a chunked body gets its answer and a close")
    func refusals() async throws {
        let server = try server()
        for (request, expected) in [
            ("GARBAGE\r\n\r\n", 400), ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400), ("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "x", count: 70_000) + "\r\n\r\n", 431),
        ] {
            let client = try RawClient(port: server.port)
            try client.transmit(request)
            let response = try client.response()
            #expect(response.status == expected && response.headers["connection"] == "close", "\(request.prefix(40))")
            #expect(try client.closed())
        }
        let chunked = try RawClient(port: server.port)
        try chunked.transmit("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let answer = try chunked.response()
        #expect(answer.body == "POST /x a" && answer.headers["connection"] == "close")
        #expect(try chunked.closed())
        await server.stop()
    }

    @Test("random bytes from many clients: every answer is HTTP, and the server still answers after")
    func randomClients() async throws {
        let server = try server(timeout: 0.5)
        var generator = SystemRandomNumberGenerator()
        let pieces = ["GET ", "/", " HTTP/1.1", "\r\n", "\n", "Host: a", "\0", ":", " ", "Content-Length: 3", "\r\n\r\n", "é", "\u{7F}"]
        for _ in 0..<60 {
            let client = try RawClient(port: server.port)
            let text = (0..<Int.random(in: 0..<12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            try? client.transmit(text)
            client.finishSending()
            let answer = client.readAll()
            #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 "), "\(text.debugDescription) → \(answer.prefix(60).debugDescription)")
        }
        let client = try RawClient(port: server.port)
        try client.transmit("GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.response().body == "GET /after a")
        await server.stop()
    }

    @Test("a silent connection is closed after the timeout; one that left mid-request does not stop the server")
    func timeouts() async throws {
        let server = try server(timeout: 0.3)
        let silent = try RawClient(port: server.port)
        let start = Date()
        #expect(try silent.closed())
        #expect(Date().timeIntervalSince(start) < 5)
        let halfway = try RawClient(port: server.port)
        try halfway.transmit("GET / HTTP/1.1\r\nHo")
        halfway.disconnect()
        let client = try RawClient(port: server.port)
        try client.transmit("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.response().body == "GET /ok a")
        await server.stop()
    }

    @Test("connections over the limit get 503; stop ends idle connections and frees the port")
    func limitsAndStop() async throws {
        let server = try server()
        var clients: [RawClient] = []
        for _ in 0..<HTTPServer.connectionLimit {
            let client = try RawClient(port: server.port)
            try client.transmit("GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try client.response().status == 200)
            clients.append(client)
        }
        let extra = try RawClient(port: server.port)
        let refused = try extra.response()
        #expect(refused.status == 503)
        let port = server.port
        let start = Date()
        await server.stop()
        // Well within the connections' 30 s timeout, so stop ended them (a loaded test run can take seconds to
        // resume the awaits themselves); each client sees its connection closed.
        #expect(Date().timeIntervalSince(start) < 20)
        for client in clients { #expect(try client.closed()) }
        #expect(await server.waitUntilStopped() == nil)
        // The port is free again at once.
        let again = try HTTPServer(address: "127.0.0.1", port: UInt16(port)) { _ in HTTPServer.Response(status: 204, headers: [:], body: Data()) }
        again.start()
        await again.stop()
    }

    @Test("an address that is not one, or a port in use, is an error at once")
    func badAddresses() throws {
        #expect(throws: HTTPServer.Failure.self) { try HTTPServer(address: "not-an-address", port: 0) { _ in .init(status: 200, headers: [:], body: Data()) } }
        #expect(throws: HTTPServer.Failure.self) { try HTTPServer(address: "::zz", port: 0) { _ in .init(status: 200, headers: [:], body: Data()) } }
        let server = try server()
        #expect(throws: HTTPServer.Failure.self) {
            try HTTPServer(address: "127.0.0.1", port: UInt16(server.port)) { _ in .init(status: 200, headers: [:], body: Data()) }
        }
        let six = try HTTPServer(address: "::1", port: 0) { _ in .init(status: 204, headers: [:], body: Data()) }
        #expect(six.port > 0)
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A blocking TCP client that reads answers by their `Content-Length`.
final class RawClient {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HTTPTestError("cannot connect: \(String(cString: strerror(errno)))") }
        var wait = timeval()
        wait.tv_sec = 5
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func transmit(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HTTPTestError("send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    func finishSending() { shutdown(descriptor, Int32(SHUT_WR)) }

    func disconnect() { shutdown(descriptor, Int32(SHUT_RDWR)) }

    /// Reads more bytes; `false` at the end of the stream (or after 5 s of silence).
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer += chunk[..<count]
        return true
    }

    /// The next answer: its status, header fields (lowercased names) and body.
    func response() throws -> (status: Int, headers: [String: String], body: String) {
        while true {
            if let end = buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                while buffer.count < end.upperBound + length {
                    guard fill() else { throw HTTPTestError("the answer's body ended early") }
                }
                let body = String(decoding: buffer[end.upperBound..<(end.upperBound + length)], as: UTF8.self)
                buffer.removeFirst(end.upperBound + length)
                let status = Int(head[0].split(separator: " ").dropFirst().first ?? "") ?? -1
                return (status, headers, body)
            }
            guard fill() else { throw HTTPTestError("no answer (\(buffer.count) bytes)") }
        }
    }

    /// Whether the server closed the connection (reads to the end; `false` if it stays open 5 s).
    func closed() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// Everything until the server closes (or 5 s of silence).
    func readAll() -> String {
        while fill() {}
        return String(decoding: buffer, as: UTF8.self)
    }
}
