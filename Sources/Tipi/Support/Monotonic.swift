#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A source of monotonic time in seconds, injectable so that tests can drive time by hand.
public protocol MonotonicTimeSource: Sendable {
    /// Seconds since an arbitrary, fixed origin; never decreases.
    func now() -> Double
}

/// The system's monotonic clock (`CLOCK_MONOTONIC`).
public struct SystemMonotonicTime: MonotonicTimeSource {
    public init() {}

    public func now() -> Double {
        Platform.monotonicTime()
    }
}
