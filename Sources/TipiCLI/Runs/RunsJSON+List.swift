import Foundation
import Tipi

extension RunsJSON {
    /// The array of `tipi runs --json` written by hand: the same objects, keys (sorted) and escaping as
    /// `JSONEncoder` writes for ``RunObject`` (a `/` as `\/`, non-finite numbers as `"NaN"`, `"Infinity"`,
    /// `"-Infinity"`), many times faster on 10,000 runs. The CLI and the dashboard both call it.
    static func writeList(_ runs: [RunStore.StoredRun]) -> String {
        String(decoding: listBytes(runs), as: UTF8.self)
    }

    /// ``writeList(_:)`` as UTF-8 bytes (what is written to a file or a socket).
    static func listBytes(_ runs: [RunStore.StoredRun]) -> [UInt8] {
        var out = JSONBytes(capacity: runs.count * 640 + 2)
        out.raw("[")
        for (index, run) in runs.enumerated() {
            if index > 0 { out.raw(",") }
            write(run, to: &out)
        }
        out.raw("]")
        return out.bytes
    }

    /// The list of `listing`'s runs, each decoded and written in turn (on all cores for a long list, and no
    /// array of decoded runs kept): the bytes of ``listBytes(_:)`` for `listing.decodedRuns()`.
    static func listBytes(_ listing: RunListing) -> [UInt8] {
        let count = listing.count
        let chunks = count >= 1024 ? Swift.min(count / 512, ProcessInfo.processInfo.activeProcessorCount * 2) : 1
        var parts = [[UInt8]](repeating: [], count: chunks)
        parts.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let slots = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let range = (count * chunk / chunks)..<(count * (chunk + 1) / chunks)
                var out = JSONBytes(capacity: range.count * 640)
                for position in range {
                    if position > range.lowerBound { out.raw(",") }
                    write(listing[listing.startIndex + position], to: &out)
                }
                slots[chunk] = out.bytes
            }
        }
        var out = JSONBytes(capacity: parts.reduce(2) { $0 + $1.count + 1 })
        out.raw("[")
        for (index, part) in parts.enumerated() {
            if index > 0 { out.raw(",") }  // every part holds a run when there are several
            out.bytes += part
        }
        out.raw("]")
        return out.bytes
    }

    /// One run object, its keys in `JSONEncoder`'s `.sortedKeys` order (the fields of ``RunObject``).
    static func write(_ run: RunStore.StoredRun, to out: inout JSONBytes) {
        let metadata = run.metadata
        out.raw("{\"config\":")
        write(metadata.config, to: &out)
        if let sources = metadata.configSources {
            out.raw(",\"config_sources\":{")
            for (index, name) in sources.keys.sorted().enumerated() {
                if index > 0 { out.raw(",") }
                out.string(name)
                out.raw(":")
                out.string(sources[name] ?? "")
            }
            out.raw("}")
        }
        if let damage = run.damage {
            out.raw(",\"damage\":")
            out.string(damage)
        }
        out.raw(",\"durationSeconds\":")
        out.number((metadata.endTime ?? metadata.heartbeat ?? metadata.startTime) - metadata.startTime)
        if let end = metadata.endTime {
            out.raw(",\"endTime\":")
            out.timestamp(end)
        }
        out.raw(",\"folder\":")
        out.string(run.folder.path)
        out.raw(",\"host\":")
        out.string(metadata.host)
        out.raw(",\"id\":")
        out.string(metadata.id)
        out.raw(",\"name\":")
        out.string(metadata.name)
        out.raw(",\"project\":")
        out.string(metadata.project)
        out.raw(",\"startTime\":")
        out.timestamp(metadata.startTime)
        out.raw(",\"status\":")
        out.string(run.status.rawValue)
        out.raw(",\"summary\":{")
        for (index, name) in metadata.summary.keys.sorted().enumerated() {
            guard let summary = metadata.summary[name] else { continue }
            if index > 0 { out.raw(",") }
            out.string(name)
            out.raw(":{\"count\":")
            out.integer(summary.count)
            out.raw(",\"last\":")
            out.flexible(summary.last)
            if let max = summary.max {
                out.raw(",\"max\":")
                out.flexible(max)
            }
            if let min = summary.min {
                out.raw(",\"min\":")
                out.flexible(min)
            }
            out.raw(",\"step\":")
            out.integer(summary.step)
            out.raw("}")
        }
        out.raw("}")
        if let sweep = metadata.sweep {
            out.raw(",\"sweep\":{\"id\":")
            out.string(sweep.id)
            if let index = sweep.index {
                out.raw(",\"index\":")
                out.integer(index)
            }
            out.raw("}")
        }
        out.raw(",\"tags\":[")
        for (index, tag) in metadata.tags.enumerated() {
            if index > 0 { out.raw(",") }
            out.string(tag)
        }
        out.raw("]")
        if let unwritten = metadata.unwritten {
            out.raw(",\"unwritten\":{\"reason\":")
            out.string(unwritten.reason)
            out.raw(",\"steps\":")
            out.integer(unwritten.steps)
            out.raw(",\"values\":")
            out.integer(unwritten.values)
            out.raw("}")
        }
        out.raw("}")
    }

    /// A config value as `ConfigValue`'s `Encodable` conformance writes it.
    static func write(_ value: ConfigValue, to out: inout JSONBytes) {
        switch value {
        case .int(let value): out.integer(value)
        case .double(let value): out.flexible(value)
        case .string(let value): out.string(value)
        case .bool(let value): out.raw(value ? "true" : "false")
        case .array(let values):
            out.raw("[")
            for (index, value) in values.enumerated() {
                if index > 0 { out.raw(",") }
                write(value, to: &out)
            }
            out.raw("]")
        case .table(let table): write(table, to: &out)
        }
    }

    static func write(_ table: [String: ConfigValue], to out: inout JSONBytes) {
        out.raw("{")
        for (index, key) in table.keys.sorted().enumerated() {
            guard let value = table[key] else { continue }
            if index > 0 { out.raw(",") }
            out.string(key)
            out.raw(":")
            write(value, to: &out)
        }
        out.raw("}")
    }
}

