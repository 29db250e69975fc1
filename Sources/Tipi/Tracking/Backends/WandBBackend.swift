import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A W&B offline run, written natively: `wandb/offline-run-<YYYYMMDD_HHMMSS>-<id>/run-<id>.wandb` in the run
/// folder, the folder W&B's own offline mode writes. Upload it later as W&B users do:
///
/// ```sh
/// wandb sync tipi-runs/my_project/<run-folder>/wandb/offline-run-*
/// ```
///
/// The `.wandb` file is W&B's transaction log: a 7-byte header (`:W&B`, 0xBEE1, version 0), then LevelDB
/// log framing in 32 KiB blocks with CRC-32/IEEE over the chunk type and payload; each payload is one
/// `wandb_internal.Record`: a header, the run (id, project, name, config, tags, notes, group, host, start
/// time), one history record per step (`_step`, `_runtime`, `_timestamp` included, as wandb writes them),
/// a summary after each flush, and the exit record. Values are JSON text; NaN and infinities are written as
/// wandb writes them (`NaN`, `Infinity`). It is read by wandb's own reader in the tests.
final class WandBBackend: TrackingBackend {
    private var log: LevelDBLogWriter?
    private var number: Int64 = 0
    private var runID = ""
    private var startTime = 0.0
    private var lastStep = -1
    private var latest: [Int: Double] = [:]
    private var filesFolder: URL?
    private var runFolder: URL?
    private(set) var state = RunMetadata.BackendState()

