import Tipi

/// The text of `config-sources.json`, written as a pipeline's config is resolved: one entry per leaf of the
/// config, by dotted key (`processes.training.params.epochs`), saying where its value came from —
/// `file PATH:LINE:COLUMN`, `--set KEY=VALUE`, `sweep KEY=VALUE` or `default`.
///
/// A large pipeline has tens of thousands of entries: they are written as bytes while the config is walked,
/// with no `String` per key or per source and no sort. The entries come in the order the config is walked
/// (the processes in their keys' order); the file's reader (the run store) reads it into a dictionary. A
/// key given twice — possible when a key holds a dot (`"a.b" = 1` beside `a = { b = 2 }`), or after
/// ``noteRepeatedKeys()`` — keeps its last source, as a dictionary would.
///
/// ```swift
/// var sources = ConfigSourcesText()
/// let mark = sources.push("processes")
/// sources.push("training"); sources.add(location)
/// sources.pop(to: mark)
/// ```
struct ConfigSourcesText: Equatable {
    /// `{` and the entries so far, `"key":"source"`, separated by commas.
    private var bytes: ByteBuffer = {
        var bytes = ByteBuffer()
        bytes.append(UInt8(ascii: "{"))
        return bytes
    }()
    /// Where each entry starts in `bytes` (at its key's opening quote) and where its key's text ends.
    private var entries: [(start: Int, keyEnd: Int)] = []
    /// The key of the next entry, escaped, without quotes: the segments pushed so far, joined by dots.
    private var key = ByteBuffer()
    /// Whether a segment held a dot (so that two entries may have the same key).
    private var mayRepeat = false
    /// The origin of the last location written (origins live as long as the program: one identity is one
    /// origin), and its text: `file NAME:` for a file (its line and column follow), the whole source for an override.
    private var lastOrigin: ObjectIdentifier?
    private var lastOriginText: [UInt8] = []
    private var lastOriginIsFile = false
    /// Whether the last origin holds its locations' exact line and column (they do not fit in 32 bits).
    private var lastOriginHasWide = false

    /// Where each value came from: how many entries.
    var count: Int { entries.count }

    /// How many segments the key has.
    private var depth = 0

    /// Adds `segment` to the key of the next entries; returns the key as it was, for ``pop(to:)``.
    @discardableResult
    mutating func push(_ segment: String) -> Mark {
        let mark = Mark(length: key.count, depth: depth)
        var segment = segment
        segment.withUTF8 { utf8 in
            if !mayRepeat, utf8.contains(UInt8(ascii: ".")) { mayRepeat = true }
            key.write(atMost: 1 + ByteCursor.escapedMaximum(utf8.count)) { cursor in
                if depth > 0 { cursor.put(UInt8(ascii: ".")) }
                cursor.escaped(utf8)
            }
        }
        depth += 1
        return mark
    }

    /// ``push(_:)`` of a segment written as it is: a literal without a dot or anything JSON escapes (`params`,
    /// `type`), with no scan or escaping.
    @discardableResult
    mutating func push(literal segment: StaticString) -> Mark {
        let mark = Mark(length: key.count, depth: depth)
        key.write(atMost: 1 + segment.utf8CodeUnitCount) { cursor in
            if depth > 0 { cursor.put(UInt8(ascii: ".")) }
            cursor.put(segment)
        }
        depth += 1
        return mark
    }

    /// Room for about `entries` entries (a type and a param or two per process): grown once.
    mutating func reserveCapacity(entries: Int) {
        bytes.reserveCapacity(bytes.count + 64 * entries)
        self.entries.reserveCapacity(self.entries.count + entries)
    }

    /// Says that a key may come twice although no segment holds a dot (two processes of one key): the
    /// text then keeps the last entry of each key.
    mutating func noteRepeatedKeys() {
        mayRepeat = true
    }

    /// The key back to what it was when ``push(_:)`` returned `mark`.
    mutating func pop(to mark: Mark) {
        key.truncate(to: mark.length)
        depth = mark.depth
    }

    /// A key as it was (see ``push(_:)``).
    struct Mark {
        fileprivate let length: Int
        fileprivate let depth: Int
    }

