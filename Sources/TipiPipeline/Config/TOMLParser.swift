/// Reads TOML 1.0 text into a ``ConfigTable``: every key and value with its line and column, every table in
/// the order it was written. The one reading of a config: order, positions and values come from the same pass.
///
/// Covers the whole of TOML 1.0 — basic and literal strings (single- and multi-line, every escape),
/// integers (`_`, hex, octal, binary), floats (`inf`, `nan`), booleans, dates and times (kept as their
/// text), arrays, inline tables, tables, arrays of tables, dotted and quoted keys, comments, CRLF line
/// endings and a byte-order mark — and rejects what TOML rejects (a key defined twice, a table redefined,
/// control characters, an integer that does not fit in 64 bits) with the line and column of the fault.
/// Nesting is capped at ``maximumDepth`` levels so that a hostile file cannot exhaust the stack.
struct TOMLParser {
    /// The deepest nesting of tables and arrays a config may have.
    static let maximumDepth = 64

    /// A syntax error: where, what was expected, and what to do.
    struct SyntaxError: Error {
        var line: Int
        var column: Int
        var message: String
        var help: String?
    }

    private let bytes: [UInt8]
    /// What every location of this text shares (its file).
    private let origin: SourceLocation.Origin
    private var index = 0
    private var line = 1
    private var column = 1
    /// The tables being read (the document's is ``TOMLTree/root``).
    private var tree: TOMLTree
    /// The elements of the arrays being read, innermost on top (each array takes its own at its `]`).
    private let elements = ScratchStack<ConfigNode>()
    /// The parts of the keys being read, innermost last: ``key()`` pushes a key's parts and answers their
    /// range; whoever asked pops them when done (so a key costs no array of its own).
    private var keyParts: [TOMLTree.KeyPart] = []
    /// The short texts made so far (keys and values repeat).
    private let shortTexts = ShortTextCache()

    private init(text: String, file: String) {
        bytes = Array(text.utf8)
        origin = SourceLocation.Origin.make(file: file)
        keyParts.reserveCapacity(8)
        tree = TOMLTree(headers: Self.headerLines(bytes))
    }

