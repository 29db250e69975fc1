/// Memory one metric-log record is encoded into, kept from record to record: the run's writer encodes
/// every row record into the same buffer and writes it from there, so a round allocates nothing and
/// touches no fresh page (each would fault on its first write).
///
/// A row record is `u32 length | u32 crc32c | 2 | varint rowCount | rows`. The rows are written first, at
/// ``bodyStart``; the type and row count then go right in front of them and the frame in front of those,
/// so the record is contiguous (`record`) without moving the rows.
struct RecordBuffer: ~Copyable {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    /// Where the last record starts and ends.
    private var start = 0
    private var end = 0

    /// Room for the frame (8 bytes), the type (1) and the longest row count (a 10-byte varint).
    static let bodyStart = 19

    init(capacity: Int = MetricLog.targetPayloadBytes + 4_096) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    /// The last record encoded (valid until the next one).
    var record: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    /// The last record, as bytes of its own (for a queue that outlives the buffer).
    var recordBytes: [UInt8] { Array(record) }

    /// Encodes the rows of `batch` from `first` on into one record, up to about
    /// ``MetricLog/targetPayloadBytes`` (a row larger than that is a record of its own). Returns the row
    /// after the last one encoded and the number of values encoded.
    mutating func encodeRows(of batch: MetricBatch, from first: Int) -> (next: Int, values: Int) {
        var position = Self.bodyStart
        var row = first
        var values = 0
        batch.rows.withUnsafeBufferPointer { rows in
            batch.entries.withUnsafeBufferPointer { entries in
                var entry = row == 0 ? 0 : rows[row - 1].end
                while row < rows.count, position - Self.bodyStart < MetricLog.targetPayloadBytes {
                    let end = rows[row].end
                    // step (≤ 10) + time (8) + count (≤ 10) + each value's key (≤ 5) and value (8).
                    reserve(position + 28 + (end - entry) * 13)
                    let pointer = base
                    Self.putVarint(UInt64(max(rows[row].step, 0)), pointer, &position)
                    pointer.storeBytes(of: rows[row].time.bitPattern.littleEndian, toByteOffset: position, as: UInt64.self)
                    position += 8
                    Self.putVarint(UInt64(end - entry), pointer, &position)
                    values += end - entry
                    while entry < end {
                        Self.putVarint(UInt64(UInt32(bitPattern: entries[entry].key)), pointer, &position)
                        pointer.storeBytes(of: entries[entry].value.bitPattern.littleEndian, toByteOffset: position, as: UInt64.self)
                        position += 8
                        entry += 1
                    }
                    row += 1
                }
            }
        }
        // The type and row count right in front of the rows, then the frame in front of them.
        var head = (bytes: (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0)), count: 0)
        withUnsafeMutableBytes(of: &head.bytes) { bytes in
            let pointer = bytes.baseAddress!
            pointer.storeBytes(of: 2, as: UInt8.self)
            head.count = 1
            Self.putVarint(UInt64(row - first), pointer, &head.count)
        }
        start = Self.bodyStart - head.count - 8
        withUnsafeBytes(of: head.bytes) { bytes in
            (base + start + 8).copyMemory(from: bytes.baseAddress!, byteCount: head.count)
        }
        end = position
        let payload = UnsafeBufferPointer(start: (base + start + 8).assumingMemoryBound(to: UInt8.self), count: end - start - 8)
        base.storeBytes(of: UInt32(end - start - 8).littleEndian, toByteOffset: start, as: UInt32.self)
        base.storeBytes(of: CRC32.castagnoli.checksum(payload).littleEndian, toByteOffset: start + 4, as: UInt32.self)
        return (row, values)
    }

    /// Makes room for `needed` bytes, keeping what is written.
    private mutating func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let grown = max(needed, capacity * 2)
        let larger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        larger.copyMemory(from: base, byteCount: capacity)
        base.deallocate()
        base = larger
        capacity = grown
    }

    @inline(__always)
    private static func putVarint(_ value: UInt64, _ pointer: UnsafeMutableRawPointer, _ position: inout Int) {
        var value = value
        while value >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: position, as: UInt8.self)
            position += 1
            value >>= 7
        }
        pointer.storeBytes(of: UInt8(value), toByteOffset: position, as: UInt8.self)
        position += 1
    }
}
