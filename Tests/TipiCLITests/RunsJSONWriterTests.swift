import Foundation
import Testing
import Tipi

@testable import TipiCLI

/// `tipi runs --json` and `/api/runs` are written by hand (``RunsJSON/writeList(_:)``) for speed: the same
/// bytes as `JSONEncoder` wrote for the same runs, hostile strings and non-finite numbers included.
@Suite("The runs list written by hand, as JSONEncoder wrote it")
struct RunsJSONWriterTests {
    /// Strings a user may put in a run's name, tags, config and metric names.
    static let hostile = [
        "plain", "</script><script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "quote \" and \\ backslash",
        "tab\tnewline\nreturn\r", "nul\u{0}bell\u{7}bs\u{8}ff\u{C}esc\u{1B}us\u{1F}del\u{7F}", "a/b/../c", "üñïçødé 日本語 🧪", "\u{2028}\u{2029}",
        "", String(repeating: "long/", count: 2_000), "%2e%2e", "'single'",
    ]
    static let numbers: [Double] = [0, -0.0, 1, -1, 0.1, 1e-7, 1e21, 123_456_789_012_345_680, 2.5e-308, .greatestFiniteMagnitude, 3.14159,
        1.0 / 3, .nan, .infinity, -.infinity]

    /// A store of `count` runs with every field shape `run.json` may hold, written as JSON files.
    func store(_ count: Int) throws -> RunStore {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-writer-\(UUID().uuidString)")
        for index in 0..<count {
            let text = Self.hostile[index % Self.hostile.count]
            let number = Self.numbers[index % Self.numbers.count]
            let project = index % 3 == 0 ? "alpha" : "beta"
            let id = String(format: "%08x", index * 7919)
            let folder = root.appendingPathComponent(project).appendingPathComponent("20261130-0412\(String(format: "%02d", index % 60))-\(id)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let flexible: Any = number.isFinite ? number : "\(number)"
            var metadata: [String: Any] = [
                "id": id, "project": project, "name": text + " \(index)", "status": ["finished", "failed", "stopped"][index % 3],
                "startTime": 1_795_912_192.5 + Double(index), "tags": [text, "t\(index % 4)"], "host": "host/\(text)", "pid": 1,
                "command": ["x"], "workingDirectory": "/tmp", "swiftVersion": "6.3", "tipiVersion": "0.1", "backends": [String: Any](),
                "config": [
                    "lr": flexible, "epochs": index, "name": text, "flag": index % 2 == 0, "list": [1, flexible, text, [true]],
                    "nested": ["deep": ["x": flexible, text: text]], text.isEmpty ? "empty" : text: 1,
                ] as [String: Any],
                "summary": [
                    "loss": ["last": flexible, "min": flexible, "max": 2.5, "count": index, "step": index * 10],
                    text.isEmpty ? "val/acc" : text: ["last": 0.5, "count": 1, "step": 0],
                ],
            ]
            if index % 2 == 0 { metadata["endTime"] = 1_795_912_200.25 + Double(index) * 1.5 }
            if index % 4 == 1 { metadata["sweep"] = ["id": "sw-\(text)", "index": index] as [String: Any] }
            if index % 8 == 3 { metadata["sweep"] = ["id": "sw"] }
            if index % 5 == 2 { metadata["config_sources"] = ["lr": "config.toml:3:1", text: "--set \(text)"] }
            if index % 7 == 6 { metadata["unwritten"] = ["steps": 3, "values": 9, "reason": "disk full: \(text)"] as [String: Any] }
            try JSONSerialization.data(withJSONObject: metadata).write(to: folder.appendingPathComponent("run.json"))
        }
        // A damaged run (no run.json): listed with its `damage`.
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("alpha/20261130-041200-deadbeef"), withIntermediateDirectories: true)
        return RunStore(root: root)
    }

    func oldEncoder(_ runs: [RunStore.StoredRun]) throws -> String {
        String(decoding: try RunsJSON.encoder().encode(runs.map(RunsJSON.RunObject.init)), as: UTF8.self)
    }

