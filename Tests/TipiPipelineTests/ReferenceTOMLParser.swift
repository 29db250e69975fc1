// The TOML reading as it was before the single-tree parser (commit d949bc2): TOMLParser and TOMLTree, renamed,
// kept only as the reference that TOMLDifferentialTests compares the parser with on random inputs.
import Tipi
@testable import TipiPipeline

/// The tree ``TOMLParser`` builds while it reads: tables stay mutable (and remember how they were
/// defined, which decides what TOML lets a later line add to them) until the whole file is read, then
/// become a ``ConfigTable``.
enum ReferenceTOMLTree {
    /// One part of a dotted key, with where it was written.
    struct KeyPart {
        var name: String
        var location: SourceLocation
    }

    /// A value being read.
    enum Value {
        case scalar(ConfigNode)
        case array([Value], SourceLocation)
        case table(Table)
        /// `[[name]]` sections, in file order, located at the first.
        case tableArray(TableList)

        /// The TOML type name, for messages.
        var typeName: String {
            switch self {
            case .scalar(let node): return node.typeName
            case .array: return "array"
            case .table: return "table"
            case .tableArray: return "array of tables"
            }
        }

        /// The finished value.
        func node() -> ConfigNode {
            switch self {
            case .scalar(let node): return node
            case .array(let values, let location): return .array(values.map { $0.node() }, location)
            case .table(let table): return .table(table.configTable(), table.location)
            case .tableArray(let list):
                return .array(list.tables.map { .table($0.configTable(), $0.location) }, list.location)
            }
        }
    }

    /// How a table came to be, which decides what may still be added to it.
    enum Kind {
        /// Made as the parent of a header (`[a]` by `[a.b]`): a later `[a]` may still define it.
        case implicit
        /// Defined by its own header `[a]` (or `[[a]]`).
        case header
        /// Made by a dotted key (`a.b = 1`): further dotted keys may add to it.
        case dotted
        /// An inline table `{ … }`: complete as written.
        case inline
    }

    /// The tables of `[[name]]` sections (a class, so that each section appends in place).
    final class TableList {
        let location: SourceLocation
        private(set) var tables: [Table]

        init(_ first: Table, location: SourceLocation) {
            self.location = location
            tables = [first]
        }

        func append(_ table: Table) { tables.append(table) }
    }

    /// A table being read: its keys in file order.
    ///
    /// Keys and values are kept side by side in file order, so that the finished ``ConfigTable`` is made
    /// without looking each key up again; a dictionary finds a key once the table has more than
    /// ``ConfigTable/linearLimit`` keys (a process's tables have two or three, which a scan finds sooner).
    final class Table {
        var kind: Kind
        var location: SourceLocation?
        private(set) var keys: [String] = []
        private var entries: [Value] = []
        private var positions: [String: Int]?

        init(kind: Kind, location: SourceLocation?) {
            self.kind = kind
            self.location = location
        }

        private func position(of key: String) -> Int? {
            if let positions { return positions[key] }
            return keys.firstIndex(of: key)
        }

        /// The value of `key`, if the table has it.
        subscript(key: String) -> Value? {
            position(of: key).map { entries[$0] }
        }

        /// Adds or replaces `key` (a new key goes last).
        func set(_ key: String, _ value: Value) {
            if let position = position(of: key) {
                entries[position] = value
                return
            }
            keys.append(key)
            entries.append(value)
            if positions != nil {
                positions?[key] = keys.count - 1
            } else if keys.count > ConfigTable.linearLimit {
                var index: [String: Int] = [:]
                index.reserveCapacity(keys.count * 2)
                for (position, key) in keys.enumerated() { index[key] = position }
                positions = index
            }
        }

        /// Marks this inline table and the tables its dotted keys made as complete.
        func freeze() {
            kind = .inline
            for case .table(let table) in entries { table.freeze() }
        }

