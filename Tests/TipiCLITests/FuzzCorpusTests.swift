import Foundation
import Testing
import TipiTestSupport

/// The fuzz targets' corpora, replayed through the plain (non-libFuzzer) builds of the targets: every
/// input that once mattered (seeds, and crashes the fuzzers found and we fixed) must still run clean.
@Suite("Fuzz corpora replay without a crash")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    @Test(arguments: [("FuzzNvidiaSMI", "nvidia-smi"), ("FuzzMetricLog", "metric-log"), ("FuzzConfig", "config")])
    func replay(product: String, folder: String) throws {
        let executable = try #require(Executables.path(of: product), "build the package first (swift build)")
        let directory = Self.corpus.appendingPathComponent(folder).path
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(inputs.count >= 3, "the \(folder) corpus should hold seeds")
        let result = try Executables.run(executable, [directory], timeout: 300)
        #expect(result.signal == nil, "\(product) crashed on an input of Fuzz/Corpus/\(folder): \(result.standardError.suffix(2000))")
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("replayed \(inputs.count) inputs, 0 crashes"))
    }
}
