import ArgumentParser
import Foundation
import Tipi

/// `tipi info`: versions, paths and the environment overrides in effect.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show versions, paths and the environment overrides in effect."
    )

    func run() {
        for line in Self.report(environment: ProcessInfo.processInfo.environment) {
            print(line)
        }
    }

    /// The lines `tipi info` prints, for a given environment.
    static func report(environment: [String: String]) -> [String] {
        let display = ProgressDisplay.shared
        let errorOutput = FileDescriptorOutput.standardError
        var lines = [
            "tipi \(Tipi.version)",
            "swift: \(Tipi.swiftVersion)",
            "platform: \(platform)",
            "working directory: \(FileManager.default.currentDirectoryPath)",
            "run store: \(RunStore.default.root.path)",
            "projects: \(ProjectPaths(environment: environment).projectsDirectory.path)",
            "clones: \(ProjectPaths(environment: environment).cacheDirectory.appendingPathComponent("projects").path)",
            "tipi here: \(ToolCommand.current) (how the commands tipi prints call it; scripts/install.sh puts it on PATH)",
            "progress: \(display.mode.rawValue) mode"
                + (errorOutput.isTerminal ? ", stderr is a terminal" : ", stderr is not a terminal")
                + (errorOutput.size().map { ", \($0.columns) columns" } ?? ""),
            "",
            "environment overrides in effect:",
        ]
        // TERM is always set; it only changes anything when it is "dumb".
        let set = EnvironmentVariable.all.filter { variable in
            guard let value = environment[variable.name] else { return false }
            return variable.name != "TERM" || value == "dumb"
        }
        if set.isEmpty {
            lines.append("  (none)")
        } else {
            for variable in set { lines.append("  \(variable.name)=\(environment[variable.name] ?? "")") }
        }
        lines.append("")
        lines.append("variables tipi reads:")
        let width = (EnvironmentVariable.all.map(\.name.count).max() ?? 0) + 2
        for variable in EnvironmentVariable.all {
            lines.append("  " + variable.name.padding(toLength: width, withPad: " ", startingAt: 0) + variable.meaning)
        }
        return lines
    }

    static var platform: String {
        #if os(Linux)
            let system = "linux"
        #elseif os(macOS)
            let system = "macos"
        #else
            let system = "other"
        #endif
        #if arch(x86_64)
            return system + " x86_64"
        #elseif arch(arm64)
            return system + " arm64"
        #else
            return system
        #endif
    }
}
