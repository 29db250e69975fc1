import Foundation
import Synchronization
import Testing

@testable import Tipi

/// Failures the store used to swallow (`try?`, a silent `nil`) are reported, and nothing waits forever on
/// a file that is not a regular file.
@Suite("The store reports what it cannot read or write")
struct StoreReportingTests {
    /// Runs `body` on a thread; `nil` when it did not return within `seconds` (it hung).
    func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
        let box = Slot<T>()
        let done = DispatchSemaphore(value: 0)
        Thread {
            let value = body()
            box.value.withLock { $0 = value }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return box.value.withLock { $0 }
    }

    @Test("the JSONL backend on a full disk throws, and its state says incomplete with the reason")
    func jsonlFullDisk() throws {
        let backend = JSONLBackend(path: "/dev/full")
        let run = try startRun(temporaryStore())
        run.finish()
        try backend.start(RunDescription(metadata: run.metadata, folder: run.folder))
        var batch = MetricBatch()
        batch.appendRow(step: 0, time: 1, keys: [0], values: [1])
        #expect {
            try backend.write(batch, keys: ["loss"])
        } throws: { error in
            "\(error)".contains("/dev/full") && "\(error)".contains("No space left")
        }
        #expect(backend.state.complete == false)
        #expect(backend.state.error?.contains("No space left") == true)
    }

    @Test("a run whose JSONL file cannot be written records the backend as incomplete in run.json")
    func jsonlFullDiskInRun() throws {
        let store = temporaryStore()
        let run = try Run.start(
            project: "jsonl", name: "full", backends: [.jsonl], options: BackendOptions(jsonlPath: "/dev/full"), store: store)
        run.log(["loss": 1])
        run.finish()
        let state = try #require(try store.run(matching: run.id).metadata.backends["jsonl"])
        #expect(state.complete == false)
        #expect(state.error?.contains("No space left") == true)
        #expect(try history(run).series["loss"]?.values == [1])
    }

    @Test("a JSONL file that cannot be opened: the backend is recorded as incomplete with the reason, not as {}")
    func jsonlCannotStart() throws {
        let store = temporaryStore()
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("file-\(UUID().uuidString)")
        try Data("x".utf8).write(to: blocker)
        let path = blocker.appendingPathComponent("metrics.jsonl").path  // a file where a folder should be
        let run = try Run.start(project: "jsonl", name: "blocked", backends: [.jsonl], options: BackendOptions(jsonlPath: path), store: store)
        run.log(["loss": 1])
        run.finish()
        let state = try #require(try store.run(matching: run.id).metadata.backends["jsonl"])
        #expect(state.complete == false)
        #expect(state.error?.hasPrefix("cannot create \(blocker.path)") == true)
    }

    @Test("a metric file that is a FIFO or a folder is an error naming it, never a hang")
    func metricFileNotRegular() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fifo = folder.appendingPathComponent("metrics.tipilog").path
        try #require(mkfifo(fifo, 0o644) == 0)
        let message = within(10) { () -> String in
            do {
                _ = try MetricLog.read(fifo)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message == "\(fifo): not a regular file, so the metric history cannot be read")
        #expect(throws: (any Error).self) { try MetricLog.read(folder.path) }
    }

    @Test("a run.json that is a FIFO is listed as damaged, never waited on")
    func runJSONFifo() throws {
        let store = temporaryStore()
        let run = try startRun(store)
        run.log(["loss": 2])
        run.finish()
        let file = run.folder.appendingPathComponent("run.json").path
        try FileManager.default.removeItem(atPath: file)
        try #require(mkfifo(file, 0o644) == 0)
        let listed = within(10) { store.runs().runs.map { ($0.status, $0.damage ?? "") } }
        let runs = try #require(listed, "listing the store hung on a FIFO")
        #expect(runs.count == 1)
        #expect(runs.first?.0 == .damaged)
        #expect(runs.first?.1 == "run.json cannot be read (not a regular file)")
    }

    @Test("an unlistable project entry is reported, not skipped in silence")
    func projectIsAFile() throws {
        let store = temporaryStore()
        let run = try startRun(store)
        run.finish()
        try Data("x".utf8).write(to: store.root.appendingPathComponent("stray-file"))
        let (runs, problems) = store.runs()
        #expect(runs.count == 1)
        #expect(problems == ["\(store.root.path)/stray-file: not a project folder (a file in the run store), skipped"])
    }
}

/// A value handed from one thread to another.
final class Slot<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
