import Foundation
import Synchronization
import Testing

@testable import Tipi

/// `run.json` and `config-sources.json` written without `JSONEncoder`'s cost per value must be the bytes
/// `JSONEncoder` writes: other tools (the Python readers, the dashboard, older Tipi) read them.
@Suite("run.json writer")
struct RunMetadataJSONTests {
    /// Text with what JSON escapes (quotes, backslashes, slashes, control characters), non-ASCII text in both
    /// normal forms, characters beyond the BMP and the byte order that sorts them.
    static let pieces = [
        "a", "b", "Z", "/", "\"", "\\", "\n", "\t", "\r", "\u{1}", "\u{1f}", "\u{7f}", "\u{8}", "\u{c}", "\u{0}", "é", "e\u{301}",
        "\u{2028}", "😀", "ｂ", " ", "_", "0", "9", "<", ".",
    ]
    static let doubles: [Double] = [
        0, -0.0, 1, 3, 0.1, 1e-7, 1e15, 1e16, 1e20, 123_456_789_012_345_678, .pi, -2.5, 5e-324, .greatestFiniteMagnitude,
        .nan, .infinity, -.infinity, 0.5e-5, 100, 2.0e-3,
    ]

    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func text() -> String { (0..<next(5)).map { _ in RunMetadataJSONTests.pieces[next(RunMetadataJSONTests.pieces.count)] }.joined() }
        mutating func double() -> Double {
            next(2) == 0 ? RunMetadataJSONTests.doubles[next(RunMetadataJSONTests.doubles.count)] : Double(next(2_000_001) - 1_000_000) / 7.0
        }
        mutating func value(depth: Int) -> ConfigValue {
            switch next(depth > 2 ? 4 : 6) {
            case 0: return .int((next(2001) - 1000) * (next(2) == 0 ? 1 : 1_000_000_000_000))
            case 1: return .double(double())
            case 2: return .string(text())
            case 3: return .bool(next(2) == 0)
            case 4: return .array((0..<next(4)).map { _ in value(depth: depth + 1) })
            default: return .table(table(depth: depth + 1))
            }
        }
        mutating func table(depth: Int) -> [String: ConfigValue] {
            var table: [String: ConfigValue] = [:]
            for _ in 0..<next(5) { table[text()] = value(depth: depth) }
            return table
        }
        mutating func optional(_ text: String) -> String? { next(2) == 0 ? nil : text }
    }

    static func metadata(_ random: inout Generator, processes: Int) -> RunMetadata {
        let statuses = ["pending", "running", "completed", "skipped", "failed", "interrupted"]
        let records = (0..<processes).map { index in
            RunMetadata.ProcessRecord(
                key: index % 7 == 0 ? random.text() : "p\(index)", type: random.next(3) == 0 ? random.text() : "train",
                status: statuses[random.next(statuses.count)], seconds: random.next(2) == 0 ? nil : [abs(random.double()).nextUp].first { $0.isFinite } ?? 0.25,
                error: random.optional(random.text()), completedIn: random.optional("abcd1234"), checkpoint: random.optional("checkpoints/01-p"))
        }
        var metadata = RunMetadata(
            id: "abcd1234", project: random.text(), name: "brisk-river-42", status: .running, startTime: 1_764_000_000.123456,
            endTime: random.next(2) == 0 ? nil : 1_764_000_100.5, config: random.table(depth: 0), tags: ["a/b", random.text()],
            notes: random.optional(random.text()), group: nil, host: "host", pid: 1234, processStart: 98765, command: ["/usr/bin/x", "--set", "a=1"],
            workingDirectory: "/work", git: RunMetadata.GitState(commit: String(repeating: "a", count: 40), dirty: true, directory: "/work"),
            swiftVersion: "6.3", tipiVersion: "0.9.0", device: nil, sweep: random.next(2) == 0 ? nil : RunMetadata.SweepMembership(id: "s1", index: 3),
            backends: ["mlflow": RunMetadata.BackendState(location: "http://x/y", sentSteps: 3)],
            summary: ["loss": MetricSummary(last: 0.25, min: 0.125, max: 2, count: 10, step: 9)], heartbeat: 1_764_000_050.25,
            droppedSteps: random.next(2) == 0 ? nil : 2,
            pipeline: random.next(4) == 0
                ? nil
                : RunMetadata.PipelineRecord(
                    name: random.text(), configFile: random.optional("configs/p.toml"), overrides: (0..<random.next(3)).map { _ in random.text() },
                    resumedFrom: random.optional("zzzz0000"), processes: records))
        metadata.configSources = random.next(2) == 0 ? nil : ["processes.a.params.x": "file a.toml:1:2"]
        metadata.resumedFrom = random.optional("zzzz0000")
        metadata.os = "Linux"
        metadata.packages = ["swift-log": "1.6.1"]
        return metadata
    }

    @Test("run.json is JSONEncoder's bytes, for configs and pipeline records of every shape")
    func sameBytesAsJSONEncoder() throws {
        var random = Generator(state: 42)
        for round in 0..<400 {
            let metadata = Self.metadata(&random, processes: random.next(round % 10 == 0 ? 200 : 6))
            let fast = try RunMetadataJSON.encode(metadata)
            let foundation = try RunMetadataJSON.encodeWithFoundation(metadata)
            #expect(fast == foundation, "round \(round): \(String(decoding: fast, as: UTF8.self).prefix(2000))")
            if fast != foundation { return }
        }
    }

    @Test("an empty config, no pipeline, and an empty process list are written as JSONEncoder writes them")
    func emptyParts() throws {
        var random = Generator(state: 7)
        var metadata = Self.metadata(&random, processes: 0)
        metadata.config = [:]
        for pipeline in [nil, RunMetadata.PipelineRecord(name: "", configFile: nil, overrides: [], resumedFrom: nil, processes: [])] {
            metadata.pipeline = pipeline
            #expect(try RunMetadataJSON.encode(metadata) == RunMetadataJSON.encodeWithFoundation(metadata))
        }
    }

    @Test("a finite number is written as JSONEncoder writes it, for random bit patterns and the edge values")
    func finiteNumbers() throws {
        var state: UInt64 = 5
        var values = Self.doubles.filter(\.isFinite)
        while values.count < 20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Double(bitPattern: state)
            if value.isFinite { values.append(value) }
            values.append(Double(state >> 40) / 1e6)
        }
        for value in values {
            var bytes = Array("x".utf8)
            JSONText.appendFinite(value, to: &bytes)
            let expected = "x" + String(decoding: try JSONEncoder().encode([value]).dropFirst().dropLast(), as: UTF8.self)
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(value.bitPattern)")
        }
    }

    @Test("a process time that is not a number is refused, as JSONEncoder refuses it")
    func nonFiniteSeconds() throws {
        var random = Generator(state: 3)
        var metadata = Self.metadata(&random, processes: 3)
        metadata.pipeline = RunMetadata.PipelineRecord(
            name: "p", configFile: nil, overrides: [], resumedFrom: nil, processes: [.init(key: "a", type: "t", status: "completed", seconds: .nan)])
        #expect(throws: (any Error).self) { try RunMetadataJSON.encode(metadata) }
    }

    @Test("a config's kept text is written again only while the config is unchanged")
    func keptConfigText() throws {
        var random = Generator(state: 19)
        var metadata = Self.metadata(&random, processes: 10)
        var processes: [String: ConfigValue] = [:]
        for index in 0..<300 { processes["p\(index)"] = .table(["type": "train", "params": .table(["index": .int(index)])]) }
        metadata.config["processes"] = .table(processes)
        for round in 0..<6 {
            #expect(try RunMetadataJSON.encode(metadata) == RunMetadataJSON.encodeWithFoundation(metadata), "round \(round)")
            #expect(try RunMetadataJSON.encode(metadata) == RunMetadataJSON.encodeWithFoundation(metadata), "round \(round), again")
            // Changed in place, replaced, or grown; and a copy changed while the first is kept.
            switch round % 3 {
            case 0: metadata.config["processes"] = .table(processes.merging(["p7": .string("changed \(round)")]) { $1 })
            case 1: metadata.config = metadata.config.mapValues { $0 }
            default:
                let before = metadata
                metadata.config["new\(round)"] = .double(Double(round) / 3)
                #expect(try RunMetadataJSON.encode(before) == RunMetadataJSON.encodeWithFoundation(before), "round \(round), the copy")
            }
        }
    }

    @Test("a config given as its text is written from it, and made into values only when read, once")
    func configGivenAsText() throws {
        var random = Generator(state: 23)
        var metadata = Self.metadata(&random, processes: 4)
        let values: [String: ConfigValue] = [
            "processes": .table(["a": .table(["type": "train", "params": .table(["lr": .double(0.5), "name": .string("x\"y")])])]),
            "pipeline": .table(["name": .string("p")]),
        ]
        var writer = PrettyJSONWriter()
        writer.table(values, indent: 1)
        let made = Mutex(0)
        metadata.storedConfig = RunConfig(text: writer.bytes, values: {
            made.withLock { $0 += 1 }
            return values
        })
        let lazy = try RunMetadataJSON.encode(metadata)
        #expect(made.withLock { $0 } == 0, "writing run.json does not make the values")
        #expect(metadata.config == values)
        #expect(metadata.config == values)
        #expect(made.withLock { $0 } == 1, "made once, then kept")
        #expect(try lazy == RunMetadataJSON.encodeWithFoundation(metadata))
        // Decoded back, and changed: written from the values then.
        var decoded = try JSONDecoder().decode(RunMetadata.self, from: lazy)
        #expect(decoded.config == values)
        decoded.config["extra"] = .int(3)
        #expect(try RunMetadataJSON.encode(decoded) == RunMetadataJSON.encodeWithFoundation(decoded))
    }

    @Test("a long process list is written again from its kept text only where a record is unchanged")
    func keptProcessRecords() throws {
        var random = Generator(state: 31)
        var metadata = Self.metadata(&random, processes: 0)
        var other = Self.metadata(&random, processes: 0)
        var processes = (0..<300).map { RunMetadata.ProcessRecord(key: "p\($0)", type: "t", status: "pending") }
        for round in 0..<16 {
            metadata.pipeline = RunMetadata.PipelineRecord(name: "p", configFile: nil, overrides: [], resumedFrom: nil, processes: processes)
            #expect(try RunMetadataJSON.encode(metadata) == RunMetadataJSON.encodeWithFoundation(metadata), "round \(round)")
            #expect(try RunMetadataJSON.encode(metadata) == RunMetadataJSON.encodeWithFoundation(metadata), "round \(round), again")
            // Records change as a running pipeline's do; the list shrinks, grows, shifts; another run writes its own.
            switch round % 5 {
            case 0:
                for index in stride(from: round, to: processes.count, by: 7) {
                    processes[index].status = "completed"
                    processes[index].seconds = Double(index) / 3
                }
            case 1:
                processes[round].error = "failed \\ \"x\" / é"
                processes[round].checkpoint = "checkpoints/\(round)"
            case 2:
                processes.removeLast(round)
                processes.insert(.init(key: "new", type: "t", status: "running"), at: 5)
            case 3:
                processes += (0..<100).map { .init(key: "q\($0)", type: "u", status: "pending", completedIn: "abcd") }
            default:
                other.pipeline = RunMetadata.PipelineRecord(
                    name: "o", configFile: nil, overrides: [], resumedFrom: nil,
                    processes: processes.reversed().map { .init(key: $0.key, type: "o", status: "skipped") })
                #expect(try RunMetadataJSON.encode(other) == RunMetadataJSON.encodeWithFoundation(other), "other, round \(round)")
            }
        }
    }

    @Test("the pieces of a run.json stay its bytes while later rewrites reuse the kept texts' memory")
    func piecesKeptAcrossRewrites() throws {
        var random = Generator(state: 37)
        var metadata = Self.metadata(&random, processes: 0)
        var processes: [String: ConfigValue] = [:]
        for index in 0..<200 { processes["p\(index)"] = .table(["type": "train", "params": .table(["index": .int(index)])]) }
        metadata.config = ["processes": .table(processes)]
        var records = (0..<500).map { RunMetadata.ProcessRecord(key: "p\($0)", type: "t", status: "pending") }
        var held: [(pieces: [[UInt8]], expected: Data)] = []
        for round in 0..<8 {
            records[round * 11].status = "completed"
            records[round * 11].seconds = Double(round) / 8
            metadata.pipeline = RunMetadata.PipelineRecord(name: "p", configFile: nil, overrides: [], resumedFrom: nil, processes: records)
            let pieces = try RunMetadataJSON.encodePieces(metadata)
            #expect(pieces.count > 2, "the config and the records are pieces of their own")
            held.append((pieces, try RunMetadataJSON.encodeWithFoundation(metadata)))
            for (index, earlier) in held.enumerated() {
                #expect(Data(earlier.pieces.flatMap { $0 }) == earlier.expected, "round \(round): the pieces of round \(index)")
            }
            if round % 3 == 2 { held.removeFirst() }
        }
    }

    @Test("keys sort in UTF-8 byte order, as JSONEncoder sorts them")
    func keyOrder() {
        var random = Generator(state: 23)
        for _ in 0..<500 {
            let keys = Array(Set((0..<random.next(40)).map { _ in random.text() }))
            let expected = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(PrettyJSONWriter.sortedOrder(of: keys).map { keys[$0] } == expected)
        }
        #expect(PrettyJSONWriter.sortedOrder(of: ["p9", "p10", "", "p1"]) == [2, 3, 1, 0])
    }

    @Test("config-sources.json is JSONEncoder's bytes (sorted keys, compact)")
    func compactSources() throws {
        var random = Generator(state: 11)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for _ in 0..<200 {
            var sources: [String: String] = [:]
            for _ in 0..<random.next(30) { sources[random.text()] = "file " + random.text() }
            #expect(RunMetadataJSON.encodeCompact(sources) == (try encoder.encode(sources)))
        }
    }

    @Test("run.json written through the store reads back as the same metadata")
    func roundTrip() throws {
        var random = Generator(state: 5)
        let metadata = Self.metadata(&random, processes: 50)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-json-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try RunStore.writeMetadata(metadata, to: folder)
        let read = try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: folder.appendingPathComponent(RunStore.metadataFile)))
        #expect(read.pipeline == metadata.pipeline)
        #expect(read.config.count == metadata.config.count)
    }
}
