import Foundation
import Testing
import TipiTestSupport

/// `tipi runs --columns/--where/--sort` on real runs.
@Suite("tipi runs --columns --where --sort")
struct RunsQueryTests {
    let fixture = DashboardStore()

    func rows(_ output: String) -> [[String]] {
        output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    }

    @Test("columns of config and metrics, conditions on them, sorted by a metric")
    func query() throws {
        try fixture.log(["--project", "q", "--name", "short", "--steps", "10"])
        try fixture.log(["--project", "q", "--name", "long", "--steps", "30"])
        try fixture.log(["--project", "q", "--name", "middle", "--steps", "20"])
        let table = try fixture.tipi(["runs", "--columns", "steps,optimizer,loss.max,eval/loss.min", "--sort", "-loss.max"])
        #expect(table.status == 0, "\(table.standardError)")
        let lines = rows(table.standardOutput)
        #expect(lines.first == ["NAME", "ID", "steps", "optimizer", "loss.max", "eval/loss.min"])
        #expect(lines.dropFirst().map { $0[0] } == ["long", "middle", "short"])
        #expect(lines[1][2...] == ["30", "adam", "29", "0.2"])
        let filtered = try fixture.tipi(["runs", "--columns", "loss", "--where", "loss.max<25, steps>=15", "--sort", "loss"])
        #expect(rows(filtered.standardOutput).dropFirst().map { $0[0] } == ["middle"])
        let words = try fixture.tipi(["runs", "--where", "name~or and optimizer=adam", "--sort", "name"])
        #expect(rows(words.standardOutput).dropFirst().map { $0[0] } == ["short"])
        let json = try fixture.tipi(["runs", "--json", "--where", "steps!=20", "--sort", "steps"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
        #expect(objects.map { $0["name"] as? String } == ["short", "long"])
        let none = try fixture.tipi(["runs", "--where", "loss.min>1000"])
        #expect(none.status == 0 && none.standardOutput.contains("that meet --where"))
    }

    @Test("a plain table and `--json --limit N` decode only the runs shown: the same rows as the whole listing's first ones")
    func newestRowsOnly() throws {
        for (index, name) in ["a", "</script>ü", "c\"q", "d", "e"].enumerated() {
            try fixture.log(["--project", index % 2 == 0 ? "p" : "q", "--name", name, "--steps", "\(index + 2)"])
        }
        // Name, id, project, status and the metrics (the age column moves with the clock).
        func stable(_ output: String) -> [[String]] {
            rows(output).filter { !$0.isEmpty && !$0[0].hasPrefix("(") }.map { Array($0.prefix(4)) + $0.suffix(1) }
        }
        let all = try fixture.tipi(["runs", "--limit", "0"])
        let three = try fixture.tipi(["runs", "--limit", "3"])
        #expect(all.status == 0 && three.status == 0, "\(three.standardError)")
        #expect(stable(three.standardOutput) == Array(stable(all.standardOutput).prefix(4)))
        #expect(stable(three.standardOutput).dropFirst().map { $0[0] } == ["e", "d", "c\"q"])
        #expect(three.standardOutput.hasSuffix("(2 older runs not shown; --limit 0 shows all)\n"))
        let allJSON = try #require(try JSONSerialization.jsonObject(with: Data(try fixture.tipi(["runs", "--json"]).standardOutput.utf8)) as? NSArray)
        let twoJSON = try #require(try JSONSerialization.jsonObject(with: Data(try fixture.tipi(["runs", "--json", "--limit", "2"]).standardOutput.utf8)) as? NSArray)
        #expect(allJSON.count == 5 && twoJSON.count == 2)
        #expect(twoJSON == NSArray(array: Array(allJSON.prefix(2))))
        let project = try fixture.tipi(["runs", "--project", "p", "--limit", "1"])
        #expect(stable(project.standardOutput).dropFirst().map { $0[0] } == ["e"])
        #expect(project.standardOutput.contains("(2 older runs not shown"))
    }

    @Test(
        "bad expressions and unknown names: one line naming the option, what was expected, a suggestion; exit 1",
        arguments: [
            (["--where", "loss.max<<3"], "is not COLUMN OP VALUE"), (["--where", "loss.max"], "is not COLUMN OP VALUE"),
            (["--where", "a<1,,b>2"], "an empty condition"), (["--where", "<3"], "is not COLUMN OP VALUE"),
            (["--columns", "lr,,x"], "names separated by commas"), (["--sort", "-"], "give a column"),
            (["--sort", "los.max"], "did you mean 'loss.max'?"), (["--columns", "optimiser"], "did you mean 'optimizer'?"),
            (["--where", "stepz=3"], "did you mean 'steps'?"),
        ])
    func badInput(arguments: [String], expected: String) throws {
        try fixture.log(["--project", "q", "--name", "one", "--steps", "3"])
        let result = try fixture.tipi(["runs"] + arguments)
        #expect(result.status == 1, "\(arguments): \(result.status)")
        #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1)
    }
}
