#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads process environment variables (one place, so the list of overrides stays documented).
enum Environment {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }

    /// The environment variables Tipi reads, with a one-line description each (shown by `tipi info`).
    static let documented: [(name: String, meaning: String)] = [
        ("TIPI_PROGRESS", "progress display: auto | tty | plain | off"),
        ("TIPI_PROGRESS_INTERVAL", "seconds between status lines when not on a terminal (default 10)"),
        ("NO_COLOR", "any value turns colours off"),
        ("TERM", "'dumb' means no cursor movement: plain progress lines"),
        ("COLUMNS", "terminal width when it cannot be read from the terminal"),
    ]
}