        /// The finished table.
        func configTable() -> ConfigTable {
            var finished: [(key: String, value: ConfigNode)] = []
            finished.reserveCapacity(keys.count)
            for (key, value) in zip(keys, entries) { finished.append((key, value.node())) }
            // The keys are unique (TOML refuses a key defined twice): the positions are the table's index.
            return ConfigTable(entries: finished)
        }
    }
}
/// Reads TOML 1.0 text into a ``ConfigTable``: every key and value with its line and column, every table in
/// the order it was written. The one reading of a config: order, positions and values come from the same pass.
///
/// Covers the whole of TOML 1.0 — basic and literal strings (single- and multi-line, every escape),
/// integers (`_`, hex, octal, binary), floats (`inf`, `nan`), booleans, dates and times (kept as their
/// text), arrays, inline tables, tables, arrays of tables, dotted and quoted keys, comments, CRLF line
/// endings and a byte-order mark — and rejects what TOML rejects (a key defined twice, a table redefined,
/// control characters, an integer that does not fit in 64 bits) with the line and column of the fault.
/// Nesting is capped at ``maximumDepth`` levels so that a hostile file cannot exhaust the stack.
struct ReferenceTOMLParser {
    /// The deepest nesting of tables and arrays a config may have.
    static let maximumDepth = 64

    typealias SyntaxError = TOMLParser.SyntaxError

    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    private let root = ReferenceTOMLTree.Table(kind: .implicit, location: nil)

    private init(text: String, file: String) {
        bytes = Array(text.utf8)
        self.file = file
    }

    /// Parses a whole document.
    static func parse(_ text: String, file: String) throws(SyntaxError) -> ConfigTable {
        var parser = ReferenceTOMLParser(text: text, file: file)
        try parser.document()
        return parser.root.configTable()
    }

    /// Parses a single value (the right side of `--set key=value`), which must be the whole text.
    static func parseValue(_ text: String, file: String = "") throws(SyntaxError) -> ConfigNode {
        var parser = ReferenceTOMLParser(text: text, file: file)
        parser.skipSpaces()
        let value = try parser.value(depth: 1)
        parser.skipSpaces()
        guard parser.current == nil else { throw parser.error("expected the end of the value, found \(parser.describeCurrent())") }
        return value.node()
    }

    /// Parses a dotted key (the left side of `--set key=value`), which must be the whole text.
    static func parseKey(_ text: String) throws(SyntaxError) -> [String] {
        var parser = ReferenceTOMLParser(text: text, file: "")
        parser.skipSpaces()
        let key = try parser.key()
        parser.skipSpaces()
        guard parser.current == nil else { throw parser.error("expected `.` or the end of the key, found \(parser.describeCurrent())") }
        return key.map(\.name)
    }

