import Foundation
import Testing
import TipiTestSupport

/// The conventions of `tipi` (as git, cargo and swift package have them), on the real executable: a run,
/// project or metric that is not there is an error (exit 1, one line, a suggestion), a bad option is a
/// usage error (exit 64); options are listed where they apply; runs can be named by a prefix of their name.
@Suite("tipi CLI conventions")
struct CLIConventionsTests {
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path
    let projects = FileManager.default.temporaryDirectory.appendingPathComponent("projects-\(UUID().uuidString)").path
    let cleanEnvironment = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR", "TIPI_PROJECTS_DIR"]

    var environment: [String: String] { ["TIPI_DIR": store, "TIPI_PROJECTS_DIR": projects] }

    func tipi(_ arguments: String...) throws -> Executables.Result {
        try tipi(arguments)
    }

    func tipi(_ arguments: [String]) throws -> Executables.Result {
        let path = try #require(Executables.path(of: "tipi"), "the tipi executable was not built: run `swift build`")
        return try Executables.run(path, arguments, environment: environment, removing: cleanEnvironment)
    }

    /// Records runs with the fixture (`name` → steps); returns their ids by name.
    func record(_ runs: [(name: String, steps: Int)], project: String = "conventions") throws -> [String: String] {
        let fixture = try #require(Executables.path(of: "TipiFixture"), "the TipiFixture executable was not built: run `swift build`")
        var ids: [String: String] = [:]
        for run in runs {
            let result = try Executables.run(
                fixture, ["log", "--project", project, "--name", run.name, "--steps", String(run.steps)],
                environment: environment, removing: cleanEnvironment)
            try #require(result.status == 0, "\(result.standardError)")
            let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") })
            ids[run.name] = String(line.split(separator: " ")[1])
        }
        return ids
    }

