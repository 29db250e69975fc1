import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small HTTP/1.1 server on POSIX sockets, for the dashboard: one thread accepts, and each open
/// connection has a thread of its own that reads a request, asks the handler, and writes the answer
/// (keep-alive and pipelined requests included). The handler is synchronous: the dashboard's answers come
/// from files and memory.
///
/// It is written here rather than taken from a package because every HTTP package in reach loads
/// FoundationNetworking (libcurl and its TLS, LDAP and Kerberos libraries) into the `tipi` tool, which cost
/// ~11 ms at the start of every `tipi` command, the dashboard's or not (docs/architecture.md).
///
/// Limits: a request's head is at most ``headLimit`` bytes (431 beyond); a body, which no route reads, is
/// skipped up to ``bodyLimit`` bytes (a longer one, or one sent with `Transfer-Encoding`, gets its answer and
/// the connection is closed); at most ``connectionLimit`` connections are open at once (503 beyond); a
/// connection silent for `timeout` seconds is closed, and so is one that does not take its answer in that time.
package final class HTTPServer: Sendable {
    /// An answer: status, header fields, body. `Content-Length` and `Connection` are added by the server.
    package struct Response: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var body: Data

        package init(status: Int, headers: [String: String], body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// Turns a request's head into the answer.
    package typealias Handler = @Sendable (HTTPRequestHead) -> Response

    /// Why the server could not start or stopped.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        /// The address given is not an IP address (as opposed to one that cannot be listened on).
        package var isBadAddress = false
    }

    package static let headLimit = 64 * 1024
    package static let bodyLimit = 1024 * 1024
    package static let connectionLimit = 64

    /// The port the server listens on (the one the system chose for port 0).
    package let port: Int
    private let listener: Int32
    /// A pipe whose read end wakes the accepting thread to stop.
    private let wake: (read: Int32, write: Int32)
    private let handler: Handler
    private let timeout: Double
    private let state = Mutex(State())

    private struct State {
        var connections: Set<Int32> = []
        var stopping = false
        var acceptEnded = false
        /// Closed by the accepting thread as it ends (so the port is free at once), else by `deinit`.
        var listenerClosed = false
        var failure: String?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// A server listening on `address` (an IPv4 or IPv6 address, as digits) and `port` (0: a free one). An
    /// address that is not one, or cannot be listened on (in use, not this machine's), throws ``Failure``.
    package init(address: String, port: UInt16, timeout: Double = 30, handler: @escaping Handler) throws {
        let (listener, port) = try Self.openListener(address: address, port: port)
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            close(listener)
            throw Failure(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        for descriptor in pipeEnds { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        self.listener = listener
        self.port = port
        wake = (pipeEnds[0], pipeEnds[1])
        self.handler = handler
        self.timeout = timeout
    }

    deinit {
        if !state.withLock({ $0.listenerClosed }) { close(listener) }
        close(wake.read)
        close(wake.write)
    }

    /// Starts accepting connections on a thread of its own.
    package func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "tipi-http-accept"
        thread.start()
    }

    /// Waits until the server stops accepting: after ``stop(timeout:)`` (or ``beginStop()``), or when accepting
    /// fails for good; returns that failure then.
    package func waitUntilStopped() async -> Failure? {
        await withCheckedContinuation { continuation in
            let ended = state.withLock { state -> Bool in
                if state.acceptEnded { return true }
                state.waiters.append(continuation)
                return false
            }
            if ended { continuation.resume() }
        }
        return state.withLock { $0.failure }.map { Failure(description: $0) }
    }

    /// Stops accepting and ends the open connections (their threads finish on their own).
    package func beginStop() {
        // A read or a write waiting on a connection returns at once. Under the lock: a connection's thread
        // leaves the set under it before closing its descriptor, so no number reused since is shut down.
        state.withLock { state in
            state.stopping = true
            for connection in state.connections { shutdown(connection, Int32(SHUT_RDWR)) }
        }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// ``beginStop()``, then waits up to `timeout` seconds for the accepting thread and the connections to end.
    package func stop(timeout: Double = 1) async {
        beginStop()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let done = state.withLock { state -> Bool in
                // Connections admitted meanwhile are shut down too: their threads end at their next read or write.
                for connection in state.connections { shutdown(connection, Int32(SHUT_RDWR)) }
                return state.acceptEnded && state.connections.isEmpty
            }
            if done { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - Listening

    private static func openListener(address: String, port: UInt16) throws -> (Int32, Int) {
        let family = address.contains(":") ? AF_INET6 : AF_INET
        var storage = sockaddr_storage()
        // `sin_port` and `sin6_port` are both at offset 2, in network order, after the family (and, on BSD, the length).
        let length = withUnsafeMutableBytes(of: &storage) { bytes -> socklen_t? in
            let addressOffset = family == AF_INET6 ? MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)! : MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
            guard inet_pton(family, address, bytes.baseAddress! + addressOffset) == 1 else { return nil }
            let size = family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
            #if canImport(Darwin)
                bytes.storeBytes(of: UInt8(size), toByteOffset: 0, as: UInt8.self)  // BSD: a length byte, then the family's
                bytes.storeBytes(of: UInt8(family), toByteOffset: 1, as: UInt8.self)
            #else
                bytes.storeBytes(of: sa_family_t(family), toByteOffset: 0, as: sa_family_t.self)
            #endif
            bytes.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
            return socklen_t(size)
        }
        guard let length else {
            throw Failure(description: "\(address) is not an \(family == AF_INET6 ? "IPv6" : "IPv4") address", isBadAddress: true)
        }
        #if canImport(Darwin)
            let descriptor = socket(family, SOCK_STREAM, 0)
        #else
            let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard descriptor >= 0 else { throw Failure(description: "cannot make a socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0, listen(descriptor, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: reason)
        }
        // Non-blocking, so that a connection gone between `poll` and `accept` does not block the thread.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var chosen = sockaddr_storage()
        var chosenLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &chosen) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &chosenLength) }
        }
        let chosenPort = withUnsafeBytes(of: chosen) { bytes -> UInt16 in
            // `sin_port` and `sin6_port` are both at offset 2, in network order.
            UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        }
        return (descriptor, Int(chosenPort))
    }

    // MARK: - Accepting

    private func acceptLoop() {
        var failure: String?
        while true {
            var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                failure = "cannot wait for connections: \(String(cString: strerror(errno)))"
                break
            }
            if descriptors[1].revents != 0 || state.withLock({ $0.stopping }) { break }
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                switch errno {
                case EINTR, EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    usleep(100_000)  // out of descriptors or memory for now: try again, do not spin
                    continue
                default:
                    failure = "cannot accept connections: \(String(cString: strerror(errno)))"
                }
                break
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let admitted = state.withLock { state -> Bool in
                guard !state.stopping, state.connections.count < Self.connectionLimit else { return false }
                state.connections.insert(connection)
                return true
            }
            guard admitted else {
                refuse(connection)
                continue
            }
            let thread = Thread { [self] in serve(connection) }
            thread.name = "tipi-http-connection"
            thread.start()
        }
        close(listener)
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.listenerClosed = true
            state.acceptEnded = true
            state.failure = failure
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Answers 503 to a connection over the limit (without waiting on it) and closes it.
    private func refuse(_ connection: Int32) {
        _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
        let answer = Self.head(
            Response(status: 503, headers: ["Content-Type": "text/plain; charset=utf-8", "Retry-After": "1"], body: Data()),
            bodyLength: 0, keepAlive: false)
        answer.withUnsafeBytes { _ = send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(connection)
    }

    // MARK: - A connection

    private func serve(_ connection: Int32) {
        defer {
            state.withLock { _ = $0.connections.remove(connection) }
            close(connection)
        }
        var wait = timeval()
        wait.tv_sec = .init(timeout.rounded(.down))
        wait.tv_usec = .init((timeout - timeout.rounded(.down)) * 1e6)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var on: Int32 = 1
        _ = setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        var reader = ConnectionReader(descriptor: connection)
        while !state.withLock({ $0.stopping }) {
            let parsed = reader.withUnread { HTTPRequestHead.parse($0, limit: Self.headLimit) }
            switch parsed {
            case .incomplete:
                guard reader.readMore() else { return }
            case .invalid(let status, let reason):
                let body = Data("\(status) \(Self.phrase(status)): \(reason)\n".utf8)
                _ = answer(Response(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: body), on: connection, keepAlive: false)
                return
            case .complete(let head, let length):
                reader.consume(length)
                var keepAlive = head.keepsAlive
                switch head.body {
                case .none: break
                case .length(let count) where count <= Self.bodyLimit:
                    guard reader.skip(count) else { return }
                case .length, .unreadable: keepAlive = false
                }
                let response = handler(head)
                guard answer(response, on: connection, keepAlive: keepAlive && !state.withLock({ $0.stopping })), keepAlive else { return }
            }
        }
    }

    /// Writes `response` whole; `false` when the client is gone or does not read it in time.
    private func answer(_ response: Response, on connection: Int32, keepAlive: Bool) -> Bool {
        let head = Self.head(response, bodyLength: response.body.count, keepAlive: keepAlive)
        let flags = Int32(MSG_NOSIGNAL)
        // The head with `MSG_MORE`: it leaves in the body's packets, not in one of its own.
        #if os(Linux)
            let more = Int32(MSG_MORE)
        #else
            let more: Int32 = 0
        #endif
        let sentHead = head.withUnsafeBytes { Self.sendAll($0, to: connection, flags: flags | (response.body.isEmpty ? 0 : more)) }
        guard sentHead else { return false }
        return response.body.withUnsafeBytes { Self.sendAll($0, to: connection, flags: flags) }
    }

    private static func sendAll(_ bytes: UnsafeRawBufferPointer, to connection: Int32, flags: Int32) -> Bool {
        guard var base = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let sent = send(connection, base, left, flags)
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            base += sent
            left -= sent
        }
        return true
    }

    /// The status line and header fields of `response`, with `Content-Length` and `Connection`. A field
    /// whose name or value holds a line break is left out (it would end the head).
    static func head(_ response: Response, bodyLength: Int, keepAlive: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(phrase(response.status))\r\n"
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) {
            let lower = name.lowercased()
            // Bytes, not characters: "\r\n" is one `Character`, equal to neither "\r" nor "\n".
            guard lower != "content-length", lower != "connection",
                !name.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 || $0 == UInt8(ascii: ":") }),
                !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
            else { continue }
            text += "\(name): \(value)\r\n"
        }
        text += "Content-Length: \(bodyLength)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        return Array(text.utf8)
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 421: "Misdirected Request"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Error"
        }
    }
}

/// The bytes read from a connection and not used yet.
private struct ConnectionReader {
    let descriptor: Int32
    private var bytes: [UInt8] = []
    private var start = 0
    /// What one read takes (made once per connection).
    private var chunk = [UInt8](repeating: 0, count: 16 * 1024)

    init(descriptor: Int32) {
        self.descriptor = descriptor
        bytes.reserveCapacity(16 * 1024)
    }

    func withUnread<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }

    mutating func consume(_ count: Int) {
        start += count
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    /// Reads what the client sent next; `false` when it closed, failed, or stayed silent past the timeout.
    mutating func readMore() -> Bool {
        if start > 0 {
            bytes.removeFirst(start)
            start = 0
        }
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            bytes.append(contentsOf: chunk[..<count])
            return true
        }
    }

    /// Skips a body of `count` bytes; `false` when the client is gone before it ends.
    mutating func skip(_ count: Int) -> Bool {
        var left = count
        while true {
            let available = bytes.count - start
            if available >= left {
                consume(left)
                return true
            }
            left -= available
            consume(available)
            guard readMore() else { return false }
        }
    }
}
