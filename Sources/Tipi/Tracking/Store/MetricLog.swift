import Foundation

/// Tipi's append-only metric file (`metrics.tipilog` in each run folder).
///
/// Layout: the 8 bytes `TIPILOG1`, then records `u32 length | u32 crc32c(payload) | payload`, all
/// little-endian. A payload starts with its type:
/// - `1` keys: `varint firstID, varint count, count × (varint byteCount, UTF-8 name)`;
/// - `2` rows: `varint rowCount, rowCount × (varint step, f64 time, varint n, n × (varint keyID, f64 value))`.
///
/// One flush (at most a second of steps) is one or a few records. A reader stops at the first record that
/// is incomplete or fails its checksum: after `kill -9` the torn tail is ignored and everything before it
/// reads back.
enum MetricLog {
    static let magic = Array("TIPILOG1".utf8)
    static let maximumRowsPerRecord = 65_536

    /// Encodes new key names and committed rows as records to append.
    static func encode(newKeys: ArraySlice<String>, firstKeyID: Int, batch: MetricBatch, into output: inout [UInt8]) {
        if !newKeys.isEmpty {
            var payload: [UInt8] = [1]
            payload.appendVarint(UInt64(firstKeyID))
            payload.appendVarint(UInt64(newKeys.count))
            for key in newKeys {
                let utf8 = Array(key.utf8)
                payload.appendVarint(UInt64(utf8.count))
                payload += utf8
            }
            appendRecord(payload, to: &output)
        }
        var row = 0
        while row < batch.rowCount {
            let end = min(row + maximumRowsPerRecord, batch.rowCount)
            var payload: [UInt8] = [2]
            payload.reserveCapacity((end - row) * 24 + 8)
            payload.appendVarint(UInt64(end - row))
            for index in row..<end {
                payload.appendVarint(UInt64(max(batch.rows[index].step, 0)))
                payload.appendLittleEndian(batch.rows[index].time.bitPattern)
                let range = batch.range(ofRow: index)
                payload.appendVarint(UInt64(range.count))
                for position in range {
                    payload.appendVarint(UInt64(batch.entries[position].key))
                    payload.appendLittleEndian(batch.entries[position].value.bitPattern)
                }
            }
            appendRecord(payload, to: &output)
            row = end
        }
    }

    private static func appendRecord(_ payload: [UInt8], to output: inout [UInt8]) {
        output.appendLittleEndian(UInt32(payload.count))
        output.appendLittleEndian(CRC32.castagnoli.checksum(payload))
        output += payload
    }

    /// What a metric file holds.
    struct Contents: Sendable {
        var keys: [String] = []
        var batch = MetricBatch()
        /// Bytes at the end that were not a complete, valid record (a torn write after a crash).
        var ignoredBytes = 0
    }

    /// Reads a metric file; a missing file reads as empty.
    static func read(_ path: String) throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { return Contents() }
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        return data.withUnsafeBytes { decode($0) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> Contents {
        var contents = Contents()
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            contents.ignoredBytes = bytes.count
            return contents
        }
        var reader = ByteReader(bytes, offset: magic.count)
        while reader.remaining > 0 {
            let recordStart = reader.offset
            guard let length = reader.uint32(), let crc = reader.uint32(), reader.remaining >= Int(length) else {
                contents.ignoredBytes = bytes.count - recordStart
                break
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[reader.offset..<(reader.offset + Int(length))])
            guard CRC32.castagnoli.checksum(payload.bindMemory(to: UInt8.self)) == crc,
                decodePayload(payload, into: &contents)
            else {
                contents.ignoredBytes = bytes.count - recordStart
                break
            }
            reader.offset += Int(length)
        }
        return contents
    }

    private static func decodePayload(_ payload: UnsafeRawBufferPointer, into contents: inout Contents) -> Bool {
        guard let type = payload.first else { return false }
        var reader = ByteReader(payload, offset: 1)
        switch type {
        case 1:
            guard let first = reader.varint(), let count = reader.varint(), Int(first) == contents.keys.count else {
                return false
            }
            for _ in 0..<count {
                guard let length = reader.varint(), reader.remaining >= Int(length) else { return false }
                let name = String(decoding: payload[reader.offset..<(reader.offset + Int(length))], as: UTF8.self)
                contents.keys.append(name)
                reader.offset += Int(length)
            }
            return true
        case 2:
            guard let rows = reader.varint() else { return false }
            var batch = MetricBatch()
            batch.rows.reserveCapacity(Int(rows))
            for _ in 0..<rows {
                guard let step = reader.varint(), let time = reader.double(), let count = reader.varint() else {
                    return false
                }
                for _ in 0..<count {
                    guard let key = reader.varint(), let value = reader.double(), Int(key) < contents.keys.count else {
                        return false
                    }
                    batch.entries.append(MetricBatch.Entry(key: Int32(key), value: value))
                }
                batch.rows.append(MetricBatch.Row(step: Int(step), time: time, end: batch.entries.count))
            }
            contents.batch.append(batch)
            return true
        default:
            return false
        }
    }
}
