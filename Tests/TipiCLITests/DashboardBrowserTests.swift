import Foundation
import Testing
import TipiTestSupport

/// The dashboard in a real headless Chromium, driven by Selenium (`scripts/dashboard-browser.py`): what a
/// person sees on each page. Screenshots are kept in `.build/test-screenshots/`.
///
/// Needs Chromium and chromedriver (Debian's `chromium`, `chromium-driver`; TIPI_TEST_CHROMIUM and
/// TIPI_TEST_CHROMEDRIVER to point elsewhere) and Selenium in TIPI_TEST_VENV; `scripts/test.sh` installs
/// them. Under CI=true a missing piece fails the tests instead of skipping them.
@Suite("tipi ui in a real browser", .serialized, .enabled(if: BrowserTools.available || Interop.isCI))
struct DashboardBrowserTests {
    let fixture = DashboardStore()

    /// The package root (screenshots go under its `.build`).
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/", !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// Runs the browser script; returns the page's facts as JSON.
    func browse(
        _ command: String, _ url: String, screenshot: String, extra: [String] = [], environment: [String: String] = [:],
        timeout: Double = 120
    ) throws -> [String: Any] {
        let python = try #require(BrowserTools.python, "no test venv with selenium: run scripts/python-env.sh")
        try #require(FileManager.default.isExecutableFile(atPath: BrowserTools.chromium), "no Chromium at \(BrowserTools.chromium) (apt-get install chromium)")
        try #require(FileManager.default.isExecutableFile(atPath: BrowserTools.chromedriver), "no chromedriver at \(BrowserTools.chromedriver) (apt-get install chromium-driver)")
        let folder = Self.root.appendingPathComponent(".build/test-screenshots")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let shot = folder.appendingPathComponent(screenshot).path
        let result = try Executables.run(
            python, [Self.root.appendingPathComponent("scripts/dashboard-browser.py").path, command, url, shot] + extra,
            environment: environment.merging(
                ["TIPI_TEST_CHROMIUM": BrowserTools.chromium, "TIPI_TEST_CHROMEDRIVER": BrowserTools.chromedriver, "SE_OFFLINE": "true"]
            ) { $1 },
            removing: DashboardStore.cleanEnvironment, timeout: timeout)
        try #require(result.status == 0, "the browser script failed: \(result.standardError.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: shot), "no screenshot at \(shot)")
        let line = try #require(result.standardOutput.split(separator: "\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("runs table, run page chart, compare overlay, with hostile names shown as text")
    func pages() throws {
        let hostile = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>'\""
        let first = try fixture.log(["--project", "web", "--name", hostile, "--steps", "120", "--key", "\"><svg onload=window.__xss=3>"])
        let second = try fixture.log(["--project", "web", "--name", "second", "--steps", "80"])
        let server = try fixture.serve()
        defer { _ = server.stop() }

        let runs = try browse("facts", server.url, screenshot: "runs.png")
        #expect(runs["rows"] as? [String] == [second, first])
        #expect((runs["names"] as? [String])?.contains(hostile) == true, "the hostile name is not shown as text: \(runs["names"] ?? "")")
        #expect(runs["injected"] is NSNull, "markup in a run name ran")
        #expect(runs["images"] as? Int == 0)
        #expect((runs["errors"] as? [String])?.isEmpty == true, "\(runs["errors"] ?? "")")

        let run = try browse("facts", server.url + "runs/" + first, screenshot: "run.png")
        let charts = try #require(run["charts"] as? [String: [String: Any]])
        #expect(charts["loss"]?["points"] as? Int == 120, "the loss chart does not draw the 120 logged points: \(charts)")
        #expect(charts.keys.contains("\"><svg onload=window.__xss=3>"))
        #expect(run["injected"] is NSNull)
        #expect(run["heading"] as? String == hostile)
        #expect((run["config"] as? [[String]])?.contains(["optimizer", "adam"]) == true)

        let compare = try browse("facts", server.url + "compare?runs=\(first),\(second)", screenshot: "compare.png")
        let overlaid = try #require((compare["charts"] as? [String: [String: Any]])?["loss"])
        #expect(overlaid["series"] as? Int == 2 && overlaid["points"] as? Int == 200, "\(overlaid)")
        #expect((compare["diff"] as? [[String]])?.contains(["steps", "120", "80"]) == true, "\(compare["diff"] ?? "")")
        #expect(compare["injected"] is NSNull)
    }

    @Test("the runs table takes its columns, sort and filter from the URL and keeps them there; a sweep page shows its points")
    func tableStateAndSweep() throws {
        var ids: [String] = []
        for (index, steps) in [20, 40, 30, 50].enumerated() {
            let id = try fixture.log(["--project", "sw", "--name", "point-\(index)", "--steps", String(steps)])
            ids.append(id)
            // A sweep point as the sweep runner records it (`"sweep": {"id", "index"}` in run.json).
            let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: fixture.store + "/sw").first { $0.hasSuffix(id) })
            let file = fixture.store + "/sw/" + folder + "/run.json"
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
            object["sweep"] = ["id": "sw-1", "index": index]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
        }
        let server = try fixture.serve()
        defer { _ = server.stop() }
        let table = try browse("facts", server.url + "?cols=name,steps,loss.max&sort=-loss.max&where=steps%3E%3D30", screenshot: "runs-query.png")
        #expect(table["headers"] as? [String] == ["name", "steps", "loss.max"])
        #expect(table["rows"] as? [String] == [ids[3], ids[1], ids[2]], "sorted by loss.max, largest first, steps >= 30 only")
        let url = try #require(table["url"] as? String)
        #expect(url.contains("cols=name%2Csteps%2Closs.max") && url.contains("sort=-loss.max") && url.contains("where=steps"), "\(url)")
        let sweep = try browse("facts", server.url + "sweeps/sw-1", screenshot: "sweep.png")
        let rows = try #require(sweep["sweepRows"] as? [[String]])
        #expect(rows.map { $0[1] } == ["point-0", "point-2", "point-1", "point-3"], "points sorted by the metric: \(rows)")
        #expect(sweep["scatterPoints"] as? Int == 4)
        #expect((sweep["errors"] as? [String])?.isEmpty == true, "\(sweep["errors"] ?? "")")
    }

    @Test("a live run's chart grows while it logs, without a reload")
    func live() throws {
        let (logging, id) = try fixture.startLogging(["--project", "live", "--name", "growing", "--steps", "1500", "--sleep", "0.02"])
        defer {
            logging.signal(SIGKILL)
            _ = logging.wait()
        }
        let server = try fixture.serve()
        defer { _ = server.stop() }
        let watched = try browse("watch", server.url + "runs/" + id, screenshot: "live.png", extra: ["4"])
        let samples = try #require(watched["samples"] as? [Int])
        #expect(samples.count >= 5)
        #expect((samples.last ?? 0) > (samples.first ?? 0), "the chart did not grow: \(samples)")
        #expect(Set(samples).count >= 3, "fewer than three updates in 4 s: \(samples)")
    }

    /// What the runs table showed while a real logging process ran (``DashboardStore/startLogging`` options),
    /// sampled every 0.2 s from its start until `after` seconds after it ended (killed after `kill` seconds).
    struct TableWatch {
        let id: String
        let samples: [[String: Any]]
        /// The page's requests to `/api/`, from the browser's resource timing: url and start (seconds since navigation).
        let requests: [(url: String, start: Double)]
        /// When the process was killed, on the requests' clock.
        let killedAt: Double?

        func row(_ sample: [String: Any]) -> [String: String]? {
            (sample["rows"] as? [[String: String]])?.first { $0["id"] == id }
        }
        var last: [String: Any] { samples.last ?? [:] }
        /// The rows of the watched run while the process was still running.
        var whileRunning: [[String: String]] { samples.filter { $0["processRunning"] as? Bool == true }.compactMap(row) }
        /// Gaps between the page's `/api/runs` requests after its first one (the page's load).
        var gaps: [Double] {
            let starts = requests.filter { $0.url.hasPrefix("/api/runs?") || $0.url == "/api/runs" }.map(\.start).dropFirst()
            return zip(starts.dropFirst(), starts).map { $0 - $1 }
        }
    }

    func watchTable(_ url: String, screenshot: String, logging: [String], after: Int, kill: Double? = nil) throws -> TableWatch {
        let watched = try browse(
            "table", url, screenshot: screenshot,
            extra: [String(after)] + (kill.map { [String($0)] } ?? []) + ["--", try fixture.tool("TipiFixture"), "log"] + logging,
            environment: ["TIPI_DIR": fixture.store], timeout: 180)
        let id = try #require(watched["run"] as? String, "the logging process printed no run id")
        let samples = try #require(watched["samples"] as? [[String: Any]])
        let requests = try #require(watched["requests"] as? [[String: Any]]).compactMap { entry in
            (entry["url"] as? String).flatMap { url in (entry["start"] as? Double).map { (url: url, start: $0) } }
        }
        #expect(samples.allSatisfy { $0["sameDocument"] as? Bool == true }, "the page was reloaded")
        let watch = TableWatch(id: id, samples: samples, requests: requests, killedAt: watched["killedAt"] as? Double)
        #expect(samples.first.flatMap(watch.row) == nil, "the run was listed before it started")
        let running = screenshot.replacingOccurrences(of: ".png", with: "-running.png")
        #expect(
            FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(".build/test-screenshots/" + running).path),
            "no screenshot of the run while it ran")
        // The table asks for all runs at once: never row by row.
        #expect(!requests.contains { $0.url.hasPrefix("/api/runs/") }, "rows were polled one by one: \(requests.map(\.url))")
        return watch
    }

    @Test("the runs table follows a live run without a reload: it appears, its loss.last changes, it finishes; one request a second at most")
    func liveTable() throws {
        let earlier = try fixture.log(["--project", "live", "--name", "earlier", "--steps", "10"])
        let server = try fixture.serve()
        defer { _ = server.stop() }
        // A real process logs 300 steps (about 6 s) once the page is drawn; the table is watched while it
        // runs and 12 s after it ended (the finished run leaves the answers within two idle requests).
        let steps = 300
        let watch = try watchTable(
            server.url + "?cols=name,status,loss.last", screenshot: "runs-live.png",
            logging: ["--project", "live", "--name", "growing", "--steps", String(steps), "--sleep", "0.02"], after: 12)
        #expect(watch.samples.allSatisfy { ($0["rows"] as? [[String: String]])?.contains { $0["id"] == earlier } == true })
        // It appears while it runs, with its status and its loss changing as it logs.
        #expect(watch.whileRunning.contains { $0["status"] == "running" }, "the new run never showed as running: \(watch.samples.suffix(3))")
        let losses = Set(watch.whileRunning.filter { $0["status"] == "running" }.compactMap { $0["loss.last"] })
        #expect(losses.count >= 2, "loss.last did not change while the run logged: \(losses)")
        // It ends finished with its last value, and is no longer in the live answers.
        #expect(watch.row(watch.last)?["status"] == "finished", "\(watch.row(watch.last) ?? [:])")
        #expect(watch.row(watch.last)?["loss.last"] == String(steps - 1))
        #expect(watch.last["live"] as? String == "")
        #expect(
            (watch.last["answered"] as? [String])?.contains(watch.id) == false,
            "the finished run is still asked about: \(watch.last["answered"] ?? "")")
        // The browser's own record of the requests: one /api/runs a second at most.
        #expect(watch.requests.filter { $0.url.contains("since=") }.count >= 4, "the table hardly asked: \(watch.requests.map(\.url))")
        #expect(watch.gaps.allSatisfy { $0 >= 0.95 }, "requests closer than a second apart: \(watch.gaps)")
        // The page's own counter agrees (its first request is the page's load; the last may still be on its way).
        #expect((watch.last["polls"] as? Int ?? 0) >= watch.requests.count - 2)
    }

    @Test("the runs table shows a run whose process was killed as crashed (it reloads the list once), without a reload of the page")
    func liveTableCrash() throws {
        try fixture.log(["--project", "live", "--name", "earlier", "--steps", "10"])
        let server = try fixture.serve()
        defer { _ = server.stop() }
        // 50 steps, then silence (no metric written, so no heartbeat) until SIGKILL after 5 s.
        let watch = try watchTable(
            server.url + "?cols=name,status,loss.last", screenshot: "runs-crash.png",
            logging: ["--project", "live", "--name", "killed", "--steps", "50", "--sleep", "0.02", "--hold", "60"], after: 6, kill: 5)
        #expect(watch.whileRunning.contains { $0["status"] == "running" }, "the run never showed as running: \(watch.samples.suffix(3))")
        #expect(watch.row(watch.last)?["status"] == "crashed", "\(watch.row(watch.last) ?? [:])")
        #expect(watch.row(watch.last)?["loss.last"] == "49")
        #expect(watch.last["live"] as? String == "")
        let killedAt = try #require(watch.killedAt)
        #expect(watch.requests.contains { $0.url == "/api/runs" && $0.start > killedAt }, "no reload of the list after the kill: \(watch.requests)")
        #expect(watch.gaps.allSatisfy { $0 >= 0.95 }, "requests closer than a second apart: \(watch.gaps)")
    }

    @Test("tipi report: the file alone draws every run's charts and the config diff")
    func report() throws {
        let first = try fixture.log(["--project", "rep", "--name", "a", "--steps", "60"])
        let second = try fixture.log(["--project", "rep", "--name", "b", "--steps", "90"])
        let out = Self.root.appendingPathComponent(".build/test-screenshots/report.html").path
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let result = try fixture.tipi(["report", first, second, "--out", out])
        try #require(result.status == 0, "\(result.standardError)")
        let report = try browse("facts", "file://" + out, screenshot: "report.png")
        let loss = try #require((report["charts"] as? [String: [String: Any]])?["loss"])
        #expect(loss["series"] as? Int == 2 && loss["points"] as? Int == 150, "\(loss)")
        #expect((report["diff"] as? [[String]])?.contains(["steps", "60", "90"]) == true)
    }
}

/// Where the browser, its driver and Selenium are.
enum BrowserTools {
    /// The test venv's Python (``Interop/python``).
    static var python: String? { Interop.python }

    /// The browser (TIPI_TEST_CHROMIUM, else Debian's).
    static var chromium: String { ProcessInfo.processInfo.environment["TIPI_TEST_CHROMIUM"] ?? "/usr/bin/chromium" }
    /// Its WebDriver (TIPI_TEST_CHROMEDRIVER, else Debian's).
    static var chromedriver: String { ProcessInfo.processInfo.environment["TIPI_TEST_CHROMEDRIVER"] ?? "/usr/bin/chromedriver" }

    /// Whether the browser, the driver and Selenium are all there.
    static let available: Bool = {
        guard let python, FileManager.default.isExecutableFile(atPath: chromium), FileManager.default.isExecutableFile(atPath: chromedriver) else {
            return false
        }
        return (try? Executables.run(python, ["-c", "import selenium"]).status) == 0
    }()
}
