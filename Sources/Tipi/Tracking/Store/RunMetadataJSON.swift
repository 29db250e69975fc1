import Foundation
import Synchronization

/// The text of `run.json`: exactly the bytes `JSONEncoder` writes with `[.prettyPrinted, .sortedKeys]`, made
/// faster where a run grows.
///
/// A pipeline's run holds one `config` entry and one `pipeline.processes` record per process, and the writer
/// rewrites `run.json` about once a second: through `JSONEncoder` those two parts cost ~10 µs per process at
/// each rewrite (on the order of the process itself for a short one). They are written here directly; the
/// rest of the metadata (small) still goes through `JSONEncoder`, with the two parts left empty, and is
/// spliced around them. Should `JSONEncoder` ever write the empty parts differently than expected, the
/// whole metadata goes through `JSONEncoder` as before. The tests compare both paths byte for byte.
package enum RunMetadataJSON {
    /// `run.json`'s bytes for `metadata`.
    static func encode(_ metadata: RunMetadata) throws -> Data {
        Data(try encodeBytes(metadata))
    }

    /// ``encode(_:)`` as an array.
    static func encodeBytes(_ metadata: RunMetadata) throws -> [UInt8] {
        let pieces = try encodePieces(metadata)
        if pieces.count == 1 { return pieces[0] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { bytes.append(contentsOf: piece) }
        return bytes
    }

    /// ``encode(_:)``'s bytes as the pieces they are made of, in order (what the store writes, with one
    /// `writev`): the small parts `JSONEncoder` frames, and the long texts where they are kept — the config's
    /// (``RunConfig/text``) and a long process list's (``ProcessRecordsText``) —, not copied into one buffer.
    static func encodePieces(_ metadata: RunMetadata) throws -> [[UInt8]] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A time that is not a number: `JSONEncoder` refuses it, and so does this (through it).
        if metadata.pipeline?.processes.contains(where: { $0.seconds.map { !$0.isFinite } ?? false }) == true {
            return [[UInt8](try encoder.encode(metadata))]
        }
        var rest = metadata
        rest.config = [:]
        if metadata.pipeline != nil { rest.pipeline = placeholderRecord }
        let framed = [UInt8](try encoder.encode(rest))
        guard let spliced = splice(metadata, into: framed) else { return [[UInt8](try encoder.encode(metadata))] }
        return spliced
    }

    /// A string table as `JSONEncoder` writes it with `[.sortedKeys]` (`config-sources.json`: one entry per
    /// config value, so thousands in a large pipeline).
    static func encodeCompact(_ table: [String: String]) -> Data {
        var writer = PrettyJSONWriter()
        writer.bytes.reserveCapacity(64 * table.count + 2)
        writer.bytes.append(UInt8(ascii: "{"))
        let entries = Array(table)
        for (position, index) in PrettyJSONWriter.sortedOrder(of: entries.map(\.key)).enumerated() {
            if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            writer.string(entries[index].key)
            writer.bytes.append(UInt8(ascii: ":"))
            writer.string(entries[index].value)
        }
        writer.bytes.append(UInt8(ascii: "}"))
        return Data(writer.bytes)
    }

    /// The whole metadata through `JSONEncoder` (what ``encode(_:)`` must equal).
    static func encodeWithFoundation(_ metadata: RunMetadata) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(metadata)
    }

    private static let placeholderRecord = RunMetadata.PipelineRecord(name: "", configFile: nil, overrides: [], resumedFrom: nil, processes: [])

    /// How `JSONEncoder` writes the empty config and the placeholder record, at the top level.
    private static let emptyConfig = Array("\n  \"config\" : {\n\n  }".utf8)
    private static let placeholderText = Array(
        "\n  \"pipeline\" : {\n    \"name\" : \"\",\n    \"overrides\" : [\n\n    ],\n    \"processes\" : [\n\n    ]\n  }".utf8)

    /// `framed` with the real config and pipeline record in place of the empty ones, as pieces; `nil` when
    /// they are not found.
    private static func splice(_ metadata: RunMetadata, into framed: [UInt8]) -> [[UInt8]]? {
        guard let configRange = range(of: emptyConfig, in: framed) else { return nil }
        var pipelineRange: Range<Int>?
        if metadata.pipeline != nil {
            guard let found = range(of: placeholderText, in: framed) else { return nil }
            pipelineRange = found
        }
        // The config's text is kept with it (written once while the config stays the same).
        let configText = metadata.storedConfig.text
        let records = metadata.pipeline?.processes ?? []
        var writer = PrettyJSONWriter()
        writer.bytes.reserveCapacity(
            framed.count + 256 + (configText.count < PrettyJSONWriter.inlinedPieceSize ? configText.count : 0)
                + (records.count < ProcessRecordsText.keptCount ? ProcessRecordsText.estimatedSize(of: records) : 0))
        // The two ranges in the order they come (sorted keys: `config` before `pipeline`, but do not rely on it).
        var pieces: [(Range<Int>, (inout PrettyJSONWriter) -> Void)] = [
            (configRange, { writer in
                writer.append("\n  \"config\" : ")
                writer.piece(configText)
            })
        ]
        if let pipelineRange, let record = metadata.pipeline {
            pieces.append((pipelineRange, { writer in
                writer.append("\n  \"pipeline\" : ")
                writer.pipeline(record, indent: 1)
            }))
        }
        pieces.sort { $0.0.lowerBound < $1.0.lowerBound }
        var position = 0
        for (range, write) in pieces {
            guard range.lowerBound >= position else { return nil }
            writer.bytes.append(contentsOf: framed[position..<range.lowerBound])
            write(&writer)
            position = range.upperBound
        }
        writer.bytes.append(contentsOf: framed[position...])
        return writer.takePieces()
    }

    /// The first occurrence of `pattern` in `bytes`.
    private static func range(of pattern: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
        guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
        var start = 0
        while start <= bytes.count - pattern.count {
            guard let candidate = bytes[start...(bytes.count - pattern.count)].firstIndex(of: first) else { return nil }
            if bytes[candidate..<(candidate + pattern.count)].elementsEqual(pattern) { return candidate..<(candidate + pattern.count) }
            start = candidate + 1
        }
        return nil
    }
}

