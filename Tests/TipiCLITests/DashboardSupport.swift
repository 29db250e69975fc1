import Foundation
import Testing
import TipiTestSupport

/// A run store filled by the real fixture program, and a real `tipi ui` serving it: what the dashboard
/// suites share.
struct DashboardStore {
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("ui-runs-\(UUID().uuidString)").path
    static let cleanEnvironment = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR"]

    func tool(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build`")
    }

    /// Logs a run with the fixture (`log` options); returns its id.
    @discardableResult
    func log(_ arguments: [String]) throws -> String {
        let result = try Executables.run(try tool("TipiFixture"), ["log"] + arguments, environment: ["TIPI_DIR": store], removing: Self.cleanEnvironment)
        try #require(result.status == 0, "the fixture failed: \(result.standardError)")
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") })
        return String(line.split(separator: " ")[1])
    }

    /// Starts logging in the background (for live pages); returns the process and the run id once it exists.
    func startLogging(_ arguments: [String]) throws -> (Executables.Running, String) {
        let running = try Executables.start(try tool("TipiFixture"), ["log"] + arguments, environment: ["TIPI_DIR": store], removing: Self.cleanEnvironment)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = running.standardOutputSoFar.split(separator: "\n").first(where: { $0.hasPrefix("run ") }) {
                return (running, String(line.split(separator: " ")[1]))
            }
            usleep(20_000)
        }
        running.signal(SIGKILL)
        _ = running.wait()
        throw DashboardTestError("the fixture did not start a run within 60 s")
    }

    /// `tipi ARGUMENTS` on this store.
    func tipi(_ arguments: [String]) throws -> Executables.Result {
        try Executables.run(try tool("tipi"), arguments, environment: ["TIPI_DIR": store], removing: Self.cleanEnvironment)
    }

    /// Starts `tipi ui --port 0` (plus `extra`) and waits for the address it prints first.
    func serve(_ extra: [String] = []) throws -> Server {
        let running = try Executables.start(try tool("tipi"), ["ui", "--port", "0", "--dir", store] + extra, removing: Self.cleanEnvironment)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let output = running.standardOutputSoFar
            if let line = output.split(separator: "\n", omittingEmptySubsequences: false).first, output.contains("\n") {
                return Server(process: running, url: String(line))
            }
            if kill(running.pid, 0) != 0 { break }
            usleep(20_000)
        }
        running.signal(SIGKILL)
        let result = running.wait()
        throw DashboardTestError("tipi ui printed no address: \(result.standardOutput) \(result.standardError)")
    }

    /// A running `tipi ui`.
    struct Server {
        let process: Executables.Running
        /// `http://127.0.0.1:PORT/`.
        let url: String

        /// GET `path` (as it is: `--path-as-is`) with curl: status, headers and body.
        func get(_ path: String, headers: [String] = [], method: String = "GET") throws -> (status: Int, headers: String, body: String) {
            let base = url.hasSuffix("/") ? String(url.dropLast()) : url
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let headerFile = directory.appendingPathComponent("headers").path
            let bodyFile = directory.appendingPathComponent("body").path
            let result = try Executables.run(
                "/usr/bin/env",
                ["curl", "-sS", "--path-as-is", "-X", method, "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}", "--max-time", "30"]
                    + headers.flatMap { ["-H", $0] } + [base + path])
            try #require(result.status == 0, "curl \(path): \(result.standardError)")
            return (
                Int(result.standardOutput) ?? -1, (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
            )
        }

        /// GET `path` and decode its JSON.
        func json(_ path: String) throws -> Any {
            let response = try get(path)
            try #require(response.status == 200, "\(path): \(response.status) \(response.body)")
            return try JSONSerialization.jsonObject(with: Data(response.body.utf8))
        }

        /// Ctrl-C, then the result.
        func stop() -> Executables.Result {
            process.signal(SIGINT)
            return process.wait(timeout: 30)
        }
    }
}

struct DashboardTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
