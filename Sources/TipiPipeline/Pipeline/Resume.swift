import Foundation
import Tipi

/// What a resumed run does: which processes it skips (their permanences' state restored from the
/// checkpoint the earlier run made) and where it starts.
struct ResumePlan: Sendable {
    /// The id of the run continued.
    var previous: String
    /// The first process that runs; the ones before it are skipped.
    var start: Int
    /// The records of the skipped processes (status `skipped`, the run that completed each, its checkpoint).
    var skipped: [RunMetadata.ProcessRecord]
    /// The permanences to restore, by key, with the checkpoint directory of each.
    var restore: [(key: String, directory: URL)]
}

/// `run --resume RUN [--from PROCESS] [--set KEY=VALUE]…`: the earlier run's recorded config with its
/// `--set` values, the new `--set` values on top; a result an uninterrupted run would have given, or a
/// refusal (CFG005, exit 2) that says why and what to do.
enum Resume {
    /// Everything a resumed run needs.
    struct Prepared {
        /// The pipeline of the recorded config with every `--set` value, built and checked.
        var pipeline: BuiltPipeline
        /// What the resumed run skips and restores.
        var plan: ResumePlan
        /// The recorded config text (the new run records it again).
        var configText: String
        /// The config file the earlier run named (for messages and the new run's record).
        var configFile: String?
        /// The earlier run's `--set` values, then the new ones.
        var overrides: [String]
        /// One line each: what the resume does differently from a plain continuation.
        var notes: [String]
    }

    /// The name of the recorded config in a run folder.
    static let configFileName = "config.toml"

