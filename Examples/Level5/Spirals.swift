// Level 5: a config file and a short @main make the same `train` a pipeline:
//   swift run Level5 run Examples/Level5/configs/pipeline.toml --set processes.training.params.epochs=20
import Foundation
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

/// Measures the trained model on fresh points from the same spirals.
///
/// - Parameter points: How many fresh points to draw.
@PipelineProcess(constraints: ["points": .range(1...)])
func evaluate(points: Int = 300, data: SpiralData) {
    guard let model = data.model else {
        print("no trained model to evaluate")
        return
    }
    let fresh = SpiralData(points: points, classes: data.classes, noise: data.noise, seed: data.seed + 1000)
    let accuracy = model.accuracy(on: fresh)
    logger.log(["test/accuracy": accuracy])
    print("accuracy on \(points) fresh points: \(accuracy)")
}

/// The data set is the pipeline's permanence: created from the config, shared by both processes. Its sizes
/// are checked before it is made (a negative class count would stop the program).
///
/// It keeps the trained model, so it is restorable: after each process the model is saved into the
/// directory Tipi gives it, and `run --resume` loads it back — evaluating after a resume uses the model
/// `train` made, not an untrained one. The points need no saving: they are generated from the params.
extension SpiralData: RestorablePermanence {
    public static var constraints: [String: ParameterConstraint] {
        ["points": .range(1...), "classes": .range(1...), "noise": .nonNegative]
    }

    public func checkpoint(into directory: URL) throws {
        guard let model else { return }
        try JSONEncoder().encode(model).write(to: directory.appendingPathComponent("model.json"))
    }

    public func restore(from directory: URL) throws {
        let file = directory.appendingPathComponent("model.json")
        model = FileManager.default.fileExists(atPath: file.path) ? try JSONDecoder().decode(MLP.self, from: Data(contentsOf: file)) : nil
    }
}

@main
struct Spirals: PipelineMain {
    static let processes = #processes(train, evaluate)
    static let permanences: [any Permanence.Type] = [SpiralData.self]
    static var pipelineName: String { "spirals" }
    static var defaultConfig: String { "Examples/Level5/configs/pipeline.toml" }
}
