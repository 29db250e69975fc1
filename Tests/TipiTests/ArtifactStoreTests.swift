import Foundation
import Testing
import TipiTestSupport

@testable import Tipi

/// The artifact store's rules in process: SHA-256, links planted in the artifacts folder, the folder
/// written directly, the console log's filter.
@Suite("Artifact store")
struct ArtifactStoreTests {
    @Test("SHA-256 gives the FIPS 180-4 test vectors, also when fed in odd pieces")
    func sha256() {
        func digest(_ text: String, pieces: Int = 1) -> String {
            var hasher = SHA256()
            let bytes = Array(text.utf8)
            let size = max(bytes.count / pieces, 1)
            var start = 0
            while start < bytes.count {
                hasher.update(Array(bytes[start..<min(start + size, bytes.count)]))
                start += size
            }
            return hasher.hexDigest()
        }
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(digest(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(long, pieces: 7) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(String(repeating: "a", count: 1_000_000), pieces: 13) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("the system's SHA-256 (libcrypto, when loaded) and Tipi's own agree, in pieces of any size")
    func systemAgrees() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<1_000_003).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var own = SHA256()
        var files = FileHasher()
        var start = 0
        for size in [1, 63, 64, 65, 4096, 100_000] + Array(repeating: 300_000, count: 4) where start < bytes.count {
            let piece = Array(bytes[start..<min(start + size, bytes.count)])
            own.update(piece)
            files.update(piece)
            start += piece.count
        }
        #expect(start == bytes.count)
        #expect(own.hexDigest() == files.hexDigest())
        if let system = SystemSHA256() {
            bytes.withUnsafeBytes { system.update($0) }
            #expect(system.hexDigest() == own.hexDigest())
        }
    }

    @Test("a link planted in artifacts/ is never written through; one written there is not recorded, with a warning")
    func plantedLinks() throws {
        let store = temporaryStore()
        let run = try startRun(store)
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let file = outside.appendingPathComponent("weights.bin")
        try Data("weights".utf8).write(to: file)
        try run.saveArtifact(file, name: "direct/x.bin")
        let direct = run.artifactsFolder.appendingPathComponent("direct")
        try FileManager.default.removeItem(at: direct)
        let target = outside.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: direct.path, withDestinationPath: target.path)
        #expect(throws: ArtifactError.self) { try run.saveArtifact(file, name: "direct/y.bin") }
        do {
            try run.saveArtifact(file, name: "direct/y.bin")
        } catch {
            #expect(error.description.contains("is a symbolic link (artifacts are never written through links)"), "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
        // Written directly: a file is recorded at finish, a link is not.
        try Data("notes".utf8).write(to: run.artifactsFolder.appendingPathComponent("notes.txt"))
        try FileManager.default.createSymbolicLink(
            atPath: run.artifactsFolder.appendingPathComponent("passwd").path, withDestinationPath: "/etc/passwd")
        let warnings = WarningRecorder()
        let previous = Diagnostics.setSink { warnings.add($0) }
        run.finish()
        Diagnostics.setSink(previous)
        let names = run.artifacts.map(\.name)
        #expect(names.contains("notes.txt"))
        #expect(!names.contains("passwd"))
        #expect(!names.contains("direct/y.bin"))
        #expect(warnings.lines.contains { $0.contains("passwd is a symbolic link and is not recorded as an artifact") }, "\(warnings.lines)")
        let notes = try #require(run.artifacts.first { $0.name == "notes.txt" })
        #expect(notes.sha256 == "ab5aa97074c454a0632057e704220d9a6678fbf773a0a5806fc09b8173b07309")
        #expect(notes.size == 5)
    }

    @Test("eight threads saving at once: every artifact is recorded, and the shared name's record matches its file")
    func concurrentSaves() throws {
        let run = try startRun(temporaryStore())
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("concurrent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let failures = WarningRecorder()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            do {
                for round in 0..<5 {
                    let file = folder.appendingPathComponent("\(index)-\(round).bin")
                    try Data(repeating: UInt8(index), count: 1000 + index * 10 + round).write(to: file)
                    try run.saveArtifact(file, name: "own/\(index)-\(round).bin")
                    try run.saveArtifact(file, name: "shared.bin")
                }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.lines.isEmpty, "\(failures.lines)")
        let recorded = run.artifacts
        #expect(recorded.filter { $0.name.hasPrefix("own/") }.count == 40)
        let shared = try #require(recorded.first { $0.name == "shared.bin" })
        #expect(shared.version == 39)
        #expect(shared.sha256 == (try ArtifactStore.hash(path: run.artifactsFolder.appendingPathComponent("shared.bin").path)))
        run.finish()
    }

    @Test("a damaged artifacts.json is set aside with a warning, never written over")
    func damagedManifest() throws {
        let run = try startRun(temporaryStore())
        let manifest = run.folder.appendingPathComponent("artifacts.json")
        try Data("{not json".utf8).write(to: manifest)
        let warnings = WarningRecorder()
        let previous = Diagnostics.setSink { warnings.add($0) }
        let store = ArtifactStore(runFolder: run.folder)
        Diagnostics.setSink(previous)
        #expect(warnings.lines.contains { $0.contains("artifacts.json could not be read; it is kept as") }, "\(warnings.lines)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: run.folder.path).filter { $0.hasPrefix("artifacts.json.damaged-") }
        #expect(aside.count == 1)
        #expect(try String(contentsOf: run.folder.appendingPathComponent(aside[0]), encoding: .utf8) == "{not json")
        _ = store
        run.finish()
    }

    @Test("the console log keeps what a log file shows: no escape sequences, the last state of a rewritten line, a cap with a note")
    func consoleFilter() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString).log").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var log = LogFile(descriptor: descriptor, limit: 200, path: path)
        log.filter(Array("plain\n\u{1B}[1;31mred\u{1B}[0m\n10%\r50%\r100%\r\nsplit\r".utf8))
        log.filter(Array("\nosc \u{1B}]0;title\u{07}end\n".utf8))
        log.filter(Array((String(repeating: "y", count: 300) + "\nafter\n").utf8))
        log.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("plain\nred\n100%\nsplit\nosc end\n[tipi: "), "\(text)")
        #expect(text.contains("reached its limit of 200 bytes (TIPI_OUTPUT_LOG_MB)"))
        #expect(!text.contains("after"))
    }
}

