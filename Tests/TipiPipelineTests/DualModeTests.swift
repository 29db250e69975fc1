import Foundation
import Synchronization
import Testing
import Tipi
import TipiTestSupport

@testable import TipiPipeline

/// What `train` saw, each time it ran.
final class Sightings: Sendable {
    static let shared = Sightings()
    let devices = Mutex<[String]>([])
    let displays = Mutex<[ObjectIdentifier]>([])
    let runs = Mutex<[String?]>([])
}

/// The same training function, written once: plain code with a bar, a metric and a device.
@PipelineProcess
func dualTrain(epochs: Int = 3) async throws {
    let device = deviceManager.getDevice()
    Sightings.shared.devices.withLock { $0.append(device.description) }
    Sightings.shared.displays.withLock { $0.append(ObjectIdentifier(ProgressDisplay.current)) }
    Sightings.shared.runs.withLock { $0.append(logger.run?.id) }
    for epoch in progressBar(0..<epochs, desc: "Dual epochs") {
        logger.log(["loss": 1 / Double(epoch + 1)])
    }
}

@Suite("The same function, standalone and in a pipeline")
struct DualModeTests {
    @Test("in a pipeline its bars, metrics and device come from the pipeline; alone, from the program")
    func dualMode() async throws {
        let store = RunStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("dual-\(UUID().uuidString)"))
        let terminal = FakeTerminal(columns: 100, isTerminal: true)
        let display = ProgressDisplay(output: terminal, mode: .tty, automaticRefresh: false)
        let definition = PipelineDefinition(name: "dual", processes: #processes(dualTrain), permanences: [])
        let text = """
            [permanences.device]
            type = "Device"
            device = "cpu"

            [processes.training]
            type = "dualTrain"
            params = { epochs = 4 }
            """
        let built = try PipelineBuilder.build(try ConfigLoader.parse(text: text, file: "d.toml"), definition: definition).get()
        let outcome = await PipelineExecutor.run(
            built, options: .init(name: "dual", configFile: nil, overrides: [], resume: nil, store: store, display: display))
        guard case .completed(let run) = outcome else { Issue.record("failed: \(outcome)"); return }

        // Standalone: the same function, called directly.
        let standalone = try Run.start(project: "dual-alone", store: store)
        try await withPipelineContext(PipelineContext(run: standalone)) { try await dualTrain(epochs: 2) }
        standalone.finish()
        try await dualTrain(epochs: 1)

        let displays = Sightings.shared.displays.withLock { $0 }
        let runs = Sightings.shared.runs.withLock { $0 }
        let devices = Sightings.shared.devices.withLock { $0 }
        #expect(displays.first == ObjectIdentifier(display))
        #expect(displays.last == ObjectIdentifier(ProgressDisplay.shared))
        #expect(runs.first == run.id)
        #expect(devices.first == "cpu")
        #expect(terminal.raw.contains("Dual epochs"))
        let stored = try store.run(matching: run.id)
        #expect(stored.metadata.device?.kind == .cpu)
        #expect(try RunStore.history(of: stored).series["loss"]?.values.count == 4)
        #expect(try RunStore.history(of: try store.run(matching: standalone.id)).series["loss"]?.values.count == 2)
        logger.finish()
    }
}
