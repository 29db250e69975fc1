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
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    /// Where each entry starts in `bytes` (at its key's opening quote) and where its key's text ends.
    private var entries: [(start: Int, keyEnd: Int)] = []
    /// The key of the next entry, escaped, without quotes: the segments pushed so far, joined by dots.
    private var key: [UInt8] = []
    /// Whether a segment held a dot (so that two entries may have the same key).
    private var mayRepeat = false
    /// The file of the last file position written, and its text escaped (most values come from one file).
    private var lastFile: String?
    private var lastFileText: [UInt8] = []

    /// Where each value came from: how many entries.
    var count: Int { entries.count }

    /// How many segments the key has.
    private var depth = 0

    /// Adds `segment` to the key of the next entries; returns the key as it was, for ``pop(to:)``.
    @discardableResult
    mutating func push(_ segment: String) -> Mark {
        let mark = Mark(length: key.count, depth: depth)
        if depth > 0 { key.append(UInt8(ascii: ".")) }
        depth += 1
        if !mayRepeat, segment.utf8.contains(UInt8(ascii: ".")) { mayRepeat = true }
        JSONText.appendEscaped(segment, to: &key)
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
        key.removeSubrange(mark.length...)
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
        beginEntry()
        bytes.append(UInt8(ascii: "\""))
        if let location {
            if let override = location.override {
                JSONText.appendEscaped(location.overrideOrigin, to: &bytes)
                bytes.append(UInt8(ascii: " "))
                JSONText.appendEscaped(override, to: &bytes)
            } else {
                let file = location.file
                if file != lastFile {
                    lastFileText.removeAll(keepingCapacity: true)
                    JSONText.appendEscaped(file, to: &lastFileText)
                    lastFile = file
                }
                Self.put(Self.filePrefix, into: &bytes)
                Self.put(lastFileText, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                JSONText.appendInteger(location.line, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                JSONText.appendInteger(location.column, to: &bytes)
            }
        } else {
            Self.put(Self.defaultText, into: &bytes)
        }
        bytes.append(UInt8(ascii: "\""))
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

    /// `text` appended to `bytes` from its storage (`append(contentsOf:)` of an array retains and releases it).
    private static func put(_ text: [UInt8], into bytes: inout [UInt8]) {
        text.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
    }

    private static let filePrefix = Array("file ".utf8)
    private static let defaultText = Array("default".utf8)

    /// `,` (after the first entry) and `"key":`.
    private mutating func beginEntry() {
        if !entries.isEmpty { bytes.append(UInt8(ascii: ",")) }
        let start = bytes.count
        bytes.append(UInt8(ascii: "\""))
        Self.put(key, into: &bytes)
        entries.append((start, bytes.count))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// ``json``, taking the text out of this value (which is left empty): a large pipeline's sources are
    /// megabytes, not copied then.
    mutating func takeJSON() -> [UInt8] {
        guard !mayRepeat else { return json }
        var text: [UInt8] = []
        swap(&text, &bytes)
        entries = []
        text.append(UInt8(ascii: "}"))
        return text
    }

    /// The file's text: a JSON object, as compact as `JSONEncoder` writes one (`{"k":"v","k2":"v2"}`).
    var json: [UInt8] {
        guard mayRepeat else { return bytes + [UInt8(ascii: "}")] }
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