    /// Reads run `query` from `store`, rebuilds its recorded config with its `--set` values and then
    /// `overrides`, and works out where the resumed run starts (`from`, or the first process that did not
    /// complete, or the first completed one a new value changes) and what it restores.
    /// - Parameter path: The config named on the command line (or the default one): another pipeline is
    ///   refused; other values are ignored with a note.
    /// - Throws: ``ConfigProblems`` (CFG005, or the config's own problems) when the resume is refused.
    static func prepare(
        run query: String, config path: String?, overrides: [String], from: String?, definition: PipelineDefinition, store: RunStore
    ) throws(ConfigProblems) -> Prepared {
        func refuse(_ message: String, path: String? = nil, help: String? = nil) -> ConfigProblems {
            ConfigProblems([ConfigProblem(code: "CFG005", path: path, message: message, help: help)])
        }
        let previous: RunStore.StoredRun
        do {
            previous = try store.run(matching: query)
        } catch {
            throw refuse("cannot resume: \(error)")
        }
        let id = previous.metadata.id
        guard let record = previous.metadata.pipeline else {
            throw refuse("cannot resume run \(id): it was not made by a pipeline", help: "resume a run that `run` made")
        }
        guard record.name == definition.name else {
            throw refuse(
                "cannot resume run \(id): it was made by pipeline '\(TerminalText.printable(record.name))', not '\(definition.name)'",
                help: "resume it with the program that made it")
        }
        if previous.status == .running {
            throw refuse("cannot resume run \(id): it is still running (pid \(previous.metadata.pid) on \(previous.metadata.host))")
        }
        let recordedURL = previous.folder.appendingPathComponent(configFileName)
        guard let data = FileManager.default.contents(atPath: recordedURL.path) else {
            throw refuse(
                "cannot resume run \(id): it has no recorded config (\(recordedURL.path)), so the config it ran with is unknown",
                help: "start a new run (without --resume)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let file = record.configFile ?? configFileName
        let recorded: ConfigTable
        do {
            recorded = try ConfigLoader.parse(text: text, file: file)
        } catch {
            throw ConfigProblems(
                [ConfigProblem(code: "CFG005", message: "cannot resume run \(id): the config it recorded (\(recordedURL.path)) is damaged")]
                    + error.problems)
        }

        func build(_ overrides: [String]) throws(ConfigProblems) -> BuiltPipeline {
            switch PipelineBuilder.build(try ConfigLoader.apply(overrides: overrides, to: recorded), definition: definition) {
            case .success(let built): return built
            case .failure(let problems): throw problems
            }
        }
        let original: BuiltPipeline
        do {
            original = try build(record.overrides)
        } catch {
            throw ConfigProblems(
                [ConfigProblem(code: "CFG005", message: "cannot resume run \(id): the config it ran with no longer fits this program")]
                    + error.problems)
        }
        let resumed = try build(record.overrides + overrides)
        var notes: [String] = []

        // The config file given now: another pipeline is refused; other values are ignored, and said so.
        if let path, let current = FileManager.default.contents(atPath: path), current != data {
            if let document = try? ConfigLoader.parse(text: String(decoding: current, as: UTF8.self), file: path),
                shape(of: document) != shape(of: recorded)
            {
                throw refuse(
                    "cannot resume run \(id) with \(path): it describes another pipeline (\(describe(shape(of: document)))) than the run's (\(describe(shape(of: recorded))))",
                    help: "resume without naming a config (the run's own is used), or start a new run without --resume")
            }
            notes.append(
                "note: \(path) changed since run \(id) started; the resume uses the config recorded in the run (\(recordedURL.path)); change values with --set")
        }
        let keys = resumed.processes.map(\.key)
        let recordedProcesses = record.processes.map { "\($0.key) (\($0.type))" }
        let configProcesses = resumed.processes.map { "\($0.key) (\($0.typeName))" }
        // A run stopped before its first record of the processes (within its first second) completed none.
        guard record.processes.isEmpty || recordedProcesses == configProcesses else {
            throw refuse(
                "cannot resume run \(id): its processes (\(describe(recordedProcesses))) are not the config's (\(describe(configProcesses)))",
                help: "a process's type cannot change on resume; start a new run without --resume")
        }

        // What the earlier run (or the runs it continued) completed, in order.
        struct Done {
            var run: String?
            var checkpoint: String?
        }
        var done: [Done] = []
        for process in record.processes {
            if process.status == "completed" {
                done.append(Done(run: id, checkpoint: process.checkpoint))
            } else if process.status == "skipped" {
                done.append(Done(run: process.completedIn, checkpoint: process.checkpoint))
            } else {
                break
            }
        }
        var start = done.count
        var reason: String?
        func startEarlier(_ index: Int, _ why: String) {
            if index < start {
                start = index
                reason = why
            }
        }
        if let from {
            guard let index = keys.firstIndex(of: from) else {
                throw refuse(
                    "--from \(TerminalText.excerpt(from, limit: 80)): no process of that name in the pipeline",
                    help: (from.count <= 200 ? Suggestion.nearest(to: from, in: keys) : nil).map { "did you mean `--from \($0)`?" }
                        ?? "processes: \(TerminalText.excerpt(keys.joined(separator: ", "), limit: 400))")
            }
            if index > start {
                throw refuse(
                    "--from \(from): \(keys[start]) did not complete in run \(id), so the processes before \(from) cannot be skipped",
                    help: "resume without --from, or with --from \(keys[start])")
            }
            startEarlier(index, "note: --from \(from): \(from) and the processes after it run again")
        }
        let before = ResolvedConfig.values(of: original)
        let after = ResolvedConfig.values(of: resumed)
        let users = resumed.processes.map { uses(of: $0.process, in: resumed.permanences) }
        for (index, entry) in resumed.processes.enumerated().prefix(start).reversed() {
            if ResolvedConfig.entry("processes", entry.key, in: before) != ResolvedConfig.entry("processes", entry.key, in: after) {
                startEarlier(index, "note: --set changes \(entry.key), which completed in run \(done[index].run ?? id): \(entry.key) and the processes after it run again")
            } else if entry.force {
                startEarlier(index, "note: \(entry.key) has force = true: it and the processes after it run again")
            }
        }
        for permanence in resumed.permanences where ResolvedConfig.entry("permanences", permanence.key, in: before) != ResolvedConfig.entry("permanences", permanence.key, in: after) {
            if let index = users.prefix(start).firstIndex(where: { $0.contains(permanence.key) }) {
                startEarlier(
                    index,
                    "note: --set changes permanence \(permanence.key), which \(keys[index]) used: \(keys[index]) and the processes after it run again")
            }
        }
        if let reason { notes.append(reason) }
        if start == keys.count {
            throw refuse(
                "cannot resume run \(id): it completed every process, so there is nothing to continue",
                help: "to run processes again: --from PROCESS (or --set a value of one)")
        }

        // The permanences the skipped processes used must come back as they left them.
        var restore: [(key: String, directory: URL)] = []
        let last = done.prefix(start).lastIndex { $0.run != nil }
        var unrestorable: [ConfigProblem] = []
        for permanence in resumed.permanences {
            guard let firstUser = (0..<start).first(where: { done[$0].run != nil && users[$0].contains(permanence.key) }), let last else { continue }
            func cannotRestore(_ message: String, help: String = "resume with --from \(keys[firstUser])") {
                unrestorable.append(ConfigProblem(code: "CFG005", path: "permanences.\(permanence.key)", message: message, help: help))
            }
            let name = type(of: permanence.permanence).permanenceName
            guard permanence.permanence is any RestorablePermanence else {
                cannotRestore(
                    "cannot resume run \(id) without running \(keys[firstUser]) again: it changed permanence '\(permanence.key)' (\(name)), which cannot be restored",
                    help: "make \(name) a RestorablePermanence (save its state in checkpoint(into:), load it in restore(from:)), or resume with --from \(keys[firstUser])")
                continue
            }
            let holder = done[last]
            let folder = holder.run == id ? previous.folder : holder.run.flatMap { try? store.run(matching: $0).folder }
            // The path comes from run.json: only a folder Tipi names (`checkpoints/<n>-<key>`) is followed.
            guard let folder, let checkpoint = holder.checkpoint, PermanenceState.isCheckpointFolder(checkpoint) else {
                cannotRestore("cannot resume run \(id): there is no checkpoint of permanence '\(permanence.key)' after \(keys[last]) (run \(holder.run ?? "?"))")
                continue
            }
            let directory = folder.appendingPathComponent(checkpoint).appendingPathComponent(PermanenceState.safeName(permanence.key))
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                cannotRestore("cannot resume run \(id): the checkpoint of permanence '\(permanence.key)' is missing (\(directory.path))")
                continue
            }
            restore.append((permanence.key, directory))
        }
        guard unrestorable.isEmpty else { throw ConfigProblems(unrestorable) }

        let restored = restore.isEmpty ? "" : " (restored: \(restore.map(\.key).joined(separator: ", ")))"
        notes.append(
            "resuming run \(id): "
                + (start == 0 ? "every process runs again" : "\(keys.prefix(start).joined(separator: ", ")) skipped\(restored)")
                + "; \(keys[start]) runs next")
        let skipped = (0..<start).map { index in
            RunMetadata.ProcessRecord(
                key: keys[index], type: resumed.processes[index].typeName, status: "skipped", seconds: 0, completedIn: done[index].run,
                checkpoint: done[index].checkpoint)
        }
        return Prepared(
            pipeline: resumed, plan: ResumePlan(previous: id, start: start, skipped: skipped, restore: restore), configText: text,
            configFile: record.configFile, overrides: record.overrides + overrides, notes: notes)
    }

    /// The keys of the permanences a process holds (those injected into its parameters): the ones it may change.
    static func uses(of process: any PipelineProcess, in permanences: [BuiltPipeline.PermanenceEntry]) -> Set<String> {
        var keys: Set<String> = []
        for child in Mirror(reflecting: process).children {
            var value: Any = child.value
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                guard let wrapped = mirror.children.first?.value else { continue }
                value = wrapped
            }
            guard let permanence = value as? any Permanence else { continue }
            if let entry = permanences.first(where: { $0.permanence === permanence }) { keys.insert(entry.key) }
        }
        return keys
    }

    /// The processes and permanences of a config: (section, key, type) in file order.
    static func shape(of document: ConfigTable) -> [String] {
        var shape: [String] = []
        for section in ["permanences", "processes"] {
            for (key, node) in document[section]?.table?.entries ?? [] {
                shape.append("\(section == "processes" ? "" : "permanence ")\(key) (\(node.table?["type"]?.stringValue ?? "?"))")
            }
        }
        return shape
    }

    private static func describe(_ shape: [String]) -> String {
        TerminalText.excerpt(TerminalText.printable(shape.joined(separator: ", ")), limit: 200)
    }
}
