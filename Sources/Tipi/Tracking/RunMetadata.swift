import Foundation
import Synchronization

/// Everything recorded about a run besides its metric history: what `run.json` in the run folder holds.
public struct RunMetadata: Sendable, Codable {
    /// The run's id: 8 characters, unique within the store.
    public var id: String
    public var project: String
    public var name: String
    public var status: RunStatus
    /// Unix seconds.
    public var startTime: Double
    public var endTime: Double?
    /// The run's configuration (`logger.start(config:)`, or a pipeline's resolved config).
    public var config: [String: ConfigValue] {
        get { storedConfig.values }
        set { storedConfig = RunConfig(newValue) }
    }
    /// ``config`` with its `run.json` text (see ``RunConfig``).
    package var storedConfig: RunConfig
    public var tags: [String]
    public var notes: String?
    public var group: String?
    public var host: String
    public var pid: Int32
    /// The process's start time in clock ticks since boot (Linux), to tell a live owner from a reused pid.
    public var processStart: UInt64?
    public var command: [String]
    public var workingDirectory: String
    public var git: GitState?
    public var swiftVersion: String
    public var tipiVersion: String
    /// The device chosen by `deviceManager` while the run was active.
    public var device: Device?
    /// The sweep this run belongs to, when a sweep launched it (`TIPI_SWEEP_ID`, `TIPI_SWEEP_INDEX`).
    public var sweep: SweepMembership?
    /// The extra backends and their state (for MLflow: its run id and how many steps were sent).
    public var backends: [String: BackendState]
    /// Per metric: last value, min, max, count, last step.
    public var summary: [String: MetricSummary]
    /// Last time the writer rewrote this file (Unix seconds): a liveness signal for runs on other hosts.
    public var heartbeat: Double?
    /// Steps dropped because their step number went backwards.
    public var droppedSteps: Int?
    /// For a run made by a pipeline: its processes and what became of each.
    public var pipeline: PipelineRecord?
    /// Metrics that never reached `metrics.tipilog` (the disk refused them): `nil` when everything logged
    /// was written. The summary counts these values; the history does not have them.
    public var unwritten: UnwrittenMetrics? = nil
    /// The run this one continues (`run --resume RUN`): its id. JSON key `resumed_from`.
    public var resumedFrom: String? = nil
    /// Where each value of ``config`` came from, by dotted key (`processes.training.params.epochs`):
    /// `file PATH:LINE:COLUMN`, `--set KEY=VALUE` or `default`. Recorded by pipelines; JSON key `config_sources`.
    public var configSources: [String: String]? = nil
    /// The operating system: `Linux 6.8.0 x86_64 (Ubuntu 24.04.1 LTS)`.
    public var os: String? = nil
    /// The version of each package the program was built with, from ``packagesFile``: `{"swift-log": "1.6.1"}`.
    public var packages: [String: String]? = nil
    /// The `Package.resolved` of the program's package (found from the executable's or the working
    /// directory's folder); `nil` when there is none.
    public var packagesFile: String? = nil
    /// Why the run's device is the CPU when a GPU was looked for: `no GPU found`, `every GPU has more than
    /// 90% of its memory in use (…)`.
    public var deviceFallback: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, project, name, status, startTime, endTime, tags, notes, group, host, pid, processStart, command
        case workingDirectory, git, swiftVersion, tipiVersion, device, sweep, backends, summary, heartbeat, droppedSteps
        case pipeline, unwritten, os, packages, packagesFile, deviceFallback
        case resumedFrom = "resumed_from"
        case configSources = "config_sources"
        case storedConfig = "config"
    }

    init(
        id: String, project: String, name: String, status: RunStatus, startTime: Double, endTime: Double?,
        config: [String: ConfigValue], tags: [String], notes: String?, group: String?, host: String, pid: Int32,
        processStart: UInt64?, command: [String], workingDirectory: String, git: GitState?, swiftVersion: String,
        tipiVersion: String, device: Device?, sweep: SweepMembership?, backends: [String: BackendState],
        summary: [String: MetricSummary], heartbeat: Double?, droppedSteps: Int?, pipeline: PipelineRecord?,
        unwritten: UnwrittenMetrics? = nil, resumedFrom: String? = nil, configSources: [String: String]? = nil
    ) {
        self.id = id
        self.project = project
        self.name = name
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.storedConfig = RunConfig(config)
        self.tags = tags
        self.notes = notes
        self.group = group
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.command = command
        self.workingDirectory = workingDirectory
        self.git = git
        self.swiftVersion = swiftVersion
        self.tipiVersion = tipiVersion
        self.device = device
        self.sweep = sweep
        self.backends = backends
        self.summary = summary
        self.heartbeat = heartbeat
        self.droppedSteps = droppedSteps
        self.pipeline = pipeline
        self.unwritten = unwritten
        self.resumedFrom = resumedFrom
        self.configSources = configSources
    }

    /// What the run store could not write of a run's metrics, and why.
    public struct UnwrittenMetrics: Sendable, Codable, Equatable {
        /// Steps (rows) not written.
        public var steps: Int
        /// Values not written.
        public var values: Int
        /// The last error the disk gave (`No space left on device`, `File too large`, …).
        public var reason: String

        /// A record of what could not be written.
        public init(steps: Int, values: Int, reason: String) {
            self.steps = steps
            self.values = values
            self.reason = reason
        }
    }

    /// The git commit of the working directory (else of the program's package), and whether it had
    /// uncommitted changes.
    public struct GitState: Sendable, Codable, Equatable {
        public var commit: String
        public var dirty: Bool
        /// The top folder of the repository.
        public var directory: String? = nil
    }

    /// A run's place in a sweep.
    public struct SweepMembership: Sendable, Codable, Equatable {
        public var id: String
        public var index: Int?
    }

    /// What a pipeline records in its run.
    public struct PipelineRecord: Sendable, Codable, Equatable {
        public var name: String
        public var configFile: String?
        public var overrides: [String]
        public var resumedFrom: String?
        public var processes: [ProcessRecord]

        public init(name: String, configFile: String?, overrides: [String], resumedFrom: String?, processes: [ProcessRecord]) {
            self.name = name
            self.configFile = configFile
            self.overrides = overrides
            self.resumedFrom = resumedFrom
            self.processes = processes
        }
    }

    /// One process of a pipeline run.
    public struct ProcessRecord: Sendable, Codable, Equatable {
        /// `pending`, `running`, `completed`, `skipped`, `failed` or `interrupted`.
        public var status: String
        public var key: String
        public var type: String
        public var seconds: Double?
        public var error: String?
        /// For a process a resumed run skipped: the id of the run that completed it.
        public var completedIn: String? = nil
        /// The permanences' checkpoint after this process, relative to the folder of the run that completed it
        /// (`checkpoints/01-training`).
        public var checkpoint: String? = nil

        public init(
            key: String, type: String, status: String, seconds: Double? = nil, error: String? = nil, completedIn: String? = nil,
            checkpoint: String? = nil
        ) {
            self.key = key
            self.type = type
            self.status = status
            self.seconds = seconds
            self.error = error
            self.completedIn = completedIn
            self.checkpoint = checkpoint
        }
    }

    /// What a backend reports about itself.
    public struct BackendState: Sendable, Codable, Equatable {
        public var location: String?
        public var remoteID: String?
        public var sentSteps: Int?
        public var complete: Bool?
        public var error: String?

        public init(location: String? = nil, remoteID: String? = nil, sentSteps: Int? = nil, complete: Bool? = nil, error: String? = nil) {
            self.location = location
            self.remoteID = remoteID
            self.sentSteps = sentSteps
            self.complete = complete
            self.error = error
        }
    }
}

