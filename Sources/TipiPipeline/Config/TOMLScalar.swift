/// The unquoted values of TOML: integers (`1_000`, `0xFF`, `0o17`, `0b101`), floats (`1e-3`, `inf`,
/// `nan`), booleans, and dates and times (kept as their text, validated).
enum TOMLScalar {
    /// The value `text` spells, `nil` when it spells none, or an error when it is a number that does not
    /// fit (an integer beyond 64 bits, a float beyond `Double`).
    static func classify(_ text: String, location: SourceLocation) throws(TOMLParser.SyntaxError) -> ConfigNode? {
        switch text {
        case "true": return .bool(true, location)
        case "false": return .bool(false, location)
        case "inf", "+inf": return .double(.infinity, location)
        case "-inf": return .double(-.infinity, location)
        case "nan", "+nan", "-nan": return .double(.nan, location)
        default: break
        }
        if let value = plainInteger(text.utf8) { return .int(value, location) }
        let bytes = Array(text.utf8)
        guard let first = bytes.first else { return nil }
        if let value = try integer(bytes, text: text, location: location) { return .int(value, location) }
        if let value = try float(bytes, text: text, location: location) { return .double(value, location) }
        if isDigit(first), isDateTime(bytes) { return .date(text, location) }
        return nil
    }

