#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a ``ProgressDisplay`` draws: a terminal, a log file, a pipe, or a fake terminal in tests.
public protocol TerminalOutput: Sendable {
    /// Writes text exactly as given (escape sequences included).
    func write(_ text: String)
    /// Whether the output is an interactive terminal that understands cursor movement.
    var isTerminal: Bool { get }
    /// The current size in columns and rows, or `nil` when unknown. Read on every refresh.
    func size() -> (columns: Int, rows: Int)?
}

/// A terminal output backed by a file descriptor (standard error by default).
public struct FileDescriptorOutput: TerminalOutput {
    /// The file descriptor written to.
    public let descriptor: Int32

    /// Standard error, where progress bars are drawn (like tqdm and rich).
    public static let standardError = FileDescriptorOutput(descriptor: 2)
    /// Standard output, where ``ProgressDisplay/write(_:to:)`` puts text by default.
    public static let standardOutput = FileDescriptorOutput(descriptor: 1)

    /// `COLUMNS`/`LINES`, for when the terminal cannot be asked. Read (and validated, with its one warning)
    /// here, once: `size()` runs under the display's lock, where a warning — which the display itself
    /// prints — must never be raised.
    let environmentSize: (columns: Int, rows: Int)?

    public init(descriptor: Int32) {
        self.descriptor = descriptor
        environmentSize =
            Environment.value("COLUMNS") == nil
            ? nil
            : (
                Environment.integer("COLUMNS", default: 80, in: 1...10_000),
                Environment.integer("LINES", default: 24, in: 1...10_000)
            )
    }

    public func write(_ text: String) {
        writeAll(text, to: ConsoleRedirection.original(of: descriptor))
    }

    public var isTerminal: Bool {
        isatty(ConsoleRedirection.original(of: descriptor)) == 1
    }

    public func size() -> (columns: Int, rows: Int)? {
        var window = winsize()
        if ioctl(ConsoleRedirection.original(of: descriptor), UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0 {
            return (Int(window.ws_col), Int(window.ws_row))
        }
        return environmentSize
    }
}
