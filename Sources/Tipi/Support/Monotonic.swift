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
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}
