import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The run index: `.tipi-index` at the root of a run store, the listed fields of every run (see
/// ``RunStore/runs(project:withConfig:)``), so that listing thousands of runs reads one file plus a directory
/// listing and one `stat` per run instead of every `run.json`.
///
/// It is a cache, never the truth:
/// - each entry carries the identity of the `run.json` it was read from (modification and change times in
///   nanoseconds, size, inode); a run whose `run.json` no longer has that identity is read again;
/// - an entry is trusted only when its `run.json` was modified at least ``settleNanoseconds`` before the
///   index itself was written (both times from the same file system's clock): a `run.json` rewritten within
///   the file system's timestamp resolution could otherwise keep its identity (git's "racy clean" problem);
/// - the file is replaced atomically (a temporary file renamed over it), so readers on any host see a whole
///   index or the previous one; concurrent listers may each write one, and the last rename wins;
/// - a missing, truncated, damaged (checksum) or foreign (other format) index is ignored and rebuilt, and
///   one that cannot be written (a read-only store) is simply not used.
struct RunIndex: @unchecked Sendable {
    static let fileName = ".tipi-index"
    /// Format and version: an index of another format is ignored (and replaced at the next listing).
    static let magic: [UInt8] = Array("TIPIRIX2".utf8)
    /// How long before the index a `run.json` must have been modified for its entry to be trusted.
    static let settleNanoseconds: Int64 = 2_000_000_000

    /// What identifies one version of a `run.json`.
    struct FileKey: Equatable, Sendable {
        var modified: Int64
        var changed: Int64
        var size: Int64
        var inode: UInt64

        /// The key of the file at `path` relative to the open folder `directory` (following symbolic links).
        init?(directory: Int32, path: String) {
            var info = stat()
            guard fstatat(directory, path, &info, 0) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            self.init(info)
        }

        init(_ info: stat) {
            #if canImport(Darwin)
                modified = Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
                changed = Int64(info.st_ctimespec.tv_sec) * 1_000_000_000 + Int64(info.st_ctimespec.tv_nsec)
            #else
                modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
                changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
            #endif
            size = Int64(info.st_size)
            inode = UInt64(info.st_ino)
        }

        init(modified: Int64, changed: Int64, size: Int64, inode: UInt64) {
            self.modified = modified
            self.changed = changed
            self.size = size
            self.inode = inode
        }
    }

    /// One run of the index: its `run.json` key and where its fields lie in ``bytes``.
    struct Slot {
        var key: FileKey
        var start: Int
        var count: Int
    }

    /// One run for the index being written: its place (`project/folder`), its key and its encoded fields.
    struct Entry {
        var path: String
        var key: FileKey
        var fields: ArraySlice<UInt8>
    }

    /// The whole file.
    let bytes: [UInt8]
    /// By `project/folder`.
    let slots: [String: Slot]
    /// The index file's own modification time (nanoseconds, the file system's clock).
    let modified: Int64

    /// The index of the store at `root`; `nil` when there is none or it cannot be used (never an error).
    static func load(root: URL) -> RunIndex? {
        let path = root.appendingPathComponent(fileName).path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size < Int.max / 2 else { return nil }
        // The header first: a file that is not an index, or whose length is not the one its header gives (a
        // sparse 3 GB file, say), is refused before it is read.
        let size = Int(info.st_size)
        let headerSize = magic.count + 16
        var header = [UInt8](repeating: 0, count: headerSize)
        guard size >= headerSize, pread(descriptor, &header, headerSize, 0) == headerSize,
            Array(header.prefix(magic.count)) == magic,
            header.withUnsafeBytes({ UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: magic.count, as: UInt64.self)) })
                == UInt64(size - headerSize)
        else { return nil }
        // Then into one array of the file's size, from the descriptor its time came from (an index is
        // replaced by rename, never rewritten in place); one byte more to see a file longer than it said.
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, initialized in
            while initialized < buffer.count {
                let count = read(descriptor, buffer.baseAddress! + initialized, buffer.count - initialized)
                if count < 0, errno == EINTR { continue }
                if count <= 0 {
                    failed = count < 0
                    break
                }
                initialized += count
            }
        }
        guard !failed, bytes.count == size else { return nil }
        return try? RunIndex(bytes: bytes, modified: FileKey(info).modified)
    }

    init(bytes: [UInt8], modified: Int64) throws {
        self.bytes = bytes
        self.modified = modified
        slots = try bytes.withUnsafeBytes { buffer in
            var reader = RunIndexReader(bytes: buffer, offset: 0)
            let header = try reader.take(Self.magic.count)
            guard Array(buffer[header..<header + Self.magic.count]) == Self.magic else { throw RunIndexReader.Malformed() }
            let length = try reader.unsigned()
            let checksum = try reader.unsigned()
            guard length == UInt64(buffer.count - reader.offset) else { throw RunIndexReader.Malformed() }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[reader.offset...])
            guard Self.checksum(payload) == checksum else { throw RunIndexReader.Malformed() }
            let count = try reader.count(minimumSize: 40)
            var slots: [String: Slot] = [:]
            slots.reserveCapacity(count)
            for _ in 0..<count {
                let path = try reader.string()
                let key = FileKey(
                    modified: try reader.integer(), changed: try reader.integer(), size: try reader.integer(),
                    inode: try reader.unsigned())
                let length = try reader.unsigned32()
                slots[path] = Slot(key: key, start: try reader.take(length), count: length)
            }
            guard reader.offset == buffer.count else { throw RunIndexReader.Malformed() }
            return slots
        }
    }

    /// Whether the entry at `path` describes the `run.json` whose key is `key` now.
    func trusts(_ slot: Slot, key: FileKey) -> Bool {
        slot.key == key && isSettled(slot)
    }

    /// Whether the entry's `run.json` was modified long enough before this index was written for a file
    /// with the same key to be the one read (see ``settleNanoseconds``).
    func isSettled(_ slot: Slot) -> Bool {
        slot.key.modified < modified - Self.settleNanoseconds
    }

    /// The encoded fields of `slot`.
    func fields(_ slot: Slot) -> ArraySlice<UInt8> {
        bytes[slot.start..<slot.start + slot.count]
    }

    /// The metadata stored for `slot`; `nil` when its fields cannot be decoded.
    func metadata(_ slot: Slot, withConfig: Bool) -> RunMetadata? {
        bytes.withUnsafeBytes { buffer in
            try? Self.decode(UnsafeRawBufferPointer(rebasing: buffer[slot.start..<slot.start + slot.count]), withConfig: withConfig)
        }
    }

    /// Writes an index of `entries` into the store at `root`, atomically; failures are ignored (the index
    /// is only a cache).
    static func write(_ entries: [Entry], root: URL) {
        var writer = RunIndexWriter()
        writer.unsigned32(entries.count)
        for entry in entries {
            writer.string(entry.path)
            writer.integer(entry.key.modified)
            writer.integer(entry.key.changed)
            writer.integer(entry.key.size)
            writer.unsigned(entry.key.inode)
            writer.unsigned32(entry.fields.count)
            writer.bytes.append(contentsOf: entry.fields)
        }
        var file = RunIndexWriter()
        file.bytes = magic
        file.unsigned(UInt64(writer.bytes.count))
        file.unsigned(writer.bytes.withUnsafeBytes(checksum))
        file.bytes += writer.bytes
        var random = SystemRandomNumberGenerator()
        let temporary = root.appendingPathComponent("\(fileName).\(getpid()).\(random.next() % 1_000_000_000).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        let (_, failure) = writeFully(file.bytes, to: descriptor)
        close(descriptor)
        if failure != nil || rename(temporary, root.appendingPathComponent(fileName).path) != 0 {
            unlink(temporary)
        }
    }

    /// A 64-bit checksum of `bytes` (FNV-style, eight bytes at a time): catches a torn or damaged index.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) &* 0x100_0000_01b3
            hash ^= hash >> 29
            offset += 8
        }
        while offset < bytes.count {
            hash = (hash ^ UInt64(bytes[offset])) &* 0x100_0000_01b3
            offset += 1
        }
        return hash
    }

    // MARK: - The listed fields

    /// The fields of `metadata` a listing returns (everything but the command, working directory, versions,
    /// device and pipeline record, which `RunStore.run(matching:)` reads from `run.json`).
    static func encode(_ metadata: RunMetadata) -> [UInt8] {
        var writer = RunIndexWriter()
        writer.string(metadata.id)
        writer.string(metadata.project)
        writer.string(metadata.name)
        writer.string(metadata.status.rawValue)
        writer.double(metadata.startTime)
        writer.optional(metadata.endTime) { $0.double($1) }
        writer.strings(metadata.tags)
        writer.optional(metadata.notes) { $0.string($1) }
        writer.optional(metadata.group) { $0.string($1) }
        writer.string(metadata.host)
        writer.integer(Int64(metadata.pid))
        writer.optional(metadata.processStart) { $0.unsigned($1) }
        writer.optional(metadata.heartbeat) { $0.double($1) }
        writer.optional(metadata.droppedSteps) { $0.integer($1) }
        writer.unsigned32(metadata.summary.count)
        for (key, summary) in metadata.summary {
            writer.string(key)
            writer.double(summary.last)
            writer.optional(summary.min) { $0.double($1) }
            writer.optional(summary.max) { $0.double($1) }
            writer.integer(summary.count)
            writer.integer(summary.step)
        }
        writer.optional(metadata.unwritten) { writer, unwritten in
            writer.integer(unwritten.steps)
            writer.integer(unwritten.values)
            writer.string(unwritten.reason)
        }
        writer.optional(metadata.sweep) { writer, sweep in
            writer.string(sweep.id)
            writer.optional(sweep.index) { $0.integer($1) }
        }
        writer.optional(metadata.git) { writer, git in
            writer.string(git.commit)
            writer.bool(git.dirty)
        }
        writer.unsigned32(metadata.backends.count)
        for (name, state) in metadata.backends {
            writer.string(name)
            writer.optional(state.location) { $0.string($1) }
            writer.optional(state.remoteID) { $0.string($1) }
            writer.optional(state.sentSteps) { $0.integer($1) }
            writer.optional(state.complete) { $0.bool($1) }
            writer.optional(state.error) { $0.string($1) }
        }
        // Last, behind its length, so that a listing without configs skips it.
        var config = RunIndexWriter()
        config.configTable(metadata.config)
        // Where each config value came from (pipelines), with the config: listed by `tipi runs --json`.
        config.optional(metadata.configSources) { writer, sources in
            writer.unsigned32(sources.count)
            for (key, source) in sources.sorted(by: { $0.key < $1.key }) {
                writer.string(key)
                writer.string(source)
            }
        }
        writer.unsigned32(config.bytes.count)
        writer.bytes += config.bytes
        return writer.bytes
    }

    /// The start time stored in an entry's `fields` (what a listing sorts by), read without decoding the
    /// rest: the four strings ``encode(_:)`` writes before it are skipped. `nil` when the entry is malformed.
    static func startTime(_ fields: ArraySlice<UInt8>) -> Double? {
        fields.withUnsafeBytes { bytes in
            var reader = RunIndexReader(bytes: bytes, offset: 0)
            for _ in 0..<4 {  // id, project, name, status
                guard let length = try? reader.unsigned32(), (try? reader.take(length)) != nil else { return nil }
            }
            return try? reader.double()
        }
    }

    /// Whether an entry's stored status is `running` (whose status shown depends on the process, not only on
    /// the entry); `true` for a malformed entry.
    static func isRunning(_ fields: ArraySlice<UInt8>) -> Bool {
        fields.withUnsafeBytes { bytes in
            var reader = RunIndexReader(bytes: bytes, offset: 0)
            for _ in 0..<3 {  // id, project, name
                guard let length = try? reader.unsigned32(), (try? reader.take(length)) != nil else { return true }
            }
            guard let status = try? reader.string() else { return true }
            return status == RunStatus.running.rawValue
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, withConfig: Bool) throws -> RunMetadata {
        var reader = RunIndexReader(bytes: bytes, offset: 0)
        let id = try reader.string()
        let project = try reader.string()
        let name = try reader.string()
        guard let status = RunStatus(rawValue: try reader.string()) else { throw RunIndexReader.Malformed() }
        let startTime = try reader.double()
        let endTime = try reader.optional { try $0.double() }
        let tags = try reader.strings()
        let notes = try reader.optional { try $0.string() }
        let group = try reader.optional { try $0.string() }
        let host = try reader.string()
        guard let pid = Int32(exactly: try reader.integer()) else { throw RunIndexReader.Malformed() }
        let processStart = try reader.optional { try $0.unsigned() }
        let heartbeat = try reader.optional { try $0.double() }
        let droppedSteps = try reader.optional { try $0.int() }
        let summaryCount = try reader.count(minimumSize: 30)
        var summary: [String: MetricSummary] = [:]
        summary.reserveCapacity(summaryCount)
        for _ in 0..<summaryCount {
            let key = try reader.string()
            let last = try reader.double()
            let minimum = try reader.optional { try $0.double() }
            let maximum = try reader.optional { try $0.double() }
            summary[key] = MetricSummary(last: last, min: minimum, max: maximum, count: try reader.int(), step: try reader.int())
        }
        let unwritten = try reader.optional {
            RunMetadata.UnwrittenMetrics(steps: try $0.int(), values: try $0.int(), reason: try $0.string())
        }
        let sweep = try reader.optional {
            RunMetadata.SweepMembership(id: try $0.string(), index: try $0.optional { try $0.int() })
        }
        let git = try reader.optional { RunMetadata.GitState(commit: try $0.string(), dirty: try $0.bool()) }
        let backendCount = try reader.count(minimumSize: 9)
        var backends: [String: RunMetadata.BackendState] = [:]
        for _ in 0..<backendCount {
            let backend = try reader.string()
            backends[backend] = RunMetadata.BackendState(
                location: try reader.optional { try $0.string() }, remoteID: try reader.optional { try $0.string() },
                sentSteps: try reader.optional { try $0.int() }, complete: try reader.optional { try $0.bool() },
                error: try reader.optional { try $0.string() })
        }
        let configLength = try reader.unsigned32()
        let configStart = try reader.take(configLength)
        guard reader.offset == bytes.count else { throw RunIndexReader.Malformed() }
        var config: [String: ConfigValue] = [:]
        var configSources: [String: String]?
        if withConfig {
            var configReader = RunIndexReader(
                bytes: UnsafeRawBufferPointer(rebasing: bytes[configStart..<configStart + configLength]), offset: 0)
            config = try configReader.configTable()
            configSources = try configReader.optional { reader in
                let count = try reader.count(minimumSize: 8)
                var sources: [String: String] = [:]
                for _ in 0..<count { sources[try reader.string()] = try reader.string() }
                return sources
            }
            guard configReader.offset == configLength else { throw RunIndexReader.Malformed() }
        }
        return RunMetadata(
            id: id, project: project, name: name, status: status, startTime: startTime, endTime: endTime, config: config,
            tags: tags, notes: notes, group: group, host: host, pid: pid, processStart: processStart, command: [],
            workingDirectory: "", git: git, swiftVersion: "", tipiVersion: "", device: nil, sweep: sweep, backends: backends,
            summary: summary, heartbeat: heartbeat, droppedSteps: droppedSteps, pipeline: nil, unwritten: unwritten,
            configSources: configSources)
    }
}
