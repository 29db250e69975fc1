import Foundation
import Synchronization
import Testing

@testable import Tipi

/// The run's writer and its file descriptor: opened once, closed once by the thread that writes, never
/// leaked, and disk writes never made under the lock that `log` and `metadata` take.
@Suite("The run writer's file and lock")
struct RunWriterTests {
    /// The paths this process has open (from `/proc/self/fd`).
    func openPaths() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
    }

    func metadata() throws -> RunMetadata {
        let run = try startRun(temporaryStore())
        run.finish()
        return run.metadata
    }

    @Test("a writer whose run.json cannot be written throws and leaves no descriptor open")
    func initFailureCloses() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("writer-\(UUID().uuidString)")
        // run.json is a folder: the atomic rename over it fails after the metric file was opened.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("run.json/x"), withIntermediateDirectories: true)
        let metrics = folder.appendingPathComponent(RunStore.metricsFile).path
        #expect(throws: (any Error).self) {
            _ = try RunWriter(metadata: try metadata(), folder: folder, backends: [], warn: { _ in })
        }
        #expect(FileManager.default.fileExists(atPath: metrics))
        #expect(!openPaths().contains(metrics), "the metric file is still open after the failed init")
    }

    @Test("a stalled disk never makes log or metadata wait; the writer thread closes the file after its last write")
    func stalledDisk() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stall-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(RunStore.metricsFile).path
        // A FIFO nobody reads for now: once its 64 KiB buffer is full, every write blocks (a disk that hangs).
        try #require(mkfifo(path, 0o644) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        defer { close(reader) }
        var base = try metadata()
        base.id = "stalled0"
        let run = try Run(metadata: base, folder: folder, backends: [], warn: { _ in })
        for step in 0..<20_000 { run.log(["a": Double(step), "b": 1, "c": 2]) }
        usleep(1_500_000)  // the writer has taken the rows and is blocked in write()

        let answered = DispatchSemaphore(value: 0)
        let seen = Mutex(0)
        Thread {
            run.log(["a": -1])
            seen.withLock { $0 = run.metadata.summary["a"]?.count ?? 0 }
            answered.signal()
        }.start()
        let inTime = answered.wait(timeout: .now() + 5) == .success

        // Unblock: read everything until the writer closes its end (EOF).
        let finished = DispatchSemaphore(value: 0)
        Thread {
            run.finish()
            finished.signal()
        }.start()
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let count = read(reader, &buffer, buffer.count)
            if count > 0 {
                bytes += buffer[0..<count]
            } else if count == 0, finished.wait(timeout: .now()) == .success {
                finished.signal()
                break
            } else {
                usleep(1_000)
            }
        }
        #expect(inTime, "log or metadata waited on the stalled disk")
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(openPaths().filter { $0 == path }.count == 1, "the writer's end of the metric file is still open after finish")
        let contents = bytes.withUnsafeBytes { MetricLog.decode($0) }
        #expect(contents.damage.isEmpty)
        #expect(MetricHistory(contents: contents).series["a"]?.values.count == 20_001)
    }
}
