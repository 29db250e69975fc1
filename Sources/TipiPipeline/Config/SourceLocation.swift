/// Where a config value came from: a file position, or a `--set` override.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// The `--set` argument, when the value came from the command line.
    public var override: String?

    public init(file: String, line: Int, column: Int, override: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.override = override
    }

    public var description: String {
        if let override { return "--set \(override)" }
        return "\(file):\(line):\(column)"
    }
}
