import Foundation
import Logging

/// A swift-log handler that prints log lines above the live progress bars instead of through them.
///
/// ```swift
/// LoggingSystem.bootstrap(ProgressLogHandler.init)
/// let log = Logger(label: "train")
/// for batch in progressBar(batches, desc: "Training") {
///     log.info("checkpoint saved")      // appears above the bar; the bar stays intact
/// }
/// ```
///
/// Lines look like swift-log's `StreamLogHandler`: `2026-11-29T10:00:00+0000 info train: checkpoint saved`.
/// Inside a pipeline they carry `process=<name>` and go through the pipeline's display.
public struct ProgressLogHandler: LogHandler {
    /// The logger's label.
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let display: ProgressDisplay?

    /// Creates a handler for `label` that writes through the current display (the shape `bootstrap` expects).
    public init(label: String) {
        self.label = label
        self.display = nil
    }

    /// Creates a handler that writes through a given display.
    public init(label: String, display: ProgressDisplay, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.display = display
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let process = PipelineContext.current?.processName, merged["process"] == nil {
            merged["process"] = .string(process)
        }
        let pairs = merged.keys.sorted().map { "\($0)=\(merged[$0].map { "\($0)" } ?? "")" }
        let suffix = pairs.isEmpty ? "" : " " + pairs.joined(separator: " ")
        let line = "\(Self.timestamp()) \(event.level) \(label): \(event.message)\(suffix)"
        (display ?? ProgressDisplay.current).write(line, to: .progress)
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
