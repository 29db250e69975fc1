/// What a pipeline program offers: its process types and permanence types (plus the built-in ones).
public struct PipelineDefinition: Sendable {
    public var name: String
    public var processes: [any PipelineProcess.Type]
    public var permanences: [any Permanence.Type]

    public init(name: String, processes: [any PipelineProcess.Type], permanences: [any Permanence.Type]) {
        self.name = name
        self.processes = processes
        self.permanences = permanences
    }

    /// Permanence types configs can name, the program's first (they may shadow a built-in one).
    var allPermanences: [any Permanence.Type] {
        permanences + [DevicePermanence.self].filter { builtin in !permanences.contains { $0.permanenceName == builtin.permanenceName } }
    }

    func process(named name: String) -> (any PipelineProcess.Type)? {
        processes.first { $0.processName == name } ?? processes.first { String(describing: $0) == name }
    }

    func permanence(named name: String) -> (any Permanence.Type)? {
        allPermanences.first { $0.permanenceName == name } ?? allPermanences.first { String(describing: $0) == name }
    }
}
