import Foundation
import Synchronization

/// Writing a file of a run folder whole, as the store writes `run.json`: into a temporary file beside it,
/// then renamed over it, so that a reader sees the old file or the new one, never a part.
///
/// There is no `fsync`, as for `run.json`: a file rewritten at every run's start would wait on the disk
/// (0.7 ms at the median here, 9 ms at worst, for each file), and the kernel writes it out within seconds.
/// What a power cut loses is the last seconds, as for the metrics.
package enum RunFile {
    /// Writes `bytes` to `path` whole (a temporary file renamed over it).
    /// - Throws: ``TrackingError/storeNotWritable(path:reason:)`` when the file cannot be written.
    package static func replace(_ path: String, with bytes: [UInt8]) throws {
        try replace(path, pieces: [bytes])
    }

    /// Writes `pieces`, one after the other, to `path` whole (`writev`: text of megabytes kept in several
    /// buffers, such as a pipeline's `run.json`, is written from where it is, not joined first). On failure
    /// the temporary file is removed (it would hold space on a full disk).
    /// - Throws: ``TrackingError/storeNotWritable(path:reason:)`` naming the file and the reason.
    package static func replace(_ path: String, pieces: [[UInt8]]) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = folder + "/.\(name).\(getpid()).\(counter.wrappingAdd(1, ordering: .relaxed).newValue).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw TrackingError.storeNotWritable(path: path, reason: String(cString: strerror(errno))) }
        let failure = writeFully(pieces, to: descriptor).error
        let closed = close(descriptor) == 0 ? nil : String(cString: strerror(errno))
        if let failure = failure ?? closed {
            unlink(temporary)
            throw TrackingError.storeNotWritable(path: path, reason: failure)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw TrackingError.storeNotWritable(path: path, reason: reason)
        }
    }

    /// Makes the temporary names of one process different from each other.
    private static let counter = Atomic<Int>(0)
}
