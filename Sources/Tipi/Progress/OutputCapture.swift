import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// While live bars are on a terminal, routes everything the program writes to standard output (`print`
/// included) through the display, so each line appears above the bars instead of through them (rich's
/// `redirect_stdout`). A pipeline does this around its processes.
public final class OutputCapture: @unchecked Sendable {
    private let display: ProgressDisplay
    private let original: Int32
    private let readEnd: Int32
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    /// Starts capturing; returns `nil` when there is nothing to gain (the display is not live) or it fails.
    public static func start(into display: ProgressDisplay) -> OutputCapture? {
        guard display.mode == .tty else { return nil }
        return OutputCapture(display: display)
    }

    private init?(display: ProgressDisplay) {
        fflush(nil)
        var ends: [Int32] = [0, 0]
        let saved = dup(1)
        guard saved >= 0, pipe(&ends) == 0 else { return nil }
        self.display = display
        original = saved
        readEnd = ends[0]
        _ = fcntl(saved, F_SETFD, FD_CLOEXEC)
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        guard dup2(ends[1], 1) >= 0 else { return nil }
        close(ends[1])
        let thread = Thread { [self] in pump() }
        thread.name = "tipi-stdout"
        thread.start()
        // Standard output into a pipe is fully buffered by C stdio: flush it often so lines show promptly.
        let flusher = Thread { [self] in
            while !isStopped {
                usleep(100_000)
                fflush(nil)
            }
        }
        flusher.name = "tipi-stdout-flush"
        flusher.start()
    }

    private let stopFlag = NSLock()
    private var stoppedFlag = false
    private var isStopped: Bool {
        stopFlag.lock()
        defer { stopFlag.unlock() }
        return stoppedFlag
    }

    private func pump() {
        let output = FileDescriptorOutput(descriptor: original)
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                display.write(line, to: output)
            }
        }
        if !pending.isEmpty { display.write(String(decoding: pending, as: UTF8.self), to: output) }
        close(readEnd)
        finished.signal()
    }

    /// Stops capturing: standard output is restored and everything captured has been written.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        stopFlag.lock()
        stoppedFlag = true
        stopFlag.unlock()
        fflush(nil)
        dup2(original, 1)
        _ = finished.wait(timeout: .now() + 5)
        close(original)
    }
}
