import Foundation
import Testing

@testable import Tipi

@Suite("A run folder's files written whole")
struct RunFileTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("runfile-\(UUID().uuidString)").path

    @Test("a new file, a file replaced, megabytes, an empty one: the bytes exactly, no temporary file left")
    func replaces() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/config-sources.json"
        try RunFile.replace(path, with: Array("{\"a\":\"b\"}".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"a\":\"b\"}")
        let large = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try RunFile.replace(path, with: large)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == large)
        try RunFile.replace(path, with: Data())
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["config-sources.json"])
    }

    @Test("a folder that is not there, or a name taken by a folder: the store's error, naming the file; nothing else changed")
    func refuses() throws {
        #expect {
            try RunFile.replace(folder + "/missing/run.config.toml", with: [UInt8(1)])
        } throws: { error in
            guard case .storeNotWritable(let path, let reason) = error as? TrackingError else { return false }
            return path.hasSuffix("/missing/run.config.toml") && reason.contains("No such file")
        }
        // The rename refused (the name is a folder with files): that folder untouched, no temporary file left.
        try FileManager.default.createDirectory(atPath: folder + "/kept", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try RunFile.replace(folder + "/kept/inside", with: Array("old".utf8))
        #expect(throws: TrackingError.self) { try RunFile.replace(folder + "/kept", with: Array("new".utf8)) }
        #expect(try String(contentsOfFile: folder + "/kept/inside", encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["kept"])
    }
}
