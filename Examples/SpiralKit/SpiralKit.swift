/// A small research problem in pure Swift for the examples: classify points of interleaved spirals with a
/// two-layer network. No downloads: the data set is generated from a seed.

/// A deterministic random number generator (SplitMix64), so every run of an example sees the same data.
///
/// The same algorithm as Tipi's `SeededRandomNumberGenerator`, written here on purpose: SpiralKit is also
/// level 0's, a plain program that does not depend on Tipi (the numbers are the same for the same seed).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Points on `classes` interleaved spirals, with noise; and the last model trained on them.
public final class SpiralData: Decodable, @unchecked Sendable {
    public let points: Int
    public let classes: Int
    public let noise: Double
    public let seed: Int
    public private(set) var inputs: [[Double]] = []
    public private(set) var labels: [Int] = []
    /// The last model trained on these points (kept so an evaluation can use it).
    public var model: MLP?

    enum CodingKeys: String, CodingKey {
        case points, classes, noise, seed
    }

    public init(points: Int = 300, classes: Int = 3, noise: Double = 0.2, seed: Int = 1) {
        self.points = points
        self.classes = classes
        self.noise = noise
        self.seed = seed
        generate()
    }

    public required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        points = try container.decodeIfPresent(Int.self, forKey: .points) ?? 300
        classes = try container.decodeIfPresent(Int.self, forKey: .classes) ?? 3
        noise = try container.decodeIfPresent(Double.self, forKey: .noise) ?? 0.2
        seed = try container.decodeIfPresent(Int.self, forKey: .seed) ?? 1
        generate()
    }

    private func generate() {
        var generator = SeededGenerator(seed: UInt64(seed))
        let perClass = max(points / max(classes, 1), 1)
        inputs = []
        labels = []
        for label in 0..<classes {
            for index in 0..<perClass {
                let radius = Double(index) / Double(perClass)
                let angle = Double(label) * 4 + radius * 4 + Double.random(in: -1...1, using: &generator) * noise
                inputs.append([radius * _sin(angle), radius * _cos(angle)])
                labels.append(label)
            }
        }
    }

    /// The points in shuffled mini-batches of `size` (the same order for the same epoch number).
    public func batches(size: Int, epoch: Int = 0) -> [[Int]] {
        var generator = SeededGenerator(seed: UInt64(seed &* 7919 &+ epoch))
        let order = Array(inputs.indices).shuffled(using: &generator)
        return stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    }

    public func batchCount(size: Int) -> Int {
        (inputs.count + size - 1) / size
    }
}

/// A two-layer network: inputs → ReLU hidden layer → softmax over the classes, trained by SGD.
public struct MLP: Sendable, Codable {
    var w1: [[Double]]
    var b1: [Double]
    var w2: [[Double]]
    var b2: [Double]

    public init(inputs: Int, hidden: Int, classes: Int, seed: UInt64 = 7) {
        var generator = SeededGenerator(seed: seed)
        let scale1 = 1 / Double(inputs).squareRoot()
        let scale2 = 1 / Double(hidden).squareRoot()
        w1 = (0..<hidden).map { _ in (0..<inputs).map { _ in Double.random(in: -1...1, using: &generator) * scale1 } }
        b1 = Array(repeating: 0, count: hidden)
        w2 = (0..<classes).map { _ in (0..<hidden).map { _ in Double.random(in: -1...1, using: &generator) * scale2 } }
        b2 = Array(repeating: 0, count: classes)
    }

    func forward(_ x: [Double]) -> (hidden: [Double], probabilities: [Double]) {
        let hidden = w1.indices.map { max(0, zip(w1[$0], x).map(*).reduce(b1[$0], +)) }
        let scores = w2.indices.map { zip(w2[$0], hidden).map(*).reduce(b2[$0], +) }
        let top = scores.max() ?? 0
        let exps = scores.map { _exp($0 - top) }
        let total = exps.reduce(0, +)
        return (hidden, exps.map { $0 / total })
    }

    /// One SGD step on a batch (indices into `data`); returns the batch's mean cross-entropy loss.
    public mutating func step(_ batch: [Int], data: SpiralData, learningRate: Double) -> Double {
        var gw1 = w1.map { $0.map { _ in 0.0 } }
        var gb1 = b1.map { _ in 0.0 }
        var gw2 = w2.map { $0.map { _ in 0.0 } }
        var gb2 = b2.map { _ in 0.0 }
        var loss = 0.0
        for index in batch {
            let x = data.inputs[index]
            let label = data.labels[index]
            let (hidden, probabilities) = forward(x)
            loss -= _log(max(probabilities[label], 1e-12))
            var dScores = probabilities
            dScores[label] -= 1
            for k in w2.indices {
                gb2[k] += dScores[k]
                for j in hidden.indices { gw2[k][j] += dScores[k] * hidden[j] }
            }
            for j in w1.indices where hidden[j] > 0 {
                let dHidden = w2.indices.map { dScores[$0] * w2[$0][j] }.reduce(0, +)
                gb1[j] += dHidden
                for i in x.indices { gw1[j][i] += dHidden * x[i] }
            }
        }
        let rate = learningRate / Double(max(batch.count, 1))
        for j in w1.indices {
            b1[j] -= rate * gb1[j]
            for i in w1[j].indices { w1[j][i] -= rate * gw1[j][i] }
        }
        for k in w2.indices {
            b2[k] -= rate * gb2[k]
            for j in w2[k].indices { w2[k][j] -= rate * gw2[k][j] }
        }
        return loss / Double(max(batch.count, 1))
    }

    /// The fraction of points classified correctly.
    public func accuracy(on data: SpiralData) -> Double {
        let correct = data.inputs.indices.filter { index in
            let probabilities = forward(data.inputs[index]).probabilities
            return probabilities.firstIndex(of: probabilities.max() ?? 0) == data.labels[index]
        }.count
        return Double(correct) / Double(max(data.inputs.count, 1))
    }
}

@inline(__always) func _sin(_ x: Double) -> Double { Foundation_sin(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation_cos(x) }
@inline(__always) func _exp(_ x: Double) -> Double { Foundation_exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Foundation_log(x) }
