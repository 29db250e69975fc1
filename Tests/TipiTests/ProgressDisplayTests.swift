import Logging
import Testing
import TipiTestSupport

@testable import Tipi

/// A display on a fake terminal with a manual clock: nothing moves unless the test says so.
struct Harness {
    let terminal: FakeTerminal
    let clock = ManualTime()
    let display: ProgressDisplay

    init(columns: Int = 100, rows: Int = 24, isTerminal: Bool = true, mode: ProgressMode? = nil) {
        terminal = FakeTerminal(columns: columns, rows: rows, isTerminal: isTerminal)
        display = ProgressDisplay(
            output: terminal, mode: mode ?? (isTerminal ? .tty : .plain), colors: false, time: clock,
            plainInterval: 10, automaticRefresh: false)
    }

    /// Advances the clock and redraws, as the background thread would.
    func tick(_ seconds: Double = 0.1) {
        clock.advance(by: seconds)
        display.refresh()
    }
}

@Suite("Progress display on a terminal")
struct ProgressDisplayTerminalTests {
    @Test("a bar redraws in place and leaves one final line")
    func singleBar() {
        let h = Harness()
        let bar = ProgressBar(total: 100, desc: "Training", display: h.display)
        #expect(h.terminal.screen == ["⠋ Training   0%|                                        | 0/100 [00:00<?, ? it/s]"])
        for _ in 0..<10 {
            bar.update(4)
            h.tick(0.5)
        }
        #expect(h.terminal.screen.count == 1)
        #expect(h.terminal.screen[0].contains("Training  40%|████████████████ "))
        #expect(h.terminal.screen[0].hasSuffix("| 40/100 [00:05<00:07, 8.00 it/s]"))
        bar.update(60)
        bar.setPostfix(["loss": 0.25, "acc": 0.9])
        h.clock.advance(by: 1)
        bar.close()
        #expect(
            h.terminal.screen == [
                "✔ Training 100%|█████████████████████████████| 100/100 [00:06<00:00, 16.7 it/s, acc=0.9, loss=0.25]"
            ])
        #expect(h.display.activeBarCount == 0)
    }

    @Test("three nested levels stack in order; finished inner bars vanish; the outermost stays")
    func nesting() {
        let h = Harness()
        var screens: [[String]] = []
        for _ in progressBarOn(h, 0..<2, desc: "Epochs") {
            for _ in progressBarOn(h, 0..<3, desc: "Batches") {
                for _ in progressBarOn(h, 0..<4, desc: "Steps") {
                    h.tick()
                    screens.append(h.terminal.screen)
                }
            }
            h.tick()
            screens.append(h.terminal.screen)
        }
        let deepest = screens[0]
        #expect(deepest.count == 3)
        #expect(body(deepest[0]).hasPrefix("Epochs   0%|"))
        #expect(body(deepest[1]).hasPrefix("Batches   0%|"))
        #expect(body(deepest[2]).hasPrefix("Steps   0%|"))
        for screen in screens {
            #expect(screen.count == Set(screen).count, "duplicated line in \(screen)")
            #expect(screen.allSatisfy { !$0.isEmpty })
        }
        let betweenEpochs = screens[12]
        #expect(betweenEpochs.count == 1)
        #expect(body(betweenEpochs[0]).hasPrefix("Epochs   0%|"))
        let final = h.terminal.screen
        #expect(final.count == 1)
        #expect(final[0].hasPrefix("✔ Epochs 100%|████"))
        #expect(final[0].hasSuffix("| 2/2 [00:02<00:00, 1.30 s/it]"))
    }

    @Test("leave: true keeps a finished inner bar, above the live ones")
    func leaveInner() {
        let h = Harness()
        let outer = ProgressBar(total: 2, desc: "Outer", display: h.display)
        let inner = ProgressBar(total: 5, desc: "Inner", leave: true, display: h.display)
        inner.update(5)
        h.tick()
        inner.close()
        outer.update(1)
        h.tick()
        let screen = h.terminal.screen
        #expect(screen.count == 2)
        #expect(screen[0].hasPrefix("✔ Inner 100%|"))
        #expect(body(screen[1]).hasPrefix("Outer  50%|"))
        outer.close()
    }

    @Test("leave: false removes even the outermost bar")
    func leaveFalse() {
        let h = Harness()
        for _ in progressBarOn(h, 0..<3, desc: "Quiet", leave: false) { h.tick() }
        #expect(h.terminal.screen.isEmpty)
    }

    @Test("an unknown total counts up with a rate")
    func unknownTotal() {
        let h = Harness()
        let bar = ProgressBar(desc: "Reading", unit: "line", display: h.display)
        bar.update(1000)
        h.tick(1)
        bar.update(1000)
        h.tick(1)
        #expect(h.terminal.screen.map(body) == ["Reading 2000 line [00:02, 1000 line/s]"])
        bar.close()
        #expect(h.terminal.screen == ["✔ Reading 2000 line [00:02, 1000 line/s]"])
    }

    @Test("the width is read on every refresh: a resize takes effect at once, lines never wrap")
    func resize() {
        let h = Harness(columns: 120)
        let bar = ProgressBar(total: 10, desc: "Resizing", display: h.display)
        bar.setPostfix(["loss": 0.5])
        h.tick()
        #expect(h.terminal.screen[0].count <= 119)
        h.terminal.resize(columns: 30)
        h.tick()
        #expect(h.terminal.screen.map(body) == ["Resizing   0% 0/10 [00:00<?"])
        h.terminal.resize(columns: 80)
        bar.update(5)
        h.tick()
        #expect(h.terminal.screen.count == 1)
        #expect(h.terminal.screen[0].count <= 79)
        #expect(h.terminal.screen[0].contains("|"))
        bar.close()
    }

    @Test("more bars than rows: the stack is cut with a count of the hidden ones")
    func tooManyBars() {
        let h = Harness(rows: 5)
        let bars = (0..<8).map { ProgressBar(total: 10, desc: "Bar \($0)", display: h.display) }
        h.tick()
        let screen = h.terminal.screen
        #expect(screen.count == 4)
        #expect(screen.last == "… and 5 more")
        bars.forEach { $0.close() }
        #expect(h.terminal.screen.count == 1)
    }

    @Test("a slow iteration still moves the elapsed time and the spinner")
    func slowIteration() {
        let h = Harness()
        let bar = ProgressBar(total: 3, desc: "Slow", display: h.display)
        h.tick(0.1)
        let first = h.terminal.screen[0]
        h.tick(65.3)
        let later = h.terminal.screen[0]
        #expect(body(first).hasPrefix("Slow   0%"))
        #expect(later.contains("[01:05<?"))
        #expect(later.first != first.first)
        bar.close()
    }

    @Test("write puts text above the bars and draws them again below")
    func writeAbove() {
        let h = Harness()
        let outer = ProgressBar(total: 10, desc: "Outer", display: h.display)
        let inner = ProgressBar(total: 10, desc: "Inner", display: h.display)
        h.tick()
        h.display.write("checkpoint saved")
        h.display.write("second line\nthird line")
        let screen = h.terminal.screen
        #expect(screen.count == 5)
        #expect(screen[0] == "checkpoint saved")
        #expect(screen[1] == "second line")
        #expect(screen[2] == "third line")
        #expect(screen[3].contains("Outer   0%|"))
        #expect(screen[4].contains("Inner   0%|"))
        inner.close()
        outer.close()
    }

    @Test("log lines from swift-log appear above the bars")
    func logHandler() {
        let h = Harness()
        let logger = Logger(label: "train") { ProgressLogHandler(label: $0, display: h.display) }
        let bar = ProgressBar(total: 10, desc: "Training", display: h.display)
        logger.info("epoch done", metadata: ["loss": "0.3"])
        logger.debug("hidden at info level")
        let screen = h.terminal.screen
        #expect(screen.count == 2)
        #expect(screen[0].hasSuffix(" info train: epoch done loss=0.3"))
        #expect(screen[0].hasPrefix("20"))
        #expect(screen[1].contains("Training   0%|"))
        bar.close()
    }

    @Test("status text and description can change while running")
    func statusAndDescription() {
        let h = Harness()
        let bar = ProgressBar(total: 4, desc: "Stage 1", display: h.display)
        bar.setStatus("loading\nshard 3")
        bar.setDescription("Stage 2")
        h.tick()
        #expect(body(h.terminal.screen[0]).hasPrefix("Stage 2   0%|"))
        #expect(h.terminal.screen[0].hasSuffix("] loading shard 3"))
        bar.close()
    }

    @Test("reset starts over with a new total")
    func reset() {
        let h = Harness()
        let bar = ProgressBar(total: 4, desc: "Epoch", display: h.display)
        bar.update(4)
        h.tick(2)
        bar.reset(total: 8)
        h.tick(1)
        #expect(bar.n == 0)
        #expect(h.terminal.screen[0].contains("0/8 [00:01<?"))
        bar.close()
    }

    @Test("initial starts the count part way")
    func initial() {
        let h = Harness()
        let bar = ProgressBar(total: 10, desc: "Resumed", initial: 6, display: h.display)
        h.tick()
        #expect(h.terminal.screen[0].contains(" 60%|"))
        bar.update(2)
        h.tick(1)
        #expect(h.terminal.screen[0].contains("8/10 [00:01<00:01, 1.82 it/s]"))
        bar.close()
    }
}

