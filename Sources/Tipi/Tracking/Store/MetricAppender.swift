import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The writing end of `metrics.tipilog`: key records, then row records, appended one by one in order.
///
/// While the disk refuses writes (full, over quota, over `RLIMIT_FSIZE`), encoded records wait in a queue
/// bounded by ``limitBytes``; beyond it the oldest are dropped and counted, so memory stays bounded and
/// `log` never waits on a dead disk. Key records are never dropped (no later row may lose its name), and
/// a failed write is cut back to the last good size, so the file never holds a torn record in front of
/// later ones. Only the run's writer thread uses it.
struct MetricAppender: ~Copyable {
    /// The open file (`O_APPEND`); closed by ``close()``.
    let descriptor: Int32
    /// The bytes of unwritten records kept before the oldest are dropped.
    let limitBytes: Int
    /// The file size up to the last complete record.
    private(set) var goodSize: off_t
    /// How many keys (from id 0) are in the file.
    private(set) var writtenKeys = 0
    private var pending: [MetricLog.EncodedRecord] = []
    private var head = 0
    /// The bytes of the records waiting to be written.
    private(set) var pendingBytes = 0
    /// Rows and values that will never be written (dropped from a full queue, or left at ``abandon()``).
    private(set) var lostRows = 0
    private(set) var lostValues = 0
    /// The last reason the disk gave for refusing a write.
    private(set) var lastError: String?
    private var closed = false
    /// The buffer each row record is encoded into before it is written (``appendRows(of:keys:)``).
    private var scratch = RecordBuffer()

    /// Opens (creating it) the metric file of a run and writes its header; throws a clear error naming the file.
    init(path: String, limitBytes: Int) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrackingError.storeNotWritable(path: path, reason: String(cString: strerror(errno)))
        }
        var size: off_t = 0
        if let failure = Self.append(MetricLog.magic, to: descriptor, goodSize: &size) {
            closeFile(descriptor)
            throw TrackingError.storeNotWritable(path: path, reason: failure)
        }
        self.descriptor = descriptor
        self.limitBytes = limitBytes
        goodSize = size
    }

    /// Whether records are waiting for the disk.
    var hasPending: Bool { head < pending.count }

    /// Queues records to write; drops (and counts) the oldest while the queue is over its limit.
    mutating func enqueue(_ records: [MetricLog.EncodedRecord]) {
        for record in records {
            pending.append(record)
            pendingBytes += record.bytes.count
        }
        while pendingBytes > limitBytes, head < pending.count {
            let dropped = pending[head]
            pending[head].bytes = []
            head += 1
            pendingBytes -= dropped.bytes.count
            lostRows += dropped.rows
            lostValues += dropped.values
        }
        compact()
    }

    /// Writes the keys not yet in the file, then the queued records in order, each with its own write.
    /// Stops at the first failure (what did not fit stays queued) and returns its reason.
    mutating func writeOut(keys: [String]) -> String? {
        if writtenKeys < keys.count {
            // One record at a time, so a failure after some key records re-sends only the rest.
            for record in MetricLog.keyRecords(keys[writtenKeys...], firstKeyID: writtenKeys) {
                if let failure = Self.append(record.bytes, to: descriptor, goodSize: &goodSize) {
                    lastError = failure
                    return failure
                }
                writtenKeys += record.values
            }
        }
        while head < pending.count {
            if let failure = Self.append(pending[head].bytes, to: descriptor, goodSize: &goodSize) {
                lastError = failure
                compact()
                return failure
            }
            pendingBytes -= pending[head].bytes.count
            pending[head].bytes = []
            head += 1
        }
        compact()
        return nil
    }

    /// Appends the keys not yet in the file, what waits in the queue, then the rows of `batches`, in order.
    /// Each row record is encoded into one buffer kept for the purpose and written from there; from the first
    /// refused write on, the rest is queued instead (as ``enqueue(_:)`` does). Returns whether anything was
    /// to be written, and the reason of a refused write.
    mutating func appendRows(of batches: [MetricBatch], keys: [String]) -> (attempted: Bool, failure: String?) {
        let rows = batches.contains { !$0.isEmpty }
        guard hasPending || writtenKeys < keys.count || rows else { return (false, nil) }
        if hasPending || writtenKeys < keys.count, let failure = writeOut(keys: keys) {
            enqueue(batches.flatMap(MetricLog.rowRecords))
            return (true, failure)
        }
        for (index, batch) in batches.enumerated() {
            var row = 0
            while row < batch.rowCount {
                let (next, values) = scratch.encodeRows(of: batch, from: row)
                if let failure = Self.append(scratch.record, to: descriptor, goodSize: &goodSize) {
                    lastError = failure
                    var rest = [MetricLog.EncodedRecord(bytes: scratch.recordBytes, rows: next - row, values: values)]
                    rest += MetricLog.rowRecords(batch.slice(rows: next..<batch.rowCount))
                    rest += batches[(index + 1)...].flatMap(MetricLog.rowRecords)
                    enqueue(rest)
                    return (true, failure)
                }
                row = next
            }
        }
        return (true, nil)
    }

    /// Counts everything still queued as lost (the run ends and the disk still refuses it).
    mutating func abandon() {
        for record in pending[head...] {
            lostRows += record.rows
            lostValues += record.values
        }
        pending.removeAll()
        head = 0
        pendingBytes = 0
    }

    /// Closes the file once.
    mutating func close() {
        guard !closed else { return }
        closed = true
        closeFile(descriptor)
    }

    private mutating func compact() {
        if head == pending.count {
            pending.removeAll(keepingCapacity: pending.count < 1024)
            head = 0
        } else if head > 64, head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
    }

    /// Appends bytes; on a failed or short write, cuts the file back to its last good size so that no torn
    /// record sits in front of later ones. Returns the reason of a failure.
    static func append(_ bytes: [UInt8], to descriptor: Int32, goodSize: inout off_t) -> String? {
        bytes.withUnsafeBytes { append($0, to: descriptor, goodSize: &goodSize) }
    }

    /// ``append(_:to:goodSize:)`` of bytes in memory.
    static func append(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, goodSize: inout off_t) -> String? {
        let (written, failure) = writeFully(bytes, to: descriptor)
        if failure != nil {
            _ = ftruncate(descriptor, goodSize)
            return failure
        }
        goodSize += off_t(written)
        return nil
    }

    deinit {
        if !closed { closeFile(descriptor) }
    }
}

/// `close(2)`, callable where a method named `close` hides it.
private func closeFile(_ descriptor: Int32) {
    _ = close(descriptor)
}
