import Foundation
import Testing
import TipiTestSupport

@testable import TipiPipeline

@Suite("Config files")
struct ConfigTests {
    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Configs")

    func build(_ text: String) -> Result<BuiltPipeline, ConfigProblems> {
        do {
            return PipelineBuilder.build(try ConfigLoader.parse(text: text, file: "test.toml"), definition: testDefinition)
        } catch {
            return .failure(error)
        }
    }

    @Test("both param forms, file order, locations, and integer → Double")
    func forms() throws {
        let text = """
            [permanences.data]
            type = "Points"
            params = { count = 7 }

            [processes.second]
            type = "fit"
            epochs = 5
            rate = 1

            [processes.first]
            type = "noop"
            """
        let table = try ConfigLoader.parse(text: text, file: "test.toml")
        #expect(table["processes"]?.table?.keys == ["second", "first"])
        #expect(table["processes"]?.table?["second"]?.table?["epochs"]?.location == SourceLocation(file: "test.toml", line: 7, column: 10))
        #expect(table["permanences"]?.table?["data"]?.table?["params"]?.table?["count"]?.location?.line == 3)
        let built = try build(text).get()
        #expect(built.processes.map(\.key) == ["second", "first"])
        let fit = try #require(built.processes[0].process as? fitProcess)
        #expect(fit.epochs == 5 && fit.rate == 1.0 && fit.data.count == 7)
    }

    @Test("the parser places keys in inline tables, quoted keys, and after multi-line arrays")
    func locator() throws {
        let text = """
            # comment with = sign
            [processes."odd key"]
            type = "noop"   # trailing
            list = [
              1, 2,  # inside
              3,
            ]
            inline = { a = 1, b = { c = "x,}" } }
            'literal' = 'text'
            """
        let table = try ConfigLoader.parse(text: text, file: "f")
        let process = try #require(table["processes"]?.table?["odd key"])
        #expect(process.location?.line == 2)
        #expect(process.table?["type"]?.location == SourceLocation(file: "f", line: 3, column: 8))
        #expect(process.table?["inline"]?.table?["b"]?.table?["c"]?.location == SourceLocation(file: "f", line: 8, column: 29))
        #expect(process.table?["inline"]?.table?["b"]?.table?["c"]?.stringValue == "x,}")
        #expect(process.table?["literal"]?.location?.line == 9)
        #expect(process.table?["list"]?.configValue == .array([.int(1), .int(2), .int(3)]))
    }

    @Test("--set overrides are typed like the file, and located on the command line")
    func overrides() throws {
        let base = try ConfigLoader.parse(text: "[processes.t]\ntype = \"fit\"\n[permanences.d]\ntype = \"Points\"\ncount = 1\n", file: "c.toml")
        let table = try ConfigLoader.apply(overrides: ["processes.t.params.epochs=9", "processes.t.params.rate=0.5", "permanences.d.count=4"], to: base)
        #expect(table["processes"]?.table?["t"]?.table?["params"]?.table?["epochs"] == .int(9, SourceLocation(file: "", line: 0, column: 0, override: "processes.t.params.epochs=9")))
        #expect(throws: ConfigProblems.self) { try ConfigLoader.apply(overrides: ["nonsense"], to: base) }
        #expect(throws: ConfigProblems.self) { try ConfigLoader.apply(overrides: ["processes.t.type.x=1"], to: base) }
    }

    @Test("every broken config gets its messages, all at once", arguments: [
        "unknown-type", "wrong-param-type", "unknown-param", "missing-type", "missing-param", "invalid-toml",
        "logger-conflict", "params-both-forms", "missing-permanence", "unknown-section", "not-a-table", "ambiguous-permanence",
    ])
    func brokenConfig(name: String) throws {
        let file = Self.configs.appendingPathComponent("\(name).toml").path
        var rendered: String
        do {
            let table = try ConfigLoader.load(file: file)
            switch PipelineBuilder.build(table, definition: testDefinition) {
            case .success: rendered = "valid"
            case .failure(let problems): rendered = problems.description
            }
        } catch {
            rendered = error.description
        }
        rendered = rendered.replacingOccurrences(of: Self.configs.path + "/", with: "")
        #expect(Snapshot.verify(rendered + "\n", named: "broken-\(name)") == nil)
    }

    @Test("Python tipi's config shape validates unchanged: flat keys, force, [pipeline] flags and logger tables")
    func pythonTipiConfig() throws {
        let text = """
            [pipeline]
            enable_progress = false  # Enable progress bars for pipeline execution
            enable_wandb = false     # Enable Weights & Biases logging
            enable_basic_logger = true
            [pipeline.basic_logger]
            log_dir = "runs/exp1"
            metrics_filename = "metrics.jsonl"
            log_level = "info"
            log_file = "runs/exp1/framework.log"

            [permanences]
            [permanences.data]
            type = "Points"
            count = 3

            [processes]
            [processes.load_data]
            type = "noop"
            force = false

            [processes.train]
            type = "fit"
            force = true
            epochs = 10
            rate = 0.001
            """
        let built = try build(text).get()
        #expect(built.settings.enableProgress == false)
        #expect(built.settings.backends == [.jsonl])
        #expect(built.settings.options.jsonlPath == "runs/exp1/metrics.jsonl")
        #expect(built.settings.ignored.sorted() == ["pipeline.basic_logger.log_file", "pipeline.basic_logger.log_level"])
        #expect(built.processes.map(\.force) == [false, true])
    }

