import Foundation
import Tipi

/// The one check of a project name, made before anything touches the disk: a name becomes one entry of
/// the projects folder (a symbolic link) and, for `tipi add URL`, one folder of the clone cache, so it must
/// be a single, plain path component.
enum ProjectName {
    /// The longest name accepted, in bytes (well under every file system's limit for one component).
    static let maximumLength = 100

    /// `name` when it can name a project; otherwise a ``CLIError`` that says why and what to use instead.
    @discardableResult
    static func validated(_ name: String) throws -> String {
        if let problem = problem(with: name) {
            throw CLIError("'\(TerminalText.excerpt(name, limit: 60))' cannot name a project: \(problem)")
        }
        return name
    }

    /// Why `name` cannot name a project, or `nil` when it can.
    static func problem(with name: String) -> String? {
        let hint = "use letters, digits, '-', '_' and '.', e.g. '\(suggestion(for: name))'"
        if name.isEmpty { return "the name is empty; \(hint)" }
        if name == "." || name == ".." { return "'.' and '..' are folders, not names; \(hint)" }
        if name.contains("/") || name.contains("\\") { return "it contains a path separator; \(hint)" }
        if TerminalText.printable(name) != name || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "it contains control characters; \(hint)"
        }
        if name.hasPrefix("-") { return "it starts with '-' (it would read as an option); \(hint)" }
        if name.hasPrefix(".") { return "it starts with '.' (a hidden file); \(hint)" }
        if name != name.trimmingCharacters(in: .whitespaces) { return "it starts or ends with a space; \(hint)" }
        if name.utf8.count > maximumLength { return "it is longer than \(maximumLength) bytes; \(hint)" }
        return nil
    }

    /// A usable name made of the letters and digits of `name` (`spirals` for `../spirals`).
    static func suggestion(for name: String) -> String {
        let kept = String(name.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }.map(Character.init))
        let trimmed = kept.drop { $0 == "-" }.prefix(40)
        return trimmed.isEmpty ? "my-project" : String(trimmed)
    }
}
