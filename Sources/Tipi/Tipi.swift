/// Tipi: progress bars, experiment tracking and device selection for research code.
///
/// A plain Swift program gets more by adding one concept at a time:
/// ``progressBar(_:desc:total:unit:unitScale:unitDivisor:initial:leave:disable:)->ProgressSequence<S>`` around a loop (level 1),
/// and, in later levels, `logger.log(...)`, `deviceManager.getDevice()` and the pipeline.
public enum Tipi {
    /// The version of the Tipi package.
    public static let version = "0.1.0"

    /// The Swift compiler that built Tipi (and so the program using it): `"6.3"`, `"6.4 or newer"`….
    public static var swiftVersion: String {
        #if compiler(>=6.4)
            return "6.4 or newer"
        #elseif compiler(>=6.3)
            return "6.3"
        #elseif compiler(>=6.2)
            return "6.2"
        #else
            return "older than 6.2"
        #endif
    }
}