    @Test("every [pipeline] logger selection")
    func loggers() throws {
        for (text, expected) in [
            ("logger = \"basic\"", [BackendKind.jsonl]), ("logger = \"TensorBoard\"", [.tensorboard]), ("logger = \"wandb\"", [.wandb]),
            ("logger = \"mlflow\"", [.mlflow]), ("enable_tensorboard = true", [.tensorboard]), ("enable_mlflow = true", [.mlflow]),
            ("logger = \"wandb\"\nenable_tensorboard = true", [.wandb]), ("", []),
        ] {
            let built = try build("[pipeline]\n\(text)\n[processes.p]\ntype = \"noop\"\n").get()
            #expect(built.settings.backends == expected, "\(text)")
        }
        let options = try build(
            """
            [pipeline]
            logger = "mlflow"
            [pipeline.mlflow]
            tracking_uri = "http://127.0.0.1:5055"
            experiment = "exp"
            [pipeline.tensorboard]
            log_dir = "tb"
            [pipeline.wandb]
            project = "ignored-because-mlflow-set-it"
            entity = "lab"
            [processes.p]
            type = "noop"
            """
        ).get().settings
        #expect(options.options.mlflowTrackingURI == "http://127.0.0.1:5055")
        #expect(options.options.tensorboardDirectory == "tb")
        #expect(options.project == "exp")
        #expect(options.ignored.contains("pipeline.wandb.entity"))
    }

    @Test("a file that is not UTF-8 is refused with the place of the first bad byte")
    func notUTF8() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("latin1-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("[processes.a]\ntype = \"noop\"\nname = \"caf".utf8 + [0xE9, 0x22, 0x0A]).write(to: file)
        #expect(throws: ConfigProblems.self) { try ConfigLoader.load(file: file.path) }
        do {
            _ = try ConfigLoader.load(file: file.path)
        } catch {
            #expect(error.problems.first?.code == "CFG002")
            #expect(error.problems.first?.location == SourceLocation(file: file.path, line: 3, column: 12))
        }
    }

    @Test("a huge or hostile value is echoed cut and escaped in messages, never whole")
    func hostileValues() throws {
        let huge = String(repeating: "x", count: 1_000_000)
        let built = build("[processes.t]\ntype = \"fit\"\nepochs = \"\(huge)\"\nrate = \"\\u001B[2J\"\n[permanences.d]\ntype = \"Points\"\ncount = 1\n")
        guard case .failure(let problems) = built else {
            Issue.record("expected problems")
            return
        }
        #expect(problems.description.count < 1000)
        #expect(problems.description.contains("found string \"xxxx"))
        #expect(!problems.description.contains("\u{1B}"))
        #expect(problems.description.contains("\\u{1B}[2J"))
    }

    @Test("a process key with control characters is refused, and printed escaped")
    func controlKeys() throws {
        let built = build("[processes.\"a\\u001B[31mred\"]\ntype = \"noop\"\n")
        guard case .failure(let problems) = built else {
            Issue.record("expected problems")
            return
        }
        #expect(problems.problems.first?.code == "CFG004")
        #expect(problems.description.contains("processes.a\\u{1B}[31mred: a process key cannot hold control characters"))
        #expect(!problems.description.contains("\u{1B}"))
    }

    @Test("200,000 unknown params or sections are checked in seconds; 20 are listed, the rest counted", .timeLimit(.minutes(1)))
    func manyUnknownKeys() throws {
        var text = "[permanences.d]\ntype = \"Points\"\ncount = 1\n[processes.t]\ntype = \"fit\"\n"
        for index in 0..<200_000 { text += "k\(index) = 1\n" }
        for index in 0..<200_000 { text += "[s\(index)]\n" }
        guard case .failure(let problems) = build(text) else {
            Issue.record("expected problems")
            return
        }
        #expect(problems.problems.count == 2 * (PipelineBuilder.maximumUnknownKeys + 1))
        #expect(problems.problems.contains { $0.message == "199980 more unknown params (not listed)" })
        #expect(problems.problems.contains { $0.message == "199980 more unknown sections (not listed)" })
        #expect(problems.problems.first { $0.path == "processes.t.params.k19" }?.location?.line == 25)
    }

    @Test("numbers that do not fit their parameter: a clear message, never a silent infinity or a wrong hint")
    func numbersThatDoNotFit() throws {
        let base = "[permanences.d]\ntype = \"Points\"\ncount = 1\n[processes.t]\ntype = \"fit\"\n"
        guard case .failure(let quoted) = build(base + "epochs = \"99999999999999999999\"\n") else {
            Issue.record("expected problems")
            return
        }
        #expect(quoted.problems.first?.help?.contains("too large for an integer") == true)
        #expect(quoted.problems.first?.help?.contains("remove the quotes") == false)
        guard case .failure(let quotedInt) = build(base + "epochs = \"12\"\n") else {
            Issue.record("expected problems")
            return
        }
        #expect(quotedInt.problems.first?.help == "remove the quotes: 12")
        let decoder = ConfigDecoder(node: .double(1e300, SourceLocation(file: "f", line: 1, column: 5)), path: ["x"])
        #expect(throws: ConfigProblem.self) { _ = try decoder.decode(Float.self) }
        let infinity = ConfigDecoder(node: .double(.infinity, nil), path: ["x"])
        #expect(try infinity.decode(Float.self) == .infinity)
    }
}
