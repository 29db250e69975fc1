import Foundation
import Tipi

/// One swept config path and the values it takes.
struct SweepParameter: Sendable, Equatable {
    /// Where the values go: a config path as `--set` writes it (`processes.training.params.learningRate`).
    var path: String
    var domain: SweepDomain
    /// Where the parameter was declared (a `[sweep.params]` key), or nil for `--sweep`.
    var location: SourceLocation?
    /// The `--sweep` argument that declared it, if one did.
    var argument: String?
}

/// The values of a swept parameter.
enum SweepDomain: Sendable, Equatable {
    /// Exactly these values.
    case values([ConfigNode])
    /// A float drawn evenly from `min…max` (rounded to a multiple of `step` from `min`, when given).
    case uniform(min: Double, max: Double, step: Double?)
    /// A float whose logarithm is drawn evenly (learning rates).
    case logUniform(min: Double, max: Double)
    /// A whole number from `min…max` (a multiple of `step` from `min`).
    case intUniform(min: Int, max: Int, step: Int)

    /// The values a grid goes through; nil when the domain is continuous (no step).
    var gridValues: [ConfigNode]? {
        switch self {
        case .values(let values): return values
        case .uniform(let min, let max, let step?):
            let count = Int(((max - min) / step).rounded(.down)) + 1
            guard count > 0, count <= SweepSpec.maximumPoints else { return nil }
            return (0..<count).map { .double(Swift.min(min + Double($0) * step, max), nil) }
        case .uniform, .logUniform: return nil
        case .intUniform(let min, let max, let step):
            return Swift.stride(from: min, through: max, by: step).prefix(SweepSpec.maximumPoints + 1).map { .int($0, nil) }
        }
    }

    /// Values that stand for the whole domain in validation: every listed value, or the ends of a range
    /// (they have the domain's type and its extremes, which a param's declared range must allow).
    var representatives: [ConfigNode] {
        switch self {
        case .values(let values): return values
        case .uniform(let min, let max, _), .logUniform(let min, let max): return [.double(min, nil), .double(max, nil)]
        case .intUniform(let min, let max, _): return [.int(min, nil), .int(max, nil)]
        }
    }

    /// A value drawn at random.
    func sample(using generator: inout SeededRandomNumberGenerator) -> ConfigNode {
        switch self {
        case .values(let values):
            return values[Int(generator.next() % UInt64(values.count))]
        case .uniform(let min, let max, let step):
            return .double(Self.snap(Double.random(in: min...max, using: &generator), min: min, max: max, step: step), nil)
        case .logUniform(let min, let max):
            return .double(Swift.min(Swift.max(exp(Double.random(in: log(min)...log(max), using: &generator)), min), max), nil)
        case .intUniform(let min, let max, let step):
            let count = (max - min) / step + 1
            return .int(min + Int(generator.next() % UInt64(count)) * step, nil)
        }
    }

    /// `value` rounded to the nearest multiple of `step` from `min`, within `min…max`.
    static func snap(_ value: Double, min: Double, max: Double, step: Double?) -> Double {
        guard let step else { return value }
        let snapped = min + ((value - min) / step).rounded() * step
        return Swift.min(Swift.max(snapped, min), max)
    }
}

/// Config values as TOML text, for the `--set` arguments a point runs with.
enum SweepValueText {
    /// `value` written so that `--set` reads it back as the same value and type.
    static func toml(_ value: ConfigNode) -> String {
        switch value {
        case .int(let number, _): return String(number)
        case .double(let number, _):
            if number.isNaN { return "nan" }
            if number.isInfinite { return number > 0 ? "inf" : "-inf" }
            let text = "\(number)"
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case .string(let text, _): return quoted(text)
        case .bool(let flag, _): return String(flag)
        case .date(let text, _): return text
        case .array(let values, _): return "[" + values.map(toml).joined(separator: ", ") + "]"
        case .table(let table, _):
            return "{ " + table.entries.map { "\(quoted($0.key)) = \(toml($0.value))" }.joined(separator: ", ") + " }"
        }
    }

    /// A metric value for a line of output: 4 significant digits (`0.4979`, `1.235e-05`).
    static func short(_ value: Double) -> String {
        value.isFinite ? String(format: "%.4g", value) : "\(value)"
    }

    /// A TOML basic string: JSON's escapes are TOML's, and DEL, which TOML wants escaped too.
    static func quoted(_ text: String) -> String {
        JSONNumber.quote(text).replacingOccurrences(of: "\u{7F}", with: "\\u007F")
    }
}
