import Foundation
import Tipi

/// What a sweep runs: the `[sweep]` section of a config, with the command line's flags over it.
///
/// ```toml
/// [sweep]
/// method = "random"        # grid | random | tpe
/// metric = "loss"
/// goal = "minimize"        # minimize | maximize
/// trials = 20
/// parallel = 2
/// launcher = "local"       # local | slurm
/// seed = 7
/// [sweep.params]
/// "processes.training.params.epochs" = [10, 20, 40]
/// "processes.training.params.learningRate" = { distribution = "log_uniform", min = 1e-4, max = 1.0 }
/// ```
struct SweepSpec: Sendable {
    enum Method: String, Sendable, CaseIterable { case grid, random, tpe }
    enum Launcher: String, Sendable, CaseIterable { case local, slurm }

    var method: Method = .grid
    var metric: String?
    var goal = "minimize"
    var trials: Int?
    var parallel = 1
    var launcher: Launcher = .local
    var seed: UInt64?
    var parameters: [SweepParameter] = []
    var earlyStop: EarlyStopRule?
    var slurm: SlurmOptions = SlurmOptions()

    /// The most points a sweep may have (a grid's combinations, or trials).
    static let maximumPoints = 100_000
    static let keys = ["method", "metric", "goal", "trials", "parallel", "launcher", "seed", "params", "early_stop", "slurm"]
    static let distributions = ["uniform", "log_uniform", "int_uniform"]

    /// Command-line values that replace the `[sweep]` table's (nil: not given).
    struct Flags: Sendable {
        var sweeps: [String] = []
        var method: String?
        var trials: Int?
        var parallel: Int?
        var launcher: String?
        var metric: String?
        var goal: String?
        var seed: UInt64?
    }

