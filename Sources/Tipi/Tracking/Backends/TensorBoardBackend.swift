import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// TensorBoard event files in the run folder, so that `tensorboard --logdir "$TIPI_DIR"` shows every run
/// (as `project/run-folder`).
///
/// The file is `events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>` (unique per writer, and the
/// `<seconds>.<hostname>` form W&B's importer looks for). Records use TFRecord framing (length, masked
/// CRC-32C of the length, data, masked CRC-32C of the data); the first is `Event{file_version:
/// "brain.Event:2"}`; each step is one `Event{wall_time, step, summary{value{tag, simple_value}}}` with one
/// value per metric. `simple_value` is a 32-bit float (what `EventAccumulator` and tbparse read as scalars):
/// NaN and infinities are kept, and doubles lose precision beyond 7 digits.
///
/// The HParams tab: the second event holds the hparams plugin's `session_start_info` (the config, flattened
/// to dotted keys, as `google.protobuf.Value`s), and `finish` writes its `session_end_info` (status, end
/// time), so TensorBoard shows one row per run with its config and its metrics' final values.
final class TensorBoardBackend: TrackingBackend {
    private var descriptor: Int32 = -1
    private(set) var state = RunMetadata.BackendState()
    private let directory: URL?
    private static let counter = Mutex<Int>(0)

    /// - Parameter directory: Where to write; the run folder by default.
    init(directory: URL? = nil) {
        self.directory = directory
    }

    func start(_ run: RunDescription) throws {
        let folder = directory ?? run.folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        let number = Self.counter.withLock { value -> Int in
            defer { value += 1 }
            return value
        }
        let name = "events.out.tfevents.\(Int(now)).\(ProcessFacts.host).\(getpid()).\(number)"
        let path = folder.appendingPathComponent(name).path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrackingError.storeNotWritable(path: path, reason: String(cString: strerror(errno)))
        }
        var bytes: [UInt8] = []
        Self.appendRecord(Self.fileVersionEvent(wallTime: now), to: &bytes)
        Self.appendRecord(
            Self.hparamsEvent(
                wallTime: now, tag: "_hparams_/session_start_info",
                session: Self.sessionStart(run.metadata.config, group: run.metadata.group, startTime: run.metadata.startTime)),
            to: &bytes)
        do {
            try writeOrThrow(bytes, path: path)
        } catch {
            release()
            throw error
        }
        state = RunMetadata.BackendState(location: path, complete: true)
    }

    func write(_ batch: MetricBatch, keys: [String]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.rowCount * 32 + batch.valueCount * 24)
        let tags = keys.map { Array($0.utf8) }
        for row in 0..<batch.rowCount {
            var event = ProtobufWriter(capacity: 32 + batch.range(ofRow: row).count * 24)
            event.double(1, batch.rows[row].time)
            event.int(2, Int64(batch.rows[row].step))
            var summary = ProtobufWriter()
            for position in batch.range(ofRow: row) {
                var value = ProtobufWriter()
                value.data(1, tags[Int(batch.entries[position].key)])
                value.float(2, Float(batch.entries[position].value))
                summary.data(1, value.bytes)
            }
            event.data(5, summary.bytes)
            Self.appendRecord(event.bytes, to: &bytes)
        }
        try writeOrThrow(bytes, path: state.location ?? "")
    }

    func finish(status: RunStatus, summary: [String: MetricSummary], deadline: Double) throws {
        defer { release() }
        guard descriptor >= 0 else { return }
        let now = Date().timeIntervalSince1970
        var bytes: [UInt8] = []
        Self.appendRecord(
            Self.hparamsEvent(wallTime: now, tag: "_hparams_/session_end_info", session: Self.sessionEnd(status, endTime: now)), to: &bytes)
        try writeOrThrow(bytes, path: state.location ?? "")
    }

    func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private func writeOrThrow(_ bytes: [UInt8], path: String) throws {
        if let error = writeFully(bytes, to: descriptor).error {
            throw TrackingError.storeNotWritable(path: path, reason: error)
        }
    }

    /// `Event{wall_time, file_version: "brain.Event:2"}`.
    static func fileVersionEvent(wallTime: Double) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        return event.bytes
    }

    /// TFRecord framing: `u64 length | u32 masked_crc32c(length) | data | u32 masked_crc32c(data)`.
    static func appendRecord(_ data: [UInt8], to output: inout [UInt8]) {
        var length: [UInt8] = []
        length.appendLittleEndian(UInt64(data.count))
        output += length
        output.appendLittleEndian(CRC32.masked(CRC32.castagnoli.checksum(length)))
        output += data
        output.appendLittleEndian(CRC32.masked(CRC32.castagnoli.checksum(data)))
    }

    // MARK: - HParams (tensorboard/plugins/hparams: api.proto, plugin_data.proto)

    /// `Event{wall_time, step 0, summary{value{tag, metadata{plugin_data{"hparams", HParamsPluginData}}}}}`
    /// where `session` is the `HParamsPluginData` field (3: start info, 4: end info) already encoded.
    static func hparamsEvent(wallTime: Double, tag: String, session: [UInt8]) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.int(2, 0)
        event.message(5) { summary in
            summary.message(1) { value in
                value.string(1, tag)
                value.message(9) { metadata in
                    metadata.message(1) { plugin in
                        plugin.string(1, "hparams")
                        // HParamsPluginData{version: 0, …}.
                        plugin.data(2, session)
                    }
                }
            }
        }
        return event.bytes
    }

    /// `HParamsPluginData.session_start_info` (field 3): `hparams` (a map of dotted config keys to
    /// `google.protobuf.Value`), `group_name`, `start_time_secs`.
    static func sessionStart(_ config: [String: ConfigValue], group: String?, startTime: Double) -> [UInt8] {
        var data = ProtobufWriter()
        data.message(3) { info in
            for (key, value) in ConfigValue.flatten(config) {
                info.message(1) { entry in
                    entry.string(1, key)
                    entry.message(2) { protobufValue in
                        switch value {
                        case .int(let number): protobufValue.double(2, Double(number))
                        case .double(let number): protobufValue.double(2, number)
                        case .bool(let flag): protobufValue.bool(4, flag)
                        case .string(let text): protobufValue.string(3, text)
                        case .array, .table: protobufValue.string(3, value.description)
                        }
                    }
                }
            }
            if let group { info.string(4, group) }
            info.double(5, startTime)
        }
        return data.bytes
    }

    /// `HParamsPluginData.session_end_info` (field 4): status (1 success, 2 failure, 3 running; 0 unknown)
    /// and `end_time_secs`.
    static func sessionEnd(_ status: RunStatus, endTime: Double) -> [UInt8] {
        let code: Int64
        switch status {
        case .finished: code = 1
        case .failed, .crashed, .damaged: code = 2
        case .running: code = 3
        case .interrupted: code = 0
        }
        var data = ProtobufWriter()
        data.message(4) { info in
            info.int(1, code)
            info.double(2, endTime)
        }
        return data.bytes
    }
}
