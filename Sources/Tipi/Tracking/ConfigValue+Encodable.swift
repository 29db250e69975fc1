import Foundation

extension ConfigValue {
    /// The fields of an `Encodable` config (a struct, a class, a `[String: …]` dictionary), nested values
    /// flattened to dotted keys (`optimizer.lr`), lists kept as lists.
    ///
    /// The value goes through JSON, so a `Double` field holding a whole number (`2.0`) may be recorded as an
    /// integer, and NaN or an infinity as the string `nan`, `inf` or `-inf`.
    ///
    /// - Throws: ``TrackingError/configNotEncodable(type:reason:)`` when the value cannot be encoded or
    ///   encodes as one value or a list rather than as named fields.
    static func fields(of config: some Encodable) throws -> [String: ConfigValue] {
        let typeName = String(describing: type(of: config))
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let value: ConfigValue
        do {
            value = try JSONDecoder().decode(ConfigValue.self, from: encoder.encode(config))
        } catch {
            throw TrackingError.configNotEncodable(type: typeName, reason: "\(error)")
        }
        guard case .table(let table) = value else {
            throw TrackingError.configNotEncodable(
                type: typeName, reason: "it encodes as \(value) rather than as named fields; pass a struct or a [String: …] dictionary")
        }
        return Dictionary(flatten(table), uniquingKeysWith: { first, _ in first })
    }
}
