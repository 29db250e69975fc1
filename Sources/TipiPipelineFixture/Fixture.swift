import Foundation
import Synchronization
import TipiPipeline

/// A small generated data set: points on two interleaved spirals.
final class Dataset: Permanence, @unchecked Sendable {
    static var summary: String? { "Two interleaved spirals of `size` points." }
    static var constraints: [String: ParameterConstraint] { ["size": .range(1...)] }
    let size: Int
    private(set) var points: [(x: Double, y: Double, label: Int)] = []

    enum CodingKeys: String, CodingKey {
        case size
    }

    func initialize() async throws {
        points = (0..<size).map { index in
            let t = Double(index / 2) / Double(max(size / 2, 1)) * 3 * Double.pi
            let sign: Double = index % 2 == 0 ? 1 : -1
            return (sign * t * cos(t) / 10, sign * t * sin(t) / 10, index % 2)
        }
    }
}

/// Records its lifecycle in a file, so tests can see initialize, checkpoint and cleanup happen.
final class Journal: Permanence, @unchecked Sendable {
    let path: String
    var failCleanup: Bool? = false
    /// Seconds `cleanup()` takes.
    var cleanupSeconds: Double? = 0
    /// How many processes use the journal right now (`spin` and `hog` do while they run).
    let users = Atomic<Int>(0)

    enum CodingKeys: String, CodingKey {
        case path, failCleanup, cleanupSeconds
    }

    func note(_ line: String) {
        let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }()
        handle?.seekToEndOfFile()
        handle?.write(Data((line + "\n").utf8))
        try? handle?.close()
    }

    /// Runs `work` as a user of the journal: prints `line` first, notes `<process> returned` at the end.
    func use(announcing line: String, process: String, _ work: () -> Void) {
        users.add(1, ordering: .relaxed)
        defer {
            note("\(process) returned")
            users.subtract(1, ordering: .relaxed)
        }
        print(line)
        fflush(nil)
        work()
    }

    func initialize() async throws { note("initialize \(path.split(separator: "/").last ?? "")") }
    func checkpoint() async throws { note("checkpoint") }
    func cleanup() async throws {
        if let seconds = cleanupSeconds, seconds > 0 { usleep(UInt32(seconds * 1_000_000)) }
        note(users.load(ordering: .relaxed) == 0 ? "cleanup" : "cleanup while in use")
        if failCleanup == true { throw JournalError.cleanupFailed }
    }

    enum JournalError: Error, CustomStringConvertible {
        case cleanupFailed
        var description: String { "the journal could not be closed" }
    }
}

/// A running total that processes add to: restorable, so a resumed run continues from the total the
/// earlier run reached.
final class Tally: RestorablePermanence, @unchecked Sendable {
    /// The value initialize() starts from.
    var start: Int? = 0
    private(set) var values: [Int] = []

    enum CodingKeys: String, CodingKey {
        case start
    }

    func add(_ value: Int) { values.append(value) }
    var total: Int { values.reduce(0, +) }

    func initialize() async throws { values = [start ?? 0] }
    func checkpoint(into directory: URL) async throws {
        try Data(values.map(String.init).joined(separator: "\n").utf8).write(to: directory.appendingPathComponent("values.txt"))
    }
    func restore(from directory: URL) async throws {
        let text = try String(contentsOf: directory.appendingPathComponent("values.txt"), encoding: .utf8)
        values = text.split(separator: "\n").compactMap { Int($0) }
        print("tally restored: \(values.map(String.init).joined(separator: " "))")
    }
}

/// Adds `amount` to the tally.
@PipelineProcess
func accumulate(amount: Int = 1, tally: Tally) {
    tally.add(amount)
    print("accumulate \(amount) → \(tally.total)")
}

/// Prints the tally's total and logs it.
@PipelineProcess
func total(tally: Tally) {
    logger.log(["total": Double(tally.total)])
    print("total \(tally.total)")
}

/// Fails while the file at `failIf` exists (a bug the user fixes before resuming).
@PipelineProcess
func flaky(failIf: String) throws {
    struct Flake: Error, CustomStringConvertible { var description: String { "flaky failed (\"failIf\" exists)" } }
    if FileManager.default.fileExists(atPath: failIf) { throw Flake() }
    print("flaky ok")
}

enum Optimizer: String, Decodable, Sendable, CaseIterable {
    case sgd, adam
}

/// Shuffles the data set.
@PipelineProcess
func prepare(seed: Int = 42, data: Dataset) {
    print("prepare seed=\(seed) points=\(data.points.count)")
}

