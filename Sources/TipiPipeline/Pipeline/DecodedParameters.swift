import Foundation

/// One param a permanence (or a process written by hand) reads from `params = { … }`, as `inspect` lists it
/// and writes it in the template.
struct DecodedParameter: Equatable {
    var name: String
    var typeName: String
    /// Read with `decode` (the config must give it) rather than `decodeIfPresent`.
    var isRequired: Bool
}

/// The params of a permanence type, or of a process type written by hand (without `@PipelineProcess`, which
/// lists them), found by decoding it from nothing: such a type is `Decodable`, so its keys are known only to
/// its `init(from:)`. Permanence-typed fields are not params (the pipeline passes them) and are left out.
///
/// A recording decoder answers `decodeIfPresent` with `nil` and stops at each required key it has not seen;
/// the next attempt answers that key with a placeholder of its type (within its constraint), until an
/// attempt ends. Only `init(from:)` runs, with the values a config made from the template would give it;
/// nothing else of the type. A required param of another type (an enum, a nested table) has no
/// placeholder: it is listed, and the keys read after it are not.
enum DecodedParameters {
    /// The params `type` reads, in the order it reads them; `constraints` give placeholders their range.
    static func of(_ type: any Decodable.Type, constraints: [String: ParameterConstraint]) -> [DecodedParameter] {
        var answered: Set<String> = []
        var seen: [DecodedParameter] = []
        for _ in 0..<100 {
            let recorder = Recorder(answered: answered, constraints: constraints)
            defer { seen = recorder.seen }
            do {
                _ = try type.init(from: RecordingDecoder(recorder: recorder))
                return recorder.seen
            } catch let stop as Stop {
                guard let key = stop.key, !answered.contains(key) else { return recorder.seen }
                answered.insert(key)
            } catch {
                return recorder.seen
            }
        }
        return seen
    }

    /// A placeholder value of `type` that `constraint` allows, or `nil` for other types.
    static func placeholder(_ type: Any.Type, constraint: ParameterConstraint?) -> Any? {
        let number = Inspection.placeholderNumber(constraint)
        // A bound too large for an integer gives 0 (validation then names the range) rather than a trap.
        let whole = number.rounded(.up).magnitude < 1e9 ? Int(number.rounded(.up)) : 0
        switch type {
        case is Int.Type: return whole
        case is Int64.Type: return Int64(whole)
        case is Int32.Type: return Int32(whole)
        case is UInt.Type: return UInt(max(0, whole))
        case is Double.Type: return number
        case is Float.Type: return Float(number)
        case is Bool.Type: return false
        case is String.Type: return ""
        default: return nil
        }
    }

    /// Thrown to end an attempt at a key without a placeholder (`key == nil`: a form of decoding not followed).
    struct Stop: Error {
        var key: String?
    }

    /// What one attempt saw, and the required keys it may answer.
    final class Recorder {
        let answered: Set<String>
        let constraints: [String: ParameterConstraint]
        var seen: [DecodedParameter] = []

        init(answered: Set<String>, constraints: [String: ParameterConstraint]) {
            self.answered = answered
            self.constraints = constraints
        }

        func record(_ key: String, _ type: Any.Type, required: Bool) {
            guard !seen.contains(where: { $0.name == key }), !(type is any Permanence.Type) else { return }
            seen.append(DecodedParameter(name: key, typeName: String(describing: type), isRequired: required))
        }
    }

    /// A decoder of nothing that records the keys asked for.
    struct RecordingDecoder: Decoder {
        let recorder: Recorder
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(RecordingContainer<Key>(recorder: recorder))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Stop(key: nil) }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw Stop(key: nil) }
    }

    /// The keyed container of ``RecordingDecoder``.
    struct RecordingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let recorder: Recorder
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool { false }
        func decodeNil(forKey key: Key) throws -> Bool { true }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            recorder.record(key.stringValue, type, required: true)
            guard recorder.answered.contains(key.stringValue),
                let value = DecodedParameters.placeholder(type, constraint: recorder.constraints[key.stringValue]) as? T
            else { throw Stop(key: key.stringValue) }
            return value
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            try decodeIfPresent(type, key)
        }

        // The scalar forms: their default implementations would ask `contains` and never name the type.
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try decodeIfPresent(type as Bool.Type, key) }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try decodeIfPresent(type as String.Type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try decodeIfPresent(type as Double.Type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try decodeIfPresent(type as Float.Type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try decodeIfPresent(type as Int.Type, key) }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try decodeIfPresent(type as Int8.Type, key) }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try decodeIfPresent(type as Int16.Type, key) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try decodeIfPresent(type as Int32.Type, key) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try decodeIfPresent(type as Int64.Type, key) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try decodeIfPresent(type as UInt.Type, key) }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try decodeIfPresent(type as UInt8.Type, key) }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try decodeIfPresent(type as UInt16.Type, key) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try decodeIfPresent(type as UInt32.Type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try decodeIfPresent(type as UInt64.Type, key) }

        private func decodeIfPresent<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
            recorder.record(key.stringValue, type, required: false)
            return nil
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw Stop(key: nil)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw Stop(key: nil) }
        func superDecoder() throws -> any Decoder { throw Stop(key: nil) }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Stop(key: nil) }
    }
}
