import Foundation
import Tipi

/// What a pipeline prints at its end: a table of its processes (status and time), the run, and where to look
/// at it.
///
/// A pipeline of up to ``fullTableLimit`` processes gets a row per process. A larger one gets the rows worth
/// reading — the processes that did not complete (failed, interrupted, pending; at most ``listedLimit``) and
/// the ``slowestCount`` slowest — and a count by status: thousands of rows would scroll everything else away,
/// and `tipi runs show RUN` lists every process.
enum PipelineSummary {
    /// Up to this many processes, every one has its row.
    static let fullTableLimit = 50
    /// Beyond ``fullTableLimit``: at most this many rows of processes that did not complete.
    static let listedLimit = 20
    /// Beyond ``fullTableLimit``: the rows of this many slowest processes.
    static let slowestCount = 5

    /// The summary's text (lines, without a final newline).
    static func text(_ records: [RunMetadata.ProcessRecord], run: Run, settings: PipelineSettings) -> String {
        var lines: [String]
        if records.count <= fullTableLimit {
            lines = table(records.indices, of: records)
        } else {
            let (listed, unlisted, counts) = selection(records)
            lines = listed.isEmpty ? [] : table(listed, of: records)
            if unlisted > 0 { lines.append("… and \(unlisted) more that did not complete") }
            let tally = counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ")
            lines.append(
                "\(records.count) processes: \(tally) (listed: \(listed.isEmpty ? "none" : "those that did not complete and the slowest"); "
                    + "every process: \(ToolCommand.tipi("runs show \(run.id)")))")
        }
        let metadata = run.metadata
        let seconds = (metadata.endTime ?? metadata.startTime) - metadata.startTime
        lines.append("")
        lines.append("run \(run.id) (\(run.name)): \(metadata.status.rawValue) in \(String(format: "%.1f", seconds)) s, in \(run.folder.path)")
        let keys = metadata.summary.keys.sorted()
        if !keys.isEmpty {
            let values = keys.map { key in "\(key)=\(ProgressFormatting.number(metadata.summary[key]?.last ?? .nan))" }
            lines.append("final metrics: " + values.joined(separator: "  "))
            let metric = keys.first { $0.contains("loss") } ?? keys[0]
            lines.append("look at it:    \(ToolCommand.tipi("runs show \(run.id)"))    \(ToolCommand.tipi("runs plot \(run.id) \(metric)"))")
        } else {
            lines.append("look at it:    \(ToolCommand.tipi("runs show \(run.id)"))")
        }
        let store = run.folder.deletingLastPathComponent().deletingLastPathComponent().path
        if metadata.backends["tensorboard"] != nil {
            lines.append("TensorBoard:   tensorboard --logdir \(settings.options.tensorboardDirectory ?? store)")
        }
        if let wandb = metadata.backends["wandb"]?.location { lines.append("W&B:           wandb sync \(wandb)") }
        return lines.joined(separator: "\n")
    }

    /// The rows of a large pipeline, in pipeline order: the first ``listedLimit`` processes that did not
    /// complete (nor were skipped) and the ``slowestCount`` slowest; how many more did not complete; and how
    /// many processes have each status, in the order the statuses first come.
    static func selection(_ records: [RunMetadata.ProcessRecord]) -> (listed: [Int], unlisted: Int, counts: [(status: String, count: Int)]) {
        var counts: [(status: String, count: Int)] = []
        var notCompleted: [Int] = []
        var unlisted = 0
        // The slowest so far, the fastest of them first.
        var slowest: [(seconds: Double, index: Int)] = []
        // Read in place (a copy of each record would retain and release its texts).
        for index in records.indices {
            if let position = counts.firstIndex(where: { $0.status == records[index].status }) {
                counts[position].count += 1
            } else {
                counts.append((records[index].status, 1))
            }
            if records[index].status != "completed", records[index].status != "skipped" {
                if notCompleted.count < listedLimit { notCompleted.append(index) } else { unlisted += 1 }
            }
            if let seconds = records[index].seconds, slowest.count < slowestCount || seconds > slowest[0].seconds {
                if slowest.count == slowestCount { slowest.removeFirst() }
                let position = slowest.firstIndex { $0.seconds > seconds } ?? slowest.count
                slowest.insert((seconds, index), at: position)
            }
        }
        let listed = Set(notCompleted).union(slowest.map(\.index)).sorted()
        return (listed, unlisted, counts)
    }

    /// The table of `rows` (positions in `records`): a header, then per process its key, type, status and time.
    static func table<Rows: Collection<Int>>(_ rows: Rows, of records: [RunMetadata.ProcessRecord]) -> [String] {
        var cells = [["PROCESS", "TYPE", "STATUS", "TIME"]]
        cells.reserveCapacity(rows.count + 1)
        for index in rows {
            let record = records[index]
            cells.append([record.key, record.type, record.status, record.seconds.map { fixed2($0) + "s" } ?? "-"])
        }
        let widths = (0..<4).map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                line += column == 3 ? cell : pad(cell, to: widths[column])
            }
            return line
        }
    }

    /// `text` padded with spaces to `width` as `padding(toLength:withPad:startingAt:)` pads it (UTF-16 length),
    /// without going through `NSString` when no cut is needed.
    static func pad(_ text: String, to width: Int) -> String {
        let length = text.utf16.count
        if length == width { return text }
        if length > width { return text.padding(toLength: width, withPad: " ", startingAt: 0) }
        return text + String(repeating: " ", count: width - length)
    }

    /// `value` as `String(format: "%.2f", value)` writes it, through the C library directly.
    static func fixed2(_ value: Double) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let written = withVaList([value]) { vsnprintf(buffer.baseAddress, 64, "%.2f", $0) }
            guard written > 0, written < 64 else { return String(format: "%.2f", value) }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(written)), as: UTF8.self)
        }
    }
}
