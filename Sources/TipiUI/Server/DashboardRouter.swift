import Foundation

/// Answers the dashboard's requests: pages, bundled assets and the JSON API. Pure request → response (the
/// server only carries bytes), so every route and every refusal is testable without a socket.
///
/// Read-only by design: only `GET` is answered (anything else is 405), no route writes to the
/// store, and no CORS header is sent, so other sites' pages cannot read the answers.
package struct DashboardRouter: Sendable {
    /// A response.
    package struct Response: Sendable {
        /// The HTTP status.
        package var status: Int
        /// The headers.
        package var headers: [String: String]
        /// The body.
        package var body: Data
    }

    let source: any DashboardSource
    let assets: DashboardAssets
    /// The host names a request may name in its `Host` header (`nil`: any). A loopback server accepts only
    /// loopback names, so a web page on another site cannot reach it through DNS rebinding.
    let allowedHosts: Set<String>?

    /// The `max_points` of a metric request that names none.
    package static let defaultMaxPoints = 2000
    /// The largest `max_points` a request may ask for.
    package static let maximumMaxPoints = 100_000

    /// A router over `source`; `allowedHosts` as above.
    package init(source: any DashboardSource, assets: DashboardAssets, allowedHosts: Set<String>?) {
        self.source = source
        self.assets = assets
        self.allowedHosts = allowedHosts
    }

    /// The loopback host names.
    package static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "[::1]", "::1"]

    /// The response to `method target` with the request's `Host` header.
    package func respond(method: String, target: String, host: String?) -> Response {
        guard method == "GET" else {
            var response = error(405, "the dashboard is read-only: only GET is answered, not \(method)")
            response.headers["Allow"] = "GET"
            return response
        }
        if let allowedHosts {
            let name = Self.hostName(host ?? "")
            guard allowedHosts.contains(name) else {
                return error(421, "this dashboard answers requests for \(allowedHosts.sorted().joined(separator: ", ")) only")
            }
        }
        guard let path = RequestPath(target: target) else {
            return error(400, "not a valid path: \(target.prefix(200))")
        }
        do {
            return try route(path)
        } catch let failure as DashboardRequestError {
            return error(failure.status, failure.message)
        } catch {
            return self.error(500, "\(error)")
        }
    }

    func route(_ path: RequestPath) throws -> Response {
        let parts = path.components
        switch parts.first {
        case nil:
            return page(["page": "runs"])
        case "runs" where parts.count == 2:
            return page(["page": "run", "run": parts[1]])
        case "compare" where parts.count == 1:
            return page(["page": "compare", "runs": path.value("runs") ?? ""])
        case "sweeps" where parts.count == 2:
            return page(["page": "sweep", "sweep": parts[1]])
        case "assets" where parts.count == 2:
            guard let asset = assets.byName[parts[1]] else { throw DashboardRequestError(status: 404, "no asset \(parts[1])") }
            return Response(
                status: 200, headers: ["Content-Type": asset.contentType, "Cache-Control": "no-cache"], body: Data(asset.text.utf8))
        case "favicon.ico" where parts.count == 1:
            return Response(status: 204, headers: [:], body: Data())
        case "api" where parts.count >= 2 && parts[1] == "runs":
            return try api(Array(parts.dropFirst(2)), path)
        default:
            throw DashboardRequestError(status: 404, "no page at /\(parts.joined(separator: "/"))")
        }
    }

    /// A whole number parameter of at least 0 (`limit=`, `offset=`); absent is `nil`.
    func count(_ name: String, _ path: RequestPath) throws -> Int? {
        guard let text = path.value(name) else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw DashboardRequestError(status: 400, "\(name)=\(text) is not a whole number of runs, 0 or more (for example \(name)=100)")
        }
        return value
    }

    func api(_ parts: [String], _ path: RequestPath) throws -> Response {
        if parts.isEmpty {
            var since: Double?
            if let text = path.value("since") {
                guard let value = Double(text), value.isFinite else {
                    throw DashboardRequestError(status: 400, "since=\(text) is not a time in seconds since 1970 (for example since=1795912192.5)")
                }
                since = value
            }
            let offset = try count("offset", path) ?? 0
            // The server's clock before the listing: the page's next `since=` (a browser's clock may differ).
            let now = Date().timeIntervalSince1970
            var response = json(try source.runsJSON(since: since, offset: offset, limit: try count("limit", path)))
            response.headers["X-Tipi-Time"] = String(format: "%.3f", now)
            return response
        }
        if parts.count == 1 { return json(try source.runJSON(parts[0])) }
        guard parts[1] == "metrics", parts.count >= 3 else {
            throw DashboardRequestError(status: 404, "no API at /api/runs/\(parts.joined(separator: "/"))")
        }
        // A metric name may hold slashes (`val/loss`), sent as they are or as %2F.
        let metric = parts[2...].joined(separator: "/")
        var maxPoints = Self.defaultMaxPoints
        if let text = path.value("max_points") {
            guard let value = Int(text), (2...Self.maximumMaxPoints).contains(value) else {
                throw DashboardRequestError(
                    status: 400, "max_points=\(text) is not a whole number from 2 to \(Self.maximumMaxPoints) (for example max_points=2000)")
            }
            maxPoints = value
        }
        let series = try source.series(run: parts[0], metric: metric)
        let points = Downsampling.minMax(steps: series.steps, values: series.values, maxPoints: maxPoints)
        var response = json(Data(Downsampling.json(points).utf8))
        response.headers["X-Tipi-Points"] = String(series.values.count)
        return response
    }

    func page(_ boot: [String: String]) -> Response {
        Response(
            status: 200,
            headers: [
                "Content-Type": "text/html; charset=utf-8",
                // Scripts and styles only from the dashboard itself: even injected markup could not run.
                "Content-Security-Policy":
                    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                    + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
            ],
            body: Data(DashboardPage.shell(boot: boot).utf8))
    }

    func json(_ data: Data) -> Response {
        Response(
            status: 200,
            headers: ["Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"],
            body: data)
    }

    func error(_ status: Int, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data()
        return Response(
            status: status, headers: ["Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff"], body: body)
    }

    /// `127.0.0.1:8321` → `127.0.0.1`; `[::1]:8321` → `[::1]`.
    static func hostName(_ host: String) -> String {
        let lowered = host.lowercased()
        if lowered.hasPrefix("["), let end = lowered.firstIndex(of: "]") { return String(lowered[...end]) }
        return String(lowered.split(separator: ":", maxSplits: 1).first ?? "")
    }
}
