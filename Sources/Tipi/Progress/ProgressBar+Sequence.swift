import Synchronization

/// Wraps a loop in a progress bar: the same elements, in the same order, with a live bar on screen.
///
/// ```swift
/// for epoch in progressBar(0..<10, desc: "Epochs") {
///     let batches = progressBar(loader, desc: "Training")
///     for batch in batches {
///         let loss = step(batch)
///         batches.setPostfix(["loss": loss])
///     }
/// }
/// ```
///
/// The total is the collection's `count`; `total:` overrides it. The per-item cost is one counter store;
/// drawing happens on a background thread at most ten times a second.
///
/// - Parameters:
///   - sequence: Any sequence; its elements pass through unchanged.
///   - desc: A short description shown before the bar.
///   - total: The expected number of elements (the collection's `count` by default).
///   - unit: The unit shown in counts and rates.
///   - unitScale: Shows k/M/G prefixes (on by default for `"B"`).
///   - unitDivisor: 1000 or 1024 (1024 by default for `"B"`).
///   - initial: The starting count.
///   - leave: Keeps the finished bar; by default only the outermost bar stays.
///   - disable: Shows nothing, at next to no cost.
public func progressBar<S: Sequence>(
    _ sequence: S,
    desc: String = "",
    total: Int? = nil,
    unit: String = "it",
    unitScale: Bool? = nil,
    unitDivisor: Int? = nil,
    initial: Int = 0,
    leave: Bool? = nil,
    disable: Bool = false
) -> ProgressSequence<S> {
    ProgressSequence(
        base: sequence,
        bar: ProgressBar(
            total: total, desc: desc, unit: unit, unitScale: unitScale, unitDivisor: unitDivisor,
            initial: initial, leave: leave, disable: disable))
}

/// Wraps a collection in a progress bar whose total is the collection's `count`.
public func progressBar<C: Collection>(
    _ collection: C,
    desc: String = "",
    total: Int? = nil,
    unit: String = "it",
    unitScale: Bool? = nil,
    unitDivisor: Int? = nil,
    initial: Int = 0,
    leave: Bool? = nil,
    disable: Bool = false
) -> ProgressSequence<C> {
    ProgressSequence(
        base: collection,
        bar: ProgressBar(
            total: total ?? collection.count, desc: desc, unit: unit, unitScale: unitScale,
            unitDivisor: unitDivisor, initial: initial, leave: leave, disable: disable))
}

/// A sequence that yields its base's elements and counts them on a ``ProgressBar``.
///
/// It forwards the bar's controls, so `bar.setPostfix(…)` works on the value `progressBar` returned.
@frozen
public struct ProgressSequence<Base: Sequence>: Sequence {
    /// The wrapped sequence.
    public let base: Base
    /// The bar that counts the elements.
    public let bar: ProgressBar

    @inlinable
    public func makeIterator() -> Iterator {
        Iterator(base: base.makeIterator(), bar: bar)
    }

    public var underestimatedCount: Int {
        base.underestimatedCount
    }

    /// See ``ProgressBar/setPostfix(_:)-([String:CustomStringConvertibleSendable])``.
    public func setPostfix(_ values: [String: any CustomStringConvertible & Sendable]) {
        bar.setPostfix(values)
    }

    /// See ``ProgressBar/setPostfix(_:)-(String)``.
    public func setPostfix(_ text: String) {
        bar.setPostfix(text)
    }

    /// See ``ProgressBar/setDescription(_:)``.
    public func setDescription(_ description: String) {
        bar.setDescription(description)
    }

    /// See ``ProgressBar/setStatus(_:)``.
    public func setStatus(_ status: String) {
        bar.setStatus(status)
    }

    /// Ends the bar early (it also ends by itself when the loop finishes or is left).
    public func close() {
        bar.close()
    }

    /// The iterator: the base iterator plus a counter published to the bar on every step.
    ///
    /// Inlinable, so that the compiler specializes it into the caller's loop: the per-item cost is then one
    /// relaxed store of the counter and one relaxed load of the stop flag.
    public struct Iterator: IteratorProtocol {
        @usableFromInline var base: Base.Iterator
        @usableFromInline let bar: ProgressBar
        @usableFromInline let state: BarState
        @usableFromInline let stop: StopFlag
        @usableFromInline var count: Int

        @inlinable
        init(base: Base.Iterator, bar: ProgressBar) {
            self.base = base
            self.bar = bar
            self.state = bar.state
            self.stop = StopRequest.flag
            self.count = bar.n
        }

        /// Publishes the elements completed so far (an element counts once the loop body that received it
        /// returns, as in tqdm), then fetches the next one.
        ///
        /// A safe point: after Ctrl-C / SIGTERM / SIGHUP the loop ends here inside a pipeline (which then
        /// cleans up and ends with the signal); in a plain program the program ends here.
        @inlinable
        public mutating func next() -> Base.Element? {
            state.count.store(count, ordering: .relaxed)
            if stop.signal.load(ordering: .relaxed) != 0, StopRequest.reachedSafePoint() {
                bar.close()
                return nil
            }
            guard let element = base.next() else {
                bar.close()
                return nil
            }
            count &+= 1
            return element
        }
    }
}