    /// The common integer: an optional sign and 1 to 18 decimal digits, without `_` or a leading zero (what
    /// ``integer(_:text:location:)`` reads the same way, without its copies); `nil` for anything else.
    static func plainInteger(_ text: some Sequence<UInt8>) -> Int? {
        var utf8 = text.makeIterator()
        guard var byte = utf8.next() else { return nil }
        var negative = false
        if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
            negative = byte == UInt8(ascii: "-")
            guard let next = utf8.next() else { return nil }
            byte = next
        }
        guard isDigit(byte) else { return nil }
        var value = Int(byte - UInt8(ascii: "0"))
        var count = 1
        while let next = utf8.next() {
            guard isDigit(next), value != 0, count < 18 else { return nil }
            value = value * 10 + Int(next - UInt8(ascii: "0"))
            count += 1
        }
        return negative ? -value : value
    }

    private static func tooLarge(_ text: String, _ kind: String, _ location: SourceLocation, help: String) -> TOMLParser.SyntaxError {
        TOMLParser.SyntaxError(
            line: location.line, column: location.column,
            message: "\(TerminalText.excerpt(text, limit: 40)) is too large for \(kind)", help: help)
    }

    private static func integer(_ bytes: [UInt8], text: String, location: SourceLocation) throws(TOMLParser.SyntaxError) -> Int? {
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let radix: Int
            let isDigitOfRadix: (UInt8) -> Bool
            switch bytes[1] {
            case UInt8(ascii: "x"): (radix, isDigitOfRadix) = (16, { isDigit($0) || (0x61...0x66).contains($0 | 0x20) })
            case UInt8(ascii: "o"): (radix, isDigitOfRadix) = (8, { (0x30...0x37).contains($0) })
            case UInt8(ascii: "b"): (radix, isDigitOfRadix) = (2, { $0 == 0x30 || $0 == 0x31 })
            default: return nil
            }
            guard let digits = self.digits(bytes[2...], isDigitOfRadix) else { return nil }
            guard let value = Int(digits, radix: radix) else {
                throw tooLarge(text, "an integer (at most 0x7FFFFFFFFFFFFFFF)", location, help: "integers are 64-bit signed")
            }
            return value
        }
        var body = bytes[...]
        var negative = false
        if let sign = body.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        guard let digits = self.digits(body, isDigit) else { return nil }
        if digits.count > 1, digits.hasPrefix("0") { return nil }  // leading zeros are not TOML
        guard let value = Int((negative ? "-" : "") + digits) else {
            throw tooLarge(
                text, "an integer (\(Int.min)…\(Int.max))", location,
                help: "write it as a float (e.g. 1e20) if an approximate value will do, or as a string in quotes")
        }
        return value
    }

    private static func float(_ bytes: [UInt8], text: String, location: SourceLocation) throws(TOMLParser.SyntaxError) -> Double? {
        var body = bytes[...]
        if let sign = body.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { body = body.dropFirst() }
        let exponentIndex = body.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = body[..<(exponentIndex ?? body.endIndex)]
        let dotIndex = mantissa.firstIndex(of: UInt8(ascii: "."))
        guard dotIndex != nil || exponentIndex != nil else { return nil }
        guard let whole = digits(mantissa[..<(dotIndex ?? mantissa.endIndex)], isDigit) else { return nil }
        if whole.count > 1, whole.hasPrefix("0") { return nil }
        var normalized = (bytes.first == UInt8(ascii: "-") ? "-" : "") + whole
        if let dotIndex {
            guard let fraction = digits(mantissa[(dotIndex + 1)...], isDigit) else { return nil }
            normalized += "." + fraction
        }
        if let exponentIndex {
            var exponent = body[(exponentIndex + 1)...]
            var sign = ""
            if let first = exponent.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                sign = first == UInt8(ascii: "-") ? "-" : ""
                exponent = exponent.dropFirst()
            }
            guard let power = digits(exponent, isDigit) else { return nil }
            normalized += "e" + sign + power
        }
        guard let value = Double(normalized) else { return nil }
        guard value.isFinite else {
            throw tooLarge(text, "a float (at most about 1.8e308)", location, help: "write inf if infinity is meant")
        }
        return value
    }

    /// The digits of `bytes` without underscores, when each underscore stands between two digits.
    private static func digits(_ bytes: ArraySlice<UInt8>, _ isDigit: (UInt8) -> Bool) -> String? {
        guard let first = bytes.first, let last = bytes.last, isDigit(first), isDigit(last) else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var previousWasDigit = false
        for byte in bytes {
            if byte == UInt8(ascii: "_") {
                guard previousWasDigit else { return nil }
                previousWasDigit = false
            } else {
                guard isDigit(byte) else { return nil }
                result.append(byte)
                previousWasDigit = true
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `1979-05-27`, `07:32:00.5`, `1979-05-27T07:32:00Z`, `1979-05-27 07:32:00-07:00` and the like.
    private static func isDateTime(_ bytes: [UInt8]) -> Bool {
        var rest = bytes[...]
        func number(_ count: Int, _ range: ClosedRange<Int>) -> Bool {
            guard rest.count >= count else { return false }
            let part = rest.prefix(count)
            guard part.allSatisfy(isDigit), let value = Int(String(decoding: part, as: UTF8.self)), range.contains(value) else { return false }
            rest = rest.dropFirst(count)
            return true
        }
        func literal(_ byte: UInt8) -> Bool {
            guard rest.first == byte else { return false }
            rest = rest.dropFirst()
            return true
        }
        func time() -> Bool {
            guard number(2, 0...23), literal(UInt8(ascii: ":")), number(2, 0...59), literal(UInt8(ascii: ":")), number(2, 0...60) else {
                return false
            }
            if literal(UInt8(ascii: ".")) {
                guard let first = rest.first, isDigit(first) else { return false }
                rest = rest.drop(while: isDigit)
            }
            return true
        }
        if bytes.count > 2, bytes[2] == UInt8(ascii: ":") { return time() && rest.isEmpty }
        guard number(4, 0...9999), literal(UInt8(ascii: "-")), number(2, 1...12), literal(UInt8(ascii: "-")), number(2, 1...31) else {
            return false
        }
        if rest.isEmpty { return true }
        guard let separator = rest.first, separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == 0x20 else {
            return false
        }
        rest = rest.dropFirst()
        guard time() else { return false }
        if rest.isEmpty || literal(UInt8(ascii: "Z")) || literal(UInt8(ascii: "z")) { return rest.isEmpty }
        guard literal(UInt8(ascii: "+")) || literal(UInt8(ascii: "-")) else { return false }
        return number(2, 0...23) && literal(UInt8(ascii: ":")) && number(2, 0...59) && rest.isEmpty
    }
}