    /// Exit 1 and exactly `message` as the one line on standard error, nothing on standard output. The
    /// commands a message suggests (`` `tipi …` ``) name the tool as it can be run here: by its own path
    /// when `tipi` is not on PATH (see `ToolCommand`).
    func expectError(_ result: Executables.Result, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let tool = Executables.path(of: "tipi").map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? "tipi"
        let byPath = message.replacingOccurrences(of: "`tipi ", with: "`\(tool) ")
        #expect(result.status == 1, "exit \(result.status): \(result.standardError)", sourceLocation: sourceLocation)
        #expect(
            ["Error: \(message)\n", "Error: \(byPath)\n"].contains(result.standardError), "\(result.standardError)",
            sourceLocation: sourceLocation)
        #expect(result.standardOutput.isEmpty, sourceLocation: sourceLocation)
    }

    /// Exit 64 (a usage error), `message` as the first line, then the usage.
    func expectUsageError(_ result: Executables.Result, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 64, "exit \(result.status): \(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.hasPrefix("Error: \(message)\n"), "\(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.contains("\nUsage: tipi "), "\(result.standardError)", sourceLocation: sourceLocation)
    }

    @Test("a run, metric or project that is not there: exit 1, one line with a suggestion, no usage")
    func notFound() throws {
        let ids = try record([("alpha", 5), ("beta", 5)])
        let noRun = "no run 'alpah' in \(store); did you mean 'alpha'? (`tipi runs` lists the runs; TIPI_DIR selects the store)"
        for arguments in [
            ["show", "alpah"], ["show", "alpah", "--json"], ["compare", "beta", "alpah"], ["plot", "alpha", "alpah", "loss"],
            ["sync", "alpah", "--uri", "http://127.0.0.1:9", "--timeout", "1"],
        ] {
            expectError(try tipi(["runs"] + arguments), noRun)
        }
        expectError(
            try tipi("runs", "show", "zzz"),
            "no run 'zzz' in \(store) (`tipi runs` lists the runs; TIPI_DIR selects the store)")
        expectError(
            try tipi("runs", "plot", "alpha", "los"),
            "run alpha has no metric 'los'; did you mean 'loss'? (it has: eval/loss, loss, train/acc)")
        for json in [[], ["--json"]] {
            expectError(
                try tipi(["runs", "--project", "conventoins"] + json),
                "no runs of project 'conventoins' in \(store); did you mean 'conventions'? (projects: conventions)")
        }
        // Found runs still work, by id and by name.
        #expect(try tipi("runs", "show", try #require(ids["alpha"])).status == 0)
        #expect(try tipi("runs", "compare", "alpha", "beta").status == 0)

        let noProject = "no project 'nosuch' is linked (none are: `tipi add PATH` links one, `tipi create NAME` makes one)"
        for command in ["run", "validate", "inspect", "remove"] {
            expectError(try tipi(command, "nosuch"), noProject)
        }
        try FileManager.default.createDirectory(atPath: projects, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: projects + "/spirals", withDestinationPath: store)
        expectError(try tipi("remove", "spirls"), "no project 'spirls' is linked; did you mean 'spirals'? (`tipi list` shows them)")
        expectError(try tipi("run", "spirls"), "no project 'spirls' is linked; did you mean 'spirals'? (`tipi list` shows them)")
        // An empty store is no error: there is nothing to list yet.
        let empty = try Executables.run(
            try #require(Executables.path(of: "tipi")), ["runs", "--project", "x"],
            environment: ["TIPI_DIR": store + "-empty"], removing: cleanEnvironment)
        #expect(empty.status == 0)
        #expect(empty.standardOutput == "no runs in \(store)-empty for project x\n")
    }

    @Test("a mistyped command: one line with the nearest command, exit 64, no usage")
    func unknownCommand() throws {
        func expectUnknown(_ result: Executables.Result, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 64, "exit \(result.status): \(result.standardError)", sourceLocation: sourceLocation)
            #expect(result.standardError == "Error: \(message)\n", sourceLocation: sourceLocation)
        }
        let top = "(`tipi --help` lists the commands: create, add, list, run, sweep, validate, inspect, remove, clean, runs, sweeps, ui, report, devices, info, demo)"
        expectUnknown(try tipi("devcies"), "unknown command 'tipi devcies'; did you mean 'tipi devices'? \(top)")
        expectUnknown(try tipi("xyzzy", "--json"), "unknown command 'tipi xyzzy' \(top)")
        expectUnknown(
            try tipi("runs", "shwo", "alpha"),
            "unknown command 'tipi runs shwo'; did you mean 'tipi runs show'? (`tipi runs --help` lists the commands: list, show, compare, plot, sync, log)")
        expectUnknown(try tipi("ru\u{1B}[2J"), "unknown command 'tipi ru\\u{1B}[2J' \(top)")
        // Known commands, `help`, and values of options are not command names.
        #expect(try tipi("help", "runs").status == 0)
        #expect(try tipi("runs", "--limit", "3").status == 0)
        #expect(try tipi("runs", "list", "--project", "p").status == 0)
    }

    @Test("--dir that is not a folder is an error, not an empty store")
    func missingStore() throws {
        let missing = store + "-missing"
        let message = "--dir \(missing): no such folder; give the run store's folder (TIPI_DIR, or ./tipi-runs by default)"
        expectError(try tipi("runs", "--dir", missing), message)
        expectError(try tipi("runs", "show", "alpha", "--dir", missing), message)
        let file = store + "-file"
        try Data().write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        expectError(
            try tipi("runs", "compare", "a", "b", "--dir", file),
            "--dir \(file): a file, not a folder; give the run store's folder (TIPI_DIR, or ./tipi-runs by default)")
    }

    @Test("bad options stay usage errors (exit 64); negative numbers are read as values and refused clearly")
    func badOptions() throws {
        expectUsageError(try tipi("runs", "--limit", "-3"), "--limit must be 0 (all runs) or more, not -3")
        expectUsageError(try tipi("runs", "list", "--limit=-3"), "--limit must be 0 (all runs) or more, not -3")
        expectUsageError(
            try tipi("runs", "plot", "a", "loss", "--width", "-5"), "--width must be 20 to 400 characters, not -5 (for example --width 72)")
        expectUsageError(
            try tipi("runs", "plot", "a", "loss", "--height", "-1"), "--height must be 4 to 100 lines, not -1 (for example --height 16)")
        expectUsageError(
            try tipi("runs", "sync", "a", "--timeout", "-1"),
            "--timeout -1.0 is not a number of seconds from 0 to 86400 (for example --timeout 60)")
        expectUsageError(try tipi("devices", "--claim", "-1"), "--claim takes seconds from 0 to 3600, not -1.0")
        expectUsageError(try tipi("demo", "--epochs", "-2"), "--epochs must be 1 or more, not -2")
        expectUsageError(try tipi("demo", "--batches", "-2"), "--batches must be 1 or more, not -2")
        expectUsageError(
            try tipi("demo", "--batch-time", "-0.5"),
            "--batch-time must be seconds from 0 to 10, not -0.5 (for example --batch-time 0.02)")
        expectUsageError(try tipi("runs", "--limit", "many"), "The value 'many' is invalid for '--limit <limit>'")
        expectUsageError(try tipi("runs", "compare", "one"), "give at least two runs to compare")
    }

    @Test("runs --json honours --limit; the newest runs come first")
    func jsonLimit() throws {
        let ids = try record([("one", 2), ("two", 2), ("three", 2)])
        func names(_ result: Executables.Result) throws -> [String] {
            #expect(result.status == 0, "\(result.standardError)")
            let runs = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
            return runs.compactMap { $0["name"] as? String }
        }
        #expect(try names(try tipi("runs", "--json", "--limit", "1")) == ["three"])
        #expect(try names(try tipi("runs", "list", "--json", "--limit", "2")) == ["three", "two"])
        #expect(try names(try tipi("runs", "--json", "--limit", "0")) == ["three", "two", "one"])
        #expect(try names(try tipi("runs", "--json")) == ["three", "two", "one"])
        // The table stops at 30 runs by default; --json lists them all unless --limit says otherwise.
        _ = try record((0..<31).map { ("many-\($0)", 1) }, project: "many")
        #expect(try names(try tipi("runs", "--json", "--project", "many")).count == 31)
        let defaultTable = try tipi("runs", "--project", "many")
        #expect(defaultTable.standardOutput.split(separator: "\n").count == 1 + 30 + 1)
        #expect(defaultTable.standardOutput.hasSuffix("(1 older runs not shown; --limit 0 shows all)\n"))
        let table = try tipi("runs", "--limit", "1", "--project", "conventions")
        #expect(table.standardOutput.contains(try #require(ids["three"])))
        #expect(table.standardOutput.hasSuffix("(2 older runs not shown; --limit 0 shows all)\n"))
    }

    @Test("runs are found by a unique prefix of their name; an ambiguous prefix lists the candidates")
    func namePrefix() throws {
        let ids = try record([("hardy-otter-78", 3), ("happy-fox-1", 3), ("happy-cat-2", 3), ("happy-cat-2", 4)])
        let show = try tipi("runs", "show", "hardy", "--json")
        #expect(show.status == 0, "\(show.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
        #expect(object["id"] as? String == ids["hardy-otter-78"])
        // Two runs named happy-cat-2: the prefix names the newest of them, as the full name does.
        let cat = try tipi("runs", "show", "happy-c", "--json")
        let catObject = try #require(try JSONSerialization.jsonObject(with: Data(cat.standardOutput.utf8)) as? [String: Any])
        #expect(catObject["id"] as? String == ids["happy-cat-2"])
        #expect((catObject["summary"] as? [String: [String: Any]])?["loss"]?["count"] as? Int == 4)
        let catID = try #require(ids["happy-cat-2"])
        let foxID = try #require(ids["happy-fox-1"])
        let ambiguous = "'happy' matches several runs: \(catID) (happy-cat-2), \(foxID) (happy-fox-1); give more of the id or name"
        for arguments in [["show", "happy"], ["plot", "happy", "loss"]] {
            expectError(try tipi(["runs"] + arguments), ambiguous)
        }
        let plot = try tipi("runs", "plot", "hardy", "happy-f", "loss", "--width", "40", "--height", "4")
        #expect(plot.status == 0, "\(plot.standardError)")
        #expect(plot.standardOutput.contains("hardy-otter-78 (\(try #require(ids["hardy-otter-78"])))"))
    }

    @Test("runs compare: config differences, the keys the same in all wrapped, last/min/max per metric, --json")
    func compare() throws {
        let ids = try record([("alpha", 40), ("beta", 60)])
        let alpha = try #require(ids["alpha"])
        let beta = try #require(ids["beta"])
        let result = try tipi("runs", "compare", "alpha", "beta")
        #expect(result.status == 0, "\(result.standardError)")
        let a = "alpha (\(alpha))"
        let b = "beta (\(beta))"
        let pad = String(repeating: " ", count: max(a.count, b.count) - a.count)
        let padB = String(repeating: " ", count: max(a.count, b.count) - b.count)
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines == [
                "config differences",
                "       \(a)  \(b)",
                "steps  40\(String(repeating: " ", count: a.count - 2))  60",
                "",
                "same in all runs (3 keys)",
                "  keys=3, lr=0.01, optimizer=adam",
                "",
                "METRIC     RUN\(String(repeating: " ", count: max(a.count, b.count) - 3))  LAST  MIN  MAX",
                "eval/loss  \(a)\(pad)  39.2  0.2  39.2",
                "           \(b)\(padB)  59.2  0.2  59.2",
                "loss       \(a)\(pad)  39    0    39",
                "           \(b)\(padB)  59    0    59",
                "train/acc  \(a)\(pad)  39.1  0.1  39.1",
                "           \(b)\(padB)  59.1  0.1  59.1",
                "",
                "status    finished  finished",
                "duration  0s        0s",
                "",
            ])
        let json = try tipi("runs", "compare", "alpha", "beta", "--json")
        #expect(json.status == 0, "\(json.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.compactMap { $0["id"] as? String } == [alpha, beta])
        #expect(runs.compactMap { $0["status"] as? String } == ["finished", "finished"])
        #expect((object["configDifferences"] as? [String: [Int]])?["steps"] == [40, 60])
        let same = try #require(object["configSame"] as? [String: Any])
        #expect(same["keys"] as? Int == 3 && same["lr"] as? Double == 0.01 && same["optimizer"] as? String == "adam")
        #expect(same.count == 3)
        let metrics = try #require(object["metrics"] as? [String: [[String: Any]]])
        #expect(Set(metrics.keys) == ["loss", "train/acc", "eval/loss"])
        #expect(metrics["loss"]?.compactMap { $0["last"] as? Double } == [39, 59])
        #expect(metrics["loss"]?.compactMap { $0["min"] as? Double } == [0, 0])
        #expect(metrics["eval/loss"]?.compactMap { $0["max"] as? Double } == [39.2, 59.2])
        #expect(metrics["train/acc"]?.compactMap { $0["count"] as? Int } == [40, 60])
    }

    @Test("--version only at the top level; tipi runs --help shows the list options")
    func helpConventions() throws {
        let version = try tipi("--version")
        #expect(version.status == 0)
        #expect(version.standardOutput.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
        #expect(try tipi("--help").standardOutput.contains("  --version  "))
        for command in [["runs"], ["runs", "show"], ["runs", "compare"], ["devices"], ["remove"], ["list"]] {
            let help = try Executables.run(
                try #require(Executables.path(of: "tipi")), command + ["--help"], environment: environment, removing: cleanEnvironment)
            #expect(help.status == 0)
            #expect(!help.standardOutput.contains("--version"), "\(command) --help shows --version")
        }
        let runsHelp = try tipi("runs", "--help").standardOutput
        for option in ["--dir <dir>", "--project <project>", "--limit <limit>", "--json"] {
            #expect(runsHelp.contains(option), "tipi runs --help lacks \(option)")
        }
    }
}
