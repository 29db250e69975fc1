import Foundation

/// The binary form of the run index (``RunIndex``): little-endian integers, `Double` bit patterns,
/// length-prefixed UTF-8 strings. Hand-written because decoding 10,000 runs with `JSONDecoder` costs more
/// than reading their `run.json` files.
struct RunIndexWriter {
    var bytes: [UInt8] = []

    mutating func integer(_ value: Int64) { unsigned(UInt64(bitPattern: value)) }
    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func unsigned(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func unsigned32(_ value: Int) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func double(_ value: Double) { unsigned(value.bitPattern) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ value: String) {
        unsigned32(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    /// A presence byte, then the value when there is one.
    mutating func optional<T>(_ value: T?, _ write: (inout RunIndexWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }

    mutating func strings(_ values: [String]) {
        unsigned32(values.count)
        for value in values { string(value) }
    }

    mutating func config(_ value: ConfigValue) {
        switch value {
        case .int(let number):
            bytes.append(0)
            integer(number)
        case .double(let number):
            bytes.append(1)
            double(number)
        case .string(let text):
            bytes.append(2)
            string(text)
        case .bool(let flag):
            bytes.append(3)
            bool(flag)
        case .array(let values):
            bytes.append(4)
            unsigned32(values.count)
            for item in values { config(item) }
        case .table(let table):
            bytes.append(5)
            configTable(table)
        }
    }

    mutating func configTable(_ table: [String: ConfigValue]) {
        unsigned32(table.count)
        for (key, item) in table {
            string(key)
            config(item)
        }
    }
}

/// Reads what ``RunIndexWriter`` wrote; every read is bounds-checked, so a truncated or damaged index is
/// an error (``Malformed``), never a crash.
struct RunIndexReader {
    /// The index does not have the expected shape.
    struct Malformed: Error {}

    let bytes: UnsafeRawBufferPointer
    var offset: Int

    /// Nesting of config arrays and tables beyond this is refused (a damaged index must not exhaust the stack).
    static let maximumDepth = 64

    mutating func take(_ count: Int) throws -> Int {
        guard count >= 0, count <= bytes.count - offset else { throw Malformed() }
        defer { offset += count }
        return offset
    }

    mutating func unsigned() throws -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8), as: UInt64.self))
    }

    mutating func unsigned32() throws -> Int {
        Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4), as: UInt32.self)))
    }

    mutating func integer() throws -> Int64 { Int64(bitPattern: try unsigned()) }
    mutating func int() throws -> Int { Int(truncatingIfNeeded: try integer()) }
    mutating func double() throws -> Double { Double(bitPattern: try unsigned()) }

    mutating func byte() throws -> UInt8 { bytes[try take(1)] }

    mutating func bool() throws -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw Malformed()
        }
    }

    mutating func string() throws -> String {
        let count = try unsigned32()
        let start = try take(count)
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<start + count]), as: UTF8.self)
    }

    mutating func optional<T>(_ read: (inout RunIndexReader) throws -> T) throws -> T? {
        try bool() ? try read(&self) : nil
    }

    /// A count of items that take at least `minimumSize` bytes each: larger than what is left is damage.
    mutating func count(minimumSize: Int) throws -> Int {
        let count = try unsigned32()
        guard count <= (bytes.count - offset) / max(minimumSize, 1) else { throw Malformed() }
        return count
    }

    mutating func strings() throws -> [String] {
        let count = try count(minimumSize: 4)
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try string()) }
        return values
    }

    mutating func config(depth: Int = 0) throws -> ConfigValue {
        guard depth < Self.maximumDepth else { throw Malformed() }
        switch try byte() {
        case 0: return .int(try int())
        case 1: return .double(try double())
        case 2: return .string(try string())
        case 3: return .bool(try bool())
        case 4:
            let count = try count(minimumSize: 2)
            var values: [ConfigValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try config(depth: depth + 1)) }
            return .array(values)
        case 5: return .table(try configTable(depth: depth + 1))
        default: throw Malformed()
        }
    }

    mutating func configTable(depth: Int = 0) throws -> [String: ConfigValue] {
        let count = try count(minimumSize: 6)
        var table: [String: ConfigValue] = [:]
        table.reserveCapacity(count)
        for _ in 0..<count {
            let key = try string()
            table[key] = try config(depth: depth)
        }
        return table
    }
}
