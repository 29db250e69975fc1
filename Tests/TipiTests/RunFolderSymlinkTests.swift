import Foundation
import Testing

@testable import Tipi

/// A run folder's own files are written only as files: a symlink planted under their names (by another user of
/// a shared store, or by mistake) is never written through.
@Suite("Run folder symlinks")
struct RunFolderSymlinkTests {
    /// A file outside the store, with content that must survive.
    func victim() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("victim-\(UUID().uuidString)")
        try Data("precious".utf8).write(to: url)
        return url
    }

    @Test("The last-resort in-place run.json is not written through a symlink")
    func inPlaceMetadata() throws {
        let run = try startRun(temporaryStore())
        let json = run.folder.appendingPathComponent(RunStore.metadataFile)
        let metadata = try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: json))
        let target = try victim()
        defer { try? FileManager.default.removeItem(at: target) }
        try FileManager.default.removeItem(at: json)
        try FileManager.default.createSymbolicLink(at: json, withDestinationURL: target)
        #expect {
            try RunStore.overwriteMetadata(metadata, in: run.folder)
        } throws: { error in
            "\(error)".contains("not a regular file")
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == "precious")
        run.finish()
        // The usual write renames a new file over the link: the run's record is a file again.
        #expect(try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: json)).status == .finished)
        #expect(try String(contentsOf: target, encoding: .utf8) == "precious")
    }

    @Test("The space reserve is not written through a symlink")
    func reserve() throws {
        let run = try startRun(temporaryStore())
        let reserve = run.folder.appendingPathComponent(RunStore.reserveFile)
        let target = try victim()
        defer { try? FileManager.default.removeItem(at: target) }
        RunStore.releaseReserve(in: run.folder)
        try FileManager.default.createSymbolicLink(at: reserve, withDestinationURL: target)
        RunStore.makeReserve(in: run.folder)
        #expect(try String(contentsOf: target, encoding: .utf8) == "precious")
        run.finish()
        #expect(try String(contentsOf: target, encoding: .utf8) == "precious")
    }
}
