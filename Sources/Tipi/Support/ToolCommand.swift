import Foundation

/// How to call the `tipi` tool here: the one place that decides the form of every `tipi …` command Tipi
/// prints ("look at it: tipi runs show ID", error suggestions), so that each works as printed.
///
/// In order: `tipi` when a `tipi` is on `PATH`; the absolute path of this program when it is the `tipi` tool;
/// `swift run tipi` in the Tipi package's own folder (where the README's commands run); the absolute path of
/// a built `tipi` next to this program (`.build/debug/tipi` beside a demo); else `tipi` (see
/// `scripts/install.sh`).
package enum ToolCommand {
    /// `arguments` (e.g. `runs show 01J…`) prefixed with the form of `tipi` that works in this process.
    package static func tipi(_ arguments: String) -> String {
        current + " " + arguments
    }

    /// The prefix for this process, decided once.
    package static let current: String = prefix(
        environment: ProcessInfo.processInfo.environment, directory: FileManager.default.currentDirectoryPath,
        executable: ownExecutable)

    /// This program's file, symlinks resolved. On Linux from `/proc/self/exe`: `Bundle.main` would list the
    /// executable's whole folder first (~40 ms in a `.build/release` of a few thousand files).
    static var ownExecutable: URL? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        #endif
        return Bundle.main.executableURL?.resolvingSymlinksInPath()
    }

    /// The prefix for a given `PATH`, working directory and running executable.
    package static func prefix(environment: [String: String], directory: String, executable: URL?) -> String {
        let manager = FileManager.default
        let onPath = (environment["PATH"] ?? "").split(separator: ":").contains { folder in
            manager.isExecutableFile(atPath: String(folder) + "/tipi")
        }
        if onPath { return "tipi" }
        if let executable, executable.lastPathComponent == "tipi" { return quoted(executable.path) }
        let manifest = URL(fileURLWithPath: directory).appendingPathComponent("Package.swift")
        if let text = try? String(contentsOf: manifest, encoding: .utf8), text.contains(#".executable(name: "tipi""#) {
            return "swift run tipi"
        }
        if let sibling = executable?.deletingLastPathComponent().appendingPathComponent("tipi"), manager.isExecutableFile(atPath: sibling.path) {
            return quoted(sibling.path)
        }
        return "tipi"
    }

    /// `path` as a shell word: unchanged when it is plain, else in single quotes.
    package static func quoted(_ path: String) -> String {
        let plain = path.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "/._-+@%:,=".unicodeScalars.contains(scalar))
        }
        return plain && !path.isEmpty ? path : "'" + path.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
