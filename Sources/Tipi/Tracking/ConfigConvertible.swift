/// A value `start(config:)` accepts as it is: `Int`, `Double`, `Float`, `Bool`, `String`, and arrays and
/// string-keyed dictionaries of them, so variables need no `.double(lr)`.
///
/// ```swift
/// let lr = 0.01, epochs = 10
/// try logger.start(project: "spirals", config: ["lr": lr, "epochs": epochs, "layers": [64, 32]])
/// ```
///
/// Literals (`config: ["lr": 0.01]`) and ``ConfigValue`` values keep working, and so does an `Encodable`
/// config struct (`config: myConfig`), recorded with dotted keys (`optimizer.lr`). A nested dictionary of
/// mixed types is best written as such a struct.
public protocol ConfigConvertible: Sendable {
    /// The value as it is recorded in the run's configuration.
    var configValue: ConfigValue { get }
}

extension ConfigValue: ConfigConvertible {
    /// The value itself.
    public var configValue: ConfigValue { self }
}

extension Int: ConfigConvertible {
    /// `.int(self)`.
    public var configValue: ConfigValue { .int(self) }
}

extension Int32: ConfigConvertible {
    /// `.int(self)`.
    public var configValue: ConfigValue { .int(Int(self)) }
}

extension Int64: ConfigConvertible {
    /// `.int(self)`.
    public var configValue: ConfigValue { .int(Int(self)) }
}

extension UInt32: ConfigConvertible {
    /// `.int(self)`.
    public var configValue: ConfigValue { .int(Int(self)) }
}

extension Double: ConfigConvertible {
    /// `.double(self)`.
    public var configValue: ConfigValue { .double(self) }
}

extension Float: ConfigConvertible {
    /// `.double(self)`, written the way `Float` prints it (`0.1`, not `0.10000000149011612`).
    public var configValue: ConfigValue { .double(Double(self.description) ?? Double(self)) }
}

extension Bool: ConfigConvertible {
    /// `.bool(self)`.
    public var configValue: ConfigValue { .bool(self) }
}

extension String: ConfigConvertible {
    /// `.string(self)`.
    public var configValue: ConfigValue { .string(self) }
}

extension Substring: ConfigConvertible {
    /// `.string(self)`.
    public var configValue: ConfigValue { .string(String(self)) }
}

extension Array: ConfigConvertible where Element: ConfigConvertible {
    /// `.array` of the elements.
    public var configValue: ConfigValue { .array(map(\.configValue)) }
}

extension Dictionary: ConfigConvertible where Key == String, Value: ConfigConvertible {
    /// `.table` of the values.
    public var configValue: ConfigValue { .table(mapValues(\.configValue)) }
}
