import Foundation
import Synchronization

/// Draws every active bar of a program (or of a pipeline) as one stack, and the text written above it.
///
/// Bars opened while others run stack below them; a finished nested bar disappears unless it was
/// created with `leave: true`, and the outermost bar stays. On a terminal the stack is redrawn in place
/// at most ``refreshInterval`` apart by a background thread, so elapsed time and the spinner move even
/// while one iteration takes minutes. Anywhere else (a log file, Slurm, CI) it writes plain lines only:
/// no `\r`, no escape sequences.
///
/// Most programs never touch this type: ``progressBar(_:desc:total:unit:unitScale:unitDivisor:initial:leave:disable:)->ProgressSequence<S>``
/// draws on ``current``, which is the pipeline's display inside a pipeline and ``shared`` elsewhere.
public final class ProgressDisplay: Sendable {
    /// How bars are shown.
    public let mode: ProgressMode
    /// Seconds between live redraws on a terminal.
    public let refreshInterval: Double
    /// Seconds between status lines of a running bar in ``ProgressMode/plain`` mode.
    public let plainInterval: Double
    let output: any TerminalOutput
    let textOutput: any TerminalOutput
    let time: any MonotonicTimeSource
    let colors: Bool
    let automaticRefresh: Bool
    private let state: Mutex<DisplayState>

    /// The process-wide display on standard error, configured from the environment (`TIPI_PROGRESS`, `NO_COLOR`).
    public static let shared: ProgressDisplay = {
        let display = ProgressDisplay(
            output: FileDescriptorOutput.standardError, textOutput: FileDescriptorOutput.standardOutput)
        // At exit and on a stop signal the lifecycle leaves the cursor below the bars.
        Lifecycle.register(.display) { _ in display.finishAtExit() }
        if display.mode == .tty { WindowSizeWatcher.start(display) }
        // Warnings from any part of Tipi appear above the bars rather than through them.
        Diagnostics.setSink { line in ProgressDisplay.current.write(line, to: .progress) }
        return display
    }()

    /// The display helpers draw on: the pipeline's inside `withPipelineContext`, else ``shared``.
    public static var current: ProgressDisplay {
        PipelineContext.current?.progress ?? shared
    }

    /// Creates a display.
    ///
    /// - Parameters:
    ///   - output: Where bars are drawn (standard error by default).
    ///   - textOutput: Where ``write(_:to:)`` puts text; the same as `output` by default.
    ///   - mode: Forces a mode; by default ``ProgressMode/resolve(for:environment:warn:)`` decides.
    ///   - colors: Forces colours on or off; by default on for a terminal unless `NO_COLOR` is set.
    ///   - time: The clock (a manual one in tests).
    ///   - refreshInterval: Seconds between live redraws.
    ///   - plainInterval: Seconds between status lines in plain mode (`TIPI_PROGRESS_INTERVAL`, default 10).
    ///   - automaticRefresh: Redraws from a background thread; tests turn it off and call ``refresh()``.
    public init(
        output: any TerminalOutput = FileDescriptorOutput.standardError,
        textOutput: (any TerminalOutput)? = nil,
        mode: ProgressMode? = nil,
        colors: Bool? = nil,
        time: any MonotonicTimeSource = SystemMonotonicTime(),
        refreshInterval: Double = 0.1,
        plainInterval: Double? = nil,
        automaticRefresh: Bool = true
    ) {
        self.output = output
        self.textOutput = textOutput ?? output
        self.mode = mode ?? ProgressMode.resolve(for: output, warn: { output.write($0 + "\n") })
        let noColor = !(Environment.value("NO_COLOR") ?? "").isEmpty
        self.colors = self.mode == .tty && (colors ?? !noColor)
        self.time = time
        self.refreshInterval = max(refreshInterval, 0.01)
        self.plainInterval = plainInterval ?? Environment.number("TIPI_PROGRESS_INTERVAL", default: 10, in: 0.5...86_400)
        self.automaticRefresh = automaticRefresh
        self.state = Mutex(DisplayState(lastActivity: time.now()))
    }

    /// The number of bars currently shown.
    public var activeBarCount: Int {
        state.withLock { $0.entries.count }
    }

    // MARK: - Bars

