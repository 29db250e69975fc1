import Foundation

/// A configuration value of a run: a number, a string, a boolean, or a list or table of them.
///
/// Written as literals: `config: ["lr": 0.01, "epochs": 10, "opt": "adam", "betas": [0.9, 0.999]]`.
public enum ConfigValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case array([ConfigValue])
    case table([String: ConfigValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigValue].self) {
            self = .array(value)
        } else {
            self = .table(try container.decode([String: ConfigValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .double(let value):
            // JSON has no NaN or infinity: write them as strings, as Python's json does for W&B.
            if value.isFinite { try container.encode(value) } else { try container.encode("\(value)") }
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .table(let value): try container.encode(value)
        }
    }

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value): return ProgressFormat.number(value)
        case .string(let value): return value
        case .bool(let value): return String(value)
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .table(let table):
            return "{" + table.keys.sorted().map { "\($0)=\(table[$0]?.description ?? "")" }.joined(separator: ", ") + "}"
        }
    }

    /// The value as JSON text (used by the W&B and MLflow backends).
    var jsonText: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value): return JSONNumber.text(value)
        case .string(let value): return JSONNumber.quote(value)
        case .bool(let value): return value ? "true" : "false"
        case .array(let values): return "[" + values.map(\.jsonText).joined(separator: ",") + "]"
        case .table(let table):
            return "{" + table.keys.sorted().map { JSONNumber.quote($0) + ":" + (table[$0]?.jsonText ?? "null") }
                .joined(separator: ",") + "}"
        }
    }

    /// Nested tables flattened to dotted keys (`optimizer.lr`), as MLflow params want them.
    static func flatten(_ table: [String: ConfigValue], prefix: String = "") -> [(String, ConfigValue)] {
        table.keys.sorted().flatMap { key -> [(String, ConfigValue)] in
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case .table(let inner)? = table[key] { return flatten(inner, prefix: name) }
            return [(name, table[key] ?? .string(""))]
        }
    }
}

extension ConfigValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ConfigValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, ConfigValue)...) {
        self = .table(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// JSON text for numbers and strings, the way Python's `json.dumps` writes them (so files match Python tipi's).
package enum JSONNumber {
    /// Shortest round-trip text; `NaN`, `Infinity`, `-Infinity` for the values JSON lacks (Python's spelling).
    static func text(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        if value == value.rounded(), abs(value) < 1e16 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped (`\n`, `\r`, `\t`, `\b`,
    /// `\f`, the others as `\u00XX`), as Python's `json.dumps` and `JSONEncoder` write them.
    package static func quote(_ text: String) -> String {
        var result = ""
        append(quoted: text, to: &result)
        return result
    }

    /// Appends `text` as a JSON string to `result`: quotes, backslashes and control characters escaped, and
    /// with `escapingSlashes` every `/` written `\/` as `JSONEncoder` does (so `</script>` never appears).
    /// Text with nothing to escape is appended whole.
    package static func append(quoted text: String, to result: inout String, escapingSlashes: Bool = false) {
        result += "\""
        let slash: UInt8 = escapingSlashes ? UInt8(ascii: "/") : 0
        var plain = true
        for byte in text.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == slash {
            plain = false
            break
        }
        if plain {
            result += text
            result += "\""
            return
        }
        // Bytes, not scalars: everything at or above 0x20 (UTF-8 sequences included) is copied as it is.
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), byte]
            case slash where escapingSlashes: bytes += [UInt8(ascii: "\\"), byte]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case ..<0x20: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: bytes.append(byte)
            }
        }
        result += String(decoding: bytes, as: UTF8.self)
        result += "\""
    }
}
