import Synchronization

/// The one owner of Tipi's warnings: every part of Tipi (tracking, devices, the environment readers)
/// reports through here, and nothing reports by calling into another part.
///
/// By default a warning goes to standard error as one line, `tipi: warning: …`. The progress display
/// installs itself as the sink when it starts, so warnings appear above live bars instead of tearing
/// them; tests install a recording sink. Dependencies point one way: reporters → `Diagnostics` ← sink.
package enum Diagnostics {
    /// Where warnings go: a function that writes one line (without the trailing newline).
    package typealias Sink = @Sendable (String) -> Void

    private static let state = Mutex<State>(State())

    private struct State {
        var sink: Sink?
        var said: Set<String> = []
    }

    /// Replaces the sink (`nil` restores standard error); returns the previous one.
    @discardableResult
    package static func setSink(_ sink: Sink?) -> Sink? {
        state.withLock { state in
            defer { state.sink = sink }
            return state.sink
        }
    }

    /// Reports `message` as `tipi: warning: message`.
    package static func warn(_ message: String) {
        emit("tipi: warning: " + TerminalText.printable(message))
    }

    /// Reports `message` only the first time `key` is seen in this process (one warning per variable,
    /// per bad key, …).
    package static func warnOnce(key: String, _ message: String) {
        let isNew = state.withLock { $0.said.insert(key).inserted }
        if isNew { warn(message) }
    }

    /// Writes a line that is already formatted (an error a command prints before exiting, say).
    package static func emit(_ line: String) {
        let sink = state.withLock { $0.sink }
        if let sink {
            sink(line)
        } else {
            writeAll(line + "\n", to: 2)
        }
    }
}