/// Fits a logistic model to the spirals.
///
/// - Parameters:
///   - epochs: Passes over the data.
///   - learningRate: The step size.
///   - optimizer: sgd or adam.
@PipelineProcess(constraints: ["epochs": .range(1...), "learningRate": .positive])
func train(epochs: Int = 3, learningRate: Double = 0.1, optimizer: Optimizer = .sgd, data: Dataset) async throws -> Double {
    let device = deviceManager.getDevice()
    var loss = 1.0
    for epoch in progressBar(0..<epochs, desc: "Epochs") {
        for _ in progressBar(data.points, desc: "Batches") {
            loss *= 1 - learningRate / Double(max(data.size, 1))
        }
        logger.log(["loss": loss, "epoch": Double(epoch)])
    }
    print("train epochs=\(epochs) lr=\(learningRate) optimizer=\(optimizer.rawValue) device=\(device) in-pipeline=\(PipelineContext.isInPipeline)")
    return loss
}

/// Counts the points above a threshold.
/// - Parameter threshold: The cut-off.
@PipelineProcess
func evaluate(_ split: String = "test", threshold: Double) throws -> Int {
    print("evaluate split=\(split) threshold=\(threshold)")
    return 0
}

/// Fails on purpose.
@PipelineProcess
func explode(message: String = "boom") throws {
    struct Explosion: Error, CustomStringConvertible {
        let description: String
    }
    throw Explosion(description: message)
}

/// Takes no params.
@PipelineProcess
func ping() {
    print("ping")
}

/// A public process: its generated type is public too.
@PipelineProcess
public func announce(count: Int = 1) {
    print("announce \(count)")
}

/// Sleeps, so tests can interrupt a running pipeline.
@PipelineProcess(constraints: ["seconds": .nonNegative])
func wait(seconds: Double = 30) async throws {
    print("waiting")
    fflush(nil)
    try await Task.sleep(for: .seconds(seconds))
}

/// Burns CPU in synchronous loops under progress bars, like a training step; uses the journal meanwhile.
@PipelineProcess
func spin(epochs: Int = 1_000_000, journal: Journal) {
    journal.use(announcing: "spinning", process: "spin") {
        var total = 0.0
        for _ in progressBar(0..<epochs, desc: "Epochs") {
            for index in progressBar(0..<100_000, desc: "Batches") { total += sin(Double(index)) }
        }
        print("spin total=\(total)")
    }
}

/// Burns CPU for `seconds` without any safe point (no progress bar, no logging); uses the journal meanwhile.
@PipelineProcess
func hog(seconds: Double = 60, journal: Journal) {
    journal.use(announcing: "hogging", process: "hog") {
        let end = Date().addingTimeInterval(seconds)
        var total = 0.0
        while Date() < end {
            for index in 0..<10_000 { total += sin(Double(index)) }
        }
        print("hog total=\(total)")
    }
}

/// Starts a child process that inherits standard output and prints `late line` after `seconds`, and does
/// not wait for it (a data loader's worker that outlives the process, say).
@PipelineProcess
func orphan(seconds: Double = 6) throws {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/sh")
    child.arguments = ["-c", "sleep \(seconds); echo late line"]
    try child.run()
    print("orphan started")
}

/// The Branin function (minimum 0.397887, at (−π, 12.275), (π, 2.275) and (9.42478, 2.475)), for sweeps:
/// logs `branin` at each of `steps` steps, approaching the value at (x, y) from above, `delay` seconds
/// apart; crashes (abort) when x is `crashAt`; takes a device with `getDevice()` when `useDevice`.
@PipelineProcess
func branin(x: Double = 0, y: Double = 0, steps: Int = 1, delay: Double = 0, crashAt: Double = 1e9, useDevice: Bool = false) async throws {
    if useDevice { print("device \(deviceManager.getDevice())") }
    let a = 1.0, b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, r = 6.0, s = 10.0, t = 1 / (8 * Double.pi)
    let value = a * pow(y - b * x * x + c * x - r, 2) + s * (1 - t) * cos(x) + s
    print("branin x=\(x) y=\(y)")
    fflush(nil)
    if x == crashAt { abort() }
    for step in 0..<max(steps, 1) {
        if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
        logger.log(["branin": value + 10 / Double(step + 1) - 10 / Double(max(steps, 1))], step: step)
    }
}

enum Steps {
    /// Writes the results.
    @PipelineProcess
    static func export(format: String = "csv", journal: Journal) {
        journal.note("export \(format)")
        print("export format=\(format)")
    }
}

/// A process written by hand, as the seed's level 5 shows them.
struct Report: PipelineProcess {
    var title = "report"

    func skip() async throws -> Bool { title == "skip-me" }

    func run() async throws {
        print("report \(title)")
    }
}

@main
struct Fixture: PipelineMain {
    static let processes = #processes(prepare, train, evaluate, explode, ping, announce, wait, spin, hog, orphan, branin, Steps.export, Report.self, accumulate, total, flaky)
    static let permanences: [any Permanence.Type] = [Dataset.self, Journal.self, Tally.self]
    static var pipelineName: String { "fixture" }
}