/// JSON text appended to one growing byte buffer, as `RunsJSON.encoder()` writes each piece: no `String`
/// is built per field (the runs list of 10,000 runs is about 6 MB).
struct JSONBytes {
    var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Text with nothing to escape (keys, punctuation).
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A string as `JSONEncoder` escapes it (`JSONText.appendString(_:to:)`).
    mutating func string(_ text: String) {
        JSONText.appendString(text, to: &bytes)
    }

    /// An integer in decimal.
    mutating func integer(_ value: Int) {
        JSONText.appendInteger(value, to: &bytes)
    }

    /// A number as `JSONEncoder` writes it: `1` for `1.0`, shortest round-trip digits otherwise; the strings
    /// `"NaN"`, `"Infinity"`, `"-Infinity"` for the values JSON lacks (`RunsJSON.encoder()`'s strategy).
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            raw(value.isNaN ? "\"NaN\"" : value > 0 ? "\"Infinity\"" : "\"-Infinity\"")
            return
        }
        JSONText.appendFinite(value, to: &bytes)
    }

    /// A config or summary number: a non-finite one is the string `nan`, `inf` or `-inf`, as `ConfigValue`
    /// and `MetricSummary` encode it.
    mutating func flexible(_ value: Double) {
        if value.isFinite { number(value) } else { string("\(value)") }
    }

    /// A time as `RunsTable.timestamp` writes it (`2026-11-29T10:15:00Z`), quoted; digits written directly
    /// for the usual years.
    mutating func timestamp(_ seconds: Double) {
        var parts = tm()
        if seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 {
            var time = time_t(seconds.rounded(.down))
            if gmtime_r(&time, &parts) != nil {
                bytes.append(UInt8(ascii: "\""))
                digits(Int(parts.tm_year) + 1900, 4)
                bytes.append(UInt8(ascii: "-"))
                digits(Int(parts.tm_mon) + 1, 2)
                bytes.append(UInt8(ascii: "-"))
                digits(Int(parts.tm_mday), 2)
                bytes.append(UInt8(ascii: "T"))
                digits(Int(parts.tm_hour), 2)
                bytes.append(UInt8(ascii: ":"))
                digits(Int(parts.tm_min), 2)
                bytes.append(UInt8(ascii: ":"))
                digits(Int(parts.tm_sec), 2)
                raw("Z\"")
                return
            }
        }
        string(RunsTable.timestamp(seconds))
    }

    /// `value` (0 or more) in `width` digits, zero-padded (`%0Nd` for values that fit).
    private mutating func digits(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        if rest >= divisor * 10 {  // wider than `width`: all its digits, as %0Nd writes them
            integer(value)
            return
        }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
