import Foundation
import Testing
@testable import TipiPipeline
import TipiTestSupport

/// A permanence whose init(from:) would stop the program on a negative count, as SpiralData's does.
final class Sized: Permanence, @unchecked Sendable {
    static var constraints: [String: ParameterConstraint] { ["count": .range(1...)] }
    let count: Int
    let sizes: [Int]

    enum CodingKeys: String, CodingKey { case count }

    required init(from decoder: any Decoder) throws {
        count = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .count)
        sizes = (0..<count).map { $0 }  // traps when count < 0
    }
}

@PipelineProcess(constraints: ["epochs": .range(1...), "rate": .range(0..<1), "weights": .nonNegative, "limit": .range(...10)])
func bounded(epochs: Int = 3, rate: Double = 0.5, weights: [Double] = [], limit: Int? = nil, data: Sized) {}

@PipelineProcess(constraints: ["size": .range(1...)])
func badDefault(size: Int = 0) {}

/// Written by hand: its constraints are a static property.
struct HandWritten: PipelineProcess {
    static var constraints: [String: ParameterConstraint] { ["quality": .range(0...1)] }
    var quality: Double
    func run() async throws {}
}

let constraintDefinition = PipelineDefinition(
    name: "constraints", processes: #processes(bounded, badDefault, HandWritten.self), permanences: [Sized.self])

@Suite("Parameter constraints")
struct ConstraintTests {
    func problems(_ text: String, overrides: [String] = []) throws -> [String] {
        let table = try ConfigLoader.apply(overrides: overrides, to: try ConfigLoader.parse(text: text, file: "c.toml"))
        switch PipelineBuilder.build(table, definition: constraintDefinition) {
        case .success: return []
        case .failure(let problems): return problems.problems.map(\.description)
        }
    }

    @Test("every value out of range is reported at once, located, with the range; a permanence is not made with one")
    func outOfRange() throws {
        let found = try problems(
            """
            [permanences.data]
            type = "Sized"
            count = -3

            [processes.training]
            type = "bounded"
            params = { epochs = 0, rate = 1, weights = [1, -2.5], limit = 11 }

            [processes.hand]
            type = "HandWritten"
            quality = 1.5

            [processes.defaults]
            type = "badDefault"
            """)
        #expect(
            found == [
                "error[INS001]: c.toml:3:9: permanences.data.params.count: -3 is out of range: must be ≥ 1\n  help: write a value ≥ 1",
                "error[INS001]: c.toml:7:21: processes.training.params.epochs: 0 is out of range: must be ≥ 1\n  help: write a value ≥ 1",
                "error[INS001]: c.toml:7:31: processes.training.params.rate: 1 is out of range: must be in 0..<1\n  help: write a value in 0..<1",
                "error[INS001]: c.toml:7:48: processes.training.params.weights: -2.5 is out of range: must be ≥ 0\n  help: write a value ≥ 0",
                "error[INS001]: c.toml:7:63: processes.training.params.limit: 11 is out of range: must be ≤ 10\n  help: write a value ≤ 10",
                "error[PERMA002]: c.toml:7:10: processes.training.params.data: needs permanence 'data' (Sized), which could not be created (see its problem above)",
                "error[INS001]: c.toml:11:11: processes.hand.params.quality: 1.5 is out of range: must be in 0…1\n  help: write a value in 0…1",
                "error[INS001]: c.toml:13:1: processes.defaults.params.size: the default 0 is out of range: must be ≥ 1\n  help: set size to a value ≥ 1 in the config",
            ])
    }

    @Test("--set values are range-checked and located on the command line; nan is never in range; valid values pass")
    func overrides() throws {
        let text = "[permanences.data]\ntype = \"Sized\"\ncount = 3\n[processes.training]\ntype = \"bounded\"\n"
        #expect(try problems(text) == [])
        #expect(
            try problems(text, overrides: ["processes.training.params.epochs=-1", "processes.training.params.rate=nan"]) == [
                "error[INS001]: --set processes.training.params.epochs=-1: processes.training.params.epochs: -1 is out of range: must be ≥ 1\n  help: write a value ≥ 1",
                "error[INS001]: --set processes.training.params.rate=nan: processes.training.params.rate: nan is out of range: must be in 0..<1\n  help: write a value in 0..<1",
            ])
        #expect(try problems(text, overrides: ["processes.training.params.epochs=1", "processes.training.params.rate=0", "processes.training.params.limit=10"]) == [])
    }

    @Test("ranges in words, and membership at the bounds")
    func ranges() {
        #expect(ParameterConstraint.range(1...).description == "≥ 1")
        #expect(ParameterConstraint.positive.description == "> 0")
        #expect(ParameterConstraint.range(0...10).description == "in 0…10")
        #expect(ParameterConstraint.range(0..<0.5).description == "in 0..<0.5")
        #expect(ParameterConstraint.range(..<2).description == "< 2")
        #expect(ParameterConstraint(minimum: 0, excludesMinimum: true, maximum: 1).description == "> 0 and ≤ 1")
        #expect(ParameterConstraint.positive.contains(0) == false && ParameterConstraint.positive.contains(1e-9))
        #expect(ParameterConstraint.range(0...1).contains(1) && !ParameterConstraint.range(0..<1).contains(1))
        #expect(!ParameterConstraint.range(0...).contains(.nan) && !ParameterConstraint.range(...5).contains(.infinity))
    }

    @Test("the level-5 example refuses epochs=-1 (which used to stop it) and a negative data-set size, before running")
    func level5() throws {
        let binary = try #require(Executables.path(of: "Level5"), "Level5 was not built: run `swift build`")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = root.appendingPathComponent("Examples/Level5/configs/pipeline.toml").path
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("constraints-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: store) }
        let result = try Executables.run(
            binary,
            [
                "run", config, "--set", "processes.training.params.epochs=-1", "--set", "permanences.data.params.classes=-2",
                "--set", "processes.training.params.learningRate=0",
            ],
            environment: ["TIPI_DIR": store, "TIPI_PROGRESS": "off"])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.signal == nil)
        #expect(result.standardError.contains("processes.training.params.epochs: -1 is out of range: must be ≥ 1"))
        #expect(result.standardError.contains("permanences.data.params.classes: -2 is out of range: must be ≥ 1"))
        #expect(result.standardError.contains("processes.training.params.learningRate: 0 is out of range: must be > 0"))
        #expect(!result.standardOutput.contains("training on"))
    }
}
