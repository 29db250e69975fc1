/// What a pipeline hands to the helpers while it runs one of its processes.
///
/// `progressBar`, and in later levels `logger` and `deviceManager`, ask ``current`` first: inside a pipeline
/// they use the pipeline's progress display, run and device; in a plain program (`current == nil`) they
/// work on their own. The training code does not change between the two.
///
/// ```swift
/// let display = ProgressDisplay()
/// try await withPipelineContext(PipelineContext(processName: "train", progress: display)) {
///     try await train(epochs: 3)          // its bars draw on `display`
/// }
/// ```
///
/// The value is task-local: it reaches child tasks (`async let`, task groups, `Task {}`) and synchronous
/// code called from them, but not `Task.detached` or Dispatch queues. Capture `PipelineContext.current`
/// and bind it again with ``withPipelineContext(_:operation:)-(_,()->R)`` there.
public struct PipelineContext: Sendable {
    /// The name of the process running, when a pipeline runs one.
    public var processName: String?
    /// The display that progress bars draw on, in place of ``ProgressDisplay/shared``.
    public var progress: ProgressDisplay?
    /// The device `deviceManager.getDevice()` returns, in place of choosing one.
    public var device: Device?
    /// The run `logger` writes to, in place of starting its own.
    public var run: Run? {
        get { runBinding?.run }
        set { runBinding = newValue.map(PipelineRunBinding.init) }
    }
    /// The run, held by a token that counts the contexts carrying one (see ``PipelineRunBinding``).
    private var runBinding: PipelineRunBinding?

    /// Creates a context.
    public init(processName: String? = nil, progress: ProgressDisplay? = nil, device: Device? = nil, run: Run? = nil) {
        self.processName = processName
        self.progress = progress
        self.device = device
        self.runBinding = run.map(PipelineRunBinding.init)
    }

    /// The context of the running pipeline, or `nil` in a plain program.
    @TaskLocal public static var current: PipelineContext?

    /// Whether the calling code runs inside a pipeline.
    public static var isInPipeline: Bool {
        current != nil
    }
}

/// Runs `operation` with `context` as ``PipelineContext/current``; the previous value is restored afterwards.
@inlinable @discardableResult
public func withPipelineContext<R>(_ context: PipelineContext, operation: () throws -> R) rethrows -> R {
    try PipelineContext.$current.withValue(context, operation: operation)
}

/// Runs the asynchronous `operation` with `context` as ``PipelineContext/current``.
///
/// Inlinable: a caller in another module then binds the context itself, without executor switches into and
/// out of this function (a pipeline's process loop: 4 switches a process instead of 9).
@inlinable @discardableResult
public func withPipelineContext<R>(
    _ context: PipelineContext,
    isolation: isolated (any Actor)? = #isolation,
    operation: () async throws -> R
) async rethrows -> R {
    try await PipelineContext.$current.withValue(context, operation: operation, isolation: isolation)
}
