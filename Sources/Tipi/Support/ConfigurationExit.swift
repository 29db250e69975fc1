import Foundation

/// Ends the program after a mistake in how it was set up (an environment variable such as `TIPI_BACKENDS`,
/// `TIPI_DIR` or `TIPI_DEVICE`): one line on standard error, exit status 2, and no backtrace.
///
/// The runs still open are marked `failed`, not `finished`: tracking subscribes to ``Announcement`` (through
/// ``Lifecycle/publish(_:)``), so the parts that end the program this way need not know about runs.
package enum ConfigurationExit {
    /// Announced just before the program ends with a configuration error.
    package struct Announcement: Sendable {}

    /// Prints `error: message` and ends the program with status 2.
    package static func exit(_ message: String) -> Never {
        Diagnostics.emit("error: " + TerminalText.printable(message))
        Lifecycle.publish(Announcement())
        Foundation.exit(2)
    }
}
