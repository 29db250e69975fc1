/// Tipi: progress bars, experiment tracking and device selection for research code.
///
/// A plain Swift program gets more by adding one concept at a time:
/// ``progressBar(_:desc:total:unit:unitScale:unitDivisor:initial:leave:disable:)`` around a loop (level 1),
/// and, in later levels, `logger.log(...)`, `deviceManager.getDevice()` and the pipeline.
public enum Tipi {
    /// The version of the Tipi package.
    public static let version = "0.1.0"
}
