import Foundation

/// What `inspect` prints: processes and permanences with their params, and a config template.
enum Inspection {
    static func text(_ definition: PipelineDefinition) -> String {
        var lines = ["\(definition.name) pipeline", "", "processes"]
        if definition.processes.isEmpty { lines.append("  (none)") }
        for process in definition.processes {
            lines.append("  \(process.processName)" + (process.summary.map { " — \($0)" } ?? ""))
            let parameters = process.parameters
            let width = parameters.map { signature($0).count }.max() ?? 0
            for parameter in parameters {
                let text = signature(parameter)
                guard let help = parameter.help else {
                    lines.append("      \(text)")
                    continue
                }
                lines.append("      \(text.padding(toLength: width, withPad: " ", startingAt: 0))   \(help)")
            }
        }
        lines += ["", "permanences"]
        for permanence in definition.allPermanences {
            lines.append("  \(permanence.permanenceName)" + (permanence.summary.map { " — \($0)" } ?? ""))
        }
        lines += ["", "config template", ""]
        lines.append(template(definition))
        return lines.joined(separator: "\n")
    }

    static func signature(_ parameter: ProcessParameter) -> String {
        if parameter.isPermanence { return "\(parameter.name): \(parameter.typeName) (permanence)" }
        return "\(parameter.name): \(parameter.typeName)" + (parameter.defaultValue.map { " = \($0)" } ?? " (required)")
    }

    /// A config that runs every process once, with the defaults written out.
    static func template(_ definition: PipelineDefinition) -> String {
        var lines = ["[pipeline]", "enable_progress = true", "# logger = \"tensorboard\"   # basic | tensorboard | wandb | mlflow", ""]
        let needed = Set(definition.processes.flatMap { $0.parameters.filter(\.isPermanence).map(\.typeName) })
        for permanence in definition.permanences where needed.contains(permanence.permanenceName) || needed.contains(String(describing: permanence)) {
            lines += ["[permanences.\(snake(permanence.permanenceName))]", "type = \"\(permanence.permanenceName)\"", "params = {}", ""]
        }
        for process in definition.processes {
            lines += ["[processes.\(process.processName)]", "type = \"\(process.processName)\""]
            let values = process.parameters.filter { !$0.isPermanence }.map { parameter -> String in
                "\(parameter.name) = \(tomlValue(parameter))"
            }
            lines.append("params = { \(values.joined(separator: ", ")) }")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    static func tomlValue(_ parameter: ProcessParameter) -> String {
        guard let value = parameter.defaultValue else {
            switch parameter.typeName {
            case "Int": return "0"
            case "Double", "Float": return "0.0"
            case "Bool": return "false"
            default: return "\"\""
            }
        }
        if value.hasPrefix(".") { return "\"\(value.dropFirst())\"" }
        return value
    }

    static func snake(_ name: String) -> String {
        var result = ""
        for (index, character) in name.enumerated() {
            if character.isUppercase, index > 0 { result += "_" }
            result += character.lowercased()
        }
        return result
    }

    static func json(_ definition: PipelineDefinition) -> String {
        let object: [String: Any] = [
            "name": definition.name,
            "processes": definition.processes.map { process in
                [
                    "name": process.processName, "summary": process.summary ?? NSNull(),
                    "parameters": process.parameters.map { parameter in
                        [
                            "name": parameter.name, "type": parameter.typeName, "default": parameter.defaultValue ?? NSNull(),
                            "help": parameter.help ?? NSNull(), "permanence": parameter.isPermanence,
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
            "permanences": definition.allPermanences.map { ["name": $0.permanenceName, "summary": $0.summary ?? NSNull()] as [String: Any] },
            "template": template(definition),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
