@_exported import Tipi

/// Turns a function into a pipeline process (level 4). The function stays an ordinary function.
///
/// ```swift
/// /// Trains the network.
/// /// - Parameters:
/// ///   - epochs: Passes over the data.
/// ///   - learningRate: The step size.
/// @PipelineProcess
/// func train(epochs: Int = 10, learningRate: Double = 0.001, data: Dataset) async throws {
///     for epoch in progressBar(0..<epochs, desc: "Epochs") { … logger.log(["loss": loss]) }
/// }
///
/// try await train(epochs: 5, data: dataset)      // still callable directly
/// ```
///
/// The macro adds a struct `trainProcess` beside the function (Swift only allows a name derived from the
/// function's at global scope); list it with `#processes(train)` rather than spelling it. Its stored
/// properties are the parameters, read from a config's params with their defaults kept; a parameter whose
/// type is a ``Permanence`` is injected from the pipeline (by the key given in params, else by type).
/// Doc comments become the help text of `inspect`.
///
/// Works on global and static functions, sync or async, throwing or not, with any return type; the access
/// level is mirrored. Generic functions, instance methods, variadic or `inout` parameters, and parameter
/// types that a config cannot express (functions, `some`/`any`, tuples) are compile-time errors.
@attached(peer, names: suffixed(Process))
public macro PipelineProcess() = #externalMacro(module: "TipiMacros", type: "PipelineProcessMacro")

/// ``PipelineProcess()`` with the allowed range of numeric parameters, checked by pre-flight validation
/// (see ``ParameterConstraint``); a key that names no parameter is a compile-time error.
///
/// ```swift
/// @PipelineProcess(constraints: ["epochs": .range(1...), "learningRate": .positive])
/// func train(epochs: Int = 10, learningRate: Double = 0.001, data: Dataset) async throws { … }
/// ```
@attached(peer, names: suffixed(Process))
public macro PipelineProcess(constraints: [String: ParameterConstraint]) =
    #externalMacro(module: "TipiMacros", type: "PipelineProcessMacro")

/// The process types of functions marked ``PipelineProcess()``: `#processes(train, evaluate)`.
/// Hand-written process types can be listed as well: `#processes(train, ExportProcess.self)`.
@freestanding(expression)
public macro processes(_ functions: Any...) -> [any PipelineProcess.Type] =
    #externalMacro(module: "TipiMacros", type: "ProcessListMacro")
