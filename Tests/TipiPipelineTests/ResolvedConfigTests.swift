import Foundation
import Testing
import Tipi

@testable import TipiPipeline

/// The resolved config's two texts, written while it is resolved: `run.json`'s `config` must be the bytes
/// the dictionary writer (`JSONEncoder`'s, tested in `RunMetadataJSONTests`) writes for the values, and
/// `config-sources.json` must read back as the table the dictionary path made (a `String` per key and source).
@Suite("Resolved config texts")
struct ResolvedConfigTests {
    /// Configs of every shape the builder accepts: flat and `params = {}` and `[….params]` forms, defaults,
    /// a permanence given by default, `force`, `[pipeline]` with nested tables and arrays, keys that JSON
    /// escapes and keys that sort differently as bytes and as characters, NaN and infinities.
    static let configs = [
        """
        [pipeline]
        project = "spirals"
        tags = ["a/b", "c\\"d"]
        [pipeline.wandb]
        project = "w"
        [permanences.data]
        type = "Points"
        count = 3
        [processes.training]
        type = "fit"
        epochs = 4
        [processes."odd \\"key\\" / é"]
        type = "fit"
        params = { epochs = 1, rate = 0.5 }
        force = true
        [processes.zeta]
        type = "noop"
        [processes.a]
        type = "score"
        [processes.a.params]
        threshold = nan
        [processes."a\\u0301"]
        type = "fail"
        message = "tab\\there"
        [processes."é"]
        type = "score"
        threshold = -inf
        force = false
        """,
        """
        [permanences.p1]
        type = "Points"
        count = 1
        failCleanup = true
        [permanences.notes]
        type = "Notes"
        name = "n"
        [processes.x]
        type = "Cached"
        [processes.y]
        type = "Cached"
        name = "named"
        [processes."a.b"]
        type = "fit"
        data = "p1"
        """,
    ]

    /// `count` processes with random keys (escapes, non-ASCII, digits that sort as bytes) of every form.
    static func randomConfig(_ seed: UInt64, count: Int) -> String {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let pieces = ["p", "1", "10", "9", "_", "-", ".", "/", "\\\"", "\\\\", "é", "a\\u0301", "😀", "Z", " ", "\\t"]
        var text = "[permanences.data]\ntype = \"Points\"\ncount = 2\n"
        var used: Set<String> = []
        for index in 0..<count {
            var key = (0..<(1 + next(4))).map { _ in pieces[next(pieces.count)] }.joined()
            if used.contains(key) { key += "#\(index)" }
            used.insert(key)
            text += "[processes.\"\(key)\"]\n"
            switch next(6) {
            case 0: text += "type = \"fit\"\nepochs = \(next(2000) - 1000)\n"
            case 1: text += "type = \"fit\"\nparams = { rate = \(Double(next(1000)) / 7), epochs = \(next(9)) }\n"
            case 2: text += "type = \"score\"\n[processes.\"\(key)\".params]\nthreshold = \(["1e300", "-0.0", "0.1", "inf", "3"][next(5)])\n"
            case 3: text += "type = \"fail\"\nmessage = \"\(pieces[next(pieces.count)])\"\nforce = \(next(2) == 0)\n"
            case 4: text += "type = \"fail\"\nparams = { message = \"\(key)\(pieces[next(pieces.count)])\" }\n"
            default: text += "type = \"noop\"\n"
            }
        }
        return text
    }

    static func build(_ text: String, overrides: [String] = []) throws -> BuiltPipeline {
        var table = try ConfigLoader.parse(text: text, file: "dir/c \"1\".toml")
        if !overrides.isEmpty { table = try ConfigLoader.apply(overrides: overrides, to: table) }
        return try PipelineBuilder.build(table, definition: testDefinition).get()
    }

