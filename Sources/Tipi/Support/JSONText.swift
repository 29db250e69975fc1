/// JSON's scalars appended to a byte buffer exactly as `JSONEncoder` writes them: the one place where Tipi's
/// hand-written JSON (`run.json`, `config-sources.json`, `tipi runs --json`, the dashboard's `/api/runs`)
/// escapes strings and formats numbers. Each writer that uses it is tested byte for byte against
/// `JSONEncoder`.
package enum JSONText {
    /// `text` as a JSON string, as `JSONEncoder` escapes it: `"` and `\`, every `/` as `\/` (so `</script>`
    /// never appears in a page), control characters as `\b \f \n \r \t` or `\u00xx`; other bytes (UTF-8
    /// sequences included) as they are.
    package static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        appendEscaped(text, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `text` escaped as ``appendString(_:to:)`` escapes it, without the quotes around it (for a string
    /// written in pieces).
    package static func appendEscaped(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            var plainStart = 0
            for position in 0..<utf8.count {
                let byte = utf8[position]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") else {
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<position]))
                plainStart = position + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 15)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart...]))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// An integer in decimal.
    package static func appendInteger(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { buffer in
            var end = buffer.count
            repeat {
                end -= 1
                buffer[end] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[end...]))
        }
    }

    /// A finite number as `JSONEncoder` writes it: Swift's shortest round-trip digits, `1` for `1.0`. (What a
    /// writer does with NaN and the infinities, which JSON lacks, is its own choice.)
    package static func appendFinite(_ value: Double, to bytes: inout [UInt8]) {
        // Written through a stream that takes the digits as bytes: `description` would make a `String`
        // (on the heap from 16 characters, as most times are: `3.0994415283203125e-06`).
        var stream = ByteStream()
        swap(&stream.bytes, &bytes)
        let start = stream.bytes.count
        value.write(to: &stream)
        swap(&stream.bytes, &bytes)
        let count = bytes.count - start
        if count >= 2, bytes[bytes.count - 2] == UInt8(ascii: "."), bytes[bytes.count - 1] == UInt8(ascii: "0") {
            bytes.removeLast(2)
        }
    }

    /// A `TextOutputStream` onto bytes. `Double.write(to:)` hands its digits to `_writeASCII` (the standard
    /// library's hook for ASCII text), so they are copied without a `String` in between.
    private struct ByteStream: TextOutputStream {
        var bytes: [UInt8] = []
        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }
}
