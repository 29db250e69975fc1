/// The values a numeric parameter may take, checked by pre-flight validation before anything runs.
///
/// A process declares them with the macro, or as `static var constraints` when written by hand; a
/// permanence declares them the same way:
///
/// ```swift
/// @PipelineProcess(constraints: ["epochs": .range(1...), "learningRate": .positive, "dropout": .range(0..<1)])
/// func train(epochs: Int = 10, learningRate: Double = 0.01, dropout: Double = 0.1, data: Dataset) { … }
///
/// final class Dataset: Permanence, @unchecked Sendable {
///     static var constraints: [String: ParameterConstraint] { ["size": .range(1...)] }
///     let size: Int
/// }
/// ```
///
/// A value outside the range (from the file or from `--set`) is reported with its position and the range
/// (`processes.training.params.epochs: -1 is out of range: must be ≥ 1`); so is a default outside it. An
/// array parameter is checked element by element; `nan` is never in range.
public struct ParameterConstraint: Sendable, Equatable, CustomStringConvertible {
    /// The lower bound, if any.
    public var minimum: Double?
    /// Whether the lower bound itself is excluded (`> 0` rather than `≥ 0`).
    public var excludesMinimum: Bool
    /// The upper bound, if any.
    public var maximum: Double?
    /// Whether the upper bound itself is excluded (`< 1` rather than `≤ 1`).
    public var excludesMaximum: Bool

    /// A range with optional bounds, each included unless told otherwise.
    public init(minimum: Double? = nil, excludesMinimum: Bool = false, maximum: Double? = nil, excludesMaximum: Bool = false) {
        self.minimum = minimum
        self.excludesMinimum = excludesMinimum
        self.maximum = maximum
        self.excludesMaximum = excludesMaximum
    }

    /// `a...b`: from `a` to `b`, both included.
    public static func range(_ range: ClosedRange<Double>) -> Self {
        Self(minimum: range.lowerBound, maximum: range.upperBound)
    }

    /// `a..<b`: from `a` (included) up to `b` (excluded).
    public static func range(_ range: Range<Double>) -> Self {
        Self(minimum: range.lowerBound, maximum: range.upperBound, excludesMaximum: true)
    }

    /// `a...`: at least `a`.
    public static func range(_ range: PartialRangeFrom<Double>) -> Self {
        Self(minimum: range.lowerBound)
    }

    /// `...b`: at most `b`.
    public static func range(_ range: PartialRangeThrough<Double>) -> Self {
        Self(maximum: range.upperBound)
    }

    /// `..<b`: below `b`.
    public static func range(_ range: PartialRangeUpTo<Double>) -> Self {
        Self(maximum: range.upperBound, excludesMaximum: true)
    }

    /// Greater than 0 (a learning rate, a step size).
    public static var positive: Self { greaterThan(0) }

    /// 0 or more.
    public static var nonNegative: Self { range(0...) }

    /// Greater than `bound`, which is itself excluded.
    public static func greaterThan(_ bound: Double) -> Self {
        Self(minimum: bound, excludesMinimum: true)
    }

    /// Whether `value` is allowed (`nan` never is).
    public func contains(_ value: Double) -> Bool {
        guard !value.isNaN else { return false }
        if let minimum, excludesMinimum ? value <= minimum : value < minimum { return false }
        if let maximum, excludesMaximum ? value >= maximum : value > maximum { return false }
        return true
    }

    /// The range in words: `≥ 1`, `> 0`, `in 0…10`, `in 0..<1`, `≤ 5`.
    public var description: String {
        switch (minimum, maximum) {
        case (let low?, let high?):
            let lowText = excludesMinimum ? "> \(Self.format(low)) and " : "in \(Self.format(low))"
            if excludesMinimum { return lowText + (excludesMaximum ? "< " : "≤ ") + Self.format(high) }
            return lowText + (excludesMaximum ? "..<" : "…") + Self.format(high)
        case (let low?, nil): return (excludesMinimum ? "> " : "≥ ") + Self.format(low)
        case (nil, let high?): return (excludesMaximum ? "< " : "≤ ") + Self.format(high)
        case (nil, nil): return "any number"
        }
    }

    /// `1` rather than `1.0` for whole bounds.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }

    /// The numbers in a config value (the value itself, or each element of an array), or `nil` when it
    /// holds something else (the decoder reports that).
    static func numbers(in node: ConfigNode) -> [(Double, SourceLocation?)]? {
        switch node {
        case .int(let value, let location): return [(Double(value), location)]
        case .double(let value, let location): return [(value, location)]
        case .array(let values, _):
            var result: [(Double, SourceLocation?)] = []
            for value in values {
                guard let inner = numbers(in: value) else { return nil }
                result += inner
            }
            return result
        default: return nil
        }
    }

    /// The numbers in a decoded value (`Int`, `Double`, `Float`, other integers, optionals, arrays).
    static func numbers(in value: Any) -> [Double]? {
        switch value {
        case let value as Double: return [value]
        case let value as Float: return [Double(value)]
        case let value as any BinaryInteger: return [Double(value)]
        case let values as [Any]:
            var result: [Double] = []
            for element in values {
                guard let inner = numbers(in: element) else { return nil }
                result += inner
            }
            return result
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                guard let wrapped = mirror.children.first?.value else { return [] }
                return numbers(in: wrapped)
            }
            return nil
        }
    }
}
