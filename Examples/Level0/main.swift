// Level 0: a plain Swift program. It trains a small network to tell three spirals apart.
import SpiralKit

func train(epochs: Int = 40, learningRate: Double = 0.5, data: SpiralData) -> Double {
    var model = MLP(inputs: 2, hidden: 32, classes: data.classes)
    var loss = 0.0
    for epoch in 0..<epochs {
        loss = 0
        for batch in data.batches(size: 32, epoch: epoch) {
            loss += model.step(batch, data: data, learningRate: learningRate) / Double(data.batchCount(size: 32))
        }
    }
    data.model = model
    let accuracy = model.accuracy(on: data)
    print("loss \(loss), accuracy \(accuracy)")
    return accuracy
}

let data = SpiralData(points: 300, classes: 3, noise: 0.2)
let accuracy = train(epochs: Int(CommandLine.arguments.dropFirst().first ?? "") ?? 40, data: data)
print("final accuracy: \(accuracy)")
