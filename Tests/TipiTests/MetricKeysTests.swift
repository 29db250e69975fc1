import Foundation
import Testing

@testable import Tipi

/// The typed fast path, `log(MetricKeys, values…)`: the same rows as `log([…])`, by the same rules.
@Suite("Logging with prepared keys (MetricKeys)")
struct MetricKeysTests {
    @Test("the same history as dictionaries, mixed value types, shared with the dictionary path's keys")
    func sameAsDictionaries() throws {
        let keys = MetricKeys("loss", "acc", "correct", "improved")
        let typed = try startRun(temporaryStore())
        let plain = try startRun(temporaryStore())
        for step in 0..<1000 {
            let loss = Float(1) / Float(step + 1)
            typed.log(keys, loss, Double(step) / 1000, step * 2, step % 2 == 0)
            if step % 100 == 0 { typed.log(["loss": 5]) }
            plain.log(["loss": Double(loss), "acc": Double(step) / 1000, "correct": Double(step * 2), "improved": step % 2 == 0 ? 1 : 0])
            if step % 100 == 0 { plain.log(["loss": 5]) }
        }
        typed.finish()
        plain.finish()
        let typedRows = try rows(typed)
        let plainRows = try rows(plain)
        #expect(typedRows.count == 1010)
        #expect(typedRows.map(\.0) == plainRows.map(\.0))
        #expect(typedRows.map(\.1) == plainRows.map(\.1))
        #expect(typed.metadata.summary == plain.metadata.summary)
    }

    @Test("step and commit follow W&B's rules, exactly as with dictionaries")
    func stepsAndCommit() throws {
        let keys = MetricKeys("a", "b")
        let typed = try startRun(temporaryStore())
        typed.log(keys, 1.0, 2.0, commit: false)
        typed.log(MetricKeys("c"), 3.0)
        typed.log(keys, 4.0, 5.0, step: 10)
        typed.log(keys, 6.0, 7.0, step: 10)
        typed.log(keys, 8.0, 9.0, step: 3)
        typed.log(keys, 0.5, 0.25)
        typed.log(keys, 1.5, 2.5)
        typed.finish()
        let plain = try startRun(temporaryStore())
        plain.log(["a": 1, "b": 2], commit: false)
        plain.log(["c": 3])
        plain.log(["a": 4, "b": 5], step: 10)
        plain.log(["a": 6, "b": 7], step: 10)
        plain.log(["a": 8, "b": 9], step: 3)
        plain.log(["a": 0.5, "b": 0.25])
        plain.log(["a": 1.5, "b": 2.5])
        plain.finish()
        let result = try rows(typed)
        #expect(result.map(\.0) == [0, 10, 11])
        #expect(result.first?.1 == ["a": 1, "b": 2, "c": 3])
        #expect(result.map(\.0) == (try rows(plain)).map(\.0))
        #expect(result.map(\.1) == (try rows(plain)).map(\.1))
        #expect(typed.metadata.droppedSteps == 1)
    }

    @Test("a name given twice keeps the last value; bad names are refused, good ones kept")
    func repeatsAndBadNames() throws {
        let run = try startRun(temporaryStore())
        run.log(MetricKeys("x", "y", "x"), 1.0, 2.0, 3.0)
        for _ in 0..<3 { run.log(MetricKeys("", "_step", "ok", "a\nb"), 1.0, 2.0, 3.0, 4.0) }
        run.finish()
        let result = try rows(run)
        #expect(result.map(\.1) == [["x": 3, "y": 2], ["ok": 3], ["ok": 3], ["ok": 3]])
    }

    @Test("more or fewer values than keys: the call is ignored, nothing is mislabelled")
    func countMismatch() throws {
        let run = try startRun(temporaryStore())
        let keys = MetricKeys("a", "b")
        run.log(keys, 1.0)
        run.log(keys, 1.0, 2.0, 3.0)
        run.log(keys, 4.0, 5.0)
        run.finish()
        #expect(try rows(run).map(\.1) == [["a": 4, "b": 5]])
    }

    @Test("keys prepared once serve any number of runs, each with its own key ids")
    func keysAcrossRuns() throws {
        let keys = MetricKeys("p", "q")
        for index in 0..<3 {
            let run = try startRun(temporaryStore())
            run.log(["other\(index)": 1])
            run.log(keys, Double(index), Double(index) + 0.5)
            run.finish()
            #expect(try rows(run).map(\.1) == [["other\(index)": 1], ["p": Double(index), "q": Double(index) + 0.5]])
        }
        #expect(keys == MetricKeys(["p", "q"]))
    }

    @Test("the example of docs/tracking.md, through the global logger, logs what it says")
    func docsExample() throws {
        let run = try startRun(temporaryStore())
        let steps = 100
        withPipelineContext(PipelineContext(run: run)) {
            let keys = MetricKeys("loss", "acc", "lr")
            for step in 0..<steps {
                let loss = Float(1) / Float(step + 1), acc = Double(step) / Double(steps)
                logger.log(keys, loss, acc, 0.001)          // any MetricValue types, one per key
            }
        }
        run.finish()
        let result = try rows(run)
        #expect(result.count == 100)
        #expect(result.last?.0 == 99)
        #expect(result.last?.1 == ["loss": Double(Float(1) / Float(100)), "acc": 0.99, "lr": 0.001])
    }
}
