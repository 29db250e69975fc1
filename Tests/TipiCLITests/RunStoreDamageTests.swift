import Foundation
import Testing
import TipiTestSupport

/// The run store's data under damage, in real processes: a full disk, a changed byte, a deleted or corrupt
/// `run.json`, hostile names — read back with the real `tipi` (the helpers are those of the suite).
extension TrackingProcessTests {
    /// Runs the fixture; returns the run id and folder.
    func logFixture(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (id: String, folder: String, result: Executables.Result) {
        let result = try Executables.run(
            try fixture(), ["log"] + arguments, environment: environment.merging(extra) { _, new in new },
            removing: cleanEnvironment + ["TIPI_WRITE_BUFFER_MB"])
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") }, "\(result.standardError)")
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        return (parts[1], parts[2], result)
    }

    func tipiRun(_ arguments: [String]) throws -> Executables.Result {
        try Executables.run(try tipi(), arguments, environment: environment, removing: cleanEnvironment)
    }

    func json(_ arguments: [String]) throws -> Any {
        let result = try tipiRun(arguments)
        try #require(result.status == 0, "tipi \(arguments) failed: \(result.standardError)")
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
    }

    @Test("a full disk (RLIMIT_FSIZE): what fit reads back, run.json and tipi runs say what was not written")
    func fullDisk() throws {
        let (id, _, result) = try logFixture(["--project", "full", "--steps", "20000", "--file-size-limit", "150000"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("could not be written"))
        let run = try #require(try json(["runs", "show", id, "--json"]) as? [String: Any])
        let summary = try #require(run["summary"] as? [String: [String: Any]])
        #expect(summary["loss"]?["count"] as? Int == 20_000)
        let unwritten = try #require(run["unwritten"] as? [String: Any], "run.json does not say data was lost")
        let history = try #require((run["history"] as? [String: [[String: Any]]])?["loss"])
        #expect(!history.isEmpty, "nothing of what fit was kept")
        #expect(history.count + (unwritten["steps"] as? Int ?? -1) == 20_000)
        #expect(history.enumerated().allSatisfy { index, point in point["step"] as? Int == index })
        #expect((unwritten["reason"] as? String)?.contains("too large") == true)
        let text = try tipiRun(["runs", "show", id])
        #expect(text.standardOutput.contains("unwritten:  \(unwritten["values"] ?? "?") values"))
        #expect(try tipiRun(["runs", "--project", "full"]).standardOutput.contains("finished (incomplete)"))
    }

    @Test(
        "a really full file system (a 1 MiB tmpfs): the final run.json is still written, the run ends finished and incomplete",
        .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func fullFileSystem() throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("tmpfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try Executables.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint])
        guard mount.status == 0 else { return }  // a container without CAP_SYS_ADMIN: RLIMIT_FSIZE above covers the writer
        defer { _ = try? Executables.run("/bin/umount", ["-l", mountPoint]) }
        let store = mountPoint + "/runs"
        let result = try Executables.run(
            try fixture(), ["log", "--project", "tmpfs", "--steps", "100000"], environment: ["TIPI_DIR": store], removing: cleanEnvironment)
        #expect(result.status == 0, "\(result.standardError)")
        let id = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") }?.split(separator: " ")[1])
        let show = try Executables.run(try tipi(), ["runs", "show", String(id), "--json"], environment: ["TIPI_DIR": store], removing: cleanEnvironment)
        let run = try #require(try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
        #expect(run["status"] as? String == "finished")
        let unwritten = try #require(run["unwritten"] as? [String: Any])
        #expect((unwritten["reason"] as? String)?.contains("No space left") == true)
        let history = try #require((run["history"] as? [String: [[String: Any]]])?["loss"])
        #expect(!history.isEmpty && history.count + (unwritten["steps"] as? Int ?? -1) == 100_000)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: try #require(run["folder"] as? String))
        #expect(leftovers.sorted() == ["metrics.tipilog", "output.log", "run.json"], "temporary or reserve files were left behind")
    }

    @Test("a disk full for long: memory stays bounded (the oldest unwritten records are dropped and counted)")
    func boundedWhileFull() throws {
        let (id, _, result) = try logFixture(
            ["--project", "bounded", "--steps", "200000", "--keys", "3", "--file-size-limit", "100000", "--hold", "2.5"],
            environment: ["TIPI_WRITE_BUFFER_MB": "1"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("the oldest unwritten steps are dropped"))
        let run = try #require(try json(["runs", "show", id, "--json"]) as? [String: Any])
        let unwritten = try #require(run["unwritten"] as? [String: Any])
        let history = try #require((run["history"] as? [String: [[String: Any]]])?["loss"])
        #expect(history.count + (unwritten["steps"] as? Int ?? -1) == 200_000)
        #expect(unwritten["values"] as? Int == (200_000 - history.count) * 3)
    }

    @Test("a changed byte in the middle of the metric file: the rest reads back, the damage is named (not a crash)")
    func corruptedMiddle() throws {
        let (id, folder, _) = try logFixture(["--project", "flip", "--steps", "20000"])
        let path = folder + "/metrics.tipilog"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let run = try #require(try json(["runs", "show", id, "--json"]) as? [String: Any])
        let damage = try #require(run["metricFile"] as? [String: Any])
        #expect(damage["skippedRecords"] as? Int == 1)
        #expect(damage["tornTailBytes"] as? Int == 0)
        let loss = try #require((run["history"] as? [String: [[String: Any]]])?["loss"])
        #expect(loss.count > 15_000 && loss.count < 20_000)
        #expect(loss.last?["step"] as? Int == 19_999, "the records after the damaged one were not read")
        let text = try tipiRun(["runs", "show", id]).standardOutput
        #expect(text.contains("1 damaged record"))
        #expect(!text.contains("unfinished write"))

        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: path))
        let torn = try tipiRun(["runs", "show", id]).standardOutput
        #expect(torn.contains("unfinished write"))
    }

    @Test("a deleted, corrupt or unreadable run.json: the run is listed as damaged with what can still be read")
    func damagedRuns() throws {
        let missing = try logFixture(["--project", "dmg", "--name", "missing", "--steps", "30"])
        let corrupt = try logFixture(["--project", "dmg", "--name", "corrupt", "--steps", "40"])
        let partial = try logFixture(["--project", "dmg", "--name", "partial", "--steps", "50"])
        let unreadable = try logFixture(["--project", "dmg", "--name", "unreadable", "--steps", "60"])
        try FileManager.default.removeItem(atPath: missing.folder + "/run.json")
        let original = try Data(contentsOf: URL(fileURLWithPath: corrupt.folder + "/run.json"))
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: corrupt.folder + "/run.json"))
        try Data(#"{"name": "partial-name", "project": "dmg"}"#.utf8).write(to: URL(fileURLWithPath: partial.folder + "/run.json"))
        try FileManager.default.removeItem(atPath: unreadable.folder + "/run.json")
        try FileManager.default.createDirectory(atPath: unreadable.folder + "/run.json", withIntermediateDirectories: false)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: store + "/dmg/README.txt"))

