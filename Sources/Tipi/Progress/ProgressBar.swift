/// A progress bar you drive by hand, like tqdm's `tqdm(total=…)` with `update()`.
///
/// ```swift
/// let bar = ProgressBar(total: files.count, desc: "Download", unit: "B")
/// for file in files {
///     bar.update(try download(file))        // bytes
///     bar.setPostfix(["file": file.name])
/// }
/// bar.close()
/// ```
///
/// To wrap a loop, use ``progressBar(_:desc:total:unit:unitScale:unitDivisor:initial:leave:disable:)->ProgressSequence<S>`` instead.
/// A bar is safe to update from many threads or tasks at once: counts are never lost.
/// It closes itself when the last reference to it goes away.
public final class ProgressBar: Sendable {
    @usableFromInline let state: BarState
    /// The display drawing this bar, or `nil` when the bar is disabled.
    let display: ProgressDisplay?

    /// Creates a bar and shows it on the current display.
    ///
    /// - Parameters:
    ///   - total: The number of units expected; `nil` shows a count and a rate without percent or ETA.
    ///   - desc: A short description shown before the bar.
    ///   - unit: The unit of the counts (`"it"`, `"batch"`, `"B"`).
    ///   - unitScale: Shows counts with k/M/G prefixes; on by default for `unit: "B"`.
    ///   - unitDivisor: 1000 (SI prefixes) or 1024 (Ki/Mi/Gi); 1024 by default for `unit: "B"`.
    ///   - initial: The starting count (for resumed work).
    ///   - leave: Keeps the finished bar on screen. By default the outermost bar stays and nested bars vanish.
    ///   - disable: Shows nothing; the bar still counts. `TIPI_PROGRESS=off` does the same for all bars.
    ///   - smoothing: Weight of the newest speed sample in the rate (0 = average over the run; tqdm's 0.3).
    ///   - display: Where to draw; the pipeline's display inside a pipeline, else ``ProgressDisplay/shared``.
    public init(
        total: Int? = nil,
        desc: String = "",
        unit: String = "it",
        unitScale: Bool? = nil,
        unitDivisor: Int? = nil,
        initial: Int = 0,
        leave: Bool? = nil,
        disable: Bool = false,
        smoothing: Double = 0.3,
        display: ProgressDisplay? = nil
    ) {
        let target = display ?? ProgressDisplay.current
        let isBytes = unit == "B"
        state = BarState(
            description: desc, total: total.map { max($0, 0) }, initial: initial, unit: unit,
            unitScale: unitScale ?? isBytes, unitDivisor: unitDivisor ?? (isBytes ? 1024 : 1000),
            smoothing: smoothing, startTime: target.time.now())
        if disable || target.mode == .off {
            self.display = nil
        } else {
            self.display = target
            target.register(state, leave: leave)
        }
    }

    deinit {
        close()
    }

    /// The current count.
    public var n: Int {
        state.count.load(ordering: .relaxed)
    }

    /// The expected total, or `nil` when unknown. Settable while the bar runs.
    public var total: Int? {
        get { state.fields.withLock { $0.total } }
        set { state.fields.withLock { $0.total = newValue.map { max($0, 0) } } }
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool {
        state.fields.withLock { $0.closed }
    }

    /// Adds `increment` to the count (thread-safe, lock-free).
    public func update(_ increment: Int = 1) {
        state.count.wrappingAdd(increment, ordering: .relaxed)
    }

    /// Shows `key=value` pairs after the rate, sorted by key: `[…, 12.3 it/s, acc=0.91, loss=0.31]`.
    public func setPostfix(_ values: [String: any CustomStringConvertible & Sendable]) {
        let text = values.keys.sorted().map { key in
            "\(ProgressFormat.sanitize(key))=\(ProgressFormat.postfixValue(values[key] ?? ""))"
        }.joined(separator: ", ")
        state.fields.withLock { $0.postfix = text }
    }

    /// Shows free text after the rate (tqdm's `set_postfix_str`).
    public func setPostfix(_ text: String) {
        let text = ProgressFormat.sanitize(text)
        state.fields.withLock { $0.postfix = text }
    }

    /// Changes the description shown before the bar.
    public func setDescription(_ description: String) {
        let text = ProgressFormat.sanitize(description)
        state.fields.withLock { $0.description = text }
    }

    /// Shows a status text at the end of the line (`"loading shard 3"`); an empty string removes it.
    public func setStatus(_ status: String) {
        let text = ProgressFormat.sanitize(status)
        state.fields.withLock { $0.status = text }
    }

    /// Starts over from zero: count, elapsed time and rate (tqdm's `reset`), optionally with a new total.
    public func reset(total: Int? = nil) {
        let now = display?.time.now() ?? SystemMonotonicTime().now()
        state.fields.withLock { fields in
            if let total { fields.total = max(total, 0) }
            fields.startTime = now
            fields.generation += 1
        }
        state.count.store(0, ordering: .relaxed)
    }

    /// Finishes the bar: a kept bar (see `leave`) prints its final line, a nested one disappears.
    /// Calling it again does nothing.
    public func close() {
        let wasClosed = state.fields.withLock { fields in
            defer { fields.closed = true }
            return fields.closed
        }
        if !wasClosed { display?.finish(state) }
    }

    /// Prints a line above the live bars without breaking them (tqdm's `tqdm.write`), on the current display.
    public static func write(_ text: String) {
        ProgressDisplay.current.write(text)
    }
}
