/// Text that is safe to print on a terminal.
///
/// Names and values that come from users, files or other programs (run names, metric keys, process keys,
/// GPU names from `nvidia-smi`, config strings) may hold escape sequences that would move the cursor,
/// change colours or retitle the window. Everything Tipi prints from such a source goes through
/// ``printable(_:)`` first.
package enum TerminalText {
    /// `text` with every control character (C0 but tab, DEL, C1, and the bidirectional overrides)
    /// written as a visible escape: `ESC[2J` becomes `\u{1B}[2J`, a newline `\n`.
    ///
    /// - Parameter allowNewlines: keep `\n` as a line break (for multi-line messages).
    package static func printable(_ text: String, allowNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, allowNewlines: allowNewlines) }) else {
            return text
        }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, allowNewlines: allowNewlines) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }

    /// `text` cut to at most `limit` characters, with `…` marking the cut (for echoing huge input).
    package static func excerpt(_ text: some StringProtocol, limit: Int = 120) -> String {
        let cut = text.count > limit ? text.prefix(limit) + "…" : String(text)
        return printable(cut)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, allowNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x09: return false
        case 0x0A: return !allowNewlines
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi embeddings, overrides and isolates
        default: return false
        }
    }
}
