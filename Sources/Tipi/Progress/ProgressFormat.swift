import Foundation

/// Pure formatting helpers for progress lines: times, counts with unit prefixes, rates, bars.
enum ProgressFormat {
    /// `mm:ss` below an hour, `h:mm:ss` above (tqdm's `format_interval`).
    static func interval(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let total = Int((seconds + 1e-6).rounded(.down))
        let hours = total / 3600
        let minutes = (total % 3600) / 60
        let secs = total % 60
        if hours > 0 {
            return "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))"
        }
        return "\(twoDigits(minutes)):\(twoDigits(secs))"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    /// A count, scaled with a prefix when `scale` is set: `977`, `2.86M`, `12.0Mi` (divisor 1024).
    static func count(_ value: Double, scale: Bool, divisor: Int) -> String {
        guard scale else {
            if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
            return threeSignificant(value)
        }
        let (scaled, prefix) = scaledValue(value, divisor: divisor)
        if prefix.isEmpty, value == value.rounded() { return String(Int(value)) }
        return threeSignificant(scaled) + prefix
    }

    /// A rate: `12.3 it/s`, or the inverse `2.50 s/it` below one unit per second; `? it/s` when unknown.
    static func rate(_ perSecond: Double?, unit: String, scale: Bool, divisor: Int) -> String {
        guard let perSecond, perSecond.isFinite, perSecond > 0 else { return "? \(unit)/s" }
        if perSecond < 1, !scale {
            return "\(threeSignificant(1 / perSecond)) s/\(unit)"
        }
        if scale {
            let (scaled, prefix) = scaledValue(perSecond, divisor: divisor)
            return "\(threeSignificant(scaled)) \(prefix)\(unit)/s"
        }
        return "\(threeSignificant(perSecond)) \(unit)/s"
    }

    /// Splits a value into a mantissa below the divisor and an SI (k, M, G…) or binary (Ki, Mi, Gi…) prefix.
    static func scaledValue(_ value: Double, divisor: Int) -> (Double, String) {
        let prefixes =
            divisor == 1024
            ? ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            : ["", "k", "M", "G", "T", "P", "E"]
        let base = Double(divisor)
        var scaled = value
        var index = 0
        while abs(scaled) >= base * 0.9995, index < prefixes.count - 1 {
            scaled /= base
            index += 1
        }
        return (scaled, prefixes[index])
    }

    /// Three significant digits without exponent for ordinary magnitudes: `1.23`, `12.3`, `123`, `1234`.
    static func threeSignificant(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 99.95 { return String(format: "%.0f", value) }
        if magnitude >= 9.995 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    /// A postfix value the way tqdm shows it: numbers with about four significant digits.
    static func postfixValue(_ value: any CustomStringConvertible & Sendable) -> String {
        switch value {
        case let double as Double: return number(double)
        case let float as Float: return number(Double(float))
        default: return sanitize(value.description)
        }
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e6 { return String(Int(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-3, magnitude < 1e6 {
            var text = String(format: "%.4g", value)
            if text.contains("e") { text = String(format: "%.3e", value) }
            return text
        }
        return String(format: "%.3e", value)
    }

    /// Keeps a user string on one line: newlines, tabs and other control characters become spaces.
    static func sanitize(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        return String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// The glyphs used for sub-character precision, from empty to full (eighths of a cell).
    static let partialBlocks: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// A bar `width` cells wide filled to `fraction` with eighth-of-a-cell precision: `████▏     `.
    static func bar(fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let clamped = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        let eighths = Int((clamped * Double(width) * 8).rounded(.down))
        let full = min(eighths / 8, width)
        var result = String(repeating: "█", count: full)
        if full < width {
            let partial = eighths % 8
            result.append(partial == 0 ? " " : partialBlocks[partial])
            result += String(repeating: " ", count: width - full - 1)
        }
        return result
    }
}

/// Display width of text in terminal cells (wide East Asian characters and most emoji take two cells).
enum DisplayWidth {
    static func of(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + of($1) }
    }

    static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 { return 0 }
        if (0x0300...0x036F).contains(value) || (0x200B...0x200F).contains(value)
            || (0xFE00...0xFE0F).contains(value)
        {
            return 0
        }
        if (0x1100...0x115F).contains(value) || (0x2E80...0xA4CF).contains(value)
            || (0xAC00...0xD7A3).contains(value) || (0xF900...0xFAFF).contains(value)
            || (0xFE30...0xFE4F).contains(value) || (0xFF00...0xFF60).contains(value)
            || (0xFFE0...0xFFE6).contains(value) || (0x1F300...0x1F64F).contains(value)
            || (0x1F900...0x1F9FF).contains(value) || (0x20000...0x3FFFD).contains(value)
        {
            return 2
        }
        return 1
    }

    /// The longest prefix of `text` that fits in `columns` cells.
    static func truncate(_ text: String, to columns: Int) -> String {
        guard columns > 0 else { return "" }
        if text.utf8.count <= columns { return text }
        var used = 0
        var result = ""
        for character in text {
            let width = of(String(character))
            if used + width > columns { break }
            used += width
            result.append(character)
        }
        return result
    }
}
