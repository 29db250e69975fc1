import Foundation
import Testing
@testable import TipiPipeline

enum DiffMode: String, Decodable, CaseIterable, Sendable { case fast, slow }

struct DiffSchedule: Decodable, Sendable {
    var warmup: Int
    var decay: Double
}

/// Every kind of parameter: scalars read straight from the table, others through `Decodable`, a permanence.
@PipelineProcess(constraints: ["epochs": .range(1...), "rate": .positive, "sizes": .range(0...10), "small": .range(...100)])
func diffTrain(
    epochs: Int = 3, rate: Double = 0.1, name: String = "run", shuffle: Bool = false, scale: Float = 1, seed: Int64 = 7,
    small: UInt8 = 1, mode: DiffMode = .fast, sizes: [Int] = [1, 2], schedule: DiffSchedule? = nil,
    output: URL = URL(fileURLWithPath: "out"), tag: String?, count: Int, data: Points
) {}

/// A default outside the declared range, and a permanence by type.
@PipelineProcess(constraints: ["level": .range(5...)])
func diffDefaults(level: Int = 1, flag: Bool = true, notes: Notes) {}

let differentialDefinition = PipelineDefinition(
    name: "differential", processes: #processes(diffTrain, diffDefaults, Cached.self), permanences: [Points.self, Notes.self])

/// The direct path (`make(params:)`, written by `@PipelineProcess`) against the `Decodable` path (`init(from:)`)
/// on random configs: the same processes, or the same problems in the same order.
@Suite("ProcessParams against Decodable")
struct ProcessParamsDifferentialTests {
    /// Values for each param, right and wrong (the wrong ones of every TOML type).
    static let values: [String: [String]] = [
        "epochs": ["5", "1", "0", "-3", "300", "\"3\"", "2.0", "2.5", "true", "[1]", "{ a = 1 }"],
        "rate": ["0.5", "-1.0", "0", "3", "\"x\"", "true", "nan", "inf"],
        "name": ["\"a\"", "\"\"", "3", "true", "[\"a\"]", "1979-05-27"],
        "shuffle": ["true", "false", "\"true\"", "1"],
        "scale": ["1.5", "1e39", "2", "\"x\"", "-inf"],
        "seed": ["9", "-9", "9223372036854775807", "1.0", "\"9\""],
        "small": ["3", "101", "255", "256", "-1", "1.5"],
        "mode": ["\"fast\"", "\"slow\"", "\"medium\"", "3"],
        "sizes": ["[1, 2]", "[]", "[1, \"a\"]", "[11, -1]", "3", "[1.5]", "[[1]]"],
        "schedule": [
            "{ warmup = 3, decay = 0.5 }", "{ warmup = 3 }", "{ warmup = 3, decay = 0.5, extra = 1 }", "{ warmup = \"x\", decay = 1 }",
            "{ warmup = 1, decay = 1, dcay = 2, wormup = 3 }", "3",
        ],
        "output": ["\"a/b\"", "\"http://example.com/x\"", "3"],
        "tag": ["\"t\"", "3", "[]"],
        "count": ["1", "-1", "\"1\""],
        "data": ["\"pts\"", "\"ptz\"", "\"notes\"", "\"other\"", "3"],
        "level": ["5", "4", "\"5\"", "7.5"],
        "flag": ["true", "0"],
        "notes": ["\"notes\"", "\"pts\"", "1"],
        // Hand-written `Cached`.
        "name?": ["\"c\"", "1"],
    ]
    static let params: [String: [String]] = [
        "diffTrain": ["epochs", "rate", "name", "shuffle", "scale", "seed", "small", "mode", "sizes", "schedule", "output", "tag", "count", "data"],
        "diffDefaults": ["level", "flag", "notes"],
        "Cached": ["name?"],
    ]
    static let extras = ["epoch", "rat", "zzz", "Name", "force", "type2", "levels", "notess", "nam"]

    static func config(_ random: inout SeededRandomNumberGenerator) -> String {
        var text = ""
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        if chance(85) { text += "[permanences.pts]\ntype = \"Points\"\nparams = { count = \(chance(90) ? "3" : "\"x\"") }\n" }
        if chance(20) { text += "[permanences.pts2]\ntype = \"Points\"\ncount = 4\n" }
        if chance(80) { text += "[permanences.notes]\ntype = \"Notes\"\nname = \"n\"\n" }
        for index in 0..<Int.random(in: 1...4, using: &random) {
            let type = ["diffTrain", "diffTrain", "diffDefaults", "Cached"].randomElement(using: &random)!
            var pairs: [(String, String)] = []
            for param in params[type]! where chance(60) {
                pairs.append((param.hasSuffix("?") ? String(param.dropLast()) : param, values[param]!.randomElement(using: &random)!))
            }
            if chance(25) { pairs.append((extras.randomElement(using: &random)!, ["1", "\"x\"", "{ y = 1 }"].randomElement(using: &random)!)) }
            if chance(5) { pairs.append(("zz\(Int.random(in: 0..<30, using: &random))", "1")) }
            pairs.shuffle(using: &random)
            text += "\n[processes.p\(index)]\ntype = \"\(type)\"\n"
            if chance(15) { text += "force = \(chance(70) ? "true" : "\"yes\"")\n" }
            switch Int.random(in: 0..<3, using: &random) {
            case 0: text += "params = { " + pairs.map { "\($0) = \($1)" }.joined(separator: ", ") + " }\n"
            case 1: text += pairs.map { "\($0) = \($1)\n" }.joined()
            default: text += "[processes.p\(index).params]\n" + pairs.map { "\($0) = \($1)\n" }.joined()
            }
        }
        return text
    }

    static func describe(_ built: BuiltPipeline) -> [String] {
        built.processes.map { entry in
            var text = "\(entry.key) \(entry.typeName) force=\(entry.force) "
            dump(entry.process, to: &text)
            return text
        }
    }

    @Test("random params give the same processes or the same problems either way")
    func randomConfigs() throws {
        var random = SeededRandomNumberGenerator(seed: 0x9A2A_4D5)
        var built = 0
        var failed = 0
        var problemCount = 0
        for _ in 0..<3000 {
            let text = Self.config(&random)
            guard let table = try? ConfigLoader.parse(text: text, file: "d.toml") else { continue }
            let direct = PipelineBuilder.build(table, definition: differentialDefinition)
            let decodable = PipelineBuilder.build(table, definition: differentialDefinition, throughDecodable: true)
            switch (direct, decodable) {
            case (.success(let a), .success(let b)):
                built += 1
                #expect(Self.describe(a) == Self.describe(b), "\(text)")
            case (.failure(let a), .failure(let b)):
                failed += 1
                problemCount += a.problems.count
                #expect(a.problems == b.problems, "\(text)")
                if a.problems != b.problems {
                    Issue.record("direct:\n\(a)\ndecodable:\n\(b)")
                    return
                }
            default:
                Issue.record("one path built, the other failed:\n\(text)\ndirect: \(direct)\ndecodable: \(decodable)")
                return
            }
        }
        // The generator reaches both outcomes, and many kinds of problems.
        #expect(built > 100)
        #expect(failed > 1000)
        #expect(problemCount > 3 * failed)
    }

    @Test("a missing required param, a wrong type and an unknown key, reported together")
    func knownProblems() throws {
        let text = """
            [permanences.pts]
            type = "Points"
            count = 1

            [processes.a]
            type = "diffTrain"
            epochs = "3"
            coutn = 2
            tag = "x"
            """
        let table = try ConfigLoader.parse(text: text, file: "k.toml")
        guard case .failure(let problems) = PipelineBuilder.build(table, definition: differentialDefinition) else {
            Issue.record("built")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "error[INS001]: k.toml:7:10: processes.a.params.epochs: expected Int (a whole number), found string \"3\"\n  help: remove the quotes: 3",
                "error[INS001]: k.toml:5:1: processes.a.params: missing required key 'count' (Int)\n  help: add count = … to this table",
                "error[INS001]: k.toml:8:9: processes.a.params.coutn: unknown param\n  help: did you mean `count`?",
            ])
    }
}
