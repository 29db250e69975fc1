/// A value `log` accepts: the numbers a training loop has (`Int`, `Float`, `Float16`, `Double`, the other
/// integer types) and `Bool` (logged as 1 or 0).
///
/// ```swift
/// let loss: Float = 0.25
/// let correct = 87
/// logger.log(["loss": loss, "correct": correct, "improved": true])   // 0.25, 87.0, 1.0
/// ```
///
/// Values are stored as `Double`. A dictionary of `Double` (and a literal such as `["loss": 0.3]`) still
/// takes the `[String: Double]` overload, with no conversion at all.
public protocol MetricValue: Sendable {
    /// The value as it is stored.
    var metricValue: Double { get }
}

extension Double: MetricValue {
    /// The value itself.
    public var metricValue: Double { self }
}

extension MetricValue where Self: BinaryFloatingPoint {
    /// The value, widened to `Double` (exactly, for `Float` and `Float16`).
    public var metricValue: Double { Double(self) }
}

extension MetricValue where Self: BinaryInteger {
    /// The value as the nearest `Double` (exact up to 2⁵³).
    public var metricValue: Double { Double(self) }
}

extension Float: MetricValue {}

#if !(os(macOS) && arch(x86_64))
    extension Float16: MetricValue {}
#endif

extension Bool: MetricValue {
    /// 1 for `true`, 0 for `false`.
    public var metricValue: Double { self ? 1 : 0 }
}

extension Int: MetricValue {}
extension Int8: MetricValue {}
extension Int16: MetricValue {}
extension Int32: MetricValue {}
extension Int64: MetricValue {}
extension UInt: MetricValue {}
extension UInt8: MetricValue {}
extension UInt16: MetricValue {}
extension UInt32: MetricValue {}
extension UInt64: MetricValue {}

extension Dictionary where Key == String, Value == any MetricValue {
    /// The values as they are stored.
    var metricDoubles: [String: Double] { mapValues(\.metricValue) }
}
