import Tipi

/// The `[pipeline]` section: Python tipi's keys, mapped onto Tipi's run and backends.
///
/// ```toml
/// [pipeline]
/// enable_progress = true
/// logger = "tensorboard"          # basic | tensorboard | wandb | mlflow (or exactly one enable_* flag)
/// project = "spirals"             # Tipi: the run's project (default: the pipeline's name)
/// [pipeline.basic_logger]         # log_dir, metrics_filename, log_level, log_file
/// [pipeline.tensorboard]          # log_dir, log_level, log_file
/// [pipeline.wandb]                # project, entity, name, tags, notes, count, log_level, log_file
/// [pipeline.mlflow]               # tracking_uri, experiment
/// ```
public struct PipelineSettings: Sendable, Equatable {
    public var enableProgress = true
    public var backends: [BackendKind] = []
    public var options = BackendOptions()
    public var project: String?
    public var runName: String?
    public var tags: [String] = []
    public var notes: String?
    /// Keys accepted for compatibility that Tipi does not use (reported by `validate`).
    public var ignored: [String] = []

    static let pipelineKeys = [
        "enable_progress", "logger", "enable_basic_logger", "enable_tensorboard", "enable_wandb", "enable_mlflow",
        "project", "name", "tags", "notes", "basic_logger", "tensorboard", "wandb", "mlflow",
    ]
    static let loggerTables: [String: [String]] = [
        "basic_logger": ["log_dir", "metrics_filename", "log_level", "log_file"],
        "tensorboard": ["log_dir", "log_level", "log_file"],
        "wandb": ["project", "entity", "name", "tags", "notes", "count", "log_level", "log_file"],
        "mlflow": ["tracking_uri", "experiment"],
    ]
    static let selectors: [String: (BackendKind, String)] = [
        "basic": (.jsonl, "basic_logger"), "jsonl": (.jsonl, "basic_logger"), "tensorboard": (.tensorboard, "tensorboard"),
        "wandb": (.wandb, "wandb"), "mlflow": (.mlflow, "mlflow"),
    ]

