import Foundation
import Testing

@testable import Tipi

/// `logger.log` finds its run without a lock (a thread-local cache per logger generation) and reads the
/// task-local pipeline context only while some context carries a run: every answer must stay the one the
/// lock and the context give.
@Suite("The logger's run lookup (cached per thread)")
struct LoggerRunCacheTests {
    /// Runs `body` on a thread of its own and waits for it.
    func onAnotherThread(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.start()
        done.wait()
    }

    @Test("a run started on another thread is used at once by a thread that cached the previous one")
    func startOnAnotherThread() throws {
        let store = temporaryStore()
        let logger = ExperimentLogger()
        let first = try logger.start(project: "cache", store: store)
        logger.log(["a": 1])
        logger.log(["a": 2])  // from the cache
        nonisolated(unsafe) var second: Run?
        onAnotherThread { second = try? logger.start(project: "cache", store: store) }
        let started = try #require(second)
        logger.log(["a": 3])
        #expect(logger.run === started)
        logger.finish()
        #expect(first.isFinished)
        #expect(try rows(first).map(\.1) == [["a": 1], ["a": 2]])
        #expect(try rows(started).map(\.1) == [["a": 3]])
    }

    @Test("a run finished on another thread refuses values logged through the cache, and start() begins a new one")
    func finishOnAnotherThread() throws {
        let store = temporaryStore()
        let logger = ExperimentLogger()
        let run = try logger.start(project: "cache", store: store)
        logger.log(["a": 1])
        onAnotherThread { logger.finish() }
        logger.log(["a": 2])  // refused: the run is finished
        let next = try logger.start(project: "cache", store: store)
        logger.log(["a": 3])
        logger.finish()
        #expect(try rows(run).map(\.1) == [["a": 1]])
        #expect(try rows(next).map(\.1) == [["a": 3]])
    }

    @Test("nested pipeline contexts: each level's run, then the logger's own again")
    func nestedContexts() throws {
        let store = temporaryStore()
        let logger = ExperimentLogger()
        let own = try logger.start(project: "cache", store: store)
        let outer = try startRun(store)
        let inner = try startRun(store)
        logger.log(["own": 1])  // cached before any context exists
        withPipelineContext(PipelineContext(processName: "outer", run: outer)) {
            #expect(PipelineRunBinding.anyAlive)
            logger.log(["outer": 1])
            withPipelineContext(PipelineContext(processName: "inner", run: inner)) {
                logger.log(["inner": 1])
                logger.log(MetricKeys("inner"), 2)
            }
            // A context without a run: the logger's own run, as before.
            withPipelineContext(PipelineContext(processName: "no run")) {
                logger.log(["own": 2])
            }
            logger.log(["outer": 2])
        }
        logger.log(["own": 3])
        logger.finish()
        outer.finish()
        inner.finish()
        #expect(try rows(own).map(\.1) == [["own": 1], ["own": 2], ["own": 3]])
        #expect(try rows(outer).map(\.1) == [["outer": 1], ["outer": 2]])
        #expect(try rows(inner).map(\.1) == [["inner": 1], ["inner": 2]])
    }

    @Test("a context bound on another thread and in child tasks reaches the logger there, not here")
    func contextOnOtherThreadsAndTasks() async throws {
        let store = temporaryStore()
        let logger = ExperimentLogger()
        let own = try logger.start(project: "cache", store: store)
        let pipeline = try startRun(store)
        logger.log(["own": 1])
        let context = PipelineContext(run: pipeline)
        onAnotherThread {
            withPipelineContext(context) { logger.log(["pipeline": 1]) }
        }
        logger.log(["own": 2])
        await withPipelineContext(context) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { logger.log(["pipeline": 2]) } }
            }
        }
        logger.log(["own": 3])
        logger.finish()
        pipeline.finish()
        #expect(try rows(own).map(\.1) == [["own": 1], ["own": 2], ["own": 3]])
        #expect(try rows(pipeline).map(\.1) == [["pipeline": 1]] + Array(repeating: ["pipeline": 2], count: 4))
    }

    @Test("two loggers used in turn on one thread keep their own runs")
    func twoLoggers() throws {
        let store = temporaryStore()
        let first = ExperimentLogger()
        let second = ExperimentLogger()
        let one = try first.start(project: "one", store: store)
        let two = try second.start(project: "two", store: store)
        let keys = MetricKeys("x")
        for step in 0..<100 {
            first.log(["x": Double(step)])
            second.log(keys, Double(-step))
        }
        first.finish()
        second.finish()
        #expect(try rows(one).map(\.1) == (0..<100).map { ["x": Double($0)] })
        #expect(try rows(two).map(\.1) == (0..<100).map { ["x": Double(-$0)] })
    }

    @Test("many threads logging through one logger while runs change: each value lands in the run current at its call")
    func manyThreadsWhileRunsChange() throws {
        let store = temporaryStore()
        let logger = ExperimentLogger()
        var runs = [try logger.start(project: "cache", store: store)]
        let threads = 4
        let perThread = 20_000
        let group = DispatchGroup()
        let finalRound = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            finished.enter()
            Thread {
                for _ in 0..<perThread { logger.log(["t\(thread)": 1]) }
                group.leave()
                // The same thread (its cache holding an older run) logs once more after the last change.
                finalRound.wait()
                logger.log(["final\(thread)": 1])
                finished.leave()
            }.start()
        }
        // Runs started while the threads log: the previous one finishes, later values go to the new one.
        for _ in 0..<3 {
            usleep(2_000)
            runs.append(try logger.start(project: "cache", store: store))
        }
        group.wait()
        runs.append(try logger.start(project: "cache", store: store))
        for _ in 0..<threads { finalRound.signal() }
        finished.wait()
        logger.finish()
        let last = try #require(runs.last)
        let lastRows = try rows(last).map(\.1)
        #expect(lastRows.count == threads)
        #expect(Set(lastRows.flatMap(\.keys)) == Set((0..<threads).map { "final\($0)" }))
        // A value logged into a run after its finish is refused (as before the cache): the earlier runs hold
        // at most every value, each once.
        var total = 0
        for run in runs.dropLast() { total += try rows(run).count }
        #expect(total <= threads * perThread)
        #expect(total > 0)
        #expect(runs.dropLast().allSatisfy { $0.isFinished })
    }

    @Test("a context that carries a run is counted while any copy of it is alive")
    func bindingCount() throws {
        let run = try startRun(temporaryStore())
        var context: PipelineContext? = PipelineContext(run: run)
        #expect(PipelineRunBinding.anyAlive)
        var copy = context
        context = nil
        #expect(PipelineRunBinding.anyAlive)
        #expect(copy?.run === run)
        copy?.run = nil
        #expect(copy?.run == nil)
        copy = nil
        _ = copy
        run.finish()
    }
}
