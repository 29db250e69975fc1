/// A deterministic random number generator (SplitMix64): the same seed gives the same numbers, on every
/// machine and every run, so an experiment that draws its data or initial weights from it can be repeated.
///
/// ```swift
/// var generator = SeededRandomNumberGenerator(seed: 42)
/// let jitter = Double.random(in: -1...1, using: &generator)
/// ```
///
/// Not for cryptography. `tipi create` scaffolds projects that seed it from a config param.
public struct SeededRandomNumberGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose numbers are fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
