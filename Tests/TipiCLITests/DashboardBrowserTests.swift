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
    func browse(_ command: String, _ url: String, screenshot: String, extra: [String] = []) throws -> [String: Any] {
        let python = try #require(BrowserTools.python, "no test venv with selenium: run scripts/python-env.sh")
        try #require(FileManager.default.isExecutableFile(atPath: BrowserTools.chromium), "no Chromium at \(BrowserTools.chromium) (apt-get install chromium)")
        try #require(FileManager.default.isExecutableFile(atPath: BrowserTools.chromedriver), "no chromedriver at \(BrowserTools.chromedriver) (apt-get install chromium-driver)")
        let folder = Self.root.appendingPathComponent(".build/test-screenshots")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let shot = folder.appendingPathComponent(screenshot).path
        let result = try Executables.run(
            python, [Self.root.appendingPathComponent("scripts/dashboard-browser.py").path, command, url, shot] + extra,
            environment: ["TIPI_TEST_CHROMIUM": BrowserTools.chromium, "TIPI_TEST_CHROMEDRIVER": BrowserTools.chromedriver, "SE_OFFLINE": "true"], timeout: 120)
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
