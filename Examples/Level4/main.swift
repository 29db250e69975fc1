// Level 4: one attribute makes `train` a pipeline process. It is still an ordinary function.
import SpiralKit
import TipiPipeline

@PipelineProcess(constraints: ["epochs": .range(1...), "learningRate": .positive])
func train(epochs: Int = 40, learningRate: Double = 0.5, data: SpiralData) -> Double {
    let device = deviceManager.getDevice()
    print("training on \(device)")
    var model = MLP(inputs: 2, hidden: 32, classes: data.classes)
    var loss = 0.0
    for epoch in progressBar(0..<epochs, desc: "Epochs") {
        loss = 0
        for batch in progressBar(data.batches(size: 32, epoch: epoch), desc: "Batches") {
            loss += model.step(batch, data: data, learningRate: learningRate) / Double(data.batchCount(size: 32))
        }
        logger.log(["loss": loss, "accuracy": model.accuracy(on: data)])
    }
    data.model = model
    let accuracy = model.accuracy(on: data)
    print("loss \(loss), accuracy \(accuracy)")
    return accuracy
}

let data = SpiralData(points: 300, classes: 3, noise: 0.2)
try logger.start(project: "spirals", config: ["points": 300, "classes": 3, "noise": 0.2])
let accuracy = train(epochs: Int(CommandLine.arguments.dropFirst().first ?? "") ?? 40, data: data)
logger.finish()
print("final accuracy: \(accuracy)")
print("as a process: \(trainProcess.processName)(\(trainProcess.parameters.map(\.name).joined(separator: ", ")))")
