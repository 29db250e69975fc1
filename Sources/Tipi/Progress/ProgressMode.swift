/// How a ``ProgressDisplay`` shows its bars.
public enum ProgressMode: String, Sendable, CaseIterable {
    /// Live bars redrawn in place (an interactive terminal).
    case tty
    /// No cursor movement and no `\r`: a start line, a status line now and then, and a final line.
    /// The mode for log files, Slurm output, CI and pipes.
    case plain
    /// Nothing is shown; bars still count, at next to no cost.
    case off

    /// The mode chosen for an output: `TIPI_PROGRESS` wins (`tty`, `plain`, `off`, `auto`), then the
    /// output itself (a terminal that is not `TERM=dumb` gives ``tty``, anything else ``plain``).
    ///
    /// - Parameters:
    ///   - output: The output the bars will be drawn on.
    ///   - environment: Looks up an environment variable (the process environment by default).
    ///   - warn: Receives one line when `TIPI_PROGRESS` holds a value that is not understood.
    public static func resolve(
        for output: any TerminalOutput,
        environment: ((String) -> String?)? = nil,
        warn: (String) -> Void = { _ in }
    ) -> ProgressMode {
        let environment = environment ?? Environment.value
        if let requested = environment("TIPI_PROGRESS")?.lowercased(), !requested.isEmpty {
            if let mode = ProgressMode(rawValue: requested) { return mode }
            if requested != "auto" {
                warn(
                    "tipi: TIPI_PROGRESS=\(requested) is not one of tty, plain, off, auto; "
                        + "using auto detection (set TIPI_PROGRESS=plain for log files)")
            }
        }
        guard output.isTerminal else { return .plain }
        if environment("TERM") == "dumb" { return .plain }
        return .tty
    }
}
