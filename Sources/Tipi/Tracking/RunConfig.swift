import Synchronization

/// What ``RunMetadata/config`` is kept as: the values, and the text `run.json` holds them as.
///
/// A run's `run.json` is rewritten about once a second, and a pipeline's config has an entry per process
/// (20,000 processes: ~2 MB of text). So the text is kept with the values and written again as it is, for
/// as long as the config is not changed (a change makes a new `RunConfig`). A pipeline writes that text
/// while it resolves its config; it then gives the values as a function, called only if something asks for
/// them (a tracking backend, `logger.updateConfig`): a pipeline that records into the store alone never
/// builds a dictionary per process.
package struct RunConfig: Sendable {
    private let box: Box

    /// Values given as they are (`logger.start(config:)`); their text is written once, when first needed.
    package init(_ values: [String: ConfigValue]) {
        box = Box(State(values: values, text: nil, produce: nil))
    }

    /// Values whose text is known, made by `values` only when asked for. `text` must be what
    /// ``PrettyJSONWriter/table(_:indent:)`` writes for them at indent 1 (the caller's tests check it).
    package init(text: [UInt8], values: @escaping @Sendable () -> [String: ConfigValue]) {
        box = Box(State(values: nil, text: text, produce: values))
    }

    /// The values (made now, once, when they were given as a function).
    package var values: [String: ConfigValue] {
        box.state.withLock { state in
            if let values = state.values { return values }
            let values = state.produce?() ?? [:]
            state.values = values
            state.produce = nil
            return values
        }
    }

    /// The values as ``PrettyJSONWriter/table(_:indent:)`` writes them at indent 1, written at most once.
    package var text: [UInt8] {
        if let text = box.state.withLock({ $0.text }) { return text }
        var writer = PrettyJSONWriter()
        writer.table(values, indent: 1)
        let text = writer.bytes
        box.state.withLock { $0.text = text }
        return text
    }

    private struct State {
        var values: [String: ConfigValue]?
        var text: [UInt8]?
        var produce: (@Sendable () -> [String: ConfigValue])?
    }

    /// Shared by the copies of one config (the metadata is copied to the writer's thread at each rewrite).
    private final class Box: Sendable {
        let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }
    }
}

extension RunConfig: Codable {
    package init(from decoder: any Decoder) throws {
        self.init(try [String: ConfigValue](from: decoder))
    }

    package func encode(to encoder: any Encoder) throws {
        try values.encode(to: encoder)
    }
}
