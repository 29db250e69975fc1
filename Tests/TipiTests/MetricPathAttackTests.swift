import Foundation
import Synchronization
import Testing

@testable import Tipi

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` with the path of a fresh tmpfs of `size` (a full disk on demand), unmounted afterwards; without
/// the right to mount (no CAP_SYS_ADMIN) `body` does not run.
func withTmpfs(size: String, _ body: (String) throws -> Void) throws {
    let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("tmpfs-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    guard mountPoint.withCString({ mount("tmpfs", $0, "tmpfs", 0, "size=" + size) }) == 0 else { return }
    defer { _ = mountPoint.withCString { umount2($0, 2) } }
    try body(mountPoint)
}

/// The metric path under stress: batches rotating under many threads, huge calls, the step model across
/// rotations, `flush()` racing a tight loop, `finish()` racing one, a full file system.
@Suite("Metric path under attack")
struct MetricPathAttackTests {
    /// The summary counts in the run's `run.json` as it is on disk now.
    func diskCounts(_ run: Run) throws -> [String: Int] {
        let data = try Data(contentsOf: run.folder.appendingPathComponent(RunStore.metadataFile))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let summary = object["summary"] as? [String: [String: Any]] ?? [:]
        return summary.compactMapValues { $0["count"] as? Int }
    }

    @Test("8 threads across many batch rotations: every value arrives once, in order per thread")
    func threadsAcrossRotations() throws {
        let run = try startRun(temporaryStore())
        let perThread = 60_000
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            // Two keys per call on half the threads: rows of different widths share batches.
            for index in 0..<perThread {
                if thread % 2 == 0 {
                    run.log(["t\(thread)": Double(index)])
                } else {
                    run.log(["t\(thread)": Double(index), "w\(thread)": Double(-index)])
                }
            }
        }
        run.finish()
        let history = try history(run)
        #expect(history.damage.isEmpty)
        var steps: [Int] = []
        for thread in 0..<8 {
            let series = try #require(history.series["t\(thread)"])
            #expect(series.values == (0..<perThread).map(Double.init), "thread \(thread) lost or reordered values")
            steps += series.steps
            if thread % 2 == 1 {
                #expect(history.series["w\(thread)"]?.values == (0..<perThread).map { Double(-$0) })
                #expect(history.series["w\(thread)"]?.steps == series.steps)
            }
        }
        #expect(steps.sorted() == Array(0..<(8 * perThread)), "each call is one step, each step once")
        #expect(try diskCounts(run)["t0"] == perThread)
    }

    @Test("calls of 100,000 keys each, between small ones: every row reads back whole")
    func hugeCalls() throws {
        let run = try startRun(temporaryStore())
        var wide: [String: Double] = [:]
        for key in 0..<100_000 { wide["k\(key)"] = Double(key) }
        run.log(["small": 0])
        run.log(wide)
        run.log(["small": 1])
        wide["k7"] = -7
        run.log(wide)
        run.flush()
        #expect(try diskCounts(run)["k99999"] == 2)
        var staged: [String: Double] = [:]
        for key in 0..<2_000 { staged["s\(key)"] = Double(key) }
        run.log(staged, step: 10, commit: false)
        run.log(["small": 2], step: 10)
        run.finish()
        let stored = try rows(run)
        #expect(stored.map(\.0) == [0, 1, 2, 3, 10])
        #expect(stored.map(\.1.count) == [1, 100_000, 1, 100_000, 2_001])
        #expect(stored[1].1["k99999"] == 99_999 && stored[3].1["k7"] == -7 && stored[4].1["small"] == 2)
        #expect(try history(run).damage.isEmpty)
    }

    @Test("commit: false and step: across batch rotations: W&B's rows, unchanged")
    func stepModelAcrossRotations() throws {
        let run = try startRun(temporaryStore())
        let count = 70_000
        for index in 0..<count {
            run.log(["a": Double(index)], commit: false)
            run.log(["b": Double(index)])
        }
        // Explicit steps, each row given in two calls (the second leaves it open); the last row is completed
        // by a call without step, whose values join it (W&B).
        for index in 0..<count {
            run.log(["c": Double(index)], step: count + 2 * index)
            run.log(["d": Double(index)], step: count + 2 * index, commit: false)
        }
        run.log(["e": 1])
        run.finish()
        let stored = try rows(run)
        #expect(stored.count == 2 * count)
        var good = true
        for index in 0..<count where good {
            let first = stored[index]
            good = first.0 == index && first.1 == ["a": Double(index), "b": Double(index)]
            let second = stored[count + index]
            var expected = ["c": Double(index), "d": Double(index)]
            if index == count - 1 { expected["e"] = 1 }
            good = good && second.0 == count + 2 * index && second.1 == expected
            if !good { Issue.record("row \(index): \(first), \(second)") }
        }
        #expect(stored.last?.0 == 3 * count - 2)
    }

    @Test("flush() from 4 threads while a tight loop logs: run.json on disk counts at least what was logged before")
    func flushRacingTightLoop() throws {
        let run = try startRun(temporaryStore())
        let logged = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        let started = DispatchSemaphore(value: 0)
        DispatchQueue.global().async(group: group) {
            var index = 0
            while !done.load(ordering: .acquiring) {
                run.log(["x": Double(index), "y": 1])
                index += 1
                logged.store(index, ordering: .releasing)
                if index == 1_000 { started.signal() }
            }
        }
        started.wait()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for round in 0..<15 {
                let before = logged.load(ordering: .acquiring)
                run.flush()
                let counts = (try? diskCounts(run)) ?? [:]
                let onDisk = counts["x"] ?? 0
                if onDisk < before {
                    failures.withLock { $0.append("thread \(thread) round \(round): \(onDisk) on disk < \(before) logged before flush()") }
                }
            }
        }
        done.store(true, ordering: .releasing)
        group.wait()
        let total = logged.load(ordering: .acquiring)
        run.flush()
        #expect(total >= 1_000)
        #expect(try diskCounts(run)["x"] == total)
        run.finish()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
        let series = try #require(try history(run).series["x"])
        #expect(series.values.count == total)
        #expect(series.values == (0..<total).map(Double.init))
    }

    @Test("finish() racing a tight loop on another thread: exactly the calls that were accepted, in order")
    func finishRacingTightLoop() throws {
        for attempt in 0..<3 {
            let run = try startRun(temporaryStore())
            let accepted = Atomic<Int>(0)
            let started = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) {
                var index = 0
                while run.logIfOpen(["x": Double(index)], step: nil, commit: nil) {
                    index += 1
                    if index == 100 { started.signal() }
                }
                if index < 100 { started.signal() }
                accepted.store(index, ordering: .releasing)
            }
            started.wait()
            usleep(UInt32(50_000 + attempt * 100_000))
            run.finish()
            group.wait()
            let count = accepted.load(ordering: .acquiring)
            let series = try #require(try history(run).series["x"])
            #expect(count > 0)
            #expect(series.values == (0..<count).map(Double.init))
            #expect(series.steps == Array(0..<count))
            #expect(run.metadata.summary["x"]?.count == count)
            #expect(try diskCounts(run)["x"] == count)
        }
    }

    @Test(
        "a 1 MiB tmpfs filling during a tight loop: the file decodes undamaged, holds a prefix, unwritten counts the rest",
        .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func fullFileSystemTightLoop() throws {
        try withTmpfs(size: "1m") { mountPoint in try fullFileSystemTightLoop(in: mountPoint) }
    }

    func fullFileSystemTightLoop(in mountPoint: String) throws {
        let run = try startRun(RunStore(root: URL(fileURLWithPath: mountPoint + "/runs")))
        let steps = 300_000
        let path = run.folder.appendingPathComponent(RunStore.metricsFile).path
        for index in 0..<steps {
            run.log(["loss": Double(index), "acc": Double(-index)])
            if index % 100_000 == 99_999 {
                // Readable at any time, never damaged in the middle.
                let contents = try MetricLog.read(path)
                #expect(!contents.damage.isCorrupted)
            }
        }
        run.finish()
        let contents = try MetricLog.read(path)
        #expect(contents.damage.isEmpty, "\(contents.damage)")
        let batch = contents.batch
        let kept = batch.rowCount
        #expect(kept > 0 && kept < steps)
        var prefix = true
        for row in 0..<kept where prefix {
            var values: [String: Double] = [:]
            for position in batch.range(ofRow: row) {
                values[contents.keys[Int(batch.entries[position].key)]] = batch.entries[position].value
            }
            prefix = batch.rows[row].step == row && values == ["loss": Double(row), "acc": Double(-row)]
        }
        #expect(prefix, "the file is not a prefix of the rows logged")
        let metadata = try #require(RunStore(root: URL(fileURLWithPath: mountPoint + "/runs")).run(inFolder: run.folder)).metadata
        let unwritten = try #require(metadata.unwritten)
        #expect(unwritten.steps == steps - kept)
        #expect(unwritten.values == 2 * (steps - kept))
        #expect(metadata.summary["loss"]?.count == steps)
        #expect(metadata.status == .finished)
    }
}

@Suite("Metric path under attack: wide staged rows")
struct MetricPathAttackWideTests {
    @Test("a staged call (commit: false, step:) of 100,000 keys takes seconds at most, not minutes")
    func wideStagedCall() throws {
        let run = try startRun(temporaryStore())
        var wide: [String: Double] = [:]
        for key in 0..<100_000 { wide["k\(key)"] = Double(key) }
        let start = Date()
        run.log(wide, commit: false)
        run.log(wide, step: 1, commit: false)
        run.log(["k5": -5, "k99999": -1], step: 1, commit: false)  // the same keys again: the last value stays
        run.log(["last": 1], step: 1)
        let elapsed = Date().timeIntervalSince(start)
        run.finish()
        #expect(elapsed < 10, "\(elapsed) s for three calls")
        let stored = try rows(run)
        #expect(stored.map(\.0) == [0, 1])
        #expect(stored.map(\.1.count) == [100_000, 100_001])
        #expect(stored[1].1["k5"] == -5 && stored[1].1["k99999"] == -1 && stored[1].1["k6"] == 6 && stored[0].1["k5"] == 5)
    }
}

@Suite("Metric path under attack: a dead disk")
struct MetricPathAttackDeadDiskTests {
    @Test(
        "past the back-pressure bound on a full tmpfs, 1,000 keys (a run.json larger than the reserve): no log call waits long, the final run.json is written, written + unwritten is everything",
        .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func backPressureOnFullDisk() throws {
        try withTmpfs(size: "1m") { mountPoint in try backPressureOnFullDisk(in: mountPoint) }
    }

    func backPressureOnFullDisk(in mountPoint: String) throws {
        let store = RunStore(root: URL(fileURLWithPath: mountPoint + "/runs"))
        let run = try startRun(store)
        var wide: [String: Double] = [:]
        for key in 0..<1_000 { wide["k\(key)"] = 0 }
        let calls = 5_000
        // run.json holds the 1,000 keys' summary before the disk fills (the final one then fits in its place).
        run.log(wide)
        run.flush()
        var slowest = 0.0
        for call in 1..<calls {
            wide["k0"] = Double(call)
            let start = Date()
            run.log(wide)
            slowest = max(slowest, Date().timeIntervalSince(start))
        }
        run.finish()
        #expect(slowest < 5, "a log call waited \(slowest) s on a full disk")
        let contents = try MetricLog.read(run.folder.appendingPathComponent(RunStore.metricsFile).path)
        #expect(!contents.damage.isCorrupted)
        let metadata = try #require(store.run(inFolder: run.folder)).metadata
        #expect(metadata.status == .finished, "the final run.json was not written")
        let unwritten = try #require(metadata.unwritten)
        #expect(contents.batch.rowCount + unwritten.steps == calls)
        #expect(contents.batch.valueCount + unwritten.values == calls * 1_000)
        #expect(contents.batch.rows.map(\.step) == Array(0..<contents.batch.rowCount))
    }

    @Test(
        "flush() on a full tmpfs while another thread logs: it returns at once, and log goes on",
        .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func flushOnFullDisk() throws {
        try withTmpfs(size: "256k") { mountPoint in try flushOnFullDisk(in: mountPoint) }
    }

    func flushOnFullDisk(in mountPoint: String) throws {
        let run = try startRun(RunStore(root: URL(fileURLWithPath: mountPoint + "/runs")))
        var wide: [String: Double] = [:]
        for key in 0..<100 { wide["k\(key)"] = 1 }
        for _ in 0..<2_000 { run.log(wide) }  // 200,000 values: far more than fits
        let done = Atomic<Bool>(false)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            while !done.load(ordering: .acquiring) { run.log(["x": 1]) }
        }
        var slowest = 0.0
        for _ in 0..<5 {
            let start = Date()
            run.flush()
            slowest = max(slowest, Date().timeIntervalSince(start))
        }
        done.store(true, ordering: .releasing)
        group.wait()
        run.finish()
        #expect(slowest < 5, "flush() took \(slowest) s on a full disk")
        #expect(run.metadata.unwritten != nil)
    }
}

@Suite("Metric path under attack: prepared keys")
struct MetricPathAttackPreparedTests {
    @Test("prepared keys from 4 threads (one with a repeated name) across batch rotations: every value once, in order")
    func preparedAcrossRotations() throws {
        let run = try startRun(temporaryStore())
        let perThread = 40_000
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            let keys = thread == 3 ? MetricKeys("dup", "dup") : MetricKeys("p\(thread)", "q\(thread)")
            for index in 0..<perThread {
                let values = [Double(index), Double(-index)]
                values.withUnsafeBufferPointer { run.logPrepared(keys, $0, step: nil, commit: nil) }
            }
        }
        run.finish()
        let history = try history(run)
        #expect(history.damage.isEmpty)
        for thread in 0..<3 {
            #expect(history.series["p\(thread)"]?.values == (0..<perThread).map(Double.init))
            #expect(history.series["q\(thread)"]?.values == (0..<perThread).map { Double(-$0) })
        }
        #expect(history.series["dup"]?.values == (0..<perThread).map { Double(-$0) }, "a repeated key keeps the last value")
        let steps = (0..<3).flatMap { history.series["p\($0)"]?.steps ?? [] } + (history.series["dup"]?.steps ?? [])
        #expect(steps.sorted() == Array(0..<(4 * perThread)))
    }
}