    /// Where each value came from as the dictionary path wrote it: a formatted `String` per leaf of the
    /// document, and `default` for each resolved param not written.
    static func expectedSources(_ pipeline: BuiltPipeline, values: [String: ConfigValue]) -> [String: String] {
        var sources: [String: String] = [:]
        func source(_ location: TipiPipeline.SourceLocation?) -> String {
            guard let location else { return "default" }
            if let override = location.override { return "\(location.overrideOrigin) \(override)" }
            return "file \(location.file):\(location.line):\(location.column)"
        }
        func add(_ node: ConfigNode, at path: String) {
            if case .table(let table, _) = node {
                for (key, value) in table.entries { add(value, at: path + "." + key) }
            } else {
                sources[path] = source(node.location)
            }
        }
        let document = pipeline.document
        if let settings = document["pipeline"] { add(settings, at: "pipeline") }
        for section in ["permanences", "processes"] {
            guard case .table(let entries)? = values[section] else { continue }
            for (key, entry) in entries {
                let table = document[section]?.table?[key]?.table
                let written = table?["params"]?.table ?? ConfigTable(entries: table?.entries.filter { !["type", "params", "force"].contains($0.key) } ?? [])
                guard case .table(let resolved) = entry, case .table(let params)? = resolved["params"] else { continue }
                for name in params.keys {
                    if let node = written[name] { add(node, at: "\(section).\(key).params.\(name)") } else { sources["\(section).\(key).params.\(name)"] = "default" }
                }
                if let type = table?["type"] { add(type, at: "\(section).\(key).type") }
                if let force = table?["force"] { add(force, at: "\(section).\(key).force") }
            }
        }
        return sources
    }

    /// `repeats`: the pipeline has a process key twice (the sources' text then drops the earlier entries).
    func check(_ pipeline: BuiltPipeline, _ label: String, repeats: Bool = false) throws {
        let resolved = ResolvedConfig(pipeline)
        var writer = PrettyJSONWriter()
        writer.table(resolved.values, indent: 1)
        #expect(resolved.valuesText == writer.bytes, "\(label): \(String(decoding: resolved.valuesText.prefix(3000), as: UTF8.self))")
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(resolved.sources.json))
        #expect(decoded == Self.expectedSources(pipeline, values: resolved.values), "\(label)")
        if !repeats { #expect(decoded.count == resolved.sources.count, "\(label): no key twice") }
    }

    @Test("the config's text is the dictionary writer's bytes, and the sources read back as the dictionary path's, for every shape")
    func shapes() throws {
        for (index, text) in Self.configs.enumerated() {
            try check(Self.build(text), "config \(index)")
        }
        try check(
            Self.build(Self.configs[0], overrides: ["processes.training.rate=0.25", "processes.zeta.force=true", "pipeline.notes=\"x/y\""]),
            "overrides")
    }

    @Test("random process keys and params, up to a few hundred processes (kept text sizes included)")
    func randomPipelines() throws {
        for seed in 0..<40 {
            let count = seed % 10 == 0 ? 400 : seed % 7
            try check(Self.build(Self.randomConfig(UInt64(seed), count: count)), "seed \(seed)")
        }
    }

    @Test("processes out of the config's order, or a key twice: the text and sources the dictionaries give")
    func reorderedAndRepeatedProcesses() throws {
        for seed in 0..<12 {
            var pipeline = try Self.build(Self.randomConfig(UInt64(100 + seed), count: 3 + seed % 5))
            switch seed % 4 {
            case 0: pipeline.processes.reverse()
            case 1: pipeline.processes.append(pipeline.processes[0])
            case 2: pipeline.processes.insert(pipeline.processes[pipeline.processes.count - 1], at: 1)
            default: pipeline.processes.swapAt(0, pipeline.processes.count - 1)
            }
            try check(pipeline, "seed \(seed)", repeats: seed % 4 == 1 || seed % 4 == 2)
            let resolved = ResolvedConfig(pipeline)
            #expect(resolved.values == ResolvedConfig.values(of: pipeline))
            guard case .table(let processes)? = resolved.values["processes"] else {
                Issue.record("no processes")
                continue
            }
            #expect(processes.count == Set(pipeline.processes.map(\.key)).count, "seed \(seed): one entry per key")
        }
    }

