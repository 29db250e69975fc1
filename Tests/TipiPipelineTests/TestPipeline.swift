import Foundation
import Synchronization
import Tipi
import TipiPipeline

/// Events of the test pipeline, in order (tests reset it).
final class EventLog: Sendable {
    static let shared = EventLog()
    private let events = Mutex<[String]>([])
    func add(_ event: String) { events.withLock { $0.append(event) } }
    func reset() { events.withLock { $0 = [] } }
    var all: [String] { events.withLock { $0 } }
}

final class Points: Permanence, @unchecked Sendable {
    let count: Int
    var failCleanup: Bool? = false
    func initialize() async throws { EventLog.shared.add("initialize points \(count)") }
    func checkpoint() async throws { EventLog.shared.add("checkpoint points \(count)") }
    func cleanup() async throws {
        EventLog.shared.add("cleanup points \(count)")
        if failCleanup == true { throw CleanupError() }
    }
    struct CleanupError: Error, CustomStringConvertible { var description: String { "disk went away" } }
}

final class Notes: Permanence, @unchecked Sendable {
    let name: String
    func initialize() async throws { EventLog.shared.add("initialize notes \(name)") }
    func cleanup() async throws { EventLog.shared.add("cleanup notes \(name)") }
}

/// Fits the model.
/// - Parameter epochs: Passes over the data.
@PipelineProcess
func fit(epochs: Int = 2, rate: Double = 0.1, data: Points) async throws -> Double {
    EventLog.shared.add("fit epochs=\(epochs) rate=\(rate) points=\(data.count)")
    return Double(epochs) * rate
}

@PipelineProcess
func score(threshold: Double, data: Points) {
    EventLog.shared.add("score threshold=\(threshold)")
}

@PipelineProcess
func noop() {
    EventLog.shared.add("noop")
}

@PipelineProcess
func fail(message: String = "boom") throws {
    EventLog.shared.add("fail")
    throw TestFailure(description: message)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
}

/// Skips itself unless forced.
struct Cached: PipelineProcess {
    var name: String?
    func skip() async throws -> Bool { true }
    func run() async throws { EventLog.shared.add("cached ran") }
}

let testDefinition = PipelineDefinition(
    name: "tests", processes: #processes(fit, score, noop, fail, Cached.self), permanences: [Points.self, Notes.self])
