#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a program printed just before it crashed is not lost while its console is captured.
///
/// With ``ConsoleCapture`` on, descriptors 1 and 2 are pipes that a thread copies to where they went before.
/// A program that prints, flushes and then crashes (`abort()`, a failed `precondition`, a segmentation
/// fault) can die before that thread has copied the last bytes. On those fatal signals this handler copies
/// what is left in the pipes to the original destinations (with `read`/`write` only, which a signal handler
/// may call), then puts the previous handler back (the Swift runtime's backtracer, or the default) so the
/// crash goes on as before. `kill -9` cannot be caught: it can still lose what the thread had not copied.
enum ConsoleCrashDrain {
    /// The fatal signals that are drained.
    static let signals: [Int32] = [SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP]

    /// Pairs of (pipe's read end, original descriptor), at most four; read by the handler.
    nonisolated(unsafe) private static var descriptors = UnsafeMutablePointer<Int32>.allocate(capacity: 8)
    /// How many pairs are in ``descriptors`` (0: nothing to drain).
    nonisolated(unsafe) private static var count: Int = 0
    /// The handlers that were there before, one per signal of ``signals``.
    nonisolated(unsafe) private static var previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 6)
    /// The buffer the handler copies through (allocated once, never in the handler).
    nonisolated(unsafe) private static var buffer = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 16)
    nonisolated(unsafe) private static var installed = false

    /// Drains `pairs` on a fatal signal from now on (called with the pipes set up, before output flows).
    static func install(_ pairs: [(read: Int32, original: Int32)]) {
        let used = min(pairs.count, 4)
        for (index, pair) in pairs.prefix(used).enumerated() {
            descriptors[2 * index] = pair.read
            descriptors[2 * index + 1] = pair.original
        }
        count = used
        guard !installed else { return }
        installed = true
        for (index, signal) in signals.enumerated() {
            var action = sigaction()
            #if canImport(Darwin)
                action.__sigaction_u.__sa_sigaction = handler
            #else
                action.__sigaction_handler.sa_sigaction = handler
            #endif
            action.sa_flags = SA_SIGINFO | SA_ONSTACK
            sigemptyset(&action.sa_mask)
            previous[index] = sigaction()
            sigaction(signal, &action, previous + index)
        }
    }

    /// Nothing to drain any more (the console is no longer captured); the handler only passes signals on.
    static func remove() {
        count = 0
    }

    /// Copies what is left in the pipes, puts the previous handler back and lets the signal take its course:
    /// a fault happens again on return (now seen by the previous handler); `abort()` raises SIGABRT again.
    private static let handler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = {
        signal, _, _ in
        for index in 0..<ConsoleCrashDrain.count {
            let source = ConsoleCrashDrain.descriptors[2 * index]
            let destination = ConsoleCrashDrain.descriptors[2 * index + 1]
            _ = fcntl(source, F_SETFL, fcntl(source, F_GETFL) | O_NONBLOCK)
            while true {
                let available = read(source, ConsoleCrashDrain.buffer, 65_536)
                if available <= 0 { break }
                var offset = 0
                while offset < available {
                    let written = write(destination, ConsoleCrashDrain.buffer + offset, available - offset)
                    if written <= 0 { break }
                    offset += written
                }
                if offset < available { break }
            }
        }
        if let position = ConsoleCrashDrain.signals.firstIndex(of: signal) {
            sigaction(signal, ConsoleCrashDrain.previous + position, nil)
        }
        // A signal sent by abort() or kill does not happen again on return: send it once more, to the
        // handler now in place (it is delivered when this one returns).
        if signal == SIGABRT { raise(signal) }
    }
}
