import Foundation

/// The HTTP server of `tipi ui` (``HTTPServer``: POSIX sockets, a thread per connection; see
/// docs/architecture.md). It carries bytes to and from a ``DashboardRouter``; the router decides everything else.
package final class DashboardServer: Sendable {
    let server: HTTPServer
    /// The address as the user gave it (`127.0.0.1`, `::1`, `0.0.0.0`).
    package let host: String

    /// A server for `router` on `host:port` (port 0: a free one); an invalid address, or one that cannot be
    /// listened on (in use, not this machine's), is an error here, not a hang.
    package init(router: DashboardRouter, host: String, port: UInt16) throws {
        self.host = host
        let name = host == "localhost" ? "127.0.0.1" : host
        do {
            server = try HTTPServer(address: name, port: port, timeout: 30) { head in
                let response = router.respond(method: head.method, target: head.target, host: head.value(of: "host"))
                return HTTPServer.Response(status: response.status, headers: response.headers, body: response.body)
            }
        } catch let failure as HTTPServer.Failure where failure.isBadAddress {
            throw DashboardError.cannotServe(
                "--host \(host) is not an IP address this machine can listen on (for example 127.0.0.1, ::1 or 0.0.0.0)")
        } catch {
            throw DashboardError.cannotServe("cannot listen on \(host): \(error)")
        }
    }

    /// Starts serving; returns the port it listens on (the free one for port 0) and a task that ends,
    /// throwing `CancellationError`, when it is cancelled (the server then stops accepting), or throwing
    /// the failure if accepting connections fails for good.
    package func start() async throws -> (port: Int, task: Task<Void, any Error>) {
        let server = self.server
        server.start()
        let task = Task {
            let failure = await withTaskCancellationHandler {
                await server.waitUntilStopped()
            } onCancel: {
                server.beginStop()
            }
            if let failure { throw DashboardError.cannotServe("\(failure)") }
            throw CancellationError()
        }
        return (server.port, task)
    }

    /// Closes the socket and the open connections.
    package func stop() async {
        await server.stop(timeout: 1)
    }
}
