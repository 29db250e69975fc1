import Foundation

/// Tipi's append-only metric file (`metrics.tipilog` in each run folder).
///
/// Layout: the 8 bytes `TIPILOG1`, then records `u32 length | u32 crc32c(payload) | payload`, all
/// little-endian. A payload starts with its type:
/// - `1` keys: `varint firstID, varint count, count × (varint byteCount, UTF-8 name)`; self-describing
///   (it says which ids it names), so losing one key record never shifts the names of later keys;
/// - `2` rows: `varint rowCount, rowCount × (varint step, f64 time, varint n, n × (varint keyID, f64 value))`.
///
/// Records are bounded (about ``targetPayloadBytes`` each; one row larger than that is a record of its
/// own) and appended one by one, so on a full disk what fits is kept.
///
/// Reading never stops at damage: a record that fails its checksum or cannot be decoded is skipped and
/// counted, and the reader resynchronises on the next record whose length, checksum and payload check
/// out. An incomplete record at the end is a torn write (`kill -9`) and is reported as such
/// (``MetricLogDamage``).
enum MetricLog {
    static let magic = Array("TIPILOG1".utf8)
    /// A record is closed once its payload reaches this size.
    static let targetPayloadBytes = 64 * 1024
    /// The largest record a resynchronising reader accepts (a candidate found by scanning).
    static let maximumResyncPayload = 4 << 20
    /// The payload bytes a reader may checksum while resynchronising, per file.
    static let resyncBudget = 1 << 28
    /// Key ids beyond this are not valid (a damaged record, not a real run).
    static let maximumKeyID = 1 << 24

    /// One encoded record and what it holds.
    struct EncodedRecord: Sendable {
        var bytes: [UInt8]
        var rows: Int
        var values: Int
    }

    /// Encodes new key names and committed rows as records to append (keys first).
    static func encode(newKeys: ArraySlice<String>, firstKeyID: Int, batch: MetricBatch, into output: inout [UInt8]) {
        for record in keyRecords(newKeys, firstKeyID: firstKeyID) { output += record.bytes }
        for record in rowRecords(batch) { output += record.bytes }
    }

    /// Key records for `keys`, the first with id `firstKeyID`, each about ``targetPayloadBytes`` at most
    /// (`values` of each is the number of keys it names).
    static func keyRecords(_ keys: ArraySlice<String>, firstKeyID: Int) -> [EncodedRecord] {
        var records: [EncodedRecord] = []
        var index = keys.startIndex
        while index < keys.endIndex {
            var names: [UInt8] = []
            let first = index
            while index < keys.endIndex, names.count < targetPayloadBytes {
                let utf8 = Array(keys[index].utf8)
                names.appendVarint(UInt64(utf8.count))
                names += utf8
                index += 1
            }
            var head: [UInt8] = [1]
            head.appendVarint(UInt64(firstKeyID + (first - keys.startIndex)))
            head.appendVarint(UInt64(index - first))
            records.append(EncodedRecord(bytes: framed(head: head, body: names), rows: 0, values: index - first))
        }
        return records
    }

    /// Row records for `batch`, each about ``targetPayloadBytes`` at most, as bytes of their own (the run's
    /// writer encodes them one by one into a ``RecordBuffer`` instead).
    static func rowRecords(_ batch: MetricBatch) -> [EncodedRecord] {
        var buffer = RecordBuffer()
        var records: [EncodedRecord] = []
        var row = 0
        while row < batch.rowCount {
            let (next, values) = buffer.encodeRows(of: batch, from: row)
            records.append(EncodedRecord(bytes: buffer.recordBytes, rows: next - row, values: values))
            row = next
        }
        return records
    }