    /// How many lines start with `[`: the table headers, about (a line of a multi-line string or array may
    /// start so too, an indented header is not counted). A hint for the room tables take, in one pass over
    /// the bytes without branches (a fraction of a nanosecond a byte).
    static func headerLines(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            guard let first = buffer.first else { return 0 }
            var count = first == UInt8(ascii: "[") ? 1 : 0
            var previous = first
            for byte in buffer.dropFirst() {
                count &+= previous == 0x0A && byte == UInt8(ascii: "[") ? 1 : 0
                previous = byte
            }
            return count
        }
    }

    /// Parses a whole document.
    static func parse(_ text: String, file: String) throws(SyntaxError) -> ConfigTable {
        var parser = TOMLParser(text: text, file: file)
        try parser.document()
        return parser.tree.finish(TOMLTree.root)
    }

    /// Parses a single value (the right side of `--set key=value`), which must be the whole text.
    static func parseValue(_ text: String, file: String = "") throws(SyntaxError) -> ConfigNode {
        var parser = TOMLParser(text: text, file: file)
        parser.skipSpaces()
        let value = try parser.value(depth: 1)
        parser.skipSpaces()
        guard parser.current == nil else { throw parser.error("expected the end of the value, found \(parser.describeCurrent())") }
        return value
    }

    /// Parses a dotted key (the left side of `--set key=value`), which must be the whole text.
    static func parseKey(_ text: String) throws(SyntaxError) -> [String] {
        var parser = TOMLParser(text: text, file: "")
        parser.skipSpaces()
        let key = try parser.key()
        parser.skipSpaces()
        guard parser.current == nil else { throw parser.error("expected `.` or the end of the key, found \(parser.describeCurrent())") }
        return parser.keyParts[key].map(\.name)
    }

    // MARK: - Cursor

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func peek(_ offset: Int) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private var here: SourceLocation { SourceLocation(origin: origin, line: line, column: column) }

    /// Where a key part was written.
    private func location(of part: TOMLTree.KeyPart) -> SourceLocation {
        SourceLocation(origin: origin, line: part.line, column: part.column)
    }

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

    /// Skips the bytes that `isIncluded` accepts, all of which must be ASCII other than a line feed (the
    /// column then grows by their count).
    private mutating func skip(while isIncluded: (UInt8) -> Bool) {
        var end = index
        while end < bytes.count, isIncluded(bytes[end]) { end += 1 }
        column += end - index
        index = end
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
        skip { $0 == 0x20 || $0 == 0x09 }
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
        var table = TOMLTree.root
        var tableDepth = 0
        while true {
            try skipBlankLines()
            guard current != nil else { return }
            if current == UInt8(ascii: "[") {
                tree.closeCurrent()
                tree.headersLeft = max(tree.headersLeft - 1, 0)
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
                tree.begin(table)
                tableDepth = key.count
                popKey(key)
                try endOfLine(after: "the table header")
            } else {
                try keyValue(into: table, depth: tableDepth)
                try endOfLine(after: "the value")
            }
        }
    }

    /// `[a.b.c]` or `[[a.b.c]]`: the table that following keys go into.
    private mutating func header(_ key: Range<Int>, at start: SourceLocation, isArray: Bool) throws(SyntaxError) -> TOMLTree.TableID {
        var table = TOMLTree.root
        for position in key {
            let part = keyParts[position]
            // For messages only (joining the parts costs more than the rest of the header).
            func dotted() -> String { keyParts[key.lowerBound...position].map(\.name).joined(separator: ".") }
            let isLast = position == key.upperBound - 1
            let (existing, lookup) = tree.lookUp(part.name, in: table)
            switch existing {
            case nil:
                if isLast, isArray {
                    let element = tree.makeTable(kind: .header, location: start)
                    tree.addList(part.name, first: element, location: start, to: table, after: lookup)
                    return element
                }
                let created = tree.makeTable(kind: isLast ? .header : .implicit, location: start)
                tree.add(part.name, created, to: table, after: lookup)
                table = created
            case .finished(.table)?:
                // Only inline tables are finished tables.
                throw error(at: start, "'\(dotted())' is an inline table, which cannot be extended", help: "add its keys inside { … } instead")
            case .table(let existing)?:
                if isLast {
                    if isArray {
                        throw error(at: start, "'\(dotted())' is already a table, so it cannot be an array of tables")
                    }
                    guard tree.kind(of: existing) == .implicit else {
                        throw error(at: start, "table '\(dotted())' is defined twice", help: "merge the two [\(dotted())] sections into one")
                    }
                    tree.define(existing, at: start)
                }
                table = existing
            case .tableArray(let list)?:
                if isLast {
                    guard isArray else {
                        throw error(at: start, "'\(dotted())' is an array of tables ([[\(dotted())]]), so it cannot be a table", help: "write [[\(dotted())]]")
                    }
                    let element = tree.makeTable(kind: .header, location: start)
                    tree.append(element, to: list)
                    return element
                }
                guard let last = tree.last(of: list) else { return table }
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
    private mutating func keyValue(into table: TOMLTree.TableID, depth: Int) throws(SyntaxError) {
        let key = try keyAndEquals(depth: depth)
        try assign(key, into: table, depth: depth)
    }

    /// The key of `key = value` and the `=` (the cursor is then at the value); the key's parts are on
    /// `keyParts` for ``assign(_:into:depth:)`` to pop.
    private mutating func keyAndEquals(depth: Int) throws(SyntaxError) -> Range<Int> {
        let (startLine, startColumn) = (line, column)  // for a message only (a location would retain the origin)
        let key = try self.key()
        skipSpaces()
        guard current == UInt8(ascii: "=") else {
            throw error(
                "expected `=` after the key '\(keyParts[key].map(\.name).joined(separator: "."))', found \(describeCurrent())",
                help: "write key = value")
        }
        advance()
        skipSpaces()
        guard depth + key.count <= Self.maximumDepth else {
            throw SyntaxError(
                line: startLine, column: startColumn, message: "key nested \(depth + key.count) levels deep; at most \(Self.maximumDepth) are allowed",
                help: "flatten the config")
        }
        return key
    }

    /// The value at the cursor, under `key` (its parts on `keyParts`, popped here) in `table`.
    private mutating func assign(_ key: Range<Int>, into table: TOMLTree.TableID, depth: Int) throws(SyntaxError) {
        var target = table
        for position in key.dropLast() {
            let part = keyParts[position]
            let (existing, lookup) = tree.lookUp(part.name, in: target)
            switch existing {
            case nil:
                let created = tree.makeTable(kind: .dotted, location: location(of: part))
                tree.add(part.name, created, to: target, after: lookup)
                target = created
            case .table(let existing)? where tree.kind(of: existing) == .dotted:
                target = existing
            case let other?:
                throw error(
                    at: location(of: part), "'\(part.name)' is already defined (\(other.typeName)), so a dotted key cannot add to it",
                    help: "write the key inside its own table or inline table")
            }
        }
        guard let lastPosition = key.last else { return }
        let last = keyParts[lastPosition]
        popKey(key)
        let lookup = tree.lookUp(last.name, in: target).lookup
        if lookup.position != nil {
            throw error(at: location(of: last), "key '\(last.name)' is defined twice", help: "remove one of the two")
        }
        // Reading the value adds nothing to `target` (an inline table is a table of its own, and its keys
        // are popped off the scratch stack before this adds to it).
        let value = try self.value(depth: depth + key.count)
        tree.add(last.name, value, to: target, after: lookup)
    }

    // MARK: - Keys

    /// A dotted key: bare or quoted parts separated by dots (spaces allowed around the dots).
    private mutating func key() throws(SyntaxError) -> Range<Int> {
        let first = keyParts.count
        while true {
            skipSpaces()
            let (startLine, startColumn) = (line, column)
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
                skip(while: Self.isBareKeyByte)
                guard index > begin else {
                    throw error(
                        "expected a key, found \(describeCurrent())",
                        help: "keys are letters, digits, `_` and `-`, or quoted: \"my key\"")
                }
                name = text(begin..<index)
            }
            keyParts.append(TOMLTree.KeyPart(name: name, line: startLine, column: startColumn))
            guard keyParts.count - first <= Self.maximumDepth else {
                throw error(at: location(of: keyParts[keyParts.count - 1]), "key nested more than \(Self.maximumDepth) levels deep; at most \(Self.maximumDepth) are allowed", help: "flatten the config")
            }
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return first..<keyParts.count }
            advance()
        }
    }

    /// Pops the parts of `key`, the last key read (its parts are the top of ``keyParts``).
    private mutating func popKey(_ key: Range<Int>) {
        precondition(key.upperBound == keyParts.count, "TOMLParser: a key popped out of order")
        if key.count == 1 {
            keyParts.removeLast()
        } else {
            keyParts.removeLast(key.count)
        }
    }

    /// The text of `range` of the bytes (a short ASCII text becomes a small string, without allocating; one
    /// read before is given again, see ``ShortTextCache``).
    private func text(_ range: Range<Int>) -> String {
        bytes.withUnsafeBufferPointer { shortTexts.text(range, of: $0) }
    }

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default: return false
        }
    }

    // MARK: - Values

    private mutating func value(depth: Int) throws(SyntaxError) -> ConfigNode {
        let start = here
        guard depth <= Self.maximumDepth else {
            throw error("value nested more than \(Self.maximumDepth) levels deep; at most \(Self.maximumDepth) are allowed", help: "flatten the config")
        }
        switch current {
        case UInt8(ascii: "\"")?:
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                return .string(try multilineString(quote: UInt8(ascii: "\"")), start)
            }
            return .string(try basicString(), start)
        case UInt8(ascii: "'")?:
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                return .string(try multilineString(quote: UInt8(ascii: "'")), start)
            }
            return .string(try literalString(), start)
        case UInt8(ascii: "[")?:
            return try array(depth: depth, start: start)
        case UInt8(ascii: "{")?:
            return .table(try inlineTable(depth: depth, start: start), start)
        case nil, 0x0A?, 0x0D?, UInt8(ascii: "#")?:
            throw error("expected a value, found \(describeCurrent())", help: "write a value after `=`: a number, \"text\", true, [ … ] or { … }")
        default:
            return try bareValue(start: start)
        }
    }

    private mutating func array(depth: Int, start: SourceLocation) throws(SyntaxError) -> ConfigNode {
        advance()  // [
        // The elements go on the scratch stack, and into an array of their exact count at the `]`.
        let base = elements.count
        while true {
            try skipBlankLines()
            if current == UInt8(ascii: "]") {
                advance()
                return .array(elements.pop(from: base), start)
            }
            elements.push(try value(depth: depth + 1))
            try skipBlankLines()
            if current == UInt8(ascii: ",") {
                advance()
            } else if current == UInt8(ascii: "]") {
                advance()
                return .array(elements.pop(from: base), start)
            } else {
                throw error("expected `,` or `]` in the array, found \(describeCurrent())", help: "separate values with commas and close the array with ]")
            }
        }
    }

    /// `{ … }`: complete as written, so finished at once (its dotted keys' tables are open while it is read).
    ///
    /// Plain keys go on the scratch stack (``TOMLTree/entries``), into a table of their exact count at the
    /// `}`; past ``TOMLTree/collectLimit`` keys they go into an indexed table. The first dotted key moves
    /// what was read into an open table (dotted keys make tables that later dotted keys of the same inline
    /// table may add to).
    private mutating func inlineTable(depth: Int, start: SourceLocation) throws(SyntaxError) -> ConfigTable {
        advance()  // {
        skipSpaces()
        if current == UInt8(ascii: "}") {
            advance()
            return ConfigTable()
        }
        let entries = tree.entries
        let base = entries.count
        var large: ConfigTable?
        var open: TOMLTree.TableID?
        while true {
            skipSpaces()
            let key = try keyAndEquals(depth: depth)
            if open == nil, key.count == 1 {
                let part = keyParts[key.lowerBound]
                popKey(key)
                let defined = large.map { $0.position(of: part.name) != nil } ?? (entries.position(of: part.name, from: base) != nil)
                if defined {
                    throw error(at: location(of: part), "key '\(part.name)' is defined twice", help: "remove one of the two")
                }
                let value = try value(depth: depth + 1)
                if large != nil {
                    large!.append(newKey: part.name, value)
                } else if entries.count - base < TOMLTree.collectLimit {
                    entries.push((part.name, value))
                } else {
                    large = ConfigTable(entries: entries.pop(from: base))
                    large!.append(newKey: part.name, value)
                }
            } else {
                if open == nil {
                    let finished = large ?? ConfigTable(entries: entries.pop(from: base))
                    large = nil
                    open = tree.makeTable(kind: .dotted, location: start, finished: finished)
                }
                try assign(key, into: open!, depth: depth)
            }
            skipSpaces()
            if current == UInt8(ascii: ",") {
                advance()
                skipSpaces()
                if current == UInt8(ascii: "}") {
                    throw error("an inline table cannot end with a comma", help: "remove the last comma")
                }
            } else if current == UInt8(ascii: "}") {
                advance()
                if let open { return tree.finish(open) }
                return large ?? ConfigTable(entries: entries.pop(from: base))
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
        func flush(_ parser: TOMLParser, upTo end: Int) {
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
                    text = self.text(begin..<index)
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
                let text = self.text(begin..<index)
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
        func flush(_ parser: TOMLParser, upTo end: Int) {
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
        skip(while: Self.isBareValueByte)
        // A date and a time may be separated by one space: `1979-05-27 07:32:00`.
        if current == 0x20, let next = peek(1), isDigit(next), index - begin == 10, bytes[begin + 4] == UInt8(ascii: "-") {
            advance()
            skip(while: Self.isBareValueByte)
        }
        if let value = TOMLScalar.plainInteger(bytes[begin..<index]) { return .int(value, start) }
        let text = self.text(begin..<index)
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

    private static func isBareValueByte(_ byte: UInt8) -> Bool {
        Self.isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }
}
