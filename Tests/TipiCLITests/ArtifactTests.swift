import Foundation
import Testing
import TipiTestSupport

/// Artifacts saved by real processes: the files, the manifest, `tipi runs show`, hostile names, links,
/// and the checkpoint pattern across a `kill -9`.
@Suite("Artifacts in real processes")
struct ArtifactTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-\(UUID().uuidString)")
    var store: String { root.appendingPathComponent("store").path }
    var source: URL { root.appendingPathComponent("source") }
    var environment: [String: String] { ["TIPI_DIR": store] }
    let clean = ["TIPI_PROGRESS", "NO_COLOR", "TIPI_BACKENDS", "MLFLOW_TRACKING_URI", "TIPI_DIR", "TIPI_OUTPUT_LOG_MB"]

    func tool(_ name: String) throws -> String {
        try #require(Executables.path(of: name), "\(name) was not built: run `swift build` first")
    }

    /// The SHA-256 of a file by `sha256sum` (coreutils), not by Tipi's own code.
    func sha256sum(_ path: String) throws -> String {
        let result = try Executables.run("/usr/bin/env", ["sha256sum", path], removing: [])
        try #require(result.status == 0, "sha256sum: \(result.standardError)")
        return String(result.standardOutput.prefix(64))
    }

    func makeSource() throws {
        let tree = source.appendingPathComponent("tree/nested")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: 200_000)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 7919 >> 3) }
        try Data(bytes).write(to: source.appendingPathComponent("model.bin"))
        try Data("a".utf8).write(to: source.appendingPathComponent("tree/a.txt"))
        try Data("nested b\n".utf8).write(to: tree.appendingPathComponent("b.txt"))
    }

    func runLine(_ output: String) throws -> (id: String, folder: String) {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("run ") }, "\(output)")
        let parts = line.split(separator: " ")
        return (String(parts[1]), String(parts[2]))
    }

    func showJSON(_ id: String) throws -> [String: Any] {
        let result = try Executables.run(try tool("tipi"), ["runs", "show", id, "--json"], environment: environment, removing: clean)
        try #require(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    @Test("files, a folder and the folder written directly are in artifacts/, with sizes and SHA-256 that sha256sum confirms")
    func savedAndListed() throws {
        try makeSource()
        let result = try Executables.run(
            try tool("TipiFixture"), ["artifacts", "--source", source.path], environment: environment, removing: clean)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty, "\(result.standardError)")
        #expect(result.standardOutput.contains("saved tree (2 files)"))
        let (id, folder) = try runLine(result.standardOutput)
        let artifacts = URL(fileURLWithPath: folder).appendingPathComponent("artifacts")
        let run = try showJSON(id)
        let listed = try #require(run["artifacts"] as? [[String: Any]])
        let names = listed.compactMap { $0["name"] as? String }
        #expect(names == ["direct/notes.txt", "model.bin", "tree/a.txt", "tree/nested/b.txt"])
        for entry in listed {
            let name = try #require(entry["name"] as? String)
            let path = artifacts.appendingPathComponent(name).path
            #expect(entry["sha256"] as? String == (try sha256sum(path)), "\(name)")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)
            #expect((entry["size"] as? NSNumber)?.int64Value == size.int64Value, "\(name)")
        }
        let model = try #require(listed.first { $0["name"] as? String == "model.bin" })
        #expect(model["version"] as? Int == 1, "saved twice: version 1")
        #expect(model["step"] as? Int == 2)
        #expect(try sha256sum(artifacts.appendingPathComponent("model.bin").path) == (try sha256sum(source.appendingPathComponent("model.bin").path)))
        // No temporary file is left behind.
        let all = FileManager.default.enumerator(atPath: artifacts.path)?.allObjects as? [String] ?? []
        #expect(!all.contains { $0.contains(".tipi-tmp-") }, "\(all)")

        let text = try Executables.run(try tool("tipi"), ["runs", "show", id], environment: environment, removing: clean)
        #expect(text.standardOutput.contains("artifacts:  4 files"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("  tree/nested/b.txt  9 B  sha256:"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("model.bin  200.0 KB"), "\(text.standardOutput)")
    }

    @Test("a hard link or a move puts the same file in the run without copying it")
    func linkAndMove() throws {
        try makeSource()
        let linked = try Executables.run(
            try tool("TipiFixture"), ["artifacts", "--source", source.path, "--transfer", "link"], environment: environment, removing: clean)
        #expect(linked.status == 0, "\(linked.standardError)")
        let (_, folder) = try runLine(linked.standardOutput)
        var original = stat()
        var saved = stat()
        stat(source.appendingPathComponent("model.bin").path, &original)
        stat(URL(fileURLWithPath: folder).appendingPathComponent("artifacts/model.bin").path, &saved)
        #expect(original.st_ino == saved.st_ino, "hard-linked: the same inode")

        let moved = try Executables.run(
            try tool("TipiFixture"), ["artifacts", "--source", source.path, "--transfer", "move"], environment: environment, removing: clean)
        #expect(moved.status == 0, "\(moved.standardError)")
        let (id, movedFolder) = try runLine(moved.standardOutput)
        #expect(!FileManager.default.fileExists(atPath: source.appendingPathComponent("model.bin").path), "moved away")
        var movedInfo = stat()
        stat(URL(fileURLWithPath: movedFolder).appendingPathComponent("artifacts/model.bin").path, &movedInfo)
        #expect(movedInfo.st_ino == original.st_ino, "renamed, not copied")
        let entry = try #require((try showJSON(id)["artifacts"] as? [[String: Any]])?.first { $0["name"] as? String == "model.bin" })
        #expect((entry["size"] as? NSNumber)?.intValue == 200_000)
    }

    @Test("hostile names and links that leave the folder are refused with one clear line each; nothing lands outside the run")
    func hostileNames() throws {
        try makeSource()
        let outside = root.appendingPathComponent("secret.txt")
        try Data("secret".utf8).write(to: outside)
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("tree/escape").path, withDestinationPath: outside.path)
        let names = ["../evil", "/etc/evil", "a/../../evil", "a\\0b", "a//b", "", ".", "dir/", "back\\slash", ".tipi-tmp-x",
            String(repeating: "n", count: 300)]
        let result = try Executables.run(
            try tool("TipiFixture"), ["artifacts", "--source", source.path, "--names", names.joined(separator: ",")],
            environment: environment, removing: clean)
        #expect(result.status == 0, "\(result.standardError)")
        let output = result.standardOutput
        #expect(output.contains("refused tree: cannot save \(source.path)/tree as an artifact: \(source.path)/tree/escape is a symbolic link that points outside the folder"), "\(output)")
        #expect(output.contains("refused ../evil: artifact name \"../evil\" contains `..`"), "\(output)")
        #expect(output.contains("refused /etc/evil: artifact name \"/etc/evil\" is an absolute path"), "\(output)")
        #expect(output.contains("refused a/../../evil: artifact name \"a/../../evil\" contains `..`"), "\(output)")
        #expect(output.contains("refused a\\0b: artifact name \"a\\u0000b\" contains a control character"), "\(output)")
        #expect(output.contains("refused a//b: artifact name \"a//b\" has an empty part"), "\(output)")
        #expect(output.contains("refused : artifact name \"\" is empty"), "\(output)")
        #expect(output.contains("refused .: artifact name \".\" contains a `.` part"), "\(output)")
        #expect(output.contains("refused dir/: artifact name \"dir/\" has an empty part"), "\(output)")
        #expect(output.contains("refused back\\slash: artifact name \"back\\\\slash\" contains a backslash"), "\(output)")
        #expect(output.contains("starts with .tipi-tmp-"), "\(output)")
        #expect(output.contains("has a part of 300 bytes (at most 255)"), "\(output)")
        #expect(!output.contains("saved ../") && !output.contains("saved /"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("evil").path))
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: store).appendingPathComponent("evil").path))
        let (id, _) = try runLine(output)
        let names2 = (try showJSON(id)["artifacts"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names2 == ["direct/notes.txt", "model.bin"])
    }

    @Test("checkpoint pattern: save every 3 epochs, kill -9, a new run continues from the latest checkpoint and ends where an uninterrupted run ends")
    func checkpointAcrossKill() throws {
        let first = try Executables.start(
            try tool("TipiFixture"), ["checkpoint", "--epochs", "1000", "--every", "3", "--sleep", "0.05"],
            environment: environment, removing: clean)
        let deadline = Date().addingTimeInterval(60)
        while !first.standardOutputSoFar.contains("epoch 10 "), Date() < deadline { usleep(20_000) }
        first.signal(SIGKILL)
        let killed = first.wait()
        #expect(killed.signal == SIGKILL)
        let (id, folder) = try runLine(killed.standardOutput)
        #expect(killed.standardOutput.contains("fresh start"))
        // The last checkpoint on disk is whole and recorded (kill -9 loses no saved artifact).
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("artifacts.json")))
                as? [String: Any])
        let entry = try #require((manifest["artifacts"] as? [[String: Any]])?.first)
        let savedEpoch = try #require(entry["step"] as? Int)
        #expect(savedEpoch >= 8 && savedEpoch % 3 == 2, "saved at epochs 2, 5, 8, …: \(savedEpoch)")
        let file = URL(fileURLWithPath: folder).appendingPathComponent("artifacts/checkpoint.json")
        #expect(entry["sha256"] as? String == (try sha256sum(file.path)))

        let second = try Executables.run(
            try tool("TipiFixture"), ["checkpoint", "--epochs", "30", "--every", "3", "--continue", id],
            environment: environment, removing: clean)
        #expect(second.status == 0, "\(second.standardError)")
        #expect(second.standardOutput.contains("resumed at epoch \(savedEpoch) from \(id) (step \(savedEpoch))"), "\(second.standardOutput)")
        #expect(second.standardOutput.contains("epoch \(savedEpoch + 1) "))
        #expect(!second.standardOutput.contains("epoch \(savedEpoch) weight"))
        // The same result as an uninterrupted run: 30 epochs of +0.5.
        #expect(second.standardOutput.contains("done weight 15.0"), "\(second.standardOutput)")
        let uninterrupted = try Executables.run(
            try tool("TipiFixture"), ["checkpoint", "--epochs", "30", "--every", "3"], environment: environment, removing: clean)
        #expect(uninterrupted.standardOutput.contains("fresh start"))
        #expect(uninterrupted.standardOutput.contains("done weight 15.0"))
    }
}
