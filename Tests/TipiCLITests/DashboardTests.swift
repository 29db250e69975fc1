import Foundation
import Testing
import TipiTestSupport

/// `tipi ui` as a real process: its address line, Ctrl-C, the JSON API against `tipi runs --json`, and the
/// security cases over a real socket.
@Suite("tipi ui: the server")
struct DashboardTests {
    let fixture = DashboardStore()

    @Test("the first line is the URL; /api/runs is `tipi runs --json`; Ctrl-C stops it cleanly")
    func serveAndStop() throws {
        let first = try fixture.log(["--project", "ui", "--name", "alpha", "--steps", "50"])
        let second = try fixture.log(["--project", "ui", "--name", "beta", "--steps", "30"])
        let server = try fixture.serve()
        #expect(server.url.hasPrefix("http://127.0.0.1:") && server.url.hasSuffix("/"))
        let runs = try #require(try server.json("/api/runs") as? [[String: Any]])
        let cli = try #require(try JSONSerialization.jsonObject(with: Data(try fixture.tipi(["runs", "--json"]).standardOutput.utf8)) as? [[String: Any]])
        #expect(runs.map { $0["id"] as? String } == [second, first])
        #expect(runs.count == cli.count)
        for (served, printed) in zip(runs, cli) {
            #expect(NSDictionary(dictionary: served).isEqual(to: printed), "\(served["id"] ?? "?") differs from tipi runs --json")
        }
        let detail = try #require(try server.json("/api/runs/\(first)") as? [String: Any])
        #expect(detail["name"] as? String == "alpha" && detail["history"] == nil)
        #expect((detail["metrics"] as? [String: [String: Int]])?["loss"]?["points"] == 50)
        #expect((detail["command"] as? [String])?.isEmpty == false)
        let points = try #require(try server.json("/api/runs/\(first)/metrics/train%2Facc?max_points=10") as? [[String: Any]])
        #expect(points.count <= 10 && points.first?["step"] as? Int == 0 && points.last?["step"] as? Int == 49)
        let page = try server.get("/")
        #expect(page.status == 200 && page.body.contains("/assets/dashboard.js"))
        let result = server.stop()
        #expect(result.signal == SIGINT || result.status == 130, "status \(result.status), stderr: \(result.standardError)")
        #expect(result.standardError.contains("stopped"))
        #expect(result.standardOutput.split(separator: "\n").count == 1)
    }

