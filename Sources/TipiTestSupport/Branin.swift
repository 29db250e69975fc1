import Foundation

/// The Branin function, the sweep tests' function with a known minimum: 0.397887, at (−π, 12.275),
/// (π, 2.275) and (9.42478, 2.475), on x ∈ [−5, 10], y ∈ [0, 15].
public enum Branin {
    /// The function's minimum.
    public static let minimum = 0.397887

    /// Branin at (x, y).
    public static func value(_ x: Double, _ y: Double) -> Double {
        let b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, t = 1 / (8 * Double.pi)
        return pow(y - b * x * x + c * x - 6, 2) + 10 * (1 - t) * cos(x) + 10
    }
}