    @Test("the same bytes as JSONEncoder on a varied store (hostile strings, NaN, infinities, sweeps, damage)")
    func sameBytes() throws {
        let store = try store(240)
        defer { try? FileManager.default.removeItem(at: store.root) }
        let runs = store.runs(withConfig: true).runs
        #expect(runs.count == 241)
        #expect(runs.contains { $0.damage != nil })
        let written = RunsJSON.writeList(runs)
        let old = try oldEncoder(runs)
        // Written as the listing is decoded (what `tipi runs --json` does): the same bytes.
        #expect(String(decoding: RunsJSON.listBytes(store.listing(withConfig: true)), as: UTF8.self) == written)
        let same = written == old
        #expect(same, "the text differs from JSONEncoder's")
        if !same {
            let index = zip(written, old).prefix { $0 == $1 }.count
            Issue.record("first difference at \(index): \(written.dropFirst(max(0, index - 80)).prefix(160)) vs \(old.dropFirst(max(0, index - 80)).prefix(160))")
        }
        // Parsed, it is the same value too, and a `</script>` never appears in the text.
        let parsed = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? NSArray
        let parsedOld = try JSONSerialization.jsonObject(with: Data(old.utf8)) as? NSArray
        #expect(parsed != nil && parsed == parsedOld)
        #expect(!written.contains("</script"))
        #expect(!written.unicodeScalars.contains { $0.value < 0x20 })
        #expect(RunsJSON.writeList([]) == "[]")
    }

    @Test("hostile strings read back exactly; non-finite numbers are the strings JSONEncoder wrote")
    func readsBack() throws {
        for text in Self.hostile {
            var out = JSONBytes(capacity: 0)
            out.string(text)
            let written = String(decoding: out.bytes, as: UTF8.self)
            let back = try JSONSerialization.jsonObject(with: Data("[\(written)]".utf8)) as? [String]
            #expect(back == [text], "\(text.prefix(40))")
            let old = String(decoding: try RunsJSON.encoder().encode([text]), as: UTF8.self)
            #expect("[\(written)]" == old, "\(text.prefix(40))")
        }
        for number in Self.numbers + [42, -42, 1e15, 1e16, -1e-300, 0.30000000000000004, 9_007_199_254_740_993] {
            var out = JSONBytes(capacity: 0)
            out.number(number)
            let old = String(decoding: try RunsJSON.encoder().encode([number]), as: UTF8.self)
            #expect("[\(String(decoding: out.bytes, as: UTF8.self))]" == old, "\(number)")
        }
        for integer in [0, 7, -7, 10, 1_000_000, Int.max, Int.min, Int.min + 1] {
            var out = JSONBytes(capacity: 0)
            out.integer(integer)
            #expect(String(decoding: out.bytes, as: UTF8.self) == String(integer))
        }
        // Times as `RunsTable.timestamp` writes them, over the years and at the edges of the fast path.
        for seconds in [0, 0.999, 59, 86_399.5, 951_782_400, 1_795_912_192.5, 4_102_444_800, 253_402_300_799, 253_402_300_800, -1, .nan] {
            var out = JSONBytes(capacity: 0)
            out.timestamp(seconds)
            #expect(String(decoding: out.bytes, as: UTF8.self) == "\"\(RunsTable.timestamp(seconds))\"", "\(seconds)")
        }
    }

    /// The speed itself is measured in release builds by Benchmarks/dashboard_benchmark.py; a debug build
    /// (the tests') says little about it, so this only prints the figures and checks the output again.
    @Test("2,000 runs: the figures against JSONEncoder printed, the output the same")
    func faster() throws {
        let store = try store(2_000)
        defer { try? FileManager.default.removeItem(at: store.root) }
        let runs = store.runs(withConfig: true).runs
        let clock = ContinuousClock()
        var oldText = ""
        var newText = ""
        let old = clock.measure { oldText = (try? oldEncoder(runs)) ?? "" }
        let new = clock.measure { newText = RunsJSON.writeList(runs) }
        print("runs JSON over \(runs.count) runs: JSONEncoder \(old), written by hand \(new)")
        let same = newText == oldText && !newText.isEmpty
        #expect(same, "the text differs from JSONEncoder's")
        // Several parts written on several threads, joined: still the same bytes.
        #expect(String(decoding: RunsJSON.listBytes(store.listing(withConfig: true)), as: UTF8.self) == newText)
    }
}