@Suite("Progress display without a terminal")
struct ProgressDisplayPlainTests {
    @Test("a start line, status lines every 10 % at most once a second, a final line; no \\r, no escapes")
    func plainLines() {
        let h = Harness(isTerminal: false)
        let bar = ProgressBar(total: 100, desc: "Training", display: h.display)
        for _ in 0..<100 {
            bar.update()
            h.tick(0.05)
        }
        bar.close()
        let raw = h.terminal.raw
        #expect(!raw.contains("\r"))
        #expect(!raw.contains("\u{1B}"))
        let lines = raw.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "Training   0% 0/100 [00:00<?, ? it/s]")
        #expect(lines.dropLast().last == "Training 100% 100/100 [00:05<00:00, 20.0 it/s]")
        #expect(lines.count >= 5 && lines.count <= 8, "\(lines)")
    }

    @Test("a long loop prints a status line every interval")
    func intervals() {
        let h = Harness(isTerminal: false)
        let bar = ProgressBar(total: 1000, desc: "Long", display: h.display)
        for _ in 0..<60 {
            bar.update()
            h.tick(1)
        }
        bar.close()
        let lines = h.terminal.raw.split(separator: "\n").map(String.init)
        #expect(lines.count == 8)  // start, 6 × 10 s, final
        #expect(lines[1] == "Long   1% 10/1000 [00:10<16:30, 1.00 it/s]")
    }

    @Test("nested bars print nothing unless they run long; the outer bar prints start and end")
    func nestedPlain() {
        let h = Harness(isTerminal: false)
        for _ in progressBarOn(h, 0..<3, desc: "Epochs") {
            for _ in progressBarOn(h, 0..<5, desc: "Batches") { h.tick(0.01) }
        }
        let lines = h.terminal.raw.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("Epochs") })
    }

    @Test("text written above goes out as it is")
    func plainWrite() {
        let h = Harness(isTerminal: false)
        let bar = ProgressBar(total: 2, desc: "Job", display: h.display)
        h.display.write("hello")
        bar.close()
        #expect(h.terminal.raw.split(separator: "\n").map(String.init)[1] == "hello")
    }

    @Test("mode off and disable: true write nothing and still count")
    func disabled() {
        let h = Harness(mode: .off)
        let bar = ProgressBar(total: 10, desc: "Off", display: h.display)
        bar.update(3)
        #expect(bar.n == 3)
        bar.close()
        let other = Harness()
        for _ in progressBarOn(other, 0..<5, desc: "Hidden", disable: true) {}
        #expect(h.terminal.raw.isEmpty)
        #expect(other.terminal.raw.isEmpty)
    }
}