/// JSON written the way `JSONEncoder` writes it with `[.prettyPrinted, .sortedKeys]`: two spaces per level,
/// `"key" : value`, empty containers as `{\n\n}`, keys in UTF-8 byte order (not `String`'s, which
/// normalizes), `/` escaped as `\/`, whole
/// doubles without `.0`.
package struct PrettyJSONWriter {
    package var bytes: [UInt8] = []
    /// The text written before ``bytes``, as pieces (see ``piece(_:)``); empty unless pieces were added.
    private var pieces: [[UInt8]] = []

    package init() {}

    /// From this size a text given to ``piece(_:)`` is a piece of its own (below it, it is copied: one more
    /// vector to write costs more than copying a few kilobytes).
    static let inlinedPieceSize = 4096

    /// Appends `text` as it is: a long one (a config's kept text, a process list's) as a piece of its own,
    /// written out from where it is kept instead of copied here; ``takePieces()`` gives the whole text.
    mutating func piece(_ text: [UInt8]) {
        guard text.count >= Self.inlinedPieceSize else {
            put(text)
            return
        }
        if !bytes.isEmpty {
            pieces.append(bytes)
            bytes = []
            bytes.reserveCapacity(pieces[pieces.count - 1].capacity - pieces[pieces.count - 1].count)
        }
        pieces.append(text)
    }

    /// Everything written, as pieces in order (the pieces added, and ``bytes`` between and after them).
    mutating func takePieces() -> [[UInt8]] {
        var all: [[UInt8]] = []
        swap(&all, &pieces)
        if !bytes.isEmpty || all.isEmpty { all.append(bytes) }
        bytes = []
        return all
    }

    /// The positions of `keys` in UTF-8 byte order (`JSONEncoder`'s order for keys). The keys' bytes are
    /// copied once into one buffer and compared with `memcmp` there: comparing the strings themselves
    /// retains and releases them at each of the n log n comparisons.
    package static func sortedOrder(of keys: [String]) -> [Int] {
        if keys.count < 2 { return Array(keys.indices) }
        if keys.count <= 4 {
            // A process's tables (`type`, `params`, a param or two): no buffers for so few.
            return keys.indices.sorted { keys[$0].utf8.lexicographicallyPrecedes(keys[$1].utf8) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.count * 16)
        var spans: [(start: Int, count: Int)] = []
        spans.reserveCapacity(keys.count)
        for key in keys {
            let start = bytes.count
            bytes.append(contentsOf: key.utf8)
            spans.append((start, bytes.count - start))
        }
        var order = Array(keys.indices)
        bytes.withUnsafeBufferPointer { bytes in
            spans.withUnsafeBufferPointer { spans in
                order.sort { left, right in
                    let a = spans[left]
                    let b = spans[right]
                    let common = min(a.count, b.count)
                    if common > 0, let base = bytes.baseAddress {
                        let order = memcmp(base + a.start, base + b.start, common)
                        if order != 0 { return order < 0 }
                    }
                    return a.count < b.count
                }
            }
        }
        return order
    }

    package mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    package mutating func newline(indent: Int) {
        let count = 1 + 2 * indent
        guard count <= Self.lineStarts.count else {
            bytes.append(0x0A)
            for _ in 0..<indent { bytes.append(0x20); bytes.append(0x20) }
            return
        }
        Self.lineStarts.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    /// A new line and the spaces of up to 31 levels of indentation (copied at once, not a byte at a time).
    private static let lineStarts: [UInt8] = [0x0A] + [UInt8](repeating: 0x20, count: 62)

    /// A key and the ` : ` after it, on a new line at `indent`.
    package mutating func key(_ key: String, indent: Int) {
        newline(indent: indent)
        string(key)
        append(" : ")
    }

    /// A run's config value; NaN and infinities as strings (`nan`, `inf`, `-inf`), as ``ConfigValue`` encodes them.
    package mutating func value(_ value: ConfigValue, indent: Int) {
        switch value {
        case .int(let number): integer(number)
        case .double(let number):
            if number.isFinite { double(number) } else { string("\(number)") }
        case .string(let text): string(text)
        case .bool(let flag): flag ? append("true") : append("false")
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            if elements.isEmpty {
                newline(indent: 0)
            } else {
                for (position, element) in elements.enumerated() {
                    if position > 0 { bytes.append(UInt8(ascii: ",")) }
                    newline(indent: indent + 1)
                    self.value(element, indent: indent + 1)
                }
            }
            newline(indent: indent)
            bytes.append(UInt8(ascii: "]"))
        case .table(let table): self.table(table, indent: indent)
        }
    }

    package mutating func table(_ table: [String: ConfigValue], indent: Int) {
        bytes.append(UInt8(ascii: "{"))
        if table.isEmpty {
            newline(indent: 0)
        } else {
            let entries = Array(table)
            for (position, index) in Self.sortedOrder(of: entries.map(\.key)).enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                key(entries[index].key, indent: indent + 1)
                value(entries[index].value, indent: indent + 1)
            }
        }
        newline(indent: indent)
        bytes.append(UInt8(ascii: "}"))
    }

    /// A pipeline record, with the fields `Codable` synthesises (`nil` ones left out), in sorted order.
    mutating func pipeline(_ record: RunMetadata.PipelineRecord, indent: Int) {
        bytes.append(UInt8(ascii: "{"))
        if let file = record.configFile {
            key("configFile", indent: indent + 1)
            string(file)
            bytes.append(UInt8(ascii: ","))
        }
        key("name", indent: indent + 1)
        string(record.name)
        bytes.append(UInt8(ascii: ","))
        key("overrides", indent: indent + 1)
        value(.array(record.overrides.map { .string($0) }), indent: indent + 1)
        bytes.append(UInt8(ascii: ","))
        key("processes", indent: indent + 1)
        bytes.append(UInt8(ascii: "["))
        if record.processes.isEmpty { newline(indent: 0) }
        processes(record.processes, indent: indent + 2)
        newline(indent: indent + 1)
        bytes.append(UInt8(ascii: "]"))
        if let resumed = record.resumedFrom {
            bytes.append(UInt8(ascii: ","))
            key("resumedFrom", indent: indent + 1)
            string(resumed)
        }
        newline(indent: indent)
        bytes.append(UInt8(ascii: "}"))
    }

    /// The process records of a pipeline record, each on a new line at `indent`, separated by commas. A long
    /// list is written into a text of its own, kept for the next rewrite (``ProcessRecordsText``: a record
    /// unchanged since is copied from it), and added as a piece.
    private mutating func processes(_ records: [RunMetadata.ProcessRecord], indent: Int) {
        guard records.count >= ProcessRecordsText.keptCount else {
            let keys = ProcessRecordKeys(indent: indent)
            for (position, process) in records.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent: indent)
                self.process(process, keys: keys)
            }
            return
        }
        var kept = ProcessRecordsText.take(indent: indent)
        let text = kept.write(records)
        ProcessRecordsText.keep(kept)
        piece(text)
    }

    /// One process record, `{` to `}`, with the fields `Codable` synthesises (`nil` ones left out), sorted.
    mutating func process(_ record: RunMetadata.ProcessRecord, keys: ProcessRecordKeys) {
        bytes.append(UInt8(ascii: "{"))
        // In JSONEncoder's sorted order; absent optionals are left out, as it leaves them out.
        stringField(keys.checkpoint, record.checkpoint)
        stringField(keys.completedIn, record.completedIn)
        stringField(keys.error, record.error)
        stringField(keys.key, record.key)
        if let seconds = record.seconds {
            put(keys.seconds)
            double(seconds)
            bytes.append(UInt8(ascii: ","))
        }
        stringField(keys.status, record.status)
        put(keys.type)
        string(record.type)
        put(keys.close)
    }

    /// `text`'s bytes, appended from its storage (`append(contentsOf:)` of an array retains and releases it).
    /// `"key" : "value",` for a record field that has a value (the key's text, colon included, is prepared).
    @inline(__always)
    private mutating func stringField(_ key: [UInt8], _ value: String?) {
        guard let value else { return }
        put(key)
        string(value)
        bytes.append(UInt8(ascii: ","))
    }

    package mutating func put(_ text: [UInt8]) {
        text.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ number: Int) {
        JSONText.appendInteger(number, to: &bytes)
    }

    /// A finite double as `JSONEncoder` writes it: Swift's shortest round-trip text, `.0` dropped.
    mutating func double(_ number: Double) {
        JSONText.appendFinite(number, to: &bytes)
    }

    /// A JSON string (`JSONText.appendString(_:to:)`).
    package mutating func string(_ text: String) {
        JSONText.appendString(text, to: &bytes)
    }
}