    /// Reads the `[pipeline]` table, collecting every problem.
    static func read(_ node: ConfigNode?, problems: inout [ConfigProblem]) -> PipelineSettings {
        var settings = PipelineSettings()
        guard let node else { return settings }
        guard case .table(let table, _) = node else {
            problems.append(ConfigProblem(code: "CFG004", location: node.location, path: "pipeline", message: "must be a table"))
            return settings
        }
        func string(_ key: String, in table: ConfigTable, path: String) -> String? {
            guard let value = table[key] else { return nil }
            guard case .string(let text, _) = value else {
                problems.append(
                    ConfigProblem(code: "CFG004", location: value.location, path: "\(path).\(key)", message: "expected a string, found \(value.typeName) \(value.text)"))
                return nil
            }
            return text
        }
        func bool(_ key: String) -> Bool? {
            guard let value = table[key] else { return nil }
            guard case .bool(let flag, _) = value else {
                problems.append(
                    ConfigProblem(
                        code: "CFG004", location: value.location, path: "pipeline.\(key)",
                        message: "expected true or false, found \(value.typeName) \(value.text)"))
                return nil
            }
            return flag
        }
        for key in table.keys where !pipelineKeys.contains(key) {
            problems.append(
                ConfigProblem(
                    code: "CFG004", location: table[key]?.location, path: "pipeline.\(key)", message: "unknown key",
                    help: Suggestion.nearest(to: key, in: pipelineKeys).map { "did you mean `\($0)`?" }
                        ?? "known keys: \(pipelineKeys.joined(separator: ", "))"))
        }
        settings.enableProgress = bool("enable_progress") ?? true
        settings.project = string("project", in: table, path: "pipeline")
        settings.runName = string("name", in: table, path: "pipeline")
        settings.notes = string("notes", in: table, path: "pipeline")
        if case .array(let tags, _)? = table["tags"] { settings.tags = tags.compactMap(\.stringValue) }

        // Logger selection: `logger = "…"` wins; otherwise at most one enable_* flag.
        var selected: (BackendKind, String)?
        if let value = table["logger"] {
            if case .string(let name, _) = value {
                if let selector = selectors[name.lowercased()] {
                    selected = selector
                } else {
                    problems.append(
                        ConfigProblem(
                            code: "CFG004", location: value.location, path: "pipeline.logger",
                            message: "unknown logger \"\(name)\"; expected basic, tensorboard, wandb or mlflow",
                            help: Suggestion.nearest(to: name.lowercased(), in: Array(selectors.keys)).map { "did you mean \"\($0)\"?" }))
                }
            } else {
                problems.append(
                    ConfigProblem(code: "CFG004", location: value.location, path: "pipeline.logger", message: "expected a string such as \"tensorboard\", found \(value.typeName) \(value.text)"))
            }
        } else {
            let flags: [(String, (BackendKind, String))] = [
                ("enable_basic_logger", (.jsonl, "basic_logger")), ("enable_tensorboard", (.tensorboard, "tensorboard")),
                ("enable_wandb", (.wandb, "wandb")), ("enable_mlflow", (.mlflow, "mlflow")),
            ]
            let enabled = flags.filter { bool($0.0) == true }
            if enabled.count > 1 {
                problems.append(
                    ConfigProblem(
                        code: "CFG004", location: table[enabled[1].0]?.location, path: "pipeline",
                        message: "only one logger backend can be enabled (\(enabled.map(\.0).joined(separator: ", ")))",
                        help: "keep one enable_* flag, or write logger = \"…\" (Tipi also takes TIPI_BACKENDS for several)"))
            }
            selected = enabled.first?.1
        }
        if let (kind, _) = selected { settings.backends = [kind] }

        // A fixed order, the selected logger's table first, so the same config always means the same thing.
        let order = ["basic_logger", "tensorboard", "wandb", "mlflow"]
        let tableOrder = order.filter { $0 == selected?.1 } + order.filter { $0 != selected?.1 }
        for tableName in tableOrder {
            guard let keys = loggerTables[tableName], let value = table[tableName] else { continue }
            guard case .table(let options, _) = value else {
                problems.append(ConfigProblem(code: "CFG004", location: value.location, path: "pipeline.\(tableName)", message: "must be a table"))
                continue
            }
            let path = "pipeline.\(tableName)"
            for key in options.keys where !keys.contains(key) {
                problems.append(
                    ConfigProblem(
                        code: "CFG004", location: options[key]?.location, path: "\(path).\(key)", message: "unknown key",
                        help: Suggestion.nearest(to: key, in: keys).map { "did you mean `\($0)`?" } ?? "known keys: \(keys.joined(separator: ", "))"))
            }
            switch tableName {
            case "basic_logger":
                if let directory = string("log_dir", in: options, path: path) {
                    settings.options.jsonlPath = directory + "/" + (string("metrics_filename", in: options, path: path) ?? "metrics.jsonl")
                }
            case "tensorboard":
                settings.options.tensorboardDirectory = string("log_dir", in: options, path: path)
            case "wandb":
                if let project = string("project", in: options, path: path) { settings.project = settings.project ?? project }
                if let name = string("name", in: options, path: path) { settings.runName = settings.runName ?? name }
                if let notes = string("notes", in: options, path: path) { settings.notes = settings.notes ?? notes }
                if case .array(let tags, _)? = options["tags"] { settings.tags += tags.compactMap(\.stringValue) }
                for key in ["entity", "count"] where options[key] != nil { settings.ignored.append("\(path).\(key)") }
            case "mlflow":
                settings.options.mlflowTrackingURI = string("tracking_uri", in: options, path: path)
                if let experiment = string("experiment", in: options, path: path) { settings.project = settings.project ?? experiment }
            default: break
            }
            for key in ["log_level", "log_file"] where options[key] != nil { settings.ignored.append("\(path).\(key)") }
        }
        return settings
    }
}
