import Foundation
import Testing

@testable import TipiPipeline

/// `--set KEY=VALUE`: every malformed override is a clear, located error; none is accepted and ignored.
@Suite("--set overrides")
struct ConfigOverrideTests {
    static let base = """
        [processes.training]
        type = "fit"
        [processes."odd key"]
        type = "noop"
        [permanences.data]
        type = "Points"
        count = 1
        """

    func problems(_ overrides: [String]) throws -> [ConfigProblem] {
        let table = try ConfigLoader.parse(text: Self.base, file: "c.toml")
        do {
            _ = try ConfigLoader.apply(overrides: overrides, to: table)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("malformed overrides: each is reported, all at once, with the argument and what was expected")
    func malformed() throws {
        let cases: [(String, String)] = [
            ("..=1", "empty key segment"),
            ("processes..training.type=1", "empty key segment"),
            ("processes.training.=1", "empty key segment"),
            ("=1", "expected a key"),
            ("nonsense", "no `=`"),
            ("processes.training.params.epochs=", "no value after `=`"),
            ("processes.training.params.epochs=99999999999999999999", "too large for an integer"),
            ("processes.training.params.epochs=-99999999999999999999", "too large for an integer"),
            ("processes.training.params.rate=1e999", "too large for a float"),
            ("processes.training.params.list=[1, 2", "not valid TOML"),
            ("processes.training.params.name=\"unclosed", "not valid TOML"),
            ("processes.training.params.t={a = }", "not valid TOML"),
            ("processes.trainin.params.epochs=3", "no process 'trainin'"),
            ("permanences.dta.count=3", "no permanence 'dta'"),
            ("processes.training.type.x=1", "not a table"),
            ("processes.tra ining.type=1", "not a dotted key"),
        ]
        let found = try problems(cases.map(\.0))
        #expect(found.count == cases.count)
        for ((override, words), problem) in zip(cases, found) {
            #expect(problem.code == "CFG005", "\(override)")
            #expect(problem.location?.override == override, "\(override)")
            #expect(problem.description.contains(words), "\(override): \(problem.description)")
        }
        #expect(found.first { $0.message.contains("'trainin'") }?.help == "did you mean `processes.training`?")
        #expect(found.first { $0.message.contains("'dta'") }?.help == "did you mean `permanences.data`?")
    }

    @Test("well-formed overrides: typed like the file, quoted keys, bare words as strings, new params")
    func accepted() throws {
        let table = try ConfigLoader.apply(
            overrides: [
                "processes.training.params.epochs=0x10", "processes.\"odd key\".note=hello world", "processes.training.params.name=2024-run",
                "processes.training.params.list=[1, 2.5]", "permanences.data.count = 4", "pipeline.enable_progress=false",
                "processes.training.params.when=1979-05-27",
            ],
            to: try ConfigLoader.parse(text: Self.base, file: "c.toml"))
        let training = table["processes"]?.table?["training"]?.table
        #expect(training?["params"]?.table?["epochs"]?.configValue == .int(16))
        #expect(training?["params"]?.table?["name"]?.configValue == .string("2024-run"))
        #expect(training?["params"]?.table?["list"]?.configValue == .array([.int(1), .double(2.5)]))
        #expect(training?["params"]?.table?["when"]?.typeName == "date")
        #expect(table["processes"]?.table?["odd key"]?.table?["note"]?.configValue == .string("hello world"))
        #expect(table["permanences"]?.table?["data"]?.table?["count"]?.configValue == .int(4))
        #expect(table["pipeline"]?.table?["enable_progress"]?.configValue == .bool(false))
    }
}
