// The checkpoint pattern for long training (docs/tracking.md): the model is saved as an artifact every
// few epochs; on start the latest one is loaded — of this run, of the run a resumed pipeline continues, or
// of the run named with `--continue RUN` (a job Slurm killed, say) — and training goes on from there.
//
//   swift run Checkpoints                 # trains 40 epochs, a checkpoint every 5
//   swift run Checkpoints --continue ID   # after a crash: goes on from ID's latest checkpoint
import Foundation
import SpiralKit
import Tipi

struct Checkpoint: Codable {
    var epoch: Int
    var model: MLP
}

let arguments = Array(CommandLine.arguments.dropFirst())
let continued = arguments.firstIndex(of: "--continue").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
let (epochs, every) = (40, 5)
let data = SpiralData(points: 300, classes: 3, noise: 0.2)
try logger.start(project: "spirals-checkpoints", config: ["epochs": epochs, "every": every, "continues": continued ?? ""])

var model = MLP(inputs: 2, hidden: 32, classes: data.classes)
var first = 0
if let latest = logger.latestArtifact(named: "checkpoint.json", earlier: continued.map { [$0] } ?? []) {
    let checkpoint = try JSONDecoder().decode(Checkpoint.self, from: Data(contentsOf: latest.url))
    (model, first) = (checkpoint.model, checkpoint.epoch + 1)
    print("continuing after epoch \(checkpoint.epoch) of run \(latest.runID)")
}

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(ProcessInfo.processInfo.processIdentifier).json")
for epoch in progressBar(first..<epochs, desc: "Epochs") {
    var loss = 0.0
    for batch in data.batches(size: 32, epoch: epoch) {
        loss += model.step(batch, data: data, learningRate: 0.5) / Double(data.batchCount(size: 32))
    }
    logger.log(["loss": loss, "accuracy": model.accuracy(on: data)], step: epoch)
    if (epoch + 1) % every == 0 {
        try JSONEncoder().encode(Checkpoint(epoch: epoch, model: model)).write(to: scratch)
        try logger.saveArtifact(scratch, name: "checkpoint.json", step: epoch, transfer: .move)
    }
}
logger.finish()
print("final accuracy: \(model.accuracy(on: data))")
