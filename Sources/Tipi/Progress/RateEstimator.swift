/// A smoothed iteration rate, like tqdm's: exponential moving averages of the count and time
/// increments (bias-corrected), so the rate follows recent speed without jumping on every sample.
///
/// `smoothing` is the weight of the newest sample: 0 gives the average over the whole run,
/// 1 the instantaneous speed; tqdm's default is 0.3.
struct RateEstimator: Sendable {
    let smoothing: Double
    private var averageCount = 0.0
    private var averageTime = 0.0
    private var samples = 0
    private(set) var lastCount: Int
    private(set) var lastTime: Double
    private let startCount: Int
    private let startTime: Double

    init(smoothing: Double, count: Int, time: Double) {
        self.smoothing = min(max(smoothing, 0), 1)
        self.lastCount = count
        self.lastTime = time
        self.startCount = count
        self.startTime = time
    }

    /// Adds a sample when the count moved (a stalled loop keeps its last rate, as tqdm does).
    mutating func observe(count: Int, time: Double) {
        let deltaCount = Double(count - lastCount)
        let deltaTime = time - lastTime
        guard deltaCount > 0, deltaTime > 0 else {
            if count < lastCount { lastCount = count }  // reset()
            return
        }
        let beta = 1 - smoothing
        averageCount = beta * averageCount + (1 - beta) * deltaCount
        averageTime = beta * averageTime + (1 - beta) * deltaTime
        samples += 1
        lastCount = count
        lastTime = time
    }

    /// Units per second over the whole run (shown on a finished bar's final line).
    func averageRate(count: Int, time: Double) -> Double? {
        let elapsed = time - startTime
        let done = count - startCount
        guard elapsed > 0, done > 0 else { return nil }
        return Double(done) / elapsed
    }

    /// Units per second, or `nil` before the first increment.
    func rate(count: Int, time: Double) -> Double? {
        if smoothing == 0 || samples == 0 {
            let elapsed = time - startTime
            let done = count - startCount
            guard elapsed > 0, done > 0 else { return nil }
            return Double(done) / elapsed
        }
        guard averageTime > 0 else { return nil }
        return averageCount / averageTime
    }
}
