import Foundation
import Tipi

/// Whether a package's executable is a pipeline program, found without building or running it: `tipi
/// inspect` of a program that is not one would run its user code (a plain training script trains).
///
/// A pipeline program's package depends on `TipiPipeline`, and its executable target's sources declare a
/// `PipelineMain` (`@main struct Spirals: PipelineMain`).
enum PipelineCheck {
    /// Why the executable `product` of the package at `source` is not a pipeline program, or `nil` when it is one
    /// (or when its sources cannot be found: then the build says what is wrong).
    static func problem(source: URL, product: String) -> String? {
        let manifestURL = source.appendingPathComponent("Package.swift")
        let manifest = (try? String(contentsOf: manifestURL, encoding: .utf8)) ?? ""
        let place = TerminalText.printable(source.path)
        let advice = "tipi runs pipeline programs (an executable with `@main struct …: PipelineMain`, see docs/pipeline.md); `\(ToolCommand.tipi("create NAME"))` makes one"
        guard manifest.contains("TipiPipeline") else {
            return "\(place)/Package.swift does not depend on TipiPipeline, so its executable '\(TerminalText.printable(product))' is not a pipeline program and is not run; \(advice)"
        }
        let folder = source.appendingPathComponent(targetPath(of: product, in: manifest) ?? "Sources/\(product)")
        guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return nil }
        var sawSource = false
        for case let file as URL in files where file.pathExtension == "swift" {
            sawSource = true
            if let text = try? String(contentsOf: file, encoding: .utf8), text.contains("PipelineMain") { return nil }
        }
        guard sawSource else { return nil }
        return "the executable '\(TerminalText.printable(product))' (\(TerminalText.printable(folder.path))) declares no PipelineMain, so it is not a pipeline program and is not run; \(advice)"
    }

    /// The `path:` of the target named `name` in a manifest, when it has one.
    static func targetPath(of name: String, in manifest: String) -> String? {
        let declarations = manifest.ranges(of: ".executableTarget(").filter { range in
            manifest[range.upperBound...].drop { $0.isWhitespace }.hasPrefix("name: \"\(name)\"")
        }
        guard let start = declarations.first else { return nil }
        let rest = manifest[start.upperBound...]
        let ends = [".target(", ".executableTarget(", ".testTarget(", ".macro(", ".plugin("].compactMap { rest.range(of: $0)?.lowerBound }
        let declaration = rest[..<(ends.min() ?? rest.endIndex)]
        return declaration.firstMatch(of: #/path:\s*"([^"]+)"/#).map { String($0.output.1) }
    }
}