    /// `u32 length | u32 crc32c | head + body`, built with one copy of the body.
    private static func framed(head: [UInt8], body: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 8)
        output.reserveCapacity(8 + head.count + body.count)
        output += head
        output += body
        let length = UInt32(head.count + body.count)
        let crc = output.withUnsafeBufferPointer { CRC32.castagnoli.checksum(UnsafeBufferPointer(rebasing: $0[8...])) }
        for index in 0..<4 {
            output[index] = UInt8(truncatingIfNeeded: length >> (8 * index))
            output[4 + index] = UInt8(truncatingIfNeeded: crc >> (8 * index))
        }
        return output
    }

    /// What a metric file holds.
    struct Contents: Sendable {
        /// Key names by id. An id whose key record was lost has an empty name, and no row refers to it
        /// (its values are counted in `damage.unnamedValues` instead).
        var keys: [String] = []
        var batch = MetricBatch()
        /// What had to be skipped.
        var damage = MetricLogDamage()
        /// Which ids of `keys` were named by a record that was read.
        fileprivate var named: [Bool] = []
    }

    /// Reads a metric file; a missing file reads as empty. A file that cannot be read, or is not a regular
    /// file (a FIFO would block, a folder cannot be read), is an error naming it.
    static func read(_ path: String) throws -> Contents {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return Contents() }
            throw RunStoreProblem(text: "\(path): cannot be read (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw RunStoreProblem(text: "\(path): not a regular file, so the metric history cannot be read")
        }
        let data: Data
        do {
            // Read, not mapped: a writer that cuts a failed write back (ftruncate) would make a mapped
            // reader crash with SIGBUS.
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RunStoreProblem(text: "\(path): cannot be read (\(RunStore.reason(error)))")
        }
        return data.withUnsafeBytes { decode($0) }
    }

    /// Decodes a whole metric file, skipping (and counting) damaged records.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Contents {
        var contents = Contents()
        var budget = resyncBudget
        var offset = magic.count
        if bytes.count < magic.count {
            // A file cut short while its header was written (a crash at start) is a torn tail; anything else is not ours.
            if bytes.elementsEqual(magic.prefix(bytes.count)) {
                contents.damage.tornTailBytes = bytes.count
            } else {
                contents.damage.badHeader = true
                contents.damage.skippedBytes = bytes.count
            }
            return contents
        }
        if !bytes[0..<magic.count].elementsEqual(magic) {
            contents.damage.badHeader = true
            guard let next = resynchronise(bytes, after: 0, budget: &budget) else {
                contents.damage.skippedBytes = bytes.count
                return contents
            }
            contents.damage.skippedBytes = next
            offset = next
        }
        // Room for every row and value at once (the file's records say how many rows; each value takes at least 9
        // bytes): a history grown by doubling is copied into fresh memory each time. Only a hint: damage stops it.
        let room = roomHint(bytes, from: offset)
        contents.batch.rows.reserveCapacity(room.rows)
        contents.batch.entries.reserveCapacity(room.values)
        while offset < bytes.count {
            if let (record, end) = parseRecord(bytes, at: offset, maximumPayload: Int(UInt32.max)) {
                apply(record, to: &contents)
                offset = end
                continue
            }
            // Damage at `offset`: find the next record that checks out.
            if let next = resynchronise(bytes, after: offset, budget: &budget) {
                contents.damage.skippedRecords += recordsIn(bytes, from: offset, to: next)
                contents.damage.skippedBytes += next - offset
                offset = next
                continue
            }
            var reader = ByteReader(bytes, offset: offset)
            let complete = reader.uint32().map { reader.remaining >= 4 + Int($0) } ?? false
            if complete {
                // Complete records that fail their checksum at the end: damage, not a torn write.
                contents.damage.skippedRecords += recordsIn(bytes, from: offset, to: bytes.count)
                contents.damage.skippedBytes += bytes.count - offset
            } else {
                contents.damage.tornTailBytes = bytes.count - offset
            }
            break
        }
        contents.named = []
        return contents
    }

    /// About how many rows and values the row records from `offset` on hold, read from their frames and row
    /// counts only (no checksum): up to the first frame that does not fit, and at most 16 M rows.
    private static func roomHint(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (rows: Int, values: Int) {
        var offset = start
        var rows = 0
        var values = 0
        let limit = 1 << 24
        while offset + 9 <= bytes.count, rows < limit {
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            guard length >= 1, length <= bytes.count - offset - 8 else { break }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + 8 + length)])
            if payload[0] == 2 {
                var reader = ByteReader(payload, offset: 1)
                guard let count = reader.varint(), count <= UInt64(reader.remaining / 10) else { break }
                rows += Int(count)
                values += max(0, reader.remaining - 10 * Int(count)) / 9
            }
            offset += 8 + length
        }
        return (min(rows, limit), min(values, limit * 4))
    }

    /// The first offset after `offset` where a valid record starts (its length, checksum and payload check
    /// out), or `nil`. Every offset is tried, so a damaged length field loses nothing after it.
    ///
    /// `budget` bounds the payload bytes checksummed while searching, over the whole file: a file crafted
    /// so that every offset looks like a long record cannot make reading take hours (what is left after
    /// the budget is spent counts as damaged).
    private static func resynchronise(_ bytes: UnsafeRawBufferPointer, after offset: Int, budget: inout Int) -> Int? {
        var candidate = offset + 1
        while candidate + 9 <= bytes.count {
            // Cheap tests first: a payload type, and a length that fits.
            let type = bytes[candidate + 8]
            if type == 1 || type == 2 {
                let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: candidate, as: UInt32.self)))
                if length <= maximumResyncPayload, length <= bytes.count - candidate - 8 {
                    budget -= length
                    if budget < 0 { return nil }
                    if parseRecord(bytes, at: candidate, maximumPayload: maximumResyncPayload) != nil { return candidate }
                }
            }
            candidate += 1
        }
        return nil
    }

    /// How many records the damaged region `start..<end` holds: as many as its length fields divide it
    /// into when they cover it exactly, else one (its framing is damaged too: at least one record).
    private static func recordsIn(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var count = 0
        var offset = start
        while offset < end {
            var reader = ByteReader(bytes, offset: offset)
            guard let length = reader.uint32(), offset + 8 + Int(length) <= end else { return 1 }
            offset += 8 + Int(length)
            count += 1
        }
        return max(count, 1)
    }

    /// A decoded record payload.
    private enum Record {
        case keys(first: Int, names: [String])
        case rows(MetricBatch)
    }

    /// The record at `offset` and the offset after it, when its length, checksum and payload check out.
    private static func parseRecord(_ bytes: UnsafeRawBufferPointer, at offset: Int, maximumPayload: Int) -> (Record, Int)? {
        var reader = ByteReader(bytes, offset: offset)
        guard let length32 = reader.uint32(), let crc = reader.uint32() else { return nil }
        let length = Int(length32)
        guard length >= 1, length <= maximumPayload, reader.remaining >= length else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[reader.offset..<(reader.offset + length)])
        guard payload[0] == 1 || payload[0] == 2,
            CRC32.castagnoli.checksum(payload.bindMemory(to: UInt8.self)) == crc,
            let record = decodePayload(payload)
        else { return nil }
        return (record, reader.offset + length)
    }

    private static func decodePayload(_ payload: UnsafeRawBufferPointer) -> Record? {
        var reader = ByteReader(payload, offset: 1)
        switch payload[0] {
        case 1:
            guard let first = reader.varint(), let count = reader.varint(), first <= UInt64(maximumKeyID),
                count <= UInt64(reader.remaining), first + count <= UInt64(maximumKeyID)
            else { return nil }
            var names: [String] = []
            names.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let length = reader.varint(), length <= UInt64(reader.remaining) else { return nil }
                let end = reader.offset + Int(length)
                names.append(String(decoding: payload[reader.offset..<end], as: UTF8.self))
                reader.offset = end
            }
            guard reader.remaining == 0 else { return nil }
            return .keys(first: Int(first), names: names)
        case 2:
            // A row takes at least 10 bytes and a value 9: counts beyond that are damage, not an allocation.
            guard let rows = reader.varint(), rows <= UInt64(reader.remaining / 10) else { return nil }
            var batch = MetricBatch()
            batch.rows.reserveCapacity(Int(rows))
            for _ in 0..<rows {
                guard let step = reader.varint(), step <= UInt64(Int.max), let time = reader.double(),
                    let count = reader.varint(), count <= UInt64(reader.remaining / 9)
                else { return nil }
                for _ in 0..<count {
                    guard let key = reader.varint(), key < UInt64(maximumKeyID), let value = reader.double() else {
                        return nil
                    }
                    batch.entries.append(MetricBatch.Entry(key: Int32(key), value: value))
                }
                batch.rows.append(MetricBatch.Row(step: Int(step), time: time, end: batch.entries.count))
            }
            guard reader.remaining == 0 else { return nil }
            return .rows(batch)
        default:
            return nil
        }
    }

    private static func apply(_ record: Record, to contents: inout Contents) {
        switch record {
        case .keys(let first, let names):
            let end = first + names.count
            if contents.keys.count < end {
                contents.keys += [String](repeating: "", count: end - contents.keys.count)
                contents.named += [Bool](repeating: false, count: end - contents.named.count)
            }
            for (index, name) in names.enumerated() where !contents.named[first + index] {
                contents.keys[first + index] = name
                contents.named[first + index] = true
            }
        case .rows(var batch):
            let allNamed = batch.entries.allSatisfy { Int($0.key) < contents.named.count && contents.named[Int($0.key)] }
            if !allNamed {
                // Values of keys whose record was lost: counted, never shown under another key's name.
                var kept = MetricBatch()
                for row in 0..<batch.rowCount {
                    var keys: [Int32] = []
                    var values: [Double] = []
                    for position in batch.range(ofRow: row) {
                        let entry = batch.entries[position]
                        if Int(entry.key) < contents.named.count, contents.named[Int(entry.key)] {
                            keys.append(entry.key)
                            values.append(entry.value)
                        } else {
                            contents.damage.unnamedValues += 1
                        }
                    }
                    if !keys.isEmpty { kept.appendRow(step: batch.rows[row].step, time: batch.rows[row].time, keys: keys, values: values) }
                }
                batch = kept
            }
            contents.batch.append(batch)
        }
    }
}
