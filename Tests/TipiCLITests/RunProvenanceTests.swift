import Foundation
import Testing
import TipiTestSupport

/// Runs that describe themselves: what `tipi runs show [--json]` says about a pipeline run and a level-2
/// script's run — the pipeline, the device (and why the CPU), the command, git, host, OS, Swift and the
/// package versions — on real processes.
@Suite("What a run records about itself")
struct RunProvenanceTests {
    let scratch = ScratchFolder(label: "provenance")
    var folder: URL { scratch.url }
    var runs: String { folder.appendingPathComponent("runs").path }
    /// The package root (it has a Package.resolved once `swift build` resolved it).
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func executable(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build`")
    }

    func show(_ id: String, json: Bool = false, in directory: String? = nil) throws -> Executables.Result {
        try Executables.run(
            try executable("tipi"), ["runs", "show", id] + (json ? ["--json"] : []), environment: ["TIPI_DIR": runs],
            workingDirectory: directory)
    }

    func object(_ result: Executables.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardError)")
    }

    func onlyRun(_ project: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: runs + "/" + project)
        return String(try #require(names.first).split(separator: "-").last ?? "")
    }

    @Test("a failed pipeline run: each process's status, time and error; the CPU and why; command, OS, Swift, packages; git of the package")
    func pipeline() throws {
        // Every GPU nearly full: getDevice() in `train` falls back to the CPU, and the run says why.
        let fake = try FakeNvidiaSMI(output: "0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920, 81000, 920, 99")
        let path = try scratch.write(
            "fail.toml",
            """
            [permanences.data]
            type = "Dataset"
            size = 10

            [processes.training]
            type = "train"
            params = { epochs = 1 }

            [processes.boom]
            type = "explode"
            message = "GPU fell off"

            [processes.after]
            type = "ping"
            """)
        let environment = [
            "TIPI_DIR": runs, "TIPI_PROGRESS": "off", "TIPI_NVIDIA_SMI": fake.path, "TIPI_NVML": "0", "TIPI_NVIDIA_SMI_TIMEOUT": "60",
            "TIPI_CLAIMS_DIR": folder.appendingPathComponent("claims").path,
        ]
        let result = try Executables.run(
            try executable("TipiPipelineFixture"), ["run", path, "--set", "processes.training.params.learningRate=0.5"],
            environment: environment, workingDirectory: folder.path)
        #expect(result.status == 1)
        let id = try onlyRun("fixture")

        let text = try show(id).standardOutput
        #expect(text.contains("pipeline fixture\n  config:  \(path)\n  --set    processes.training.params.learningRate=0.5\n"))
        let rows = text.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix("  training  train    completed  ") })
        #expect(rows.contains { $0.hasPrefix("  boom      explode  failed     0s    GPU fell off") })
        #expect(rows.contains { $0.hasPrefix("  after     ping     pending    -") })
        #expect(rows.contains { $0.hasPrefix("device:     cpu ") && $0.contains(" — every GPU has more than 80% of its memory in use") })
        #expect(rows.contains { $0.hasPrefix("built with: Swift 6.") && $0.contains(", on Linux ") })
        #expect(rows.contains { $0.hasPrefix("packages:   ") && $0.contains("swift-log ") })
        #expect(rows.contains { $0 == "  processes.training.params.learningRate = 0.5    (--set processes.training.params.learningRate=0.5)" })
        #expect(rows.contains { $0 == "  processes.training.params.epochs = 1    (file \(path):7:21)" })
        #expect(rows.contains { $0 == "  processes.training.params.optimizer = sgd    (default)" })

        let json = try object(try show(id, json: true))
        let pipeline = try #require(json["pipeline"] as? [String: Any])
        let processes = try #require(pipeline["processes"] as? [[String: Any]])
        #expect(processes.map { $0["status"] as? String } == ["completed", "failed", "pending"])
        #expect(processes[1]["error"] as? String == "GPU fell off")
        #expect((processes[0]["seconds"] as? Double).map { $0 >= 0 } == true)
        #expect((json["device"] as? [String: Any])?["kind"] as? String == "cpu")
        #expect((json["deviceFallback"] as? String)?.hasPrefix("every GPU has more than 80% of its memory in use") == true)
        #expect((json["command"] as? [String])?.suffix(4) == ["run", path, "--set", "processes.training.params.learningRate=0.5"])
        #expect(json["workingDirectory"] as? String == folder.path)
        // The working directory is in no repository: the git state is the program's package's.
        let git = try #require(json["git"] as? [String: Any])
        #expect(git["directory"] as? String == Self.package.path)
        #expect((git["commit"] as? String)?.count == 40)
        #expect((json["host"] as? String)?.isEmpty == false)
        #expect((json["os"] as? String)?.hasPrefix("Linux ") == true)
        #expect((json["swiftVersion"] as? String)?.hasPrefix("6.") == true)
        #expect(json["packagesFile"] as? String == Self.package.appendingPathComponent("Package.resolved").path)
        let packages = try #require(json["packages"] as? [String: String])
        #expect(packages["swift-log"]?.split(separator: ".").count == 3)
        #expect((json["config_sources"] as? [String: String])?["processes.boom.params.message"] == "file \(path):11:11")
        #expect(json["resumed_from"] == nil)
    }

    @Test("runs compare compares like with like: the flat and the params form, a default and the same value written")
    func compare() throws {
        let fixture = try executable("TipiPipelineFixture")
        let configs = [
            "[processes.a]\ntype = \"announce\"\ncount = 1\n",  // flat form, the default written out
            "[processes.a]\ntype = \"announce\"\nparams = {}\n",  // params form, the default left alone
        ]
        var ids: [String] = []
        for (index, text) in configs.enumerated() {
            let path = try scratch.write("compare-\(index).toml", text)
            let result = try Executables.run(fixture, ["run", path], environment: ["TIPI_DIR": runs, "TIPI_PROGRESS": "off"])
            #expect(result.status == 0, "\(result.standardError)")
            let names = try FileManager.default.contentsOfDirectory(atPath: runs + "/fixture")
            ids.append(try #require(names.map { String($0.split(separator: "-").last ?? "") }.first { !ids.contains($0) }))
        }
        let compared = try Executables.run(
            try executable("tipi"), ["runs", "compare"] + ids + ["--json"], environment: ["TIPI_DIR": runs])
        let json = try object(compared)
        #expect((json["configDifferences"] as? [String: Any])?.isEmpty == true, "\(compared.standardOutput)")
        #expect((json["configSame"] as? [String: Any])?["processes.a.params.count"] as? Int == 1)
        // `tipi runs --json`: the config stays a plain table; where each value came from is beside it.
        let listed = try Executables.run(try executable("tipi"), ["runs", "--json"], environment: ["TIPI_DIR": runs])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]])
        let sources = objects.compactMap { ($0["config_sources"] as? [String: String])?["processes.a.params.count"] }
        #expect(Set(sources) == ["file \(scratch.path)/compare-0.toml:3:9", "default"])
        #expect(objects.allSatisfy { (($0["config"] as? [String: Any])?["processes"] as? [String: Any]) != nil })
    }

    @Test("a level-2 script's run records its command, working directory, git state, OS and packages at start")
    func script() throws {
        // Run from inside this package's git repository: the commit is recorded.
        let result = try Executables.run(
            try executable("TipiFixture"), ["log", "--steps", "3"], environment: ["TIPI_DIR": runs], workingDirectory: Self.package.path)
        #expect(result.status == 0, "\(result.standardError)")
        let json = try object(try show(try onlyRun("fixture"), json: true))
        #expect((json["command"] as? [String])?.suffix(3) == ["log", "--steps", "3"])
        #expect(json["workingDirectory"] as? String == Self.package.path)
        let git = try #require(json["git"] as? [String: Any], "the package is a git checkout")
        #expect((git["commit"] as? String)?.count == 40)
        #expect(git["directory"] as? String == Self.package.path)
        #expect(git["dirty"] is Bool)
        #expect((json["os"] as? String)?.hasPrefix("Linux ") == true)
        #expect((json["packages"] as? [String: String])?["swift-log"] != nil)
        #expect(json["pipeline"] == nil)

        // The same program outside any package and repository: no git state, no packages, and no error.
        let copy = folder.appendingPathComponent("alone/TipiFixture").path
        try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("alone").path, withIntermediateDirectories: true)
        // Copied by cp(1): a file this process held open for writing could leak into a child another test
        // spawns meanwhile, and executing it would then fail with ETXTBSY.
        #expect(try Executables.run("/bin/cp", [try executable("TipiFixture"), copy]).status == 0)
        let alone = try Executables.run(copy, ["log", "--steps", "1", "--project", "alone"], environment: ["TIPI_DIR": runs], workingDirectory: folder.path)
        #expect(alone.status == 0, "\(alone.standardError)")
        let lonely = try object(try show(try onlyRun("alone"), json: true))
        #expect(lonely["git"] == nil)
        #expect(lonely["packages"] == nil)
        #expect(lonely["packagesFile"] == nil)
        #expect((lonely["os"] as? String)?.isEmpty == false)
    }
}