        let listed = try tipiRun(["runs", "--json"])
        #expect(listed.status == 0)
        #expect(listed.standardError.contains("README.txt: not a run folder"))
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]])
        #expect(runs.count == 4)
        let byID = Dictionary(runs.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for (run, reason, count) in [
            (missing, "run.json is missing", 30), (corrupt, "run.json is not valid (not JSON)", 40),
            (partial, "run.json is not valid (no field 'id')", 50), (unreadable, "run.json cannot be read (a folder, not a file)", 60),
        ] {
            let object = try #require(byID[run.id], "run \(run.id) vanished from the listing")
            #expect(object["status"] as? String == "damaged")
            #expect(object["damage"] as? String == reason)
            #expect((object["summary"] as? [String: [String: Any]])?["loss"]?["count"] as? Int == count)
            let show = try #require(try json(["runs", "show", run.id, "--json"]) as? [String: Any])
            #expect(((show["history"] as? [String: [Any]])?["loss"])?.count == count)
        }
        #expect(byID[partial.id]?["name"] as? String == "partial-name")
        let table = try tipiRun(["runs"]).standardOutput
        #expect(table.split(separator: "\n").filter { $0.contains("damaged") }.count == 4)
        let text = try tipiRun(["runs", "show", missing.id])
        #expect(text.status == 0)
        #expect(text.standardOutput.contains("status:     damaged"))
        #expect(text.standardOutput.contains("damaged:    run.json is missing"))
        let sync = try tipiRun(["runs", "sync", missing.id, "--to", "mlflow", "--uri", "http://127.0.0.1:9"])
        #expect(sync.status != 0)
        #expect(sync.standardError.contains("is damaged (run.json is missing); sync needs its run.json"))
        #expect(!FileManager.default.fileExists(atPath: missing.folder + "/run.json"), "sync wrote a guessed run.json")
    }

    @Test("a negative --limit is an error naming the option, not 'all runs' in silence")
    func negativeLimit() throws {
        let result = try tipiRun(["runs", "--limit=-3"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("--limit must be 0 (all runs) or more, not -3"))
    }

    @Test("names, projects and keys with escape sequences are printed escaped in every runs table")
    func hostileNames() throws {
        let name = "evil\u{1B}[2J\u{1B}]0;title\u{07}"
        let project = "proj\u{1B}[31m"
        let first = try logFixture(["--project", project, "--name", name, "--steps", "5", "--key", "k\u{202E}\u{1B}x"])
        _ = try logFixture(["--project", project, "--name", "plain", "--steps", "5"])
        #expect(first.result.status == 0, "\(first.result.standardError)")
        for arguments in [["runs"], ["runs", "show", first.id], ["runs", "compare", first.id, "plain"], ["runs", "plot", first.id, "loss"]] {
            let result = try tipiRun(arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
            let output = result.standardOutput + result.standardError
            #expect(!output.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, "\(arguments)")
            #expect(output.contains("\\u{1B}"), "\(arguments)")
        }
    }
}