    func register(_ bar: BarState, leave: Bool?) {
        let now = time.now()
        let startTicker = state.withLock { state -> Bool in
            let keep = leave ?? state.entries.isEmpty
            var entry = DisplayEntry(bar: bar, leave: keep, now: now)
            state.lastActivity = now
            switch mode {
            case .tty:
                state.entries.append(entry)
                redraw(&state, now: now)
            case .plain:
                if keep {
                    output.write(line(for: &entry, now: now, style: .plain) + "\n")
                }
                state.entries.append(entry)
            case .off:
                return false
            }
            guard automaticRefresh, !state.tickerRunning else { return false }
            state.tickerRunning = true
            return true
        }
        if startTicker { startRefreshThread() }
    }

    func finish(_ bar: BarState) {
        let now = time.now()
        state.withLock { state in
            guard let index = state.entries.firstIndex(where: { $0.bar === bar }) else { return }
            var entry = state.entries.remove(at: index)
            state.lastActivity = now
            switch mode {
            case .tty:
                if entry.leave {
                    let snapshot = entry.snapshot(now: now)
                    let mark: Character = snapshot.total.map { snapshot.count >= $0 } ?? true ? "✔" : " "
                    let text = ProgressLine.render(
                        snapshot, style: .live(colors: colors, spinner: mark), columns: columns())
                    commit(&state, text: text + "\n", now: now)
                } else {
                    redraw(&state, now: now)
                }
            case .plain:
                if entry.leave || entry.printedStatus {
                    output.write(line(for: &entry, now: now, style: .plain) + "\n")
                }
            case .off:
                break
            }
        }
    }

    // MARK: - Output

    /// Redraws the live bars now (and, in plain mode, writes the status lines that are due).
    /// The background thread calls this; tests with a manual clock call it themselves.
    public func refresh() {
        let now = time.now()
        state.withLock { state in
            switch mode {
            case .tty:
                redraw(&state, now: now)
            case .plain:
                for index in state.entries.indices {
                    var entry = state.entries[index]
                    if entry.plainLineIsDue(now: now, interval: plainInterval) {
                        output.write(line(for: &entry, now: now, style: .plain) + "\n")
                        entry.printedStatus = true
                    } else {
                        entry.observe(now: now)
                    }
                    state.entries[index] = entry
                }
            case .off:
                break
            }
        }
    }

    /// Where ``write(_:to:)`` puts text.
    public enum Destination: Sendable {
        /// The display's text output: standard output for ``shared`` (like `print`).
        case text
        /// The stream the bars are drawn on: standard error for ``shared`` (where log lines belong).
        case progress
    }

    /// Writes text above the live bars without breaking them (tqdm's `tqdm.write`).
    ///
    /// The bars are cleared, the text is written (with a final newline added when missing) and the bars are
    /// drawn again below it. Without a terminal the text is simply written.
    public func write(_ text: String, to destination: Destination = .text) {
        write(text, to: destination == .text ? textOutput : output)
    }

    /// Writes text above the live bars to a given output.
    func write(_ text: String, to target: any TerminalOutput) {
        let now = time.now()
        let text = text.hasSuffix("\n") ? text : text + "\n"
        state.withLock { state in
            if mode == .tty {
                output.write(clearSequence(&state))
                flushStandardIO()
                target.write(text)
                redraw(&state, now: now)
            } else {
                flushStandardIO()
                target.write(text)
            }
            // Text (not bars) written straight to the real standard output or error is kept in the run's
            // console log too, when one is kept.
            if let descriptor = (target as? FileDescriptorOutput)?.descriptor {
                ConsoleRedirection.copyToLog(text, descriptor: descriptor)
            }
        }
    }

    // MARK: - Drawing (called with the lock held)

    private func columns() -> Int {
        output.size()?.columns ?? 80
    }

    private func line(for entry: inout DisplayEntry, now: Double, style: LineStyle) -> String {
        entry.observe(now: now)
        entry.lastPlainLine = now
        let snapshot = entry.snapshot(now: now)
        if let total = snapshot.total, total > 0 {
            entry.lastMilestone = min(snapshot.count * 10 / total, 10)
        }
        return ProgressLine.render(snapshot, style: style, columns: nil)
    }

    /// Moves the cursor to the top of the drawn block and clears it; the caller writes what comes next.
    private func clearSequence(_ state: inout DisplayState) -> String {
        guard state.drawnLines > 0 else { return "" }
        let up = state.drawnLines > 1 ? "\u{1B}[\(state.drawnLines - 1)A" : ""
        state.drawnLines = 0
        return "\r" + up + "\u{1B}[J"
    }

    private func commit(_ state: inout DisplayState, text: String, now: Double) {
        output.write(clearSequence(&state) + text)
        redraw(&state, now: now)
    }