    @Test("/api/runs, answered again from its kept encoding, is the bytes of `tipi runs --json`, also after runs change")
    func keptRunsList() throws {
        let first = try fixture.log(["--project", "ui", "--name", "</script><b>x</b> \"ü\"", "--steps", "5"])
        _ = try fixture.log(["--project", "ui", "--name", "beta", "--steps", "3"])
        let server = try fixture.serve()
        defer { _ = server.stop() }
        func printed() throws -> String {
            let output = try fixture.tipi(["runs", "--json"]).standardOutput
            return output.hasSuffix("\n") ? String(output.dropLast()) : output
        }
        let served = try server.get("/api/runs")
        let printedFirst = try printed()
        #expect(served.status == 200 && served.body == printedFirst)
        let again = try server.get("/api/runs")
        #expect(again.body == served.body)  // the kept answer
        // Another process rewrites a run's run.json (a new name), with its old modification time put back.
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: fixture.store + "/ui").first { $0.hasSuffix(first) })
        let file = fixture.store + "/ui/" + folder + "/run.json"
        var before = stat()
        #expect(stat(file, &before) == 0)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        object["name"] = "renamed"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file), options: .atomic)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        let renamed = try server.get("/api/runs")
        let printedRenamed = try printed()
        #expect(renamed.body != served.body && renamed.body.contains("\"renamed\""))
        #expect(renamed.body == printedRenamed)
        // A new run, logged while the server runs.
        _ = try fixture.log(["--project", "ui", "--name", "gamma", "--steps", "2"])
        let added = try #require(try server.json("/api/runs") as? [[String: Any]])
        #expect(added.map { $0["name"] as? String } == ["gamma", "beta", "renamed"])
        let last = try server.get("/api/runs")
        let printedLast = try printed()
        #expect(last.body == printedLast)
    }

    @Test("security over the socket: traversal, symlinks out of the store, other methods, Host, CORS")
    func security() throws {
        let id = try fixture.log(["--project", "sec", "--name", "safe", "--steps", "5"])
        // A run folder that is a symbolic link to a run outside the store is not served.
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)").path
        let other = DashboardStore()
        let outsideID = try Executables.run(
            try other.tool("TipiFixture"), ["log", "--project", "sec", "--name", "secret", "--steps", "3"], environment: ["TIPI_DIR": outside],
            removing: DashboardStore.cleanEnvironment
        ).standardOutput.split(separator: " ")[1]
        let outsideFolder = try #require(try FileManager.default.contentsOfDirectory(atPath: outside + "/sec").first)
        try FileManager.default.createSymbolicLink(atPath: fixture.store + "/sec/linked", withDestinationPath: outside + "/sec/" + outsideFolder)
        try FileManager.default.createSymbolicLink(atPath: fixture.store + "/linked-project", withDestinationPath: outside + "/sec")
        let server = try fixture.serve()
        defer { _ = server.stop() }
        let listed = try #require(try server.json("/api/runs") as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == [id], "a run outside the store was listed")
        #expect(try server.get("/api/runs/\(outsideID)").status == 404)
        #expect(try server.get("/api/runs/linked").status == 404)
        #expect(try server.get("/api/runs/secret/metrics/loss").status == 404)
        for path in [
            "/../../../../etc/passwd", "/assets/../../../../etc/passwd", "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd",
            "/assets//etc/passwd", "//etc/passwd", "/api/runs/..%2f..%2f..%2fetc", "/api/runs/\(id)/metrics/..%2f..%2frun.json",
            "/assets/%2fetc%2fpasswd", "/runs.json", "/sec/", "/\(id)/run.json",
        ] {
            let response = try server.get(path)
            #expect(response.status != 200 || !response.body.contains("root:"), "\(path)")
            #expect(!response.body.contains("\"pid\""), "\(path) served a run file")
            if path.contains("..") || path.contains("%2e%2e") { #expect(response.status == 400 || response.status == 404, "\(path): \(response.status)") }
        }
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            #expect(try server.get("/api/runs/\(id)", method: method).status == 405, "\(method)")
        }
        #expect(FileManager.default.fileExists(atPath: fixture.store + "/sec"), "a request changed the store")
        let cross = try server.get("/api/runs", headers: ["Origin: http://evil.example"])
        #expect(!cross.headers.lowercased().contains("access-control-allow-origin"))
        #expect(try server.get("/api/runs", headers: ["Host: evil.example"]).status == 421)
        let page = try server.get("/runs/%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        #expect(page.status == 200 && !page.body.contains("<script>alert") && page.headers.contains("Content-Security-Policy"))
    }

    @Test("bad options and addresses: one clear line, non-zero exit, no hang")
    func badOptions() throws {
        let port = try fixture.tipi(["ui", "--port", "70000"])
        #expect(port.status == 64 && port.standardError.contains("--port must be 0"))
        let host = try fixture.tipi(["ui", "--host", "not-an-address", "--port", "0"])
        #expect(host.status == 1 && host.standardError.contains("--host not-an-address"))
        let dir = try fixture.tipi(["ui", "--dir", "/nonexistent-store", "--port", "0"])
        #expect(dir.status == 1 && dir.standardError.contains("no such folder"))
        // A port in use: the second server says so and exits.
        try FileManager.default.createDirectory(atPath: fixture.store, withIntermediateDirectories: true)
        let server = try fixture.serve()
        defer { _ = server.stop() }
        let port2 = try #require(server.url.split(separator: ":").last?.dropLast())
        let busy = try fixture.tipi(["ui", "--dir", fixture.store, "--port", String(port2)])
        #expect(busy.status == 1 && busy.standardError.contains("cannot listen"), "\(busy.standardError)")
    }

    @Test("--host other than loopback: a second line says the store is exposed")
    func exposed() throws {
        try FileManager.default.createDirectory(atPath: fixture.store, withIntermediateDirectories: true)
        let server = try fixture.serve(["--host", "0.0.0.0"])
        usleep(200_000)
        let lines = server.process.standardOutputSoFar.split(separator: "\n")
        #expect(server.url.hasPrefix("http://0.0.0.0:"))
        #expect(lines.count == 2 && lines[1].contains("exposes the run store"))
        let result = server.stop()
        #expect(result.signal == SIGINT || result.status == 130)
    }

    @Test("tipi report: one self-contained file with every run, no network address, escaped data")
    func report() throws {
        let first = try fixture.log(["--project", "rep", "--name", "</script><img src=x onerror=alert(1)>", "--steps", "40"])
        let second = try fixture.log(["--project", "rep", "--name", "two", "--steps", "20"])
        let out = fixture.store + "/../report-\(UUID().uuidString).html"
        let result = try fixture.tipi(["report", first, second, "--out", out])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("2 runs"))
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains(first) && html.contains(second))
        #expect(!html.contains("<img src=x"), "a run name became markup")
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"), "the report loads something from the network")
        #expect(html.components(separatedBy: "</script>").count == 4, "a value ended a script block")
        let missing = try fixture.tipi(["report", "nope", "--out", out])
        #expect(missing.status == 1 && missing.standardError.contains("nope"))
        let unwritable = try fixture.tipi(["report", first, "--out", "/nonexistent-folder/r.html"])
        #expect(unwritable.status == 1 && unwritable.standardError.contains("cannot write /nonexistent-folder/r.html"))
    }
}
