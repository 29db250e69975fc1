import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// C's `stdout` stream, looked up by its symbol (Swift 6 refuses a direct read of the C global).
private func cStandardOutput() -> UnsafeMutablePointer<FILE>? {
    #if canImport(Darwin)
        let name = "__stdoutp"
    #else
        let name = "stdout"
    #endif
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
    return symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
}

/// Keeps a run's console output (its standard output and standard error) in `output.log` in the run's
/// folder, as W&B does, so the prints of a Slurm job or a background run are never lost.
///
/// Descriptors 1 and 2 are sent into pipes; a thread copies every byte, unchanged and at once, to where
/// they went before (a terminal, a file, a pipe) and appends what a log file shows to `output.log`:
/// escape sequences removed, and a line rewritten with `\r` kept in its last state. Live progress bars
/// draw on the real terminal (see ``ConsoleRedirection``), so they never fill the log. Each line is
/// written to the file as soon as it is read (no buffer in Tipi): `kill -9` loses only what the program
/// itself had not flushed. The file stops at `TIPI_OUTPUT_LOG_MB` (default 100; 0 keeps no log) with a
/// note saying so.
final class ConsoleCapture: Sendable {
    /// The file name in the run folder.
    static let fileName = "output.log"
    private static let current = Mutex<ConsoleCapture?>(nil)

    private let log: Mutex<LogFile>
    private let originals: [Int32: Int32]
    private let pumped = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let ownerID: String

    /// Starts keeping the console of run `runID` in `folder/output.log`; `nil` when another run already
    /// keeps it, when the limit is 0, inside a test runner (whose own output must not be taken), or when
    /// the descriptors cannot be redirected (then nothing changed).
    static func start(runID: String, folder: URL) -> ConsoleCapture? {
        let limit = Environment.integer("TIPI_OUTPUT_LOG_MB", default: 100, in: 0...1_048_576)
        guard limit > 0, !insideTestRunner else { return nil }
        return current.withLock { current -> ConsoleCapture? in
            guard current == nil else { return nil }
            let path = folder.appendingPathComponent(fileName).path
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { return nil }
            guard let capture = ConsoleCapture(runID: runID, log: LogFile(descriptor: descriptor, limit: Int64(limit) << 20, path: path))
            else {
                close(descriptor)
                return nil
            }
            current = capture
            return capture
        }
    }

    /// Stops the capture of run `runID`, if it is the one kept.
    static func stop(runID: String) {
        let capture = current.withLock { current -> ConsoleCapture? in
            guard let capture = current, capture.ownerID == runID else { return nil }
            current = nil
            return capture
        }
        capture?.stop()
    }

    /// A test runner's process (swift-testing, XCTest): its own output stays its own.
    static var insideTestRunner: Bool {
        let program = CommandLine.arguments.first ?? ""
        return program.hasSuffix(".xctest") || program.contains(".xctest/") || program.hasSuffix("swiftpm-testing-helper")
    }