    // MARK: - Cursor

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func peek(_ offset: Int) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private mutating func advance() {
        guard let byte = current else { return }
        index += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1  // columns count characters (Unicode scalars), not bytes
        }
    }

    private mutating func advance(_ count: Int) {
        for _ in 0..<count { advance() }
    }

    private func error(_ message: String, help: String? = nil) -> SyntaxError {
        SyntaxError(line: line, column: column, message: message, help: help)
    }

    private func error(at location: SourceLocation, _ message: String, help: String? = nil) -> SyntaxError {
        SyntaxError(line: location.line, column: location.column, message: message, help: help)
    }

    /// The character at the cursor, for messages.
    private func describeCurrent() -> String {
        guard let byte = current else { return "the end of the file" }
        switch byte {
        case 0x0A: return "the end of the line"
        case 0x0D: return "a carriage return"
        case 0x20..<0x7F: return "`\(Character(Unicode.Scalar(byte)))`"
        case 0x80...:
            var end = index + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            let text = String(decoding: bytes[index..<end], as: UTF8.self)
            return "`\(TerminalText.printable(text))`"
        default: return "control character U+\(hex(UInt32(byte)))"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private mutating func skipSpaces() {
        while let byte = current, byte == 0x20 || byte == 0x09 { advance() }
    }

    /// A comment (from `#` to the end of the line), if one starts at the cursor.
    private mutating func skipComment() throws(SyntaxError) {
        guard current == UInt8(ascii: "#") else { return }
        while let byte = current, byte != 0x0A {
            if byte == 0x0D, peek(1) == 0x0A { return }
            if isForbiddenControl(byte) {
                throw error("control character U+\(hex(UInt32(byte))) in a comment", help: "remove it; TOML allows only tabs among control characters")
            }
            advance()
        }
    }

    /// A line ending (`\n` or `\r\n`) at the cursor; `false` when there is none.
    private mutating func newline() -> Bool {
        if current == 0x0A {
            advance()
            return true
        }
        if current == 0x0D, peek(1) == 0x0A {
            advance(2)
            return true
        }
        return false
    }

    /// Spaces, comments and line endings (between array values and between lines).
    private mutating func skipBlankLines() throws(SyntaxError) {
        while true {
            skipSpaces()
            try skipComment()
            if !newline() { return }
        }
    }

    /// The rest of a line after a value or header: spaces, a comment, then the line ending or the end.
    private mutating func endOfLine(after what: String) throws(SyntaxError) {
        skipSpaces()
        try skipComment()
        guard current == nil || newline() else {
            throw error(
                "expected the end of the line after \(what), found \(describeCurrent())",
                help: "put one key = value per line; start a comment with #")
        }
    }

    private func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09) || byte == 0x7F
    }

    // MARK: - Document

    private mutating func document() throws(SyntaxError) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }  // a byte-order mark
        var table = root
        var tablePath: [String] = []
        while true {
            try skipBlankLines()
            guard current != nil else { return }
            if current == UInt8(ascii: "[") {
                let start = here
                advance()
                let isArray = current == UInt8(ascii: "[")
                if isArray { advance() }
                skipSpaces()
                let key = try self.key()
                skipSpaces()
                guard current == UInt8(ascii: "]"), !isArray || peek(1) == UInt8(ascii: "]") else {
                    throw error(
                        "expected `\(isArray ? "]]" : "]")` to close the table header, found \(describeCurrent())",
                        help: "write a header as [name] or [[name]] on a line of its own")
                }
                advance(isArray ? 2 : 1)
                guard key.count <= Self.maximumDepth else {
                    throw error(at: start, "table header nested \(key.count) levels deep; at most \(Self.maximumDepth) are allowed", help: "flatten the config")
                }
                table = try header(key, at: start, isArray: isArray)
                tablePath = key.map(\.name)
                try endOfLine(after: "the table header")
            } else {
                try keyValue(into: table, depth: tablePath.count)
                try endOfLine(after: "the value")
            }
        }
    }

    /// `[a.b.c]` or `[[a.b.c]]`: the table that following keys go into.
    private mutating func header(_ key: [ReferenceTOMLTree.KeyPart], at start: SourceLocation, isArray: Bool) throws(SyntaxError) -> ReferenceTOMLTree.Table {
        var table = root
        for (position, part) in key.enumerated() {
            // For messages only (joining the parts costs more than the rest of the header).
            func dotted() -> String { key.prefix(position + 1).map(\.name).joined(separator: ".") }
            let isLast = position == key.count - 1
            switch table[part.name] {
            case nil:
                if isLast, isArray {
                    let element = ReferenceTOMLTree.Table(kind: .header, location: start)
                    table.set(part.name, .tableArray(ReferenceTOMLTree.TableList(element, location: start)))
                    return element
                }
                let created = ReferenceTOMLTree.Table(kind: isLast ? .header : .implicit, location: start)
                table.set(part.name, .table(created))
                table = created
            case .table(let existing)?:
                if existing.kind == .inline {
                    throw error(at: start, "'\(dotted())' is an inline table, which cannot be extended", help: "add its keys inside { … } instead")
                }
                if isLast {
                    if isArray {
                        throw error(at: start, "'\(dotted())' is already a table, so it cannot be an array of tables")
                    }
                    guard existing.kind == .implicit else {
                        throw error(at: start, "table '\(dotted())' is defined twice", help: "merge the two [\(dotted())] sections into one")
                    }
                    existing.kind = .header
                    existing.location = start
                }
                table = existing
            case .tableArray(let list)?:
                if isLast {
                    guard isArray else {
                        throw error(at: start, "'\(dotted())' is an array of tables ([[\(dotted())]]), so it cannot be a table", help: "write [[\(dotted())]]")
                    }
                    let element = ReferenceTOMLTree.Table(kind: .header, location: start)
                    list.append(element)
                    return element
                }
                guard let last = list.tables.last else { return table }
                table = last
            case let other?:
                throw error(
                    at: start, "'\(dotted())' is already \(other.typeName.hasPrefix("i") || other.typeName.hasPrefix("a") ? "an" : "a") \(other.typeName), so it cannot be a table",
                    help: "rename one of the two, or remove the value")
            }
        }
        return table
    }

    /// `key = value` (the key may be dotted), into `table`.
    private mutating func keyValue(into table: ReferenceTOMLTree.Table, depth: Int) throws(SyntaxError) {
        let start = here
        let key = try self.key()
        skipSpaces()
        guard current == UInt8(ascii: "=") else {
            throw error(
                "expected `=` after the key '\(key.map(\.name).joined(separator: "."))', found \(describeCurrent())",
                help: "write key = value")
        }
        advance()
        skipSpaces()
        guard depth + key.count <= Self.maximumDepth else {
            throw error(at: start, "key nested \(depth + key.count) levels deep; at most \(Self.maximumDepth) are allowed", help: "flatten the config")
        }
        var target = table
        for part in key.dropLast() {
            switch target[part.name] {
            case nil:
                let created = ReferenceTOMLTree.Table(kind: .dotted, location: part.location)
                target.set(part.name, .table(created))
                target = created
            case .table(let existing)? where existing.kind == .dotted:
                target = existing
            case let other?:
                throw error(
                    at: part.location, "'\(part.name)' is already defined (\(other.typeName)), so a dotted key cannot add to it",
                    help: "write the key inside its own table or inline table")
            }
        }
        guard let last = key.last else { return }
        if target[last.name] != nil {
            throw error(at: last.location, "key '\(last.name)' is defined twice", help: "remove one of the two")
        }
        let value = try self.value(depth: depth + key.count)
        target.set(last.name, value)
    }

    // MARK: - Keys

    /// A dotted key: bare or quoted parts separated by dots (spaces allowed around the dots).
    private mutating func key() throws(SyntaxError) -> [ReferenceTOMLTree.KeyPart] {
        var parts: [ReferenceTOMLTree.KeyPart] = []
        while true {
            skipSpaces()
            let start = here
            let name: String
            switch current {
            case UInt8(ascii: "\"")?:
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    throw error("a key cannot be a multi-line string", help: "use \"…\" or '…' for a quoted key")
                }
                name = try basicString()
            case UInt8(ascii: "'")?:
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                    throw error("a key cannot be a multi-line string", help: "use \"…\" or '…' for a quoted key")
                }
                name = try literalString()
            default:
                let begin = index
                while let byte = current, isBareKeyByte(byte) { advance() }
                guard index > begin else {
                    throw error(
                        "expected a key, found \(describeCurrent())",
                        help: "keys are letters, digits, `_` and `-`, or quoted: \"my key\"")
                }
                name = String(decoding: bytes[begin..<index], as: UTF8.self)
            }
            parts.append(ReferenceTOMLTree.KeyPart(name: name, location: start))
            guard parts.count <= Self.maximumDepth else {
                throw error(at: start, "key nested more than \(Self.maximumDepth) levels deep; at most \(Self.maximumDepth) are allowed", help: "flatten the config")
            }
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return parts }
            advance()
        }
    }

    private func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default: return false
        }
    }

    // MARK: - Values

    private mutating func value(depth: Int) throws(SyntaxError) -> ReferenceTOMLTree.Value {
        let start = here
        guard depth <= Self.maximumDepth else {
            throw error("value nested more than \(Self.maximumDepth) levels deep; at most \(Self.maximumDepth) are allowed", help: "flatten the config")
        }
        switch current {
        case UInt8(ascii: "\"")?:
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                return .scalar(.string(try multilineString(quote: UInt8(ascii: "\"")), start))
            }
            return .scalar(.string(try basicString(), start))
        case UInt8(ascii: "'")?:
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                return .scalar(.string(try multilineString(quote: UInt8(ascii: "'")), start))
            }
            return .scalar(.string(try literalString(), start))
        case UInt8(ascii: "[")?:
            return try array(depth: depth, start: start)
        case UInt8(ascii: "{")?:
            return .table(try inlineTable(depth: depth, start: start))
        case nil, 0x0A?, 0x0D?, UInt8(ascii: "#")?:
            throw error("expected a value, found \(describeCurrent())", help: "write a value after `=`: a number, \"text\", true, [ … ] or { … }")
        default:
            return .scalar(try bareValue(start: start))
        }
    }

    private mutating func array(depth: Int, start: SourceLocation) throws(SyntaxError) -> ReferenceTOMLTree.Value {
        advance()  // [
        var elements: [ReferenceTOMLTree.Value] = []
        while true {
            try skipBlankLines()
            if current == UInt8(ascii: "]") {
                advance()
                return .array(elements, start)
            }
            elements.append(try value(depth: depth + 1))
            try skipBlankLines()
            if current == UInt8(ascii: ",") {
                advance()
            } else if current == UInt8(ascii: "]") {
                advance()
                return .array(elements, start)
            } else {
                throw error("expected `,` or `]` in the array, found \(describeCurrent())", help: "separate values with commas and close the array with ]")
            }
        }
    }

    private mutating func inlineTable(depth: Int, start: SourceLocation) throws(SyntaxError) -> ReferenceTOMLTree.Table {
        advance()  // {
        let table = ReferenceTOMLTree.Table(kind: .dotted, location: start)
        skipSpaces()
        if current == UInt8(ascii: "}") {
            advance()
            table.kind = .inline
            return table
        }
        while true {
            skipSpaces()
            try keyValue(into: table, depth: depth)
            skipSpaces()
            if current == UInt8(ascii: ",") {
                advance()
                skipSpaces()
                if current == UInt8(ascii: "}") {
                    throw error("an inline table cannot end with a comma", help: "remove the last comma")
                }
            } else if current == UInt8(ascii: "}") {
                advance()
                table.freeze()
                return table
            } else {
                throw error(
                    "expected `,` or `}` in the inline table, found \(describeCurrent())",
                    help: "an inline table stays on one line: { a = 1, b = 2 }")
            }
        }
    }

    /// `"…"` with escapes, on one line.
    private mutating func basicString() throws(SyntaxError) -> String {
        advance()  // "
        var scalars = String.UnicodeScalarView()
        var begin = index
        func flush(_ parser: ReferenceTOMLParser, upTo end: Int) {
            if end > begin { scalars.append(contentsOf: String(decoding: parser.bytes[begin..<end], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard let byte = current, byte != 0x0A, !(byte == 0x0D && peek(1) == 0x0A) else {
                throw error("unterminated string: expected `\"` before \(describeCurrent())", help: "close the string with \" on the same line, or use \"\"\" for several lines")
            }
            if byte == UInt8(ascii: "\"") {
                // Without escapes (the usual string), the text is the bytes as they are.
                let text: String
                if scalars.isEmpty {
                    text = String(decoding: bytes[begin..<index], as: UTF8.self)
                } else {
                    flush(self, upTo: index)
                    text = String(scalars)
                }
                advance()
                return text
            }
            if byte == UInt8(ascii: "\\") {
                flush(self, upTo: index)
                scalars.append(try escape())
                begin = index
                continue
            }
            if isForbiddenControl(byte) {
                throw error("control character U+\(hex(UInt32(byte))) in a string", help: "write it as an escape, e.g. \\u\(hex(UInt32(byte)))")
            }
            advance()
        }
    }

    /// `'…'`, verbatim, on one line.
    private mutating func literalString() throws(SyntaxError) -> String {
        advance()  // '
        let begin = index
        while true {
            guard let byte = current, byte != 0x0A, !(byte == 0x0D && peek(1) == 0x0A) else {
                throw error("unterminated string: expected `'` before \(describeCurrent())", help: "close the string with ' on the same line, or use ''' for several lines")
            }
            if byte == UInt8(ascii: "'") {
                let text = String(decoding: bytes[begin..<index], as: UTF8.self)
                advance()
                return text
            }
            if isForbiddenControl(byte) {
                throw error("control character U+\(hex(UInt32(byte))) in a string", help: "a literal string cannot hold it; use \"…\" with an escape")
            }
            advance()
        }
    }

    /// `"""…"""` (with escapes and line-ending backslashes) or `'''…'''` (verbatim).
    private mutating func multilineString(quote: UInt8) throws(SyntaxError) -> String {
        let start = here
        advance(3)
        _ = newline()  // a line ending right after the opening quotes is not part of the string
        var scalars = String.UnicodeScalarView()
        var begin = index
        func flush(_ parser: ReferenceTOMLParser, upTo end: Int) {
            if end > begin { scalars.append(contentsOf: String(decoding: parser.bytes[begin..<end], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard let byte = current else {
                let delimiter = String(repeating: Character(Unicode.Scalar(quote)), count: 3)
                throw error(at: start, "unterminated multi-line string: no closing \(delimiter)", help: "close it with \(delimiter)")
            }
            if byte == quote, peek(1) == quote, peek(2) == quote {
                // Up to two more quotes right before the closing ones belong to the string.
                var extra = 0
                while extra < 2, peek(3 + extra) == quote { extra += 1 }
                flush(self, upTo: index + extra)
                advance(3 + extra)
                return String(scalars)
            }
            if quote == UInt8(ascii: "\""), byte == UInt8(ascii: "\\") {
                flush(self, upTo: index)
                if try lineEndingBackslash() {
                    begin = index
                    continue
                }
                scalars.append(try escape())
                begin = index
                continue
            }
            if byte == 0x0D, peek(1) == 0x0A {
                flush(self, upTo: index)
                scalars.append("\n")  // CRLF reads as a line feed, so a value does not depend on the file's line endings
                advance(2)
                begin = index
                continue
            }
            if byte != 0x0A, isForbiddenControl(byte) {
                throw error("control character U+\(hex(UInt32(byte))) in a string", help: "write it as an escape, e.g. \\u\(hex(UInt32(byte)))")
            }
            advance()
        }
    }

    /// A `\` followed by spaces and a line ending: skips it and all whitespace after; `false` otherwise.
    private mutating func lineEndingBackslash() throws(SyntaxError) -> Bool {
        var offset = 1
        while let byte = peek(offset), byte == 0x20 || byte == 0x09 { offset += 1 }
        guard peek(offset) == 0x0A || (peek(offset) == 0x0D && peek(offset + 1) == 0x0A) else { return false }
        advance(offset)
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || (byte == 0x0D && peek(1) == 0x0A) {
            advance(byte == 0x0D ? 2 : 1)
        }
        return true
    }

    /// An escape sequence at the cursor (`\n`, `\"`, `\u00E9`, `\U0001F600`, …).
    private mutating func escape() throws(SyntaxError) -> Unicode.Scalar {
        advance()  // backslash
        guard let byte = current else { throw error("unterminated escape sequence at the end of the file") }
        let simple: Unicode.Scalar?
        switch byte {
        case UInt8(ascii: "b"): simple = "\u{08}"
        case UInt8(ascii: "t"): simple = "\t"
        case UInt8(ascii: "n"): simple = "\n"
        case UInt8(ascii: "f"): simple = "\u{0C}"
        case UInt8(ascii: "r"): simple = "\r"
        case UInt8(ascii: "\""): simple = "\""
        case UInt8(ascii: "\\"): simple = "\\"
        case UInt8(ascii: "u"), UInt8(ascii: "U"): simple = nil
        default:
            let shown = byte >= 0x20 && byte < 0x7F ? String(Character(Unicode.Scalar(byte))) : "U+\(hex(UInt32(byte)))"
            throw error(
                "invalid escape sequence \\\(shown)",
                help: "valid escapes: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; or use a 'literal string'")
        }
        if let simple {
            advance()
            return simple
        }
        let count = byte == UInt8(ascii: "u") ? 4 : 8
        advance()
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let digit = current, let nibble = hexValue(digit) else {
                throw error("expected \(count) hexadecimal digits in the \\\(count == 4 ? "u" : "U") escape, found \(describeCurrent())")
            }
            value = value << 4 | UInt32(nibble)
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("\\\(count == 4 ? "u" : "U")\(hex(value)) is not a Unicode scalar value", help: "surrogates and values above 10FFFF are not characters")
        }
        return scalar
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// A number, boolean, date or time: the text up to the next separator, then classified.
    private mutating func bareValue(start: SourceLocation) throws(SyntaxError) -> ConfigNode {
        let begin = index
        while let byte = current, isBareValueByte(byte) { advance() }
        // A date and a time may be separated by one space: `1979-05-27 07:32:00`.
        if current == 0x20, let next = peek(1), isDigit(next), index - begin == 10, bytes[begin + 4] == UInt8(ascii: "-") {
            advance()
            while let byte = current, isBareValueByte(byte) { advance() }
        }
        let text = String(decoding: bytes[begin..<index], as: UTF8.self)
        if let node = try TOMLScalar.classify(text, location: start) {
            return node
        }
        let shown = TerminalText.excerpt(text, limit: 40)
        throw error(
            at: start, "expected a value, found \(text.isEmpty ? describeCurrent() : "`\(shown)`")",
            help: text.isEmpty || text.first?.isLetter == true
                ? "quote text: \"\(text.isEmpty ? "…" : shown)\"" : "write a number such as 3, -1.5, 1e-3 or 0x1F")
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private func isBareValueByte(_ byte: UInt8) -> Bool {
        isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }
}
