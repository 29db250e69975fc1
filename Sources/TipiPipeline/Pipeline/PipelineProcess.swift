import Foundation

/// A unit of work in a pipeline (level 5): created from its config params, then run.
///
/// `@PipelineProcess` writes the conforming type for a function. A process can also be written by hand,
/// as a struct or a class:
///
/// ```swift
/// struct Export: PipelineProcess {
///     var format = "onnx"
///     func skip() async throws -> Bool { FileManager.default.fileExists(atPath: "model.\(format)") }
///     func run() async throws { … }
/// }
/// ```
public protocol PipelineProcess: Decodable, Sendable {
    /// What `run` returns (ignored by the pipeline).
    associatedtype Output = Void
    /// The name configs use in `type = "…"`: the function's name, or the type's name.
    static var processName: String { get }
    /// A one-line description (from the doc comment), shown by `inspect`.
    static var summary: String? { get }
    /// The params, with types, defaults and help, for `inspect` and validation. Hand-written processes may
    /// leave it empty.
    static var parameters: [ProcessParameter] { get }
    /// The allowed range of numeric params, by name, checked before anything runs (see
    /// ``ParameterConstraint``): `["epochs": .range(1...)]`. `@PipelineProcess(constraints:)` writes it.
    static var constraints: [String: ParameterConstraint] { get }
    /// Creates the process from its config params, recording every problem in `params` (then answering
    /// `nil`). `@PipelineProcess` writes it to read each parameter straight from the params table; the
    /// default decodes the type through `Decodable` (`init(from:)`), so a hand-written process needs nothing
    /// more. Unknown params and ``constraints`` are checked by the pipeline either way.
    static func make(params: inout ProcessParams) -> Self?
    /// Whether the work is already done (say, its output exists); a skipped process is not run unless the
    /// config says `force = true`.
    func skip() async throws -> Bool
    /// Does the work.
    func run() async throws -> Output
}

extension PipelineProcess {
    public static var processName: String { String(describing: Self.self) }
    public static var summary: String? { nil }
    public static var parameters: [ProcessParameter] { [] }
    public static var constraints: [String: ParameterConstraint] { [:] }
    public static func make(params: inout ProcessParams) -> Self? { params.decodeThroughDecodable(Self.self) }
    public func skip() async throws -> Bool { false }
}

/// A long-lived resource shared by processes (a data set, a model, a device): created from its config
/// params, initialised before the first process, checkpointed, and cleaned up at the end — always, even
/// after a failure or Ctrl-C, in reverse order of creation.
///
/// ```swift
/// final class Dataset: Permanence, @unchecked Sendable {
///     let size: Int
///     private(set) var points: [Point] = []
///     func initialize() { points = makeSpiral(size) }
///     func cleanup() { points = [] }
/// }
/// ```
///
/// `init(from:)` (usually synthesized) should be cheap: it also runs during validation. Heavy work belongs in
/// `initialize()`. A process reaches a permanence by declaring a parameter of its type.
///
/// To survive `run --resume`, a permanence that processes change saves its state in
/// ``checkpoint(into:)`` and conforms to ``RestorablePermanence`` (which adds `restore(from:)`).
public protocol Permanence: AnyObject, Decodable, Sendable {
    /// The name configs use in `type = "…"`; the type's name by default.
    static var permanenceName: String { get }
    /// A one-line description, shown by `inspect`.
    static var summary: String? { get }
    /// The allowed range of numeric params, by name, checked before anything runs (see
    /// ``ParameterConstraint``): `["size": .range(1...)]`.
    static var constraints: [String: ParameterConstraint] { get }
    /// Called once before the first process.
    func initialize() async throws
    /// Called after each process that completed.
    func checkpoint() async throws
    /// Called after each process that completed, with a directory of the run's folder that belongs to this
    /// permanence and this process (`checkpoints/<n>-<process>/<permanence>/`, empty and already created):
    /// save there what ``RestorablePermanence/restore(from:)`` needs to bring the state back on resume. The
    /// default calls ``checkpoint()``. A throw fails the process that just completed.
    func checkpoint(into directory: URL) async throws
    /// Called once at the end, whatever happened.
    func cleanup() async throws
}

extension Permanence {
    public static var permanenceName: String { String(describing: Self.self) }
    public static var summary: String? { nil }
    public static var constraints: [String: ParameterConstraint] { [:] }
    public func initialize() async throws {}
    public func checkpoint() async throws {}
    public func checkpoint(into directory: URL) async throws { try await checkpoint() }
    public func cleanup() async throws {}
}

/// One parameter of a process, as `inspect` shows it and validation checks it.
public struct ProcessParameter: Sendable, Equatable {
    public var name: String
    public var typeName: String
    /// The default as written in the source (`10`, `0.001`, `"adam"`), or `nil` when the param is required.
    public var defaultValue: String?
    /// From the doc comment's `- Parameter name:` line.
    public var help: String?
    /// Whether the value is a permanence injected from the pipeline rather than read from params.
    public var isPermanence: Bool

    public init(name: String, type: Any.Type, typeName: String, defaultValue: String?, help: String?) {
        self.name = name
        self.typeName = typeName
        self.defaultValue = defaultValue
        self.help = help
        self.isPermanence = type is any Permanence.Type
    }
}