/// Facts about the current process and machine, gathered once.
enum ProcessFacts {
    static let host: String = {
        var buffer = [UInt8](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }()

    /// When process `pid` started (see ``Platform/processStartTime(of:)``).
    static func startTime(of pid: Int32) -> UInt64? {
        Platform.processStartTime(of: pid)
    }

    static let ownStartTime: UInt64? = startTime(of: getpid())

    /// Whether process `pid` on this host is alive and is the one that started at `start`.
    static func isAlive(pid: Int32, start: UInt64?) -> Bool {
        if kill(pid, 0) != 0, errno == ESRCH { return false }
        guard let start, let current = startTime(of: pid) else { return true }
        return current == start
    }

    /// The git state of the working directory, else of the program's package (the folder of its
    /// `Package.resolved`); nil outside a repository or without git. Each git call is cut after 2 s.
    static func gitState() -> RunMetadata.GitState? {
        guard let git = ProcessRunner.executableOnPath("git") else { return nil }
        var folders = [FileManager.default.currentDirectoryPath]
        if let file = Provenance.packages?.file { folders.append(URL(fileURLWithPath: file).deletingLastPathComponent().path) }
        for folder in folders {
            if let state = gitState(git, in: folder) { return state }
        }
        return nil
    }

    private static func gitState(_ git: String, in folder: String) -> RunMetadata.GitState? {
        // The commit and whether the tree is dirty, asked at the same time (two processes, not one after the other).
        let outcomes = Mutex<[ProcessRunner.Outcome?]>([nil, nil])
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            let arguments = which == 0 ? ["rev-parse", "--show-toplevel", "HEAD"] : ["status", "--porcelain", "--untracked-files=no"]
            let outcome = ProcessRunner.run(git, ["-C", folder] + arguments, timeout: 2)
            outcomes.withLock { $0[which] = outcome }
        }
        let (revision, status) = outcomes.withLock { ($0[0], $0[1]) }
        guard case .exited(0, let output)? = revision else { return nil }
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count == 2, lines[1].count == 40 else { return nil }
        var dirty = false
        if case .exited(0, let changes)? = status {
            dirty = !changes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        return RunMetadata.GitState(commit: lines[1], dirty: dirty, directory: lines[0])
    }
}