    private init?(runID: String, log: LogFile) {
        fflush(nil)
        var originals: [Int32: Int32] = [:]
        var pairs: [(read: Int32, original: Int32)] = []
        // Standard output and error going to the same place (a terminal, `> file 2>&1`) share one pipe, so
        // their lines keep the order the program wrote them in; otherwise each has its own.
        let groups: [[Int32]] = Self.sameFile(1, 2) ? [[1, 2]] : [[1], [2]]
        for group in groups {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { continue }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            var saved: [Int32: Int32] = [:]
            for descriptor in group {
                let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 3)
                if copy >= 0 { saved[descriptor] = copy }
            }
            guard saved.count == group.count, group.allSatisfy({ dup2(ends[1], $0) >= 0 }) else {
                // Nothing of this group stays redirected: what was duplicated is put back and closed.
                for (descriptor, copy) in saved {
                    dup2(copy, descriptor)
                    close(copy)
                }
                close(ends[0])
                close(ends[1])
                continue
            }
            close(ends[1])
            originals.merge(saved) { _, new in new }
            if let first = group.first, let original = saved[first] { pairs.append((ends[0], original)) }
        }
        guard !originals.isEmpty else { return nil }
        self.originals = originals
        self.log = Mutex(log)
        ownerID = runID
        let streams = pairs
        ConsoleCrashDrain.install(streams)
        let thread = Thread { [self] in pump(streams) }
        thread.name = "tipi-console"
        thread.start()
        ConsoleRedirection.set(originals: originals) { [weak self] text in self?.append(Array(text.utf8)) }
        // Standard output into a pipe is fully buffered by C stdio: on a terminal it is made line-buffered
        // again (as it was), and flushed often for text printed without a newline.
        if let terminal = originals[1], isatty(terminal) == 1 {
            if let stream = cStandardOutput() { setvbuf(stream, nil, _IOLBF, 0) }
            let flusher = Thread { [self] in
                while !stopped.load(ordering: .relaxed) {
                    usleep(100_000)
                    fflush(nil)
                }
            }
            flusher.name = "tipi-console-flush"
            flusher.start()
        }
    }

    /// Whether two descriptors lead to the same file, terminal or pipe.
    private static func sameFile(_ first: Int32, _ second: Int32) -> Bool {
        var a = stat()
        var b = stat()
        guard fstat(first, &a) == 0, fstat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev
    }

    private func append(_ bytes: [UInt8]) {
        log.withLock { $0.append(bytes) }
    }

    private func pump(_ pairs: [(read: Int32, original: Int32)]) {
        var open = pairs
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            var polls = open.map { pollfd(fd: $0.read, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            var closed: [Int32] = []
            for (index, entry) in polls.enumerated() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                if count <= 0 {
                    closed.append(entry.fd)
                    continue
                }
                let chunk = Array(buffer[0..<count])
                _ = writeFully(chunk, to: open[index].original)
                log.withLock { $0.filter(chunk) }
            }
            for descriptor in closed {
                close(descriptor)
                open.removeAll { $0.read == descriptor }
            }
        }
        log.withLock { $0.close() }
        pumped.signal()
    }

    /// Restores descriptors 1 and 2 and waits (at most 2 s) for the last bytes to be copied; what a child
    /// process still holding the pipes writes afterwards is still copied by the thread, in the background.
    private func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        fflush(nil)
        ConsoleCrashDrain.remove()
        ConsoleRedirection.set(originals: [:], copy: nil)
        for (descriptor, saved) in originals {
            dup2(saved, descriptor)
        }
        if pumped.wait(timeout: .now() + 2) == .success {
            for saved in originals.values { close(saved) }
        }
    }
}

/// `output.log` as a log file shows the console: escape sequences removed, `\r` rewrites resolved,
/// bounded in size.
struct LogFile {
    private var descriptor: Int32
    private let limit: Int64
    private let path: String
    private var written: Int64 = 0
    private var line: [UInt8] = []
    private var state = ParseState.text
    private var full = false

    private enum ParseState {
        case text, carriageReturn, escape, controlSequence, operatingSystemCommand, operatingSystemEscape
    }

    init(descriptor: Int32, limit: Int64, path: String) {
        self.descriptor = descriptor
        self.limit = limit
        self.path = path
        var info = stat()
        if fstat(descriptor, &info) == 0 { written = Int64(info.st_size) }
    }

    /// Console bytes: complete lines go to the file at once.
    mutating func filter(_ bytes: [UInt8]) {
        for byte in bytes {
            switch state {
            case .text:
                switch byte {
                case 0x0A: endLine()
                case 0x0D: state = .carriageReturn
                case 0x1B: state = .escape
                case 0x08: if !line.isEmpty { line.removeLast() }
                default: line.append(byte)
                }
            case .carriageReturn:
                if byte == 0x0A {
                    state = .text
                    endLine()
                } else {
                    // A line rewritten in place (a hand-made progress line): only its last state is kept.
                    line.removeAll(keepingCapacity: true)
                    state = .text
                    filter([byte])
                }
            case .escape:
                state = byte == 0x5B ? .controlSequence : (byte == 0x5D ? .operatingSystemCommand : .text)
            case .controlSequence:
                if (0x40...0x7E).contains(byte) { state = .text }
            case .operatingSystemCommand:
                if byte == 0x07 { state = .text } else if byte == 0x1B { state = .operatingSystemEscape }
            case .operatingSystemEscape:
                state = .text
            }
        }
    }

    /// Text that did not pass through the pipes (written above live bars): kept the same way.
    mutating func append(_ bytes: [UInt8]) {
        filter(bytes)
    }

    private mutating func endLine() {
        line.append(0x0A)
        write(line)
        line.removeAll(keepingCapacity: true)
    }

    private mutating func write(_ bytes: [UInt8]) {
        guard descriptor >= 0, !full else { return }
        if written + Int64(bytes.count) > limit {
            full = true
            let size = limit % (1 << 20) == 0 ? "\(limit >> 20) MB" : "\(limit) bytes"
            let note = "[tipi: \(path) reached its limit of \(size) (TIPI_OUTPUT_LOG_MB); later output is not kept here]\n"
            _ = writeFully(Array(note.utf8), to: descriptor)
            return
        }
        _ = writeFully(bytes, to: descriptor)
        written += Int64(bytes.count)
    }

    /// Writes the unfinished last line and closes the file.
    mutating func close() {
        if !line.isEmpty { endLine() }
        if descriptor >= 0 { closeDescriptor(descriptor) }
        descriptor = -1
    }
}
