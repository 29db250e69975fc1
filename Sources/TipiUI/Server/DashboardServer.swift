import FlyingFox
import FlyingSocks
import Foundation
import Synchronization

/// The HTTP server of `tipi ui` (FlyingFox: async sockets, no SwiftNIO; see docs/architecture.md). It
/// carries bytes to and from a ``DashboardRouter``; the router decides everything else.
package final class DashboardServer: Sendable {
    let server: HTTPServer
    /// The address as the user gave it (`127.0.0.1`, `::1`, `0.0.0.0`).
    package let host: String

    /// A server for `router` on `host:port` (port 0: a free one); an invalid address is an error.
    package init(router: DashboardRouter, host: String, port: UInt16) throws {
        self.host = host
        let address: any SocketAddress
        let name = host == "localhost" ? "127.0.0.1" : host
        do {
            if name.contains(":") {
                address = try sockaddr_in6.inet6(ip6: name, port: port)
            } else {
                address = try sockaddr_in.inet(ip4: name, port: port)
            }
        } catch {
            throw DashboardError.cannotServe(
                "--host \(host) is not an IP address this machine can listen on (for example 127.0.0.1, ::1 or 0.0.0.0)")
        }
        server = HTTPServer(address: address, timeout: 30, logger: .disabled, handler: Handler(router: router))
    }

    /// Starts serving in a task; returns the port it listens on (the free one for port 0) and that task,
    /// which ends (throwing `CancellationError`) when it is cancelled. An address that cannot be bound
    /// (in use, not this machine's) is an error here, not a hang.
    package func start() async throws -> (port: Int, task: Task<Void, any Error>) {
        let failure = Mutex<(any Error)?>(nil)
        let server = self.server
        let task = Task {
            do {
                try await server.run()
            } catch {
                failure.withLock { $0 = error }
                throw error
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let error = failure.withLock({ $0 }) {
                throw DashboardError.cannotServe("cannot listen on \(host): \(error)")
            }
            switch await server.listeningAddress {
            case .ip4(_, let port), .ip6(_, let port): return (Int(port), task)
            default: try await Task.sleep(for: .milliseconds(20))
            }
        }
        task.cancel()
        throw DashboardError.cannotServe("the server did not start listening on \(host) within 10 s")
    }

    /// Closes the socket and the open connections.
    package func stop() async {
        await server.stop(timeout: 1)
    }

    struct Handler: HTTPHandler {
        let router: DashboardRouter

        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
            let target = request.target.rawValue
            let response = router.respond(method: request.method.rawValue, target: target, host: request.headers[.host])
            var headers = HTTPHeaders()
            for (name, value) in response.headers { headers[HTTPHeader(name)] = value }
            // The body in one piece: FlyingFox's default 4 KiB pieces are one socket write (and await) each,
            // about 1,500 of them for the 10,000-run list.
            let body = HTTPBodySequence(data: response.body, suggestedBufferSize: max(response.body.count, 4096))
            return HTTPResponse(
                statusCode: HTTPStatusCode(response.status, phrase: Self.phrase(response.status)), headers: headers, body: body)
        }

        static func phrase(_ status: Int) -> String {
            switch status {
            case 200: "OK"
            case 204: "No Content"
            case 400: "Bad Request"
            case 404: "Not Found"
            case 405: "Method Not Allowed"
            case 421: "Misdirected Request"
            default: "Error"
            }
        }
    }
}
