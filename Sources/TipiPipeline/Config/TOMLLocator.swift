/// Finds where each key of a TOML text is written (line and column of the key and of its value) and in
/// which order, which TOMLKit does not report. A light scanner: it understands headers, dotted and quoted
/// keys, inline tables, arrays, strings and comments well enough to place every key of a valid file.
struct TOMLLocator {
    struct Place {
        var key: SourceLocation
        var value: SourceLocation
        var order: Int
    }

    private(set) var places: [[String]: Place] = [:]
    private let chars: [Character]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    private var counter = 0

    init(text: String, file: String) {
        chars = Array(text)
        self.file = file
        scanDocument()
    }

    func place(_ path: [String]) -> Place? {
        places[path]
    }

    private var current: Character? { index < chars.count ? chars[index] : nil }

    private func peek(_ offset: Int) -> Character? {
        index + offset < chars.count ? chars[index + offset] : nil
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private mutating func advance() {
        guard let character = current else { return }
        if character == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    private mutating func skipSpaces() {
        while let character = current, character == " " || character == "\t" { advance() }
    }

    private mutating func skipBlank() {
        while let character = current {
            if character == " " || character == "\t" || character == "\n" || character == "\r" {
                advance()
            } else if character == "#" {
                while let next = current, next != "\n" { advance() }
            } else {
                return
            }
        }
    }

    private mutating func record(_ path: [String], key: SourceLocation, value: SourceLocation) {
        guard places[path] == nil else { return }
        places[path] = Place(key: key, value: value, order: counter)
        counter += 1
    }

    private mutating func scanDocument() {
        var table: [String] = []
        while true {
            skipBlank()
            guard let character = current else { return }
            if character == "[" {
                let start = here
                advance()
                if current == "[" { advance() }  // an array of tables: `[[name]]`
                skipSpaces()
                let key = scanKey()
                table = key
                for depth in key.indices {
                    record(Array(key.prefix(depth + 1)), key: start, value: start)
                }
                while let next = current, next != "\n" { advance() }
            } else if !scanAssignment(under: table) {
                while let next = current, next != "\n" { advance() }
            }
        }
    }

    /// A dotted key: bare or quoted parts separated by dots.
    private mutating func scanKey() -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard let character = current else { break }
            if character == "\"" || character == "'" {
                parts.append(scanQuoted())
            } else {
                var part = ""
                while let next = current, next.isLetter || next.isNumber || next == "_" || next == "-" {
                    part.append(next)
                    advance()
                }
                if part.isEmpty { break }
                parts.append(part)
            }
            skipSpaces()
            if current == "." {
                advance()
            } else {
                break
            }
        }
        return parts
    }

    private mutating func scanQuoted() -> String {
        guard let quote = current else { return "" }
        if peek(1) == quote, peek(2) == quote {
            advance()
            advance()
            advance()
            var text = ""
            while let character = current {
                if character == quote, peek(1) == quote, peek(2) == quote {
                    advance()
                    advance()
                    advance()
                    break
                }
                if character == "\\", quote == "\"" {
                    advance()
                }
                text.append(current ?? " ")
                advance()
            }
            return text
        }
        advance()
        var text = ""
        while let character = current, character != quote, character != "\n" {
            if character == "\\", quote == "\"" {
                advance()
                if let escaped = current { text.append(escaped) }
                advance()
                continue
            }
            text.append(character)
            advance()
        }
        if current == quote { advance() }
        return text
    }

    /// Scans `key = value` at the cursor, recording the key (and its dotted parents) under `path`, then the
    /// value; `false` when no key stands there.
    private mutating func scanAssignment(under path: [String]) -> Bool {
        let start = here
        let key = scanKey()
        guard !key.isEmpty else { return false }
        skipSpaces()
        if current == "=" { advance() }
        skipSpaces()
        let valueStart = here
        for depth in 1..<key.count { record(path + key.prefix(depth), key: start, value: start) }
        record(path + key, key: start, value: valueStart)
        scanValue(path: path + key)
        return true
    }

    private mutating func scanValue(path: [String]) {
        guard let character = current else { return }
        switch character {
        case "{":
            advance()
            while true {
                skipBlank()
                guard let next = current else { return }
                if next == "}" {
                    advance()
                    return
                }
                if next == "," {
                    advance()
                    continue
                }
                if !scanAssignment(under: path) { advance() }
            }
        case "[":
            advance()
            var depth = 1
            while let next = current, depth > 0 {
                switch next {
                case "[", "{": depth += 1
                case "]", "}": depth -= 1
                case "\"", "'":
                    _ = scanQuoted()
                    continue
                case "#":
                    while let comment = current, comment != "\n" { advance() }
                    continue
                default: break
                }
                advance()
            }
        case "\"", "'":
            _ = scanQuoted()
        default:
            while let next = current, next != ",", next != "}", next != "]", next != "\n", next != "#" { advance() }
        }
    }
}
