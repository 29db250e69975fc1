import Synchronization

/// Wraps an `AsyncSequence` in a progress bar: `for await item in progressBar(stream, total: n) { … }`.
///
/// The wrapper throws exactly when the base sequence throws, so a non-throwing stream needs no `try`.
public func progressBar<S: AsyncSequence>(
    _ sequence: S,
    desc: String = "",
    total: Int? = nil,
    unit: String = "it",
    unitScale: Bool? = nil,
    unitDivisor: Int? = nil,
    initial: Int = 0,
    leave: Bool? = nil,
    disable: Bool = false
) -> AsyncProgressSequence<S> {
    AsyncProgressSequence(
        base: sequence,
        bar: ProgressBar(
            total: total, desc: desc, unit: unit, unitScale: unitScale, unitDivisor: unitDivisor,
            initial: initial, leave: leave, disable: disable))
}

/// An async sequence that yields its base's elements and counts them on a ``ProgressBar``.
@frozen
public struct AsyncProgressSequence<Base: AsyncSequence>: AsyncSequence {
    public typealias Element = Base.Element
    public typealias Failure = Base.Failure

    /// The wrapped sequence.
    public let base: Base
    /// The bar that counts the elements.
    public let bar: ProgressBar

    @inlinable
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), bar: bar)
    }

    /// See ``ProgressBar/setPostfix(_:)-([String:CustomStringConvertibleSendable])``.
    public func setPostfix(_ values: [String: any CustomStringConvertible & Sendable]) {
        bar.setPostfix(values)
    }

    /// See ``ProgressBar/setStatus(_:)``.
    public func setStatus(_ status: String) {
        bar.setStatus(status)
    }

    /// The iterator: the base iterator plus a counter published to the bar on every element.
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline var base: Base.AsyncIterator
        @usableFromInline let bar: ProgressBar
        @usableFromInline var count: Int

        @inlinable
        init(base: Base.AsyncIterator, bar: ProgressBar) {
            self.base = base
            self.bar = bar
            self.count = bar.n
        }

        /// A safe point, like the synchronous iterator's: after a stop signal the loop ends (in a pipeline)
        /// or the program ends (elsewhere).
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(Base.Failure) -> Base.Element? {
            bar.state.count.store(count, ordering: .relaxed)
            if StopRequest.isRequested, StopRequest.reachedSafePoint() {
                bar.close()
                return nil
            }
            guard let element = try await base.next(isolation: actor) else {
                bar.close()
                return nil
            }
            count &+= 1
            return element
        }

        @inlinable
        public mutating func next() async throws -> Base.Element? {
            try await next(isolation: nil)
        }
    }
}

extension AsyncProgressSequence: Sendable where Base: Sendable {}
