/// Where a config value came from: a file position, or a `--set` override (or a sweep's value for its point).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// The `--set` argument, when the value came from the command line.
    public var override: String?
    /// What gave the override: `--set` (the command line) or `sweep` (the value of a sweep's point).
    public var overrideOrigin: String

    public init(file: String, line: Int, column: Int, override: String? = nil, overrideOrigin: String = "--set") {
        self.file = file
        self.line = line
        self.column = column
        self.override = override
        self.overrideOrigin = overrideOrigin
    }

    public var description: String {
        if let override { return "\(overrideOrigin) \(override)" }
        return "\(file):\(line):\(column)"
    }
}
