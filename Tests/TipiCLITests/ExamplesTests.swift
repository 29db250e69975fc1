import Foundation
import Testing
import TipiTestSupport

/// The examples keep the seed's promise: the same `train` from level 3 to level 5, small steps before.
@Suite("Examples: the five levels")
struct ExamplesTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples")
    static let files = [
        "Level0/main.swift", "Level1/main.swift", "Level2/main.swift", "Level3/main.swift", "Level4/main.swift", "Level5/Spirals.swift",
    ]

    static func source(_ level: Int) throws -> [String] {
        try String(contentsOf: examples.appendingPathComponent(files[level]), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The `train` function: its signature line and body, up to its closing brace.
    static func train(_ level: Int) throws -> (signature: String, body: [String]) {
        let lines = try source(level)
        let start = try #require(lines.firstIndex { $0.hasPrefix("func train(") })
        let end = try #require(lines[start...].firstIndex { $0 == "}" })
        return (lines[start], Array(lines[(start + 1)..<end]))
    }

    /// Lines of `new` that are not in the longest common subsequence with `old` (comments ignored).
    static func addedLines(_ old: [String], _ new: [String]) -> [String] {
        let a = old.filter { !$0.hasPrefix("//") }
        let b = new.filter { !$0.hasPrefix("//") }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var added: [String] = []
        var i = 0
        var j = 0
        while j < b.count {
            if i < a.count, a[i] == b[j] {
                i += 1
                j += 1
            } else if i < a.count, table[i + 1][j] >= table[i][j + 1] {
                i += 1
            } else {
                added.append(b[j])
                j += 1
            }
        }
        return added
    }

    @Test("train is byte-for-byte the same function at levels 3, 4 and 5; level 4 only adds the attribute")
    func sameBody() throws {
        let three = try Self.train(3)
        for level in [4, 5] {
            let other = try Self.train(level)
            #expect(other.signature == three.signature, "level \(level)")
            #expect(other.body == three.body, "level \(level)")
            let lines = try Self.source(level)
            let index = try #require(lines.firstIndex(of: three.signature))
            #expect(lines[index - 1].hasPrefix("@PipelineProcess"))
        }
        #expect(three.body.contains { $0.contains("progressBar(") } && three.body.contains { $0.contains("logger.log(") })
        #expect(three.body.contains { $0.contains("deviceManager.getDevice()") })
    }

    @Test("each level from 0 to 3 changes the program by a few lines, as in the seed's table")
    func smallSteps() throws {
        let one = Self.addedLines(try Self.source(0), try Self.source(1))
        #expect(one.count == 3, "\(one)")  // import Tipi + two loops wrapped in progressBar
        #expect(one.filter { $0.contains("progressBar(") }.count == 2)
        let two = Self.addedLines(try Self.source(1), try Self.source(2))
        #expect(two.count == 3, "\(two)")  // logger.start, logger.log, logger.finish
        let three = Self.addedLines(try Self.source(2), try Self.source(3))
        #expect(three.count == 2, "\(three)")  // deviceManager.getDevice() and using it
        let trainChanges = Self.addedLines(try Self.train(0).body, try Self.train(3).body)
        #expect(trainChanges.count <= 5, "\(trainChanges)")
    }

    func binary(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build`")
    }

    @Test("levels 0 to 4 run and learn", arguments: 0...4)
    func levels(level: Int) throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("examples-\(UUID().uuidString)").path
        let result = try Executables.run(
            try binary("Level\(level)"), ["25"], environment: ["TIPI_DIR": store, "TIPI_PROGRESS": "plain"])
        #expect(result.status == 0, "\(result.standardError)")
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("final accuracy: ") })
        let accuracy = try #require(Double(line.dropFirst("final accuracy: ".count)))
        #expect(accuracy > 0.6, "accuracy \(accuracy) after 25 epochs")
    }

    @Test("level 5: the pipeline runs with --set, records the run, its loss falls, TensorBoard is written")
    func level5() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("examples-\(UUID().uuidString)")
        let config = Self.examples.appendingPathComponent("Level5/configs/pipeline.toml").path
        let result = try Executables.run(
            try binary("Level5"), ["run", config, "--set", "processes.training.params.epochs=25"],
            environment: ["TIPI_DIR": folder.path, "TIPI_PROGRESS": "plain"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("final metrics: accuracy="))
        #expect(result.standardOutput.contains("TensorBoard:   tensorboard --logdir \(folder.path)"))
        let runLine = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") })
        let id = String(runLine.split(separator: " ")[1])
        let show = try Executables.run(try binary("tipi"), ["runs", "show", id, "--json"], environment: ["TIPI_DIR": folder.path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
        let history = try #require(object["history"] as? [String: [[String: Any]]])
        let losses = try #require(history["loss"]).compactMap { $0["value"] as? Double }
        #expect(losses.count == 25)
        #expect(losses.last! < losses.first! * 0.8, "loss \(losses.first!) → \(losses.last!)")
        let accuracy = try #require(history["test/accuracy"]?.first?["value"] as? Double)
        #expect(accuracy > 0.6)
        let runFolder = try #require(object["folder"] as? String)
        #expect(try FileManager.default.contentsOfDirectory(atPath: runFolder).contains { $0.hasPrefix("events.out.tfevents.") })
    }
}

@Suite("Guides")
struct GuideTests {
    /// Every Swift block of the DocC articles is code from the compiled examples, so it compiles.
    @Test("the DocC articles show code from the compiled examples")
    func articles() throws {
        let root = ExamplesTests.examples.deletingLastPathComponent()
        let catalog = root.appendingPathComponent("Sources/Tipi/Tipi.docc")
        let examples = try ExamplesTests.files.map {
            try String(contentsOf: ExamplesTests.examples.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
        var checked = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: catalog.path) where file.hasPrefix("Level") {
            let text = try String(contentsOf: catalog.appendingPathComponent(file), encoding: .utf8)
            for block in text.components(separatedBy: "```swift\n").dropFirst() {
                let code = block.components(separatedBy: "```").first ?? ""
                #expect(examples.contains(code), "\(file): this block is not in the examples:\n\(code)")
                checked += 1
            }
        }
        #expect(checked >= 7)
    }
}
