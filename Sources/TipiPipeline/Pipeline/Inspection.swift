import Foundation

/// What `inspect` prints: processes and permanences with their params and allowed ranges, and a config
/// template. Names and doc text are printed through ``TerminalText/printable(_:allowNewlines:)``.
enum Inspection {
    static func text(_ definition: PipelineDefinition) -> String {
        var lines = ["\(definition.name) pipeline", "", "processes"]
        if definition.processes.isEmpty { lines.append("  (none)") }
        for process in definition.processes {
            lines.append(printable("  \(process.processName)" + (process.summary.map { " — \($0)" } ?? "")))
            let parameters = process.parameters
            let constraints = process.constraints
            let width = parameters.map { signature($0, constraints[$0.name]).count }.max() ?? 0
            for parameter in parameters {
                let text = signature(parameter, constraints[parameter.name])
                guard let help = parameter.help else {
                    lines.append(printable("      \(text)"))
                    continue
                }
                lines.append(printable("      \(text.padding(toLength: width, withPad: " ", startingAt: 0))   \(help)"))
            }
            if parameters.isEmpty {
                for parameter in DecodedParameters.of(process, constraints: constraints) {
                    let range = constraints[parameter.name].map { ", \($0)" } ?? ""
                    lines.append(printable("      \(parameter.name): \(parameter.typeName) (\(parameter.isRequired ? "required" : "optional"))\(range)"))
                }
            }
            let declared = Set(parameters.map(\.name))
            for (name, constraint) in constraints.sorted(by: { $0.key < $1.key }) where !declared.contains(name) {
                lines.append(printable("      \(name): \(constraint)"))
            }
        }
        lines += ["", "permanences"]
        for permanence in definition.allPermanences {
            lines.append(printable("  \(permanence.permanenceName)" + (permanence.summary.map { " — \($0)" } ?? "")))
            let parameters = DecodedParameters.of(permanence, constraints: permanence.constraints)
            for parameter in parameters {
                let constraint = permanence.constraints[parameter.name].map { ", \($0)" } ?? ""
                lines.append(printable("      \(parameter.name): \(parameter.typeName) (\(parameter.isRequired ? "required" : "optional"))\(constraint)"))
            }
            let listed = Set(parameters.map(\.name))
            for (name, constraint) in permanence.constraints.sorted(by: { $0.key < $1.key }) where !listed.contains(name) {
                lines.append(printable("      \(name): \(constraint)"))
            }
        }
        lines += ["", "config template", ""]
        lines.append(template(definition))
        return lines.joined(separator: "\n")
    }

    private static func printable(_ text: String) -> String {
        TerminalText.printable(text)
    }

    /// `epochs: Int = 10, ≥ 1`, `threshold: Double (required)`, `data: Dataset (permanence)`.
    static func signature(_ parameter: ProcessParameter, _ constraint: ParameterConstraint? = nil) -> String {
        if parameter.isPermanence { return "\(parameter.name): \(parameter.typeName) (permanence)" }
        return "\(parameter.name): \(parameter.typeName)" + (parameter.defaultValue.map { " = \($0)" } ?? " (required)")
            + (constraint.map { ", \($0)" } ?? "")
    }

    /// A config that runs every process once, with the defaults written out.
    static func template(_ definition: PipelineDefinition) -> String {
        var lines = ["[pipeline]", "enable_progress = true", "# logger = \"tensorboard\"   # basic | tensorboard | wandb | mlflow", ""]
        let needed = Set(definition.processes.flatMap { $0.parameters.filter(\.isPermanence).map(\.typeName) })
        for permanence in definition.permanences where needed.contains(permanence.permanenceName) || needed.contains(String(describing: permanence)) {
            lines += ["[permanences.\(snake(permanence.permanenceName))]", "type = \"\(permanence.permanenceName)\""]
            lines += decodedParams(DecodedParameters.of(permanence, constraints: permanence.constraints), permanence.constraints) + [""]
        }
        for process in definition.processes {
            lines += ["[processes.\(process.processName)]", "type = \"\(process.processName)\""]
            guard process.parameters.isEmpty else {
                let values = process.parameters.filter { !$0.isPermanence }.map { parameter -> String in
                    "\(parameter.name) = \(tomlValue(parameter, process.constraints[parameter.name]))"
                }
                lines += ["params = { \(values.joined(separator: ", ")) }", ""]
                continue
            }
            lines += decodedParams(DecodedParameters.of(process, constraints: process.constraints), process.constraints) + [""]
        }
        return lines.joined(separator: "\n")
    }

