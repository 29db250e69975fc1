import Foundation
import Testing
import TipiTestSupport

/// `inspect` lists each permanence's params, and its config template is a config that validates.
@Suite("inspect's config template")
struct InspectTemplateTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("template-\(UUID().uuidString)")

    func fixture() throws -> String {
        try #require(Executables.path(of: "TipiPipelineFixture"), "TipiPipelineFixture was not built: run `swift build`")
    }

    @Test("the fixture's template (required permanence params filled with typed placeholders) passes validate")
    func templateValidates() throws {
        let json = try Executables.run(try fixture(), ["inspect", "--json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let template = try #require(object["template"] as? String)
        #expect(template.contains("# required, replace the placeholders: size (Int)\nparams = { size = 1 }"), "\(template)")
        #expect(template.contains("# required, replace the placeholders: path (String)\n# optional: failCleanup (Bool), cleanupSeconds (Double)\nparams = { path = \"\" }"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("template.toml").path
        try template.write(toFile: path, atomically: true, encoding: .utf8)
        let validated = try Executables.run(try fixture(), ["validate", path])
        #expect(validated.status == 0, "\(validated.standardError)")
        #expect(validated.standardOutput.contains("is valid: 3 permanences"))

        let permanences = try #require(object["permanences"] as? [[String: Any]])
        let dataset = try #require(permanences.first { $0["name"] as? String == "Dataset" })
        let parameters = try #require(dataset["parameters"] as? [[String: Any]])
        #expect(parameters.map { $0["name"] as? String } == ["size"])
        #expect(parameters.first?["required"] as? Bool == true)
    }

    @Test("the text lists permanence params with type, required or optional, and range")
    func permanenceParams() throws {
        let result = try Executables.run(try fixture(), ["inspect"])
        #expect(result.standardOutput.contains("  Dataset — Two interleaved spirals of `size` points.\n      size: Int (required), ≥ 1\n"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("  Journal\n      path: String (required)\n      failCleanup: Bool (optional)\n      cleanupSeconds: Double (optional)\n"))
    }
}