    /// Reads `[sweep]` from `document` and the flags; every problem is collected.
    static func read(_ document: ConfigTable, flags: Flags) -> Result<SweepSpec, ConfigProblems> {
        var spec = SweepSpec()
        var problems: [ConfigProblem] = []
        func problem(_ node: ConfigNode?, _ path: String, _ message: String, help: String? = nil) {
            problems.append(ConfigProblem(code: "SWP001", location: node?.location, path: path, message: message, help: help))
        }
        var table = ConfigTable()
        if let node = document["sweep"] {
            if case .table(let value, _) = node {
                table = value
            } else {
                problem(node, "sweep", "must be a table ([sweep]), found \(node.typeName) \(node.text)")
            }
        }
        for (key, value) in table.entries where !keys.contains(key) {
            problem(
                value, "sweep.\(key)", "unknown key",
                help: Suggestion.nearest(to: key, in: keys).map { "did you mean `\($0)`?" } ?? "known keys: \(keys.joined(separator: ", "))")
        }
        func string(_ key: String) -> (String, ConfigNode)? {
            guard let node = table[key] else { return nil }
            guard case .string(let text, _) = node else {
                problem(node, "sweep.\(key)", "expected a string, found \(node.typeName) \(node.text)")
                return nil
            }
            return (text, node)
        }
        func integer(_ key: String, minimum: Int) -> Int? {
            guard let node = table[key] else { return nil }
            guard case .int(let number, _) = node, number >= minimum else {
                problem(node, "sweep.\(key)", "expected a whole number from \(minimum), found \(node.typeName) \(node.text)")
                return nil
            }
            return number
        }
        func choice<T: RawRepresentable & CaseIterable>(_ text: String, _ type: T.Type, node: ConfigNode?, path: String) -> T? where T.RawValue == String {
            if let value = T(rawValue: text) { return value }
            let known = T.allCases.map(\.rawValue)
            problems.append(
                ConfigProblem(
                    code: "SWP001", location: node?.location, path: path, message: "unknown value \"\(TerminalText.excerpt(text, limit: 40))\"",
                    help: Suggestion.nearest(to: text, in: known).map { "did you mean \"\($0)\"?" } ?? "one of: \(known.joined(separator: ", "))"))
            return nil
        }

        if let text = flags.method {
            spec.method = choice(text, Method.self, node: nil, path: "--method") ?? spec.method
        } else if let (text, node) = string("method") {
            spec.method = choice(text, Method.self, node: node, path: "sweep.method") ?? spec.method
        } else if table["params"] == nil, !flags.sweeps.isEmpty {
            spec.method = .grid
        }
        if let text = flags.launcher {
            spec.launcher = choice(text, Launcher.self, node: nil, path: "--launcher") ?? spec.launcher
        } else if let (text, node) = string("launcher") {
            spec.launcher = choice(text, Launcher.self, node: node, path: "sweep.launcher") ?? spec.launcher
        }
        spec.metric = flags.metric ?? string("metric")?.0
        if let metric = spec.metric, metric.isEmpty || TerminalText.printable(metric) != metric {
            problem(table["metric"], "sweep.metric", "expected a metric name, found \"\(TerminalText.excerpt(metric, limit: 40))\"")
        }
        let goal = flags.goal.map { ($0, nil as ConfigNode?) } ?? string("goal").map { ($0.0, Optional($0.1)) }
        if let (text, node) = goal {
            if ["minimize", "maximize"].contains(text) {
                spec.goal = text
            } else {
                let guess = Suggestion.nearest(to: text, in: ["minimize", "maximize", "min", "max"]).map { $0.hasPrefix("min") ? "minimize" : "maximize" }
                problems.append(
                    ConfigProblem(
                        code: "SWP001", location: node?.location, path: flags.goal == nil ? "sweep.goal" : "--goal",
                        message: "unknown value \"\(TerminalText.excerpt(text, limit: 40))\"",
                        help: guess.map { "did you mean \"\($0)\"?" } ?? "minimize or maximize"))
            }
        }
        spec.trials = flags.trials ?? integer("trials", minimum: 1)
        if let trials = flags.trials, trials < 1 { problem(nil, "--trials", "expected a whole number from 1, found \(trials)") }
        spec.parallel = flags.parallel ?? integer("parallel", minimum: 1) ?? 1
        if let parallel = flags.parallel, parallel < 1 { problem(nil, "--parallel", "expected a whole number from 1, found \(parallel)") }
        if let seed = flags.seed {
            spec.seed = seed
        } else if let node = table["seed"] {
            if case .int(let number, _) = node, number >= 0 { spec.seed = UInt64(number) } else { problem(node, "sweep.seed", "expected a whole number from 0, found \(node.typeName) \(node.text)") }
        }

        if let node = table["params"] {
            if case .table(let params, _) = node {
                for (path, value) in params.entries {
                    if let parameter = readParameter(path: path, node: value, problems: &problems) { spec.parameters.append(parameter) }
                }
            } else {
                problem(node, "sweep.params", "expected a table of config paths, found \(node.typeName) \(node.text)")
            }
        }
        for argument in flags.sweeps {
            guard let parameter = readFlag(argument, problems: &problems) else { continue }
            // A --sweep flag replaces the config's values for the same path.
            spec.parameters.removeAll { $0.path == parameter.path }
            spec.parameters.append(parameter)
        }
        if let node = table["early_stop"] {
            spec.earlyStop = EarlyStopRule.read(node, problems: &problems)
        }
        if let node = table["slurm"] {
            spec.slurm = SlurmOptions.read(node, problems: &problems)
        }

        if spec.parameters.isEmpty, problems.isEmpty {
            problems.append(
                ConfigProblem(
                    code: "SWP001", message: "nothing to sweep: no [sweep.params] in the config and no --sweep flag",
                    help: "add --sweep processes.training.params.learningRate=0.1,0.3,1.0, or a [sweep.params] table"))
        }
        if spec.method == .grid {
            for parameter in spec.parameters where parameter.domain.gridValues == nil {
                problems.append(
                    ConfigProblem(
                        code: "SWP002", location: parameter.location, path: parameter.argument ?? "sweep.params.\(parameter.path)",
                        message: "a grid needs a list of values, or a range with a step",
                        help: "add step = …, give a list, or use method = \"random\" or \"tpe\""))
            }
        } else if spec.trials == nil {
            spec.trials = 10
        }
        if spec.method == .tpe || spec.earlyStop != nil, spec.metric == nil {
            problems.append(
                ConfigProblem(
                    code: "SWP001", location: table.entries.isEmpty ? nil : document["sweep"]?.location, path: "sweep.metric",
                    message: spec.method == .tpe ? "tpe needs the metric it optimises" : "early stopping needs the metric it compares",
                    help: "add metric = \"loss\" to [sweep], or --metric NAME"))
        }
        if problems.isEmpty, spec.method == .grid {
            let size = spec.parameters.reduce(1.0) { $0 * Double($1.domain.gridValues?.count ?? 1) }
            if size > Double(maximumPoints) {
                problems.append(
                    ConfigProblem(
                        code: "SWP002", path: "sweep.params",
                        message: "the grid has \(ParameterConstraint.format(size)) points, more than \(maximumPoints)",
                        help: "sweep fewer values, or use method = \"random\" with trials = N"))
            }
        }
        if let trials = spec.trials, trials > maximumPoints {
            problems.append(ConfigProblem(code: "SWP001", path: "sweep.trials", message: "\(trials) trials is more than \(maximumPoints)"))
        }
        guard problems.isEmpty else { return .failure(ConfigProblems(problems)) }
        return .success(spec)
    }