    @Test("a key given twice through a dot keeps its last source, as a dictionary would")
    func repeatedKeys() throws {
        var random: UInt64 = 99
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((random >> 33) % UInt64(bound))
        }
        let segments = ["a", "b", "a.b", "b.a", "", ".", "é", "\"", "/"]
        for _ in 0..<300 {
            var text = ConfigSourcesText()
            var expected: [String: String] = [:]
            for _ in 0..<next(12) {
                let path = (0..<(1 + next(3))).map { _ in segments[next(segments.count)] }
                var mark: ConfigSourcesText.Mark?
                for (position, segment) in path.enumerated() {
                    let before = text.push(segment)
                    if position == 0 { mark = before }
                }
                let location: TipiPipeline.SourceLocation? =
                    switch next(3) {
                    case 0: nil
                    case 1: TipiPipeline.SourceLocation(file: segments[next(segments.count)], line: next(100), column: next(100))
                    default: TipiPipeline.SourceLocation(file: "", line: 0, column: 0, override: "k=\(next(9))", overrideOrigin: next(2) == 0 ? "--set" : "sweep")
                    }
                text.add(location)
                if let mark { text.pop(to: mark) }
                var source = "default"
                if let location {
                    source = location.override.map { "\(location.overrideOrigin) \($0)" } ?? "file \(location.file):\(location.line):\(location.column)"
                }
                // A key given again without a dot in it is a caller's repeat, which it says.
                if expected[path.joined(separator: ".")] != nil, !path.contains(where: { $0.contains(".") }) { text.noteRepeatedKeys() }
                expected[path.joined(separator: ".")] = source
            }
            let json = text.json
            #expect(try JSONDecoder().decode([String: String].self, from: Data(json)) == expected)
            let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: String]
            #expect(object?.count == expected.count, "no key written twice: \(String(decoding: json, as: UTF8.self))")
        }
    }
}

/// The end of a pipeline of thousands of processes: the rows worth reading and a count, not a row each.
@Suite("Pipeline summary")
struct PipelineSummaryTests {
    @Test("a large pipeline lists the processes that did not complete and the slowest, and counts each status")
    func largeSelection() {
        var records = (0..<5_000).map { index in
            RunMetadata.ProcessRecord(key: "p\(index)", type: "nothing", status: "completed", seconds: Double(index % 97) / 1000)
        }
        records[4_000].seconds = 9
        records[10].seconds = 5
        records[2_000].status = "failed"
        records[2_000].error = "boom"
        for index in 2_001..<5_000 where index != 4_000 { records[index] = .init(key: "p\(index)", type: "nothing", status: "pending") }
        let (listed, unlisted, counts) = PipelineSummary.selection(records)
        // The slowest (9 s, 5 s, then three of 0.096 s) and the first processes that did not complete, in order.
        #expect(listed.first == 10)
        #expect(listed.contains(4_000) && listed.contains(2_000))
        #expect(listed.filter { records[$0].status == "completed" }.count == PipelineSummary.slowestCount)
        #expect(listed == listed.sorted())
        #expect(listed.filter { records[$0].status != "completed" }.count == PipelineSummary.listedLimit)
        #expect(unlisted == 2_998 - PipelineSummary.listedLimit + 1)
        #expect(counts.map(\.status) == ["completed", "failed", "pending"])
        #expect(counts.map(\.count) == [2_001, 1, 2_998])
        let lines = PipelineSummary.table(listed, of: records)
        #expect(lines.count == listed.count + 1)
        #expect(lines[0].hasPrefix("PROCESS  TYPE     STATUS     TIME"))
    }

    @Test("a small pipeline keeps a row per process")
    func small() {
        let records = [
            RunMetadata.ProcessRecord(key: "train", type: "fit", status: "completed", seconds: 1.5),
            RunMetadata.ProcessRecord(key: "eval", type: "score", status: "pending"),
        ]
        #expect(PipelineSummary.table(records.indices, of: records) == [
            "PROCESS  TYPE   STATUS     TIME", "train    fit    completed  1.50s", "eval     score  pending    -",
        ])
    }
}