    func start(_ run: RunDescription) throws {
        let metadata = run.metadata
        runID = metadata.id
        startTime = metadata.startTime
        let stamp = Self.folderStamp(metadata.startTime)
        let folder = run.folder.appendingPathComponent("wandb/offline-run-\(stamp)-\(runID)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("files"), withIntermediateDirectories: true)
        filesFolder = folder.appendingPathComponent("files", isDirectory: true)
        runFolder = run.folder
        let path = folder.appendingPathComponent("run-\(runID).wandb").path
        log = try LevelDBLogWriter(path: path)
        state = RunMetadata.BackendState(location: folder.path, remoteID: runID, complete: true)

        try append { record in
            record.message(21) { header in
                header.message(1) { version in
                    version.string(1, "tipi-swift \(Tipi.version)")
                    version.string(2, "0.70.0")
                }
            }
        }
        try append { record in
            record.message(17) { run in
                run.string(1, runID)
                run.string(3, metadata.project)
                run.message(4) { config in
                    config.message(1) { item in
                        item.string(1, "_wandb")
                        item.string(16, "{}")
                    }
                    for key in metadata.config.keys.sorted() {
                        config.message(1) { item in
                            item.string(1, key)
                            item.string(16, metadata.config[key]?.jsonText ?? "null")
                        }
                    }
                }
                if let group = metadata.group { run.string(6, group) }
                run.string(8, metadata.name)
                if let notes = metadata.notes { run.string(9, notes) }
                for tag in metadata.tags { run.string(10, tag) }
                if let sweep = metadata.sweep { run.string(12, sweep.id) }
                run.string(13, metadata.host)
                run.message(17) { timestamp in
                    timestamp.int(1, Int64(metadata.startTime.rounded(.down)))
                    timestamp.int(2, Int64((metadata.startTime - metadata.startTime.rounded(.down)) * 1e9))
                }
            }
        }
    }

    func write(_ batch: MetricBatch, keys: [String]) throws {
        for row in 0..<batch.rowCount {
            let step = batch.rows[row].step
            let time = batch.rows[row].time
            try append { record in
                record.message(2) { history in
                    for position in batch.range(ofRow: row) {
                        let key = Int(batch.entries[position].key)
                        history.message(1) { item in
                            item.string(2, keys[key])
                            item.string(16, Self.json(batch.entries[position].value))
                        }
                    }
                    history.message(1) { item in
                        item.string(2, "_timestamp")
                        item.string(16, Self.json(time))
                    }
                    history.message(1) { item in
                        item.string(2, "_runtime")
                        item.string(16, Self.json(max(time - startTime, 0)))
                    }
                    history.message(1) { item in
                        item.string(2, "_step")
                        item.string(16, String(step))
                    }
                    history.message(2) { historyStep in
                        if step != 0 { historyStep.int(1, Int64(step)) }
                    }
                }
            }
            for position in batch.range(ofRow: row) { latest[Int(batch.entries[position].key)] = batch.entries[position].value }
            lastStep = step
        }
        guard let lastTime = batch.rows.last?.time else { return }
        try writeSummary(keys: keys, time: lastTime)
    }

    private func writeSummary(keys: [String], time: Double) throws {
        try append { record in
            record.message(3) { summary in
                for (key, value) in latest.sorted(by: { $0.key < $1.key }) {
                    summary.message(1) { item in
                        item.string(1, keys[key])
                        item.string(16, Self.json(value))
                    }
                }
                summary.message(1) { item in
                    item.string(1, "_step")
                    item.string(16, String(max(lastStep, 0)))
                }
                summary.message(1) { item in
                    item.string(1, "_runtime")
                    item.string(16, Self.json(max(time - startTime, 0)))
                }
                summary.message(1) { item in
                    item.string(1, "_timestamp")
                    item.string(16, Self.json(time))
                }
            }
        }
    }

    /// Artifacts go where `wandb.save` puts files: the offline run's `files/<name>` (a hard link to the
    /// run folder's copy when possible, so nothing is stored twice), with a files record (policy `now`)
    /// that `wandb sync` uploads.
    func saveArtifacts(_ uploads: [ArtifactUpload]) throws {
        guard let filesFolder, log != nil else { return }
        var saved: [String] = []
        var problems: [String] = []
        for upload in uploads {
            let target = filesFolder.appendingPathComponent(upload.artifact.name)
            do {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                let temporary = target.deletingLastPathComponent().appendingPathComponent(ArtifactName.temporaryPrefix + "wandb-\(getpid())")
                unlink(temporary.path)
                if link(upload.file.path, temporary.path) != 0 {
                    try FileManager.default.copyItem(at: upload.file, to: temporary)
                }
                guard rename(temporary.path, target.path) == 0 else {
                    let reason = String(cString: strerror(errno))
                    unlink(temporary.path)
                    throw TrackingError.storeNotWritable(path: target.path, reason: reason)
                }
                saved.append(upload.artifact.name)
            } catch {
                problems.append("\(upload.artifact.name): \(error)")
            }
        }
        if !saved.isEmpty {
            try append { record in
                record.message(6) { files in
                    for name in saved {
                        files.message(1) { item in item.string(1, name) }
                    }
                }
            }
        }
        if !problems.isEmpty { throw ArtifactError(problems.joined(separator: "; ")) }
    }

    func finish(status: RunStatus, summary: [String: MetricSummary], deadline: Double) throws {
        defer { release() }
        // The console output, where W&B keeps it (`files/output.log`, its Logs tab): a hard link to the run
        // folder's `output.log`, so what is written to it until the process lets go of the console is in it.
        if let runFolder, let filesFolder {
            let log = runFolder.appendingPathComponent(ConsoleCapture.fileName).path
            let target = filesFolder.appendingPathComponent(ConsoleCapture.fileName).path
            if FileManager.default.fileExists(atPath: log), link(log, target) == 0 {
                try append { record in
                    record.message(6) { files in
                        files.message(1) { item in item.string(1, ConsoleCapture.fileName) }
                    }
                }
            }
        }
        let runtime = max(Date().timeIntervalSince1970 - startTime, 0)
        let code: Int64 = status == .finished ? 0 : (status == .interrupted ? 255 : 1)
        try append { record in
            record.message(18) { exit in
                if code != 0 { exit.int(1, code) }
                exit.int(2, Int64(runtime))
            }
        }
    }

    func release() {
        log?.close()
        log = nil
    }

    private func append(_ build: (inout ProtobufWriter) -> Void) throws {
        guard let log else { return }
        number += 1
        var record = ProtobufWriter()
        record.int(1, number)
        build(&record)
        record.message(200) { info in info.string(1, runID) }
        try log.append(record.bytes)
    }

    /// A double as JSON text, the way wandb writes it (`NaN`, `Infinity` for the values JSON lacks).
    static func json(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func folderStamp(_ time: Double) -> String {
        utcStamp(time, separator: "_")
    }
}

/// LevelDB log framing with W&B's file header and CRC-32/IEEE (wandb `core/internal/stream/store.go`).
final class LevelDBLogWriter {
    static let blockSize = 32_768
    static let headerSize = 7
    private let descriptor: Int32
    private let path: String
    private var offset: Int

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrackingError.storeNotWritable(path: path, reason: String(cString: strerror(errno)))
        }
        var header = Array(":W&B".utf8)
        header.appendLittleEndian(UInt16(0xBEE1))
        header.append(0)
        offset = 0
        try emit(header)
    }

    /// Appends one record, split into FULL or FIRST/MIDDLE/LAST chunks that never cross a 32 KiB block.
    func append(_ payload: [UInt8]) throws {
        var output: [UInt8] = []
        var position = offset
        var remaining = payload[...]
        var first = true
        repeat {
            let left = Self.blockSize - position % Self.blockSize
            if left < Self.headerSize {
                output += [UInt8](repeating: 0, count: left)
                position += left
                continue
            }
            let size = min(left - Self.headerSize, remaining.count)
            let piece = remaining.prefix(size)
            remaining = remaining.dropFirst(size)
            let last = remaining.isEmpty
            let type: UInt8 = first ? (last ? 1 : 2) : (last ? 4 : 3)
            let crc = CRC32.ieee.checksum(piece, initial: CRC32.ieee.checksum([type]))
            output.appendLittleEndian(crc)
            output.appendLittleEndian(UInt16(size))
            output.append(type)
            output += piece
            position += Self.headerSize + size
            first = false
            if last { break }
        } while true
        try emit(output)
    }

    private func emit(_ bytes: [UInt8]) throws {
        if let error = writeFully(bytes, to: descriptor).error {
            throw TrackingError.storeNotWritable(path: path, reason: error)
        }
        offset += bytes.count
    }

    func close() {
        closeDescriptor(descriptor)
    }
}