/// Collects warnings from ``Diagnostics``.
final class WarningRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// `latestArtifact` follows the runs a run continues.
@Suite("Latest artifact across resumed runs")
struct LatestArtifactTests {
    @Test("found in the run itself, else in the run it continues (pipeline resumedFrom or resumed_from), and back along the chain")
    func chain() throws {
        let store = temporaryStore()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("latest-\(UUID().uuidString).json")
        let first = try startRun(store)
        try Data("{\"epoch\":4}".utf8).write(to: scratch)
        try first.saveArtifact(scratch, name: "checkpoint.json", step: 4)
        try Data("{\"epoch\":9}".utf8).write(to: scratch)
        try first.saveArtifact(scratch, name: "checkpoint.json", step: 9)
        first.finish()

        // The second run continues the first the way a resumed pipeline records it today.
        let second = try startRun(store)
        second.recordPipeline(.init(name: "p", configFile: nil, overrides: [], resumedFrom: first.id, processes: []))
        let found = try #require(second.latestArtifact(named: "checkpoint.json"))
        #expect(found.runID == first.id)
        #expect(found.artifact.step == 9 && found.artifact.version == 1)
        #expect(try String(contentsOf: found.url, encoding: .utf8) == "{\"epoch\":9}")
        second.finish()

        // A third run continues the second through the `resumed_from` key of run.json (as pipelines write it).
        let third = try startRun(store)
        let secondJSON = second.folder.appendingPathComponent("run.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: secondJSON)) as? [String: Any])
        object["pipeline"] = nil
        object["resumed_from"] = first.id
        try JSONSerialization.data(withJSONObject: object).write(to: secondJSON)
        #expect(third.latestArtifact(named: "checkpoint.json") == nil, "the third run continues nothing yet")
        #expect(third.latestArtifact(named: "checkpoint.json", earlier: [second.id])?.runID == first.id)
        // Its own checkpoint wins over the older ones.
        try Data("{\"epoch\":12}".utf8).write(to: scratch)
        try third.saveArtifact(scratch, name: "checkpoint.json", step: 12)
        #expect(third.latestArtifact(named: "checkpoint.json", earlier: [second.id])?.runID == third.id)
        // A checkpoint changed after it was saved (its size differs from the record) is not trusted.
        try Data("{\"epoch\":12, \"changed\": true}".utf8).write(to: third.artifactsFolder.appendingPathComponent("checkpoint.json"))
        #expect(third.latestArtifact(named: "checkpoint.json", earlier: [second.id])?.runID == first.id)
        #expect(third.latestArtifact(named: "missing.json", earlier: [second.id]) == nil)
        third.finish()
        // A finished run takes no more artifacts (as it takes no more values).
        do {
            try third.saveArtifact(scratch, name: "late.json")
            Issue.record("a finished run took an artifact")
        } catch {
            #expect(error.description.contains("run \(third.id) is finished"), "\(error)")
        }
        #expect(!third.artifacts.contains { $0.name == "late.json" })
    }
}
