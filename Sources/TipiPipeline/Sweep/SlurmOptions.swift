import Tipi

/// `[sweep.slurm]`: the `sbatch` options of a sweep with `launcher = "slurm"`.
///
/// ```toml
/// [sweep.slurm]
/// partition = "gpu"
/// time = "01:00:00"
/// gpus_per_task = 1
/// cpus_per_task = 4
/// mem = "16G"
/// account = "lab"
/// extra = ["#SBATCH --qos=normal"]
/// ```
struct SlurmOptions: Sendable, Equatable {
    var partition: String?
    var time: String?
    var gpusPerTask: Int?
    var cpusPerTask: Int?
    var memory: String?
    var account: String?
    /// Lines added to the batch script as they are (`#SBATCH --qos=…`, `module load cuda`).
    var extra: [String] = []

    static let keys = ["partition", "time", "gpus_per_task", "cpus_per_task", "mem", "account", "extra"]

    /// Reads the table, collecting every problem.
    static func read(_ node: ConfigNode, problems: inout [ConfigProblem]) -> SlurmOptions {
        var options = SlurmOptions()
        guard case .table(let table, _) = node else {
            problems.append(ConfigProblem(code: "SWP003", location: node.location, path: "sweep.slurm", message: "must be a table"))
            return options
        }
        for (key, value) in table.entries where !keys.contains(key) {
            problems.append(
                ConfigProblem(
                    code: "SWP003", location: value.location, path: "sweep.slurm.\(key)", message: "unknown key",
                    help: Suggestion.nearest(to: key, in: keys).map { "did you mean `\($0)`?" } ?? "known keys: \(keys.joined(separator: ", "))"))
        }
        func text(_ key: String) -> String? {
            guard let value = table[key] else { return nil }
            // A value goes into an `#SBATCH` line: one line of printable text.
            guard case .string(let text, _) = value, !text.isEmpty, TerminalText.printable(text) == text, !text.contains(" ") else {
                problems.append(
                    ConfigProblem(
                        code: "SWP003", location: value.location, path: "sweep.slurm.\(key)",
                        message: "expected one word of printable text, found \(value.typeName) \(value.text)"))
                return nil
            }
            return text
        }
        func count(_ key: String) -> Int? {
            guard let value = table[key] else { return nil }
            guard case .int(let number, _) = value, number >= 0 else {
                problems.append(
                    ConfigProblem(
                        code: "SWP003", location: value.location, path: "sweep.slurm.\(key)",
                        message: "expected a whole number from 0, found \(value.typeName) \(value.text)"))
                return nil
            }
            return number
        }
        options.partition = text("partition")
        options.time = text("time")
        options.memory = text("mem")
        options.account = text("account")
        options.gpusPerTask = count("gpus_per_task")
        options.cpusPerTask = count("cpus_per_task")
        if let value = table["extra"] {
            if case .array(let lines, _) = value, lines.allSatisfy({ $0.stringValue.map { TerminalText.printable($0) == $0 } ?? false }) {
                options.extra = lines.compactMap(\.stringValue)
            } else {
                problems.append(
                    ConfigProblem(
                        code: "SWP003", location: value.location, path: "sweep.slurm.extra",
                        message: "expected a list of one-line strings, found \(value.typeName) \(value.text)"))
            }
        }
        return options
    }

    /// The `#SBATCH` lines of these options.
    var directives: [String] {
        var lines: [String] = []
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time { lines.append("#SBATCH --time=\(time)") }
        if let gpusPerTask, gpusPerTask > 0 { lines.append("#SBATCH --gpus-per-task=\(gpusPerTask)") }
        if let cpusPerTask, cpusPerTask > 0 { lines.append("#SBATCH --cpus-per-task=\(cpusPerTask)") }
        if let memory { lines.append("#SBATCH --mem=\(memory)") }
        if let account { lines.append("#SBATCH --account=\(account)") }
        return lines + extra
    }
}