@Suite("Progress mode detection")
struct ProgressModeTests {
    @Test("TIPI_PROGRESS wins over detection; a bad value warns and falls back")
    func environment() {
        let tty = FakeTerminal(isTerminal: true)
        let file = FakeTerminal(isTerminal: false)
        #expect(ProgressMode.resolve(for: tty, environment: { _ in nil }) == .tty)
        #expect(ProgressMode.resolve(for: file, environment: { _ in nil }) == .plain)
        #expect(ProgressMode.resolve(for: file, environment: { $0 == "TIPI_PROGRESS" ? "tty" : nil }) == .tty)
        #expect(ProgressMode.resolve(for: tty, environment: { $0 == "TIPI_PROGRESS" ? "OFF" : nil }) == .off)
        #expect(ProgressMode.resolve(for: tty, environment: { $0 == "TERM" ? "dumb" : nil }) == .plain)
        var warnings: [String] = []
        let mode = ProgressMode.resolve(
            for: tty, environment: { $0 == "TIPI_PROGRESS" ? "fancy" : nil }, warn: { warnings.append($0) })
        #expect(mode == .tty)
        #expect(warnings.count == 1)
        #expect(warnings[0].contains("TIPI_PROGRESS=fancy"))
    }
}

/// A live line without its spinner frame (the frame depends on the clock).
func body(_ line: String) -> String {
    String(line.dropFirst(2))
}

/// `progressBar` on a given display (the public function draws on `ProgressDisplay.current`).
func progressBarOn<C: Collection>(
    _ h: Harness, _ collection: C, desc: String, leave: Bool? = nil, disable: Bool = false
) -> ProgressSequence<C> {
    withPipelineContext(PipelineContext(progress: h.display)) {
        progressBar(collection, desc: desc, leave: leave, disable: disable)
    }
}