    private func redraw(_ state: inout DisplayState, now: Double) {
        guard mode == .tty else { return }
        let size = output.size()
        let width = size?.columns ?? 80
        let maximumLines = max((size?.rows ?? 24) - 1, 1)
        let frameIndex = Int((now * 10 + 1e-6).rounded(.down)) % ProgressLine.spinnerFrames.count
        let spinner = ProgressLine.spinnerFrames[frameIndex]
        var lines: [String] = []
        let shown = state.entries.count > maximumLines ? maximumLines - 1 : state.entries.count
        for index in state.entries.indices {
            state.entries[index].observe(now: now)
            guard index < shown else { continue }
            let snapshot = state.entries[index].snapshot(now: now)
            lines.append(
                ProgressLine.render(snapshot, style: .live(colors: colors, spinner: spinner), columns: width))
        }
        if shown < state.entries.count {
            lines.append(DisplayWidth.truncate("… and \(state.entries.count - shown) more", to: width - 1))
        }
        var frame = ""
        if state.drawnLines > 0 {
            frame += "\r" + (state.drawnLines > 1 ? "\u{1B}[\(state.drawnLines - 1)A" : "")
        }
        frame += lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n")
        frame += "\u{1B}[J"
        if lines.isEmpty, state.drawnLines == 0 { return }
        state.drawnLines = lines.count
        output.write(frame)
    }

    // MARK: - Background refresh

    private func startRefreshThread() {
        let interval = mode == .tty ? refreshInterval : min(0.5, plainInterval)
        let thread = Thread { [self] in
            while true {
                usleep(UInt32(interval * 1_000_000))
                if !tick() { return }
            }
        }
        thread.name = "tipi-progress"
        thread.start()
    }

    /// One refresh from the background thread; returns `false` when the thread should stop
    /// (no bar for a couple of seconds; the next bar starts a new thread).
    private func tick() -> Bool {
        let now = time.now()
        let idle = state.withLock { state -> Bool in
            guard state.entries.isEmpty else { return false }
            if now - state.lastActivity > 2 {
                state.tickerRunning = false
                return true
            }
            return false
        }
        if idle { return false }
        refresh()
        return true
    }

    /// At normal process exit, leaves the cursor below the bars so the shell prompt starts on a new line.
    func finishAtExit() {
        let now = time.now()
        state.withLock { state in
            guard mode == .tty, state.drawnLines > 0 else { return }
            redraw(&state, now: now)
            output.write("\n")
            state.drawnLines = 0
        }
    }
}

/// The mutable state of a display, behind its lock.
struct DisplayState: Sendable {
    var entries: [DisplayEntry] = []
    /// Lines of the live block currently on screen; the cursor is at the end of the last one.
    var drawnLines = 0
    var tickerRunning = false
    var lastActivity: Double
}

/// One bar as the display tracks it: the bar, whether it stays when done, and its rate estimate.
struct DisplayEntry: Sendable {
    let bar: BarState
    let leave: Bool
    var estimator: RateEstimator
    var generation = 0
    var lastPlainLine: Double
    var lastMilestone = 0
    var printedStatus = false

    init(bar: BarState, leave: Bool, now: Double) {
        self.bar = bar
        self.leave = leave
        let (snapshot, generation) = bar.snapshot(now: now)
        self.generation = generation
        self.estimator = RateEstimator(smoothing: bar.smoothing, count: snapshot.count, time: now - snapshot.elapsed)
        self.lastPlainLine = now
    }

    mutating func observe(now: Double) {
        let (snapshot, generation) = bar.snapshot(now: now)
        if generation != self.generation {
            self.generation = generation
            estimator = RateEstimator(smoothing: bar.smoothing, count: snapshot.count, time: now - snapshot.elapsed)
        }
        estimator.observe(count: snapshot.count, time: now)
    }

    func snapshot(now: Double) -> ProgressSnapshot {
        var (snapshot, _) = bar.snapshot(now: now)
        snapshot.rate =
            snapshot.finished
            ? estimator.averageRate(count: snapshot.count, time: now)
            : estimator.rate(count: snapshot.count, time: now)
        return snapshot
    }

    /// In plain mode: a status line every `interval` seconds, and for kept bars one per 10 % step
    /// (at most one a second).
    func plainLineIsDue(now: Double, interval: Double) -> Bool {
        let since = now - lastPlainLine
        if since >= interval { return true }
        guard leave, since >= 1 else { return false }
        let (snapshot, _) = bar.snapshot(now: now)
        guard let total = snapshot.total, total > 0 else { return false }
        return min(snapshot.count * 10 / total, 10) > lastMilestone
    }
}
