import Tipi

/// One thing wrong with a pipeline's config (or with running it), with everything needed to fix it:
/// a code like Python tipi's, where (file:line:column), which key, what was expected, and a suggestion.
///
/// Rendered once, as a compiler would:
/// ```
/// error[INS001]: configs/pipeline.toml:14:10: processes.training.params.epochs: expected Int, found string "ten"
///   help: write a whole number, e.g. epochs = 10
/// ```
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// `CFG001` file missing, `CFG002` unreadable, `CFG003` invalid TOML, `CFG004` structure, `CFG005` bad
    /// `--set`, `REG001` unknown type, `INS001` a param or permanence that does not fit, `PERMA002` a missing
    /// permanence, `PROC001` a process that failed, `PERMA003` a permanence lifecycle step that failed.
    public var code: String
    public var location: SourceLocation?
    /// The dotted key path, e.g. `processes.training.params.epochs`.
    public var path: String?
    public var message: String
    public var help: String?

    public init(code: String, location: SourceLocation? = nil, path: String? = nil, message: String, help: String? = nil) {
        self.code = code
        self.location = location
        self.path = path
        self.message = message
        self.help = help
    }

    /// The problem as printed; keys, values and file names from the config are escaped
    /// (``TerminalText/printable(_:allowNewlines:)``), so a config cannot send escape sequences to the terminal.
    public var description: String {
        var text = "error[\(code)]: "
        if let location { text += "\(TerminalText.printable(location.description)): " }
        if let path { text += "\(TerminalText.printable(path)): " }
        text += TerminalText.printable(message)
        if let help { text += "\n  help: \(TerminalText.printable(help))" }
        return text
    }
}

/// Several problems, reported together (pre-flight validation never stops at the first one).
public struct ConfigProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
            + "\n\(problems.count) problem\(problems.count == 1 ? "" : "s") found"
    }
}
