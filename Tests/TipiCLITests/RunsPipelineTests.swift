import Testing
import Tipi

@testable import TipiCLI

/// The pipeline part of `tipi runs show RUN`.
@Suite("The pipeline part of runs show")
struct RunsPipelineTests {
    @Test("each process's status and time; a record without processes: not recorded yet, or never for an ended run")
    func lines() {
        var record = RunMetadata.PipelineRecord(
            name: "spirals", configFile: "configs/pipeline.toml", overrides: ["processes.training.params.epochs=2"], resumedFrom: nil,
            processes: [
                .init(key: "training", type: "fit", status: "completed", seconds: 1.5),
                .init(key: "evaluation", type: "score", status: "pending"),
            ])
        #expect(RunsPipeline.lines(record, running: false) == [
            "", "pipeline spirals", "  config:  configs/pipeline.toml", "  --set    processes.training.params.epochs=2",
            "  PROCESS     TYPE   STATUS     TIME", "  training    fit    completed  1s", "  evaluation  score  pending    -",
        ])
        record.processes = []
        #expect(RunsPipeline.lines(record, running: true) == [
            "", "pipeline spirals", "  config:  configs/pipeline.toml", "  --set    processes.training.params.epochs=2",
            "  no process recorded yet (the processes are recorded within a second of the start)",
        ])
        #expect(RunsPipeline.lines(record, running: false).last == "  no process was recorded (the run ended within its first second without finishing: killed or crashed)")
    }
}