    /// One `[sweep.params]` entry: a list, or `{ distribution = …, min = …, max = … }`.
    private static func readParameter(path: String, node: ConfigNode, problems: inout [ConfigProblem]) -> SweepParameter? {
        let where_ = "sweep.params.\(TerminalText.printable(path))"
        func fail(_ message: String, _ at: ConfigNode?, help: String? = nil) -> SweepParameter? {
            problems.append(ConfigProblem(code: "SWP002", location: at?.location ?? node.location, path: where_, message: message, help: help))
            return nil
        }
        guard !path.isEmpty, TerminalText.printable(path) == path, (try? TOMLParser.parseKey(path)) != nil else {
            return fail("not a config path", nil, help: "write the path as --set does: \"processes.training.params.epochs\"")
        }
        switch node {
        case .array(let values, _):
            guard !values.isEmpty else { return fail("an empty list: nothing to sweep", node, help: "give at least one value: [0.1, 0.3]") }
            return SweepParameter(path: path, domain: .values(values), location: node.location)
        case .table(let table, _):
            if let values = table["values"] {
                guard case .array(let list, _) = values, !list.isEmpty else {
                    return fail("`values` must be a non-empty list, found \(values.typeName) \(values.text)", values)
                }
                return SweepParameter(path: path, domain: .values(list), location: node.location)
            }
            guard let kindNode = table["distribution"] else {
                return fail("missing `distribution`", node, help: "one of: \(distributions.joined(separator: ", ")), or a list of values")
            }
            guard case .string(let kind, _) = kindNode, distributions.contains(kind) else {
                return fail(
                    "unknown distribution \(kindNode.text)", kindNode,
                    help: kindNode.stringValue.flatMap { Suggestion.nearest(to: $0, in: distributions) }.map { "did you mean \"\($0)\"?" }
                        ?? "one of: \(distributions.joined(separator: ", "))")
            }
            let allowed = ["distribution", "min", "max"] + (kind == "log_uniform" ? [] : ["step"])
            for (key, value) in table.entries where !allowed.contains(key) {
                problems.append(
                    ConfigProblem(
                        code: "SWP002", location: value.location, path: "\(where_).\(key)", message: "unknown key for \(kind)",
                        help: Suggestion.nearest(to: key, in: allowed).map { "did you mean `\($0)`?" } ?? "keys: \(allowed.joined(separator: ", "))"))
            }
            func number(_ key: String, whole: Bool) -> Double? {
                guard let value = table[key] else {
                    problems.append(ConfigProblem(code: "SWP002", location: node.location, path: where_, message: "missing `\(key)`", help: "add \(key) = …"))
                    return nil
                }
                switch value {
                case .int(let number, _): return Double(number)
                case .double(let number, _) where !whole && number.isFinite: return number
                default:
                    problems.append(
                        ConfigProblem(
                            code: "SWP002", location: value.location, path: "\(where_).\(key)",
                            message: "expected \(whole ? "a whole number" : "a finite number"), found \(value.typeName) \(value.text)"))
                    return nil
                }
            }
            let whole = kind == "int_uniform"
            guard let low = number("min", whole: whole), let high = number("max", whole: whole) else { return nil }
            let step = table["step"] != nil ? number("step", whole: whole) : nil
            if table["step"] != nil, step == nil { return nil }
            guard low <= high else {
                return fail("min (\(ParameterConstraint.format(low))) is greater than max (\(ParameterConstraint.format(high)))", table["min"], help: "swap them")
            }
            if let step, step <= 0 { return fail("step must be positive, found \(ParameterConstraint.format(step))", table["step"]) }
            if kind == "log_uniform", low <= 0 {
                return fail("log_uniform needs min > 0, found \(ParameterConstraint.format(low))", table["min"], help: "use uniform for ranges that reach 0")
            }
            let domain: SweepDomain
            switch kind {
            case "uniform": domain = .uniform(min: low, max: high, step: step)
            case "log_uniform": domain = .logUniform(min: low, max: high)
            default:
                guard abs(low) < 1e18, abs(high) < 1e18 else { return fail("min and max must be below 10^18 in size", node) }
                domain = .intUniform(min: Int(low), max: Int(high), step: Int(step ?? 1))
            }
            return SweepParameter(path: path, domain: domain, location: node.location)
        default:
            return fail(
                "expected a list of values or a distribution, found \(node.typeName) \(node.text)", node,
                help: "write [\(node.text)] for one value, or { distribution = \"uniform\", min = 0.0, max = 1.0 }")
        }
    }

