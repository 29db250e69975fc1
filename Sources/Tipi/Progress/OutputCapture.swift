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
        var ends: [Int32] = [-1, -1]
        let saved = dup(1)
        guard saved >= 0 else { return nil }
        guard pipe(&ends) == 0 else {
            close(saved)
            return nil
        }
        _ = fcntl(saved, F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        guard dup2(ends[1], 1) >= 0 else {
            // Nothing was redirected: every descriptor opened here is closed again.
            close(saved)
            close(ends[0])
            close(ends[1])
            return nil
        }
        close(ends[1])
        self.display = display
        original = saved
        readEnd = ends[0]
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
        // The pump owns both descriptors it uses and closes them when it is done with them (never before),
        // whether `stop` waited for it or gave up waiting.
        close(readEnd)
        let closeNow = descriptorLock.withLock { () -> Bool in
            pumpEnded = true
            return restored
        }
        if closeNow { close(original) }
        finished.signal()
    }

    /// Guards the hand-over of `original`: whichever of the pump and `stop` finishes last closes it.
    private let descriptorLock = NSLock()
    private var pumpEnded = false
    private var restored = false

    /// Stops capturing: standard output is restored and everything captured has been written — or, when
    /// something still holds the pipe open (a child process that inherited standard output), after 5 s
    /// the capture goes on in the background until that is closed, and its lines still appear.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        stopFlag.lock()
        stoppedFlag = true
        stopFlag.unlock()
        fflush(nil)
        dup2(original, 1)
        let closeNow = descriptorLock.withLock { () -> Bool in
            restored = true
            return pumpEnded
        }
        if closeNow { close(original) }
        if finished.wait(timeout: .now() + 5) == .success { finished.signal() }
    }
}
