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
            "swift: \(compilerVersion)",
            "platform: \(platform)",
            "working directory: \(FileManager.default.currentDirectoryPath)",
            "progress: \(display.mode.rawValue) mode"
                + (errorOutput.isTerminal ? ", stderr is a terminal" : ", stderr is not a terminal")
                + (errorOutput.size().map { ", \($0.columns) columns" } ?? ""),
            "",
            "environment overrides in effect:",
        ]
        let names = ["TIPI_PROGRESS", "TIPI_PROGRESS_INTERVAL", "NO_COLOR", "TERM", "COLUMNS", "CI"]
        let set = names.filter { environment[$0] != nil }
        if set.isEmpty {
            lines.append("  (none)")
        } else {
            for name in set { lines.append("  \(name)=\(environment[name] ?? "")") }
        }
        lines.append("")
        lines.append("variables tipi reads:")
        lines.append("  TIPI_PROGRESS            progress display: auto | tty | plain | off")
        lines.append("  TIPI_PROGRESS_INTERVAL   seconds between status lines when not on a terminal (default 10)")
        lines.append("  NO_COLOR                 any value turns colours off")
        return lines
    }

    static var compilerVersion: String {
        #if compiler(>=6.4)
            return "6.4 or newer"
        #elseif compiler(>=6.3)
            return "6.3"
        #elseif compiler(>=6.2)
            return "6.2"
        #else
            return "older than 6.2"
        #endif
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
