import Synchronization
import Testing
import TipiTestSupport

@testable import Tipi

@Suite("Wrapped sequences")
struct ProgressSequenceTests {
    @Test("yields exactly the same elements in the same order", arguments: [0, 1, 2, 17, 1000])
    func sameElements(count: Int) {
        let h = Harness()
        var generator = SystemRandomNumberGenerator()
        let values = (0..<count).map { _ in Int.random(in: -1000...1000, using: &generator) }
        let wrapped = withPipelineContext(PipelineContext(progress: h.display)) {
            Array(progressBar(values, desc: "Copy"))
        }
        #expect(wrapped == values)
        let strided = withPipelineContext(PipelineContext(progress: h.display)) {
            Array(progressBar(stride(from: 0, to: count, by: 3), desc: "Stride"))
        }
        #expect(strided == Array(stride(from: 0, to: count, by: 3)))
        let lazy = withPipelineContext(PipelineContext(progress: h.display)) {
            Array(progressBar(values.lazy.filter { $0 > 0 }.map { $0 * 2 }, desc: "Lazy"))
        }
        #expect(lazy == values.filter { $0 > 0 }.map { $0 * 2 })
        #expect(h.display.activeBarCount == 0)
    }

    @Test("a collection gives the total; total: overrides it; plain sequences have none")
    func totals() {
        let h = Harness()
        withPipelineContext(PipelineContext(progress: h.display)) {
            #expect(progressBar([1, 2, 3]).bar.total == 3)
            #expect(progressBar("héllo").bar.total == 5)
            #expect(progressBar(0..<10, total: 4).bar.total == 4)
            #expect(progressBar(sequence(first: 1) { $0 < 5 ? $0 + 1 : nil }).bar.total == nil)
        }
    }

    @Test("the count is exact at the end and after leaving the loop early")
    func counts() {
        let h = Harness()
        let bar = withPipelineContext(PipelineContext(progress: h.display)) { progressBar(0..<100, desc: "Count") }
        for value in bar where value == 49 { break }
        #expect(bar.bar.n == 49)
        let full = withPipelineContext(PipelineContext(progress: h.display)) { progressBar(0..<100, desc: "All") }
        for _ in full {}
        #expect(full.bar.n == 100)
        #expect(full.bar.isClosed)
    }

    @Test("AsyncSequence: same elements; a non-throwing stream needs no try")
    func asyncSequence() async {
        let h = Harness()
        let stream = AsyncStream<Int> { continuation in
            for value in 0..<250 { continuation.yield(value * 3) }
            continuation.finish()
        }
        var received: [Int] = []
        let wrapped = withPipelineContext(PipelineContext(progress: h.display)) {
            progressBar(stream, desc: "Stream", total: 250)
        }
        for await value in wrapped { received.append(value) }
        #expect(received == (0..<250).map { $0 * 3 })
        #expect(wrapped.bar.n == 250)
        #expect(wrapped.bar.isClosed)
    }

    @Test("AsyncSequence: errors of the base sequence come through")
    func asyncThrowing() async {
        struct Boom: Error {}
        let h = Harness()
        let stream = AsyncThrowingStream<Int, any Error> { continuation in
            continuation.yield(1)
            continuation.finish(throwing: Boom())
        }
        let wrapped = withPipelineContext(PipelineContext(progress: h.display)) { progressBar(stream) }
        var seen: [Int] = []
        await #expect(throws: Boom.self) {
            for try await value in wrapped { seen.append(value) }
        }
        #expect(seen == [1])
    }
}

@Suite("Concurrent use")
struct ProgressConcurrencyTests {
    @Test("eight tasks updating one bar lose no counts")
    func sharedBar() async {
        let h = Harness()
        let bar = ProgressBar(total: 80_000, desc: "Shared", display: h.display)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<10_000 { bar.update() }
                }
            }
            group.addTask {
                for _ in 0..<50 { h.tick(0.01) }
            }
        }
        #expect(bar.n == 80_000)
        bar.close()
    }

    @Test("bars created, drawn and closed from many tasks at once, with the real refresh thread")
    func manyBars() async {
        let terminal = FakeTerminal(columns: 90, isTerminal: true)
        let display = ProgressDisplay(output: terminal, mode: .tty, colors: true, refreshInterval: 0.01)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    let items = withPipelineContext(PipelineContext(progress: display)) {
                        progressBar(0..<2_000, desc: "Task \(task)")
                    }
                    for _ in items {
                        total.value.wrappingAdd(1, ordering: .relaxed)
                        if Int.random(in: 0..<500) == 0 { display.write("task \(task) says hi") }
                    }
                }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 32_000)
        #expect(display.activeBarCount == 0)
        let screen = terminal.screen
        #expect(screen.allSatisfy { DisplayWidth.of($0) <= 89 })
        // Only bars that were outermost when created are kept, each as one finished line; nothing half-drawn.
        #expect(screen.filter { $0.contains("Task ") }.count >= 1)
        for line in screen {
            let finished = line.hasPrefix("✔ Task ") && line.contains("100%|") && line.contains("2000/2000")
            #expect(finished || line.hasPrefix("task "), "unexpected line: \(line)")
        }
    }

    @Test("a pipeline's display reaches bars made in child tasks")
    func contextInheritance() async {
        let h = Harness()
        await withPipelineContext(PipelineContext(processName: "train", progress: h.display)) {
            #expect(PipelineContext.isInPipeline)
            #expect(ProgressDisplay.current === h.display)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    let bar = ProgressBar(total: 1, desc: "Child")
                    #expect(bar.display === h.display)
                    bar.close()
                }
            }
        }
        #expect(!PipelineContext.isInPipeline)
        #expect(h.terminal.raw.contains("Child"))
    }
}

/// An atomic counter that tasks can share.
final class Counter: Sendable {
    let value = Atomic(0)
}
