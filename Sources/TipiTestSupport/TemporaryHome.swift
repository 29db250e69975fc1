import Foundation

/// A new user's HOME for tests of the `tipi` tool: a fresh folder, with tipi's config and cache where a
/// new user's would be (`HOME/.config/tipi`, `HOME/.cache/tipi`) and none of the caller's tipi settings.
public struct TemporaryHome: Sendable {
    /// The folder (not created until something is written into it).
    public let url: URL

    /// A new, unique HOME under the temporary directory; `label` names it for debugging.
    public init(label: String = "home") {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    }

    /// The variables that make a child process use this HOME.
    public var environment: [String: String] {
        [
            "HOME": url.path, "XDG_CONFIG_HOME": url.appendingPathComponent(".config").path,
            "XDG_CACHE_HOME": url.appendingPathComponent(".cache").path,
        ]
    }

    /// The caller's tipi settings that must not leak into the child.
    public static let inheritedSettings = [
        "TIPI_DIR", "TIPI_CONFIG_DIR", "TIPI_CACHE_DIR", "TIPI_PROJECTS_DIR", "TIPI_PACKAGE", "TIPI_BACKENDS",
        "TIPI_BUILD_CONFIGURATION", "TIPI_PROGRESS", "NO_COLOR",
    ]

    /// Runs the built `tipi` in this HOME (working directory: `directory`, else HOME). `environment`
    /// adds to (or overrides) the HOME variables.
    public func tipi(
        _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil, timeout: Double = 120
    ) throws -> Executables.Result {
        guard let path = Executables.path(of: "tipi") else { throw MissingTool() }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return try Executables.run(
            path, arguments, environment: self.environment.merging(environment) { _, new in new },
            removing: Self.inheritedSettings, workingDirectory: (directory ?? url).path, timeout: timeout)
    }

    struct MissingTool: Error, CustomStringConvertible {
        var description: String { "tipi was not built: run `swift build` first" }
    }
}