    /// One `--sweep KEY=V1,V2,…` flag: the values are read as `--set` reads a value.
    private static func readFlag(_ argument: String, problems: inout [ConfigProblem]) -> SweepParameter? {
        let shown = TerminalText.excerpt(argument, limit: 200)
        func fail(_ message: String, help: String? = nil) -> SweepParameter? {
            problems.append(ConfigProblem(code: "SWP002", path: "--sweep \(shown)", message: message, help: help))
            return nil
        }
        guard let equals = argument.firstIndex(of: "=") else {
            return fail("expected KEY=V1,V2,…, found no `=`", help: "for example --sweep processes.training.params.learningRate=0.1,0.3,1.0")
        }
        let path = String(argument[..<equals]).trimmingCharacters(in: .whitespaces)
        guard !path.isEmpty, (try? TOMLParser.parseKey(path)) != nil else {
            return fail("'\(TerminalText.excerpt(path, limit: 80))' is not a config path", help: "write the path as --set does: processes.training.params.epochs")
        }
        let pieces = splitValues(String(argument[argument.index(after: equals)...]))
        guard !pieces.isEmpty, !pieces.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return fail("an empty value in the list", help: "separate values by commas: \(path)=0.1,0.3,1.0")
        }
        var values: [ConfigNode] = []
        for piece in pieces {
            let text = piece.trimmingCharacters(in: .whitespaces)
            do throws(TOMLParser.SyntaxError) {
                values.append(try TOMLParser.parseValue(text))
            } catch {
                let startsLikeValue = text.first.map { "\"'[{".contains($0) } ?? false
                let looksNumeric = text.first.map { $0.isNumber || $0 == "-" || $0 == "+" } ?? false
                if startsLikeValue || (looksNumeric && Double(text) != nil) {
                    return fail("'\(TerminalText.excerpt(text, limit: 40))' is not a valid TOML value: \(error.message)")
                }
                values.append(.string(text, nil))
            }
        }
        return SweepParameter(path: path, domain: .values(values), location: nil, argument: "--sweep \(shown)")
    }

    /// Splits `a,b,[c,d],"e,f"` at the commas outside brackets, braces and quotes.
    static func splitValues(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        var escaped = false
        for character in text {
            if let open = quote {
                current.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\", open == "\"" {
                    escaped = true
                } else if character == open {
                    quote = nil
                }
                continue
            }
            switch character {
            case "\"", "'": quote = character
            case "[", "{": depth += 1
            case "]", "}": depth = max(depth - 1, 0)
            case "," where depth == 0:
                pieces.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        pieces.append(current)
        return pieces
    }
}
