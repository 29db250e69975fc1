import ArgumentParser
import Tipi

/// A mistyped command name (`tipi runz`, `tipi runs shwo RUN`), caught before ArgumentParser reads it as
/// an unexpected argument: one line naming the command and the nearest one (exit 64, like a bad option).
public enum UnknownCommand {
    /// The exit status of a usage error (ArgumentParser's, EX_USAGE).
    public static let exitStatus: Int32 = 64

    /// The error message for `arguments` (without the program name) when a word where a command is expected names
    /// none; `nil` when the command words are all known.
    ///
    /// Only the words right after a command that has subcommands are checked, up to the first option: after
    /// an option the next word may be its value.
    public static func error(in arguments: [String], root: any ParsableCommand.Type = TipiCommand.self) -> String? {
        var command = root
        var path = [root.configuration.commandName ?? "tipi"]
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !word.hasPrefix("-") else { return nil }
            let names = subcommands.compactMap { $0.configuration.commandName }
            if let next = subcommands.first(where: { $0.configuration.commandName == word || $0.configuration.aliases.contains(word) }) {
                command = next
                path.append(word)
                continue
            }
            // ArgumentParser's own `help` command, at the top only.
            if command == root, word == "help" { return nil }
            let suggestion = Suggestion.nearest(to: word, in: names)
            let prefix = path.joined(separator: " ")
            return TerminalText.printable(
                "unknown command '\(prefix) \(TerminalText.excerpt(word, limit: 60))'"
                    + (suggestion.map { "; did you mean '\(prefix) \($0)'?" } ?? "")
                    + " (`\(prefix) --help` lists the commands: \(names.joined(separator: ", ")))")
        }
        return nil
    }
}