    /// The `params = { … }` line of a type whose params were found by decoding it: required ones with a
    /// placeholder, named in a comment above (to be replaced), optional ones in a comment.
    static func decodedParams(_ parameters: [DecodedParameter], _ constraints: [String: ParameterConstraint]) -> [String] {
        var lines: [String] = []
        let required = parameters.filter(\.isRequired)
        let optional = parameters.filter { !$0.isRequired }
        if !required.isEmpty {
            lines.append("# required, replace the placeholders: " + required.map { "\($0.name) (\($0.typeName))" }.joined(separator: ", "))
        }
        if !optional.isEmpty {
            lines.append("# optional: " + optional.map { "\($0.name) (\($0.typeName))" }.joined(separator: ", "))
        }
        let values = required.map { "\($0.name) = \(placeholder($0.typeName, constraints[$0.name]))" }
        return lines + [values.isEmpty ? "params = {}" : "params = { \(values.joined(separator: ", ")) }"]
    }

    /// A value for the template: the default, else a value of the type that the constraint allows.
    static func tomlValue(_ parameter: ProcessParameter, _ constraint: ParameterConstraint? = nil) -> String {
        guard let value = parameter.defaultValue else { return placeholder(parameter.typeName, constraint) }
        if value.hasPrefix(".") { return "\"\(value.dropFirst())\"" }
        return value
    }

    /// A value of the type named `typeName` for a required param: the smallest `constraint` allows (or 0),
    /// `false` or `""`.
    static func placeholder(_ typeName: String, _ constraint: ParameterConstraint?) -> String {
        let number = placeholderNumber(constraint)
        switch typeName {
        case "Int", "Int64", "Int32", "UInt": return ParameterConstraint.format(number.rounded(.up))
        case "Double", "Float": return ParameterConstraint.format(number) + (number == number.rounded() ? ".0" : "")
        case "Bool": return "false"
        default: return "\"\""
        }
    }

    /// The number placeholders use: 0 when `constraint` allows it, else its lowest allowed whole step.
    static func placeholderNumber(_ constraint: ParameterConstraint?) -> Double {
        let low = constraint?.minimum.map { $0 + (constraint?.excludesMinimum == true ? 1 : 0) } ?? 0
        return constraint?.contains(0) == false ? low : 0
    }

    static func snake(_ name: String) -> String {
        var result = ""
        for (index, character) in name.enumerated() {
            if character.isUppercase, index > 0 { result += "_" }
            result += character.lowercased()
        }
        return result
    }

    /// The same as JSON; an error when it cannot be written.
    static func json(_ definition: PipelineDefinition) throws -> String {
        let object: [String: Any] = [
            "name": definition.name,
            "processes": definition.processes.map { process in
                [
                    "name": process.processName, "summary": process.summary ?? NSNull(),
                    "parameters": process.parameters.map { parameter in
                        [
                            "name": parameter.name, "type": parameter.typeName, "default": parameter.defaultValue ?? NSNull(),
                            "help": parameter.help ?? NSNull(), "permanence": parameter.isPermanence,
                            "constraint": process.constraints[parameter.name].map { $0.description as Any } ?? NSNull(),
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
            "permanences": definition.allPermanences.map { permanence in
                [
                    "name": permanence.permanenceName, "summary": permanence.summary ?? NSNull(),
                    "constraints": permanence.constraints.mapValues(\.description),
                    "parameters": DecodedParameters.of(permanence, constraints: permanence.constraints).map { parameter in
                        ["name": parameter.name, "type": parameter.typeName, "required": parameter.isRequired] as [String: Any]
                    },
                ] as [String: Any]
            },
            "template": template(definition),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
