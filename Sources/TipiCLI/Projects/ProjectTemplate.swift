import Foundation
import Tipi

/// The files `tipi create NAME` writes: a SwiftPM package with a pipeline executable, two processes,
/// a permanence, a config, a README and a .gitignore.
struct ProjectTemplate {
    let name: String
    /// How the package depends on Tipi: a local path or a git URL.
    let tipi: String

    /// Swift keywords and names that would clash with the package's imports.
    static let reserved: Set<String> = [
        "Tipi", "TipiPipeline", "Swift", "Foundation", "class", "struct", "enum", "func", "import", "let", "var", "return",
        "if", "else", "for", "while", "protocol", "extension", "init", "self", "Self", "true", "false", "nil", "switch",
        "case", "default", "do", "try", "throw", "throws", "async", "await", "static", "public", "private", "internal",
    ]

    /// Why `name` cannot name a project, or `nil` when it can.
    static func problem(with name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "the name is empty" }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_"))
        if !(CharacterSet.letters.contains(first) || first == "_") || !name.unicodeScalars.allSatisfy({ allowed.contains($0) && $0.isASCII }) {
            let suggestion = name.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            return "'\(name)' is not a Swift identifier (letters, digits and _, not starting with a digit)"
                + (suggestion.isEmpty || suggestion.first?.isNumber == true ? "" : "; try '\(suggestion)'")
        }
        if reserved.contains(name) { return "'\(name)' is a Swift keyword or a name Tipi uses; pick another" }
        return nil
    }

    /// The pipeline type's name: the project's name in UpperCamelCase plus `Pipeline` (`myexp` →
    /// `MyexpPipeline`, `my_exp` → `MyExpPipeline`).
    var typeName: String {
        let words = name.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        let camel = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return (camel.isEmpty || camel.first?.isNumber == true ? "Project" + camel : camel) + "Pipeline"
    }

    var packageIdentity: String {
        (GitURL.repositoryName(tipi) ?? "tipi").lowercased()
    }

    var dependency: String {
        GitURL.isURL(tipi)
            ? ".package(url: \"\(tipi)\", from: \"\(Tipi.version)\")"
            : ".package(path: \"\(tipi)\")"
    }

    var files: [(path: String, contents: String)] {
        [
            ("Package.swift", packageManifest),
            ("Sources/\(name)/\(typeName).swift", mainFile),
            ("Sources/\(name)/Training.swift", processesFile),
            ("Sources/\(name)/Points.swift", permanenceFile),
            ("configs/pipeline.toml", config),
            ("README.md", readme),
            (".gitignore", gitignore),
        ]
    }

    /// An application commits its `Package.resolved` (the exact versions it was built with); build
    /// products and runs stay out.
    var gitignore: String {
        ".build/\n.build-*/\n.swiftpm/\ntipi-runs/\n"
    }

    var packageManifest: String {
        """
        // swift-tools-version: 6.2
        import PackageDescription

        let package = Package(
            name: "\(name)",
            platforms: [.macOS(.v15)],
            dependencies: [
                \(dependency),
            ],
            targets: [
                .executableTarget(
                    name: "\(name)",
                    dependencies: [.product(name: "TipiPipeline", package: "\(packageIdentity)")]
                ),
            ]
        )

        """
    }

    var mainFile: String {
        """
        import TipiPipeline

        /// The \(name) pipeline: `swift run \(name) run configs/pipeline.toml`, or `tipi run \(name)`.
        @main
        struct \(typeName): PipelineMain {
            static let processes = #processes(train, evaluate)
            static let permanences: [any Permanence.Type] = [Points.self]
            static var pipelineName: String { "\(name)" }
        }

        """
    }

    var processesFile: String {
        """
        import TipiPipeline

        /// Fits a line y = w·x + b to the points by gradient descent.
        ///
        /// - Parameters:
        ///   - epochs: Passes over the data.
        ///   - learningRate: The step size.
        @PipelineProcess
        func train(epochs: Int = 20, learningRate: Double = 0.05, data: Points) async throws {
            let device = deviceManager.getDevice()
            print("training on \\(device)")
            for epoch in progressBar(0..<epochs, desc: "Epochs") {
                var loss = 0.0
                for point in progressBar(data.points, desc: "Points") {
                    let error = data.weight * point.x + data.bias - point.y
                    data.weight -= learningRate * error * point.x
                    data.bias -= learningRate * error
                    loss += error * error
                }
                logger.log(["loss": loss / Double(data.points.count), "epoch": Double(epoch)])
            }
        }

        /// Reports the mean squared error of the fitted line.
        @PipelineProcess
        func evaluate(data: Points) {
            let error = data.points.map { point in
                let residual = data.weight * point.x + data.bias - point.y
                return residual * residual
            }.reduce(0, +) / Double(data.points.count)
            logger.log(["eval/mse": error])
            print("w = \\(data.weight), b = \\(data.bias), mse = \\(error)")
        }

        """
    }

    var permanenceFile: String {
        """
        import TipiPipeline

        /// Noisy points on the line y = 3x + 1, and the model fitted to them. The same `seed` gives the same
        /// points, so a run can be repeated.
        final class Points: Permanence, @unchecked Sendable {
            static var summary: String? { "Noisy points on y = 3x + 1, and the fitted line." }
            let count: Int
            var noise: Double?
            var seed: Int?
            private(set) var points: [(x: Double, y: Double)] = []
            var weight = 0.0
            var bias = 0.0

            enum CodingKeys: String, CodingKey {
                case count, noise, seed
            }

            func initialize() async throws {
                var generator = SeededRandomNumberGenerator(seed: UInt64(truncatingIfNeeded: seed ?? 0))
                points = (0..<count).map { index in
                    let x = Double(index) / Double(max(count - 1, 1))
                    let jitter = Double.random(in: -1...1, using: &generator) * (noise ?? 0.1)
                    return (x, 3 * x + 1 + jitter)
                }
            }

            func cleanup() async throws {
                points = []
            }
        }

        """
    }

    var config: String {
        """
        # The \(name) pipeline. Run it with `tipi run \(name)` (or `swift run \(name) run configs/pipeline.toml`).

        [pipeline]
        enable_progress = true
        # logger = "tensorboard"        # basic | tensorboard | wandb | mlflow: also write the metrics there

        [permanences.data]
        type = "Points"
        params = { count = 200, noise = 0.1, seed = 0 }   # the same seed, the same points

        [processes.training]
        type = "train"
        params = { epochs = 20, learningRate = 0.5 }

        [processes.evaluation]
        type = "evaluate"

        """
    }

    var readme: String {
        """
        # \(name)

        A Tipi pipeline.

        ```sh
        tipi run \(name)                          # build (release) and run configs/pipeline.toml
        tipi run \(name) --set processes.training.params.epochs=5
        tipi validate \(name)                     # check the config without running anything
        tipi inspect \(name)                      # processes, params, a config template
        tipi runs                                 # the recorded runs
        ```

        The processes are plain functions in `Sources/\(name)/Training.swift`, marked `@PipelineProcess`;
        `Points` in `Sources/\(name)/Points.swift` is a permanence shared by both.

        """
    }
}