    /// An entry for the current key: the value's position in a file, or the `--set` (or sweep) argument
    /// that gave it; `default` without a location.
    mutating func add(_ location: SourceLocation?) {
        // `,"key":"` and `"` around the source.
        let framing = 6 + key.count
        guard let location else {
            writeEntry(atMost: framing + Self.defaultText.count) { $0.put(Self.defaultText) }
            return
        }
        // The origin's text, made once for a run of locations of one origin (one file, most often). Told apart
        // by identity: the origin itself is read (retained) only when it changes.
        let originID = ObjectIdentifier(location.origin)
        if originID != lastOrigin {
            let origin = location.origin
            lastOrigin = originID
            lastOriginHasWide = origin.wide != nil
            lastOriginText.removeAll(keepingCapacity: true)
            if let override = origin.override {
                JSONText.appendEscaped(origin.overrideOrigin, to: &lastOriginText)
                lastOriginText.append(UInt8(ascii: " "))
                JSONText.appendEscaped(override, to: &lastOriginText)
                lastOriginIsFile = false
            } else {
                lastOriginText.append(contentsOf: Self.filePrefix)
                JSONText.appendEscaped(origin.file, to: &lastOriginText)
                lastOriginText.append(UInt8(ascii: ":"))
                lastOriginIsFile = true
            }
        }
        let isFile = lastOriginIsFile
        let (line, column) =
            !isFile ? (0, 0) : lastOriginHasWide ? (location.line, location.column) : (Int(location.compactLine), Int(location.compactColumn))
        let maximum = framing + lastOriginText.count + (isFile ? 1 + 2 * ByteCursor.integerMaximum : 0)
        lastOriginText.withUnsafeBufferPointer { originText in
            writeEntry(atMost: maximum) { cursor in
                cursor.put(originText)
                if isFile {
                    cursor.integer(line)
                    cursor.put(UInt8(ascii: ":"))
                    cursor.integer(column)
                }
            }
        }
    }

    /// `,` (after the first entry), `"key":"`, what `source` writes (at most `maximum` bytes with the rest),
    /// and `"`.
    @inline(__always)
    private mutating func writeEntry(atMost maximum: Int, _ source: (inout ByteCursor) -> Void) {
        let start = bytes.count + (entries.isEmpty ? 0 : 1)
        let keyEnd = start + 1 + key.count
        entries.append((start, keyEnd))
        let first = entries.count == 1
        key.withUnsafeBufferPointer { key in
            bytes.write(atMost: maximum) { cursor in
                if !first { cursor.put(UInt8(ascii: ",")) }
                cursor.put(UInt8(ascii: "\""))
                cursor.put(key)
                cursor.put(UInt8(ascii: "\""))
                cursor.put(UInt8(ascii: ":"))
                cursor.put(UInt8(ascii: "\""))
                source(&cursor)
                cursor.put(UInt8(ascii: "\""))
            }
        }
    }

    /// An entry for each leaf of `node` (the node itself when it is not a table), under the current key.
    mutating func add(_ node: ConfigNode) {
        guard case .table(let table, _) = node else {
            add(node.location)
            return
        }
        for (name, value) in table.entries {
            let mark = push(name)
            add(value)
            pop(to: mark)
        }
    }

    private static let filePrefix = Array("file ".utf8)
    private static let defaultText = Array("default".utf8)

    /// ``json``, taking the text out of this value (which is left empty): a large pipeline's sources are
    /// megabytes, not copied then.
    mutating func takeJSON() -> [UInt8] {
        guard !mayRepeat else { return json }
        bytes.append(UInt8(ascii: "}"))
        entries = []
        return bytes.take()
    }

    /// The file's text: a JSON object, as compact as `JSONEncoder` writes one (`{"k":"v","k2":"v2"}`).
    var json: [UInt8] {
        guard mayRepeat else { return bytes.bytes + [UInt8(ascii: "}")] }
        // The last entry of each key, in the order of the entries.
        var last: [ArraySlice<UInt8>: Int] = [:]
        for (index, entry) in entries.enumerated() { last[bytes[entry.start..<entry.keyEnd]] = index }
        var text: [UInt8] = [UInt8(ascii: "{")]
        text.reserveCapacity(bytes.count + 1)
        for (index, entry) in entries.enumerated() where last[bytes[entry.start..<entry.keyEnd]] == index {
            if text.count > 1 { text.append(UInt8(ascii: ",")) }
            // An entry ends before the comma of the next one (or at the end).
            let end = index + 1 < entries.count ? entries[index + 1].start - 1 : bytes.count
            text.append(contentsOf: bytes[entry.start..<end])
        }
        text.append(UInt8(ascii: "}"))
        return text
    }

    static func == (lhs: ConfigSourcesText, rhs: ConfigSourcesText) -> Bool {
        lhs.json == rhs.json
    }
}
