import Foundation
import Synchronization
import Testing

@testable import TipiUI

/// A source that records what it was asked and answers with fixed data.
final class RecordingSource: DashboardSource {
    let asked = Mutex<[String]>([])

    func runsJSON(since: Double?, offset: Int, limit: Int?) throws -> Data {
        asked.withLock { $0.append("runs since \(since.map { "\($0)" } ?? "-") offset \(offset) limit \(limit.map(String.init) ?? "-")") }
        return Data(#"[{"id":"abc","name":"<script>alert(1)</script>"}]"#.utf8)
    }

    func runJSON(_ run: String) throws -> Data {
        asked.withLock { $0.append("run \(run)") }
        guard run == "abc" else { throw DashboardRequestError(status: 404, "no run \(run)") }
        return Data(#"{"id":"abc"}"#.utf8)
    }

    func series(run: String, metric: String) throws -> (steps: [Int], values: [Double]) {
        asked.withLock { $0.append("series \(run) \(metric)") }
        guard run == "abc" else { throw DashboardRequestError(status: 404, "no run \(run)") }
        return (Array(0..<10_000), (0..<10_000).map { $0 == 4321 ? 1e9 : Double($0 % 7) })
    }
}

@Suite("The dashboard's routes: read-only, no traversal, escaping by construction")
struct DashboardRouterTests {
    let source = RecordingSource()

    func router(hosts: Set<String>? = DashboardRouter.loopbackHosts) throws -> DashboardRouter {
        DashboardRouter(source: source, assets: try DashboardAssets.load(), allowedHosts: hosts)
    }

    func get(_ target: String, host: String = "127.0.0.1:8321") throws -> DashboardRouter.Response {
        try router().respond(method: "GET", target: target, host: host)
    }

    func text(_ response: DashboardRouter.Response) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test("the bundled assets are there, served by name only")
    func assets() throws {
        let script = try get("/assets/dashboard.js")
        #expect(script.status == 200 && script.headers["Content-Type"]?.hasPrefix("text/javascript") == true)
        #expect(text(script).contains("textContent"))
        #expect(try get("/assets/dashboard.css").status == 200)
        #expect(try get("/assets/missing.js").status == 404)
    }

    @Test(
        "traversal: /../, %2e%2e, %2f, absolute and doubled slashes never reach a file",
        arguments: [
            "/../Package.swift", "/assets/../../Package.swift", "/assets/%2e%2e/%2e%2e/Package.swift", "/assets/..%2f..%2fPackage.swift",
            "/assets/%2e%2e%2fdashboard.js", "/assets//etc/passwd", "//etc/passwd", "/assets/%2Fetc%2Fpasswd", "/assets/.%2e/x",
            "/api/runs/..%2f..%2fetc", "/api/runs/%2e%2e", "/runs/..", "/assets/dashboard.js%00.png", "/assets/%ff%fe", "/%",
            "/assets/./dashboard.js", "http://evil.example/etc/passwd",
        ])
    func traversal(target: String) throws {
        let response = try get(target)
        #expect(response.status != 200 || !text(response).contains("root:"), "\(target) answered \(response.status)")
        #expect(!text(response).contains("PackageDescription"))
        if target.contains("..") || target.contains("%2e%2e") || target.contains(".%2e") {
            #expect(response.status == 400 || response.status == 404, "\(target) answered \(response.status)")
        }
        #expect(!source.asked.withLock { $0 }.contains { $0.contains("..") })
    }

    @Test("read-only: every method but GET is 405; no CORS header anywhere")
    func readOnly() throws {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
            let response = try router().respond(method: method, target: "/api/runs", host: "127.0.0.1")
            #expect(response.status == 405 && response.headers["Allow"] == "GET")
        }
        for target in ["/", "/api/runs", "/api/runs/abc", "/api/runs/abc/metrics/loss", "/assets/dashboard.js", "/nothing"] {
            let response = try get(target)
            #expect(!response.headers.keys.contains { $0.lowercased().hasPrefix("access-control") }, "\(target)")
        }
        #expect(source.asked.withLock { $0 }.allSatisfy { !$0.contains("POST") })
    }

    @Test("a loopback dashboard refuses other Host names (DNS rebinding); --host allows them")
    func hostCheck() throws {
        #expect(try get("/api/runs", host: "evil.example:8321").status == 421)
        #expect(try get("/api/runs", host: "localhost:8321").status == 200)
        #expect(try get("/api/runs", host: "[::1]:8321").status == 200)
        #expect(try router(hosts: nil).respond(method: "GET", target: "/api/runs", host: "10.1.2.3:8321").status == 200)
    }

    @Test("a run id in the page's path is JSON in a script block: it cannot end the block or open a tag")
    func bootEscaping() throws {
        let hostile = "</script><script>alert(1)</script><!--\u{2028}'\"&"
        let encoded = hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let response = try get("/runs/" + encoded)
        let page = text(response)
        #expect(response.status == 200)
        #expect(page.components(separatedBy: "</script>").count == 3, "only the two script elements end a script")
        #expect(!page.contains("<script>alert"))
        #expect(page.contains(#"\u003c\/script\u003e\u003cscript\u003ealert(1)\u003c\/script\u003e\u003c!--\u2028'\"\u0026"#))
        #expect(response.headers["Content-Security-Policy"]?.contains("script-src 'self'") == true)
    }

    @Test("HTML text and attributes are escaped")
    func htmlEscaping() {
        let node = HTML.tag("p", [("title", "\"><img src=x onerror=alert(1)>")], .text("<script>alert('x')</script> & \0"))
        var output = ""
        node.render(into: &output)
        #expect(output == "<p title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; \u{FFFD}</p>")
    }

    @Test("metrics: downsampled on the server, slashes in names, bad max_points is a 400 naming the value")
    func metrics() throws {
        let response = try get("/api/runs/abc/metrics/val%2Floss?max_points=500")
        #expect(response.status == 200 && response.headers["X-Tipi-Points"] == "10000")
        let points = try #require(try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]])
        #expect(points.count <= 500 && points.count >= 400)
        #expect(points.contains { $0["step"] as? Int == 4321 && $0["value"] as? Double == 1e9 }, "the spike was lost")
        #expect(source.asked.withLock { $0 }.contains("series abc val/loss"))
        _ = try get("/api/runs/abc/metrics/train/acc")
        #expect(source.asked.withLock { $0 }.contains("series abc train/acc"))
        for bad in ["0", "1", "-5", "abc", "1e3", "100001", "nan"] {
            let refused = try get("/api/runs/abc/metrics/loss?max_points=\(bad)")
            #expect(refused.status == 400 && text(refused).contains("max_points=\(bad)"), "\(bad)")
        }
        #expect(try get("/api/runs/nope/metrics/loss").status == 404)
        #expect(try get("/api/runs?since=nan").status == 400)
        let before = Date().timeIntervalSince1970
        let changed = try get("/api/runs?since=1795912192.5")
        #expect(changed.status == 200)
        // The server's clock, for the page's next `since=` (the browser's clock may be another machine's).
        let clock = try #require(changed.headers["X-Tipi-Time"].flatMap(Double.init), "no X-Tipi-Time header")
        #expect(clock >= before - 0.01 && clock <= Date().timeIntervalSince1970 + 0.01)
        #expect(source.asked.withLock { $0 }.contains("runs since 1795912192.5 offset 0 limit -"))
        #expect(try get("/api/runs?limit=200").status == 200)
        #expect(try get("/api/runs?limit=0&offset=10000").status == 200)
        #expect(source.asked.withLock { $0 }.contains("runs since - offset 0 limit 200"))
        #expect(source.asked.withLock { $0 }.contains("runs since - offset 10000 limit 0"))
        for bad in ["-1", "abc", "1.5", "nan", "99999999999999999999"] {
            for name in ["limit", "offset"] {
                let refused = try get("/api/runs?\(name)=\(bad)")
                #expect(refused.status == 400 && text(refused).contains("\(name)=\(bad)"), "\(name)=\(bad)")
            }
        }
    }

    @Test("request paths: components decoded after splitting, dot segments refused")
    func requestPath() {
        #expect(RequestPath(target: "/api/runs/a%2Fb?x=1&y=a+b")?.components == ["api", "runs", "a/b"])
        #expect(RequestPath(target: "/api/runs/a%2Fb?x=1&y=a+b")?.value("y") == "a b")
        #expect(RequestPath(target: "/")?.components == [])
        #expect(RequestPath(target: "/api/runs/")?.components == ["api", "runs"])
        for bad in ["/..", "/a/%2E%2E/b", "/a/%2e", "/%zz", "/%00", "relative", "/%c3%28"] {
            #expect(RequestPath(target: bad) == nil, "\(bad)")
        }
    }
}
