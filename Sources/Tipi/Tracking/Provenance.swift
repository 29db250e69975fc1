import Foundation

/// What a run records about the program that made it, beyond the command line: the operating system and
/// the versions of the packages it was built with (from the `Package.resolved` of the program's package).
///
/// Gathered once per process, at the first run's start, from files only (no process is started): a few
/// `stat` calls up the folders of the executable and of the working directory, and one small JSON read.
enum Provenance {
    /// `Linux 6.8.0 x86_64 (Ubuntu 24.04.1 LTS)`, `Darwin 24.1.0 arm64`.
    static let operatingSystem: String = {
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        var result = "\(text(name.sysname)) \(text(name.release)) \(text(name.machine))"
        if let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
            let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        {
            let pretty = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            if !pretty.isEmpty { result += " (\(TerminalText.excerpt(pretty, limit: 80)))" }
        }
        return result
    }()

    /// The `Package.resolved` of the program's package and the version of each package it pins, or `nil`
    /// when none is found.
    static let packages: (file: String, versions: [String: String])? = {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        let start = [executable, URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        for folder in start {
            guard let file = findResolved(from: folder) else { continue }
            if let versions = versions(in: file) { return (file.path, versions) }
        }
        return nil
    }()

    /// The nearest `Package.resolved` in `folder` or a folder above it (at most 8 levels: an executable
    /// sits in `.build/<triple>/debug/` of its package).
    static func findResolved(from folder: URL) -> URL? {
        var current = folder.standardizedFileURL
        for _ in 0..<8 {
            let candidate = current.appendingPathComponent("Package.resolved")
            if FileManager.default.fileExists(atPath: candidate.path),
                FileManager.default.fileExists(atPath: current.appendingPathComponent("Package.swift").path)
            {
                return candidate
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        return nil
    }

    /// Each pin of a `Package.resolved` (formats 1, 2 and 3): its version, else `branch@revision`, else the
    /// revision. `nil` when the file is not one (or larger than 1 MiB).
    static func versions(in file: URL) -> [String: String]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
            (attributes[.size] as? NSNumber)?.intValue ?? 0 <= 1 << 20,
            let data = try? Data(contentsOf: file),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        let pins = (object["pins"] ?? (object["object"] as? [String: Any])?["pins"]) as? [[String: Any]]
        guard let pins else { return nil }
        var versions: [String: String] = [:]
        for pin in pins {
            guard let name = (pin["identity"] ?? pin["package"]) as? String else { continue }
            let state = pin["state"] as? [String: Any] ?? [:]
            let revision = (state["revision"] as? String).map { String($0.prefix(12)) }
            if let version = state["version"] as? String {
                versions[name] = version
            } else if let branch = state["branch"] as? String {
                versions[name] = "\(branch)@\(revision ?? "?")"
            } else if let revision {
                versions[name] = revision
            }
        }
        return versions
    }
}
