import Foundation
import Testing

@testable import Tipi

@Suite("The metric log: damage is skipped, counted and named")
struct MetricLogTests {
    /// A file of a key record and three row records (steps 0–9, 10–19, 20–29); returns the bytes and where
    /// each row record starts and ends.
    func threeRecords() -> (bytes: [UInt8], records: [Range<Int>]) {
        var bytes = MetricLog.magic
        for record in MetricLog.keyRecords(["loss"], firstKeyID: 0) { bytes += record.bytes }
        var ranges: [Range<Int>] = []
        for part in 0..<3 {
            var batch = MetricBatch()
            for step in (part * 10)..<(part * 10 + 10) { batch.appendRow(step: step, time: 1, keys: [0], values: [Double(step)]) }
            let start = bytes.count
            for record in MetricLog.rowRecords(batch) { bytes += record.bytes }
            ranges.append(start..<bytes.count)
        }
        return (bytes, ranges)
    }

    func decode(_ bytes: [UInt8]) -> MetricLog.Contents {
        bytes.withUnsafeBytes { MetricLog.decode($0) }
    }

    func readHistory(_ bytes: [UInt8]) -> MetricHistory {
        MetricHistory(contents: decode(bytes))
    }

    @Test("a row record's bytes, byte for byte: frame, type, row count, then each row's step, time, values")
    func rowRecordLayout() {
        var batch = MetricBatch()
        batch.appendRow(step: 300, time: 2, keys: [0, 200], values: [3, -1])
        let record = MetricLog.rowRecords(batch)
        #expect(record.count == 1 && record[0].rows == 1 && record[0].values == 2)
        func double(_ value: Double) -> [UInt8] { withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        var payload: [UInt8] = [2, 1, 0xAC, 0x02]  // type, 1 row, step 300
        payload += double(2)
        payload += [2, 0]  // 2 values, key 0
        payload += double(3)
        payload += [0xC8, 0x01]  // key 200
        payload += double(-1)
        let length = withUnsafeBytes(of: UInt32(payload.count).littleEndian) { Array($0) }
        let crc = withUnsafeBytes(of: CRC32.castagnoli.checksum(payload).littleEndian) { Array($0) }
        #expect(record[0].bytes == length + crc + payload)
    }

    @Test("rows are cut into records of about 64 KB; a row larger than that closes the record it ends")
    func recordBoundaries() {
        var batch = MetricBatch()
        for step in 0..<20_000 { batch.appendRow(step: step, time: 1, keys: [0, 1], values: [1, 2]) }
        batch.appendRow(step: 20_000, time: 1, keys: (0..<10_000).map { Int32($0) }, values: Array(repeating: 1, count: 10_000))
        for step in 20_001..<20_010 { batch.appendRow(step: step, time: 1, keys: [0], values: [1]) }
        let records = MetricLog.rowRecords(batch)
        #expect(records.map(\.rows).reduce(0, +) == 20_010)
        let values = records.map(\.values).reduce(0, +)
        #expect(values == 50_009)
        let full = records.dropLast(2).map { $0.bytes.count - 8 }
        #expect(full.allSatisfy { $0 >= MetricLog.targetPayloadBytes && $0 < MetricLog.targetPayloadBytes + 64 }, "\(full)")
        var bytes = MetricLog.magic
        for record in MetricLog.keyRecords((0..<10_000).map { "k\($0)" }[...], firstKeyID: 0) { bytes += record.bytes }
        for record in records { bytes += record.bytes }
        let contents = decode(bytes)
        #expect(contents.batch.rowCount == 20_010 && contents.damage == MetricLogDamage())
        #expect(contents.batch.rows.map(\.step) == Array(0..<20_010))
    }

    @Test("one flipped byte anywhere in the middle record: records 1 and 3 read back, 1 record reported lost")
    func flippedByteInMiddle() {
        let (bytes, records) = threeRecords()
        for position in records[1] {
            var damaged = bytes
            damaged[position] ^= 0x5A
            let contents = decode(damaged)
            let steps = readHistory(damaged).series["loss"]?.steps ?? []
            #expect(steps == Array(0..<10) + Array(20..<30), "flipped byte at \(position)")
            #expect(contents.damage.skippedRecords == 1, "flipped byte at \(position)")
            #expect(contents.damage.skippedBytes == records[1].count, "flipped byte at \(position)")
            #expect(contents.damage.tornTailBytes == 0, "flipped byte at \(position): not a torn write")
            #expect(contents.damage.isCorrupted)
        }
    }

    @Test("a damaged last record is damage, a cut-short one is a torn write; the wording tells them apart")
    func tailKinds() {
        let (bytes, records) = threeRecords()
        var damaged = bytes
        damaged[records[2].lowerBound + 12] ^= 1
        let corrupted = decode(damaged).damage
        #expect(corrupted.skippedRecords == 1 && corrupted.tornTailBytes == 0)
        #expect(corrupted.descriptions.joined().contains("damaged record"))
        #expect(!corrupted.descriptions.joined().contains("unfinished write"))
        let torn = decode(Array(bytes[..<(records[2].upperBound - 5)])).damage
        #expect(torn.skippedRecords == 0 && torn.tornTailBytes == records[2].count - 5)
        #expect(torn.descriptions.joined().contains("unfinished write"))
        #expect(!torn.isCorrupted)
    }

    @Test("a damaged header: the records after it still read")
    func damagedHeader() {
        var (bytes, _) = threeRecords()
        bytes[3] = 0
        let contents = decode(bytes)
        #expect(contents.damage.badHeader)
        #expect(readHistory(bytes).series["loss"]?.values.count == 30)
        #expect(decode([]).damage.isEmpty)
        #expect(decode(Array("TIPI".utf8)).damage.tornTailBytes == 4)
        #expect(decode(Array("garbage!garbage!".utf8)).damage.badHeader)
    }

    @Test("a lost key record never gives later values a wrong name: they are counted as unnamed")
    func lostKeyRecord() throws {
        var bytes = MetricLog.magic
        for record in MetricLog.keyRecords(["a", "b"], firstKeyID: 0) { bytes += record.bytes }
        var first = MetricBatch()
        first.appendRow(step: 0, time: 1, keys: [0, 1], values: [1, 2])
        for record in MetricLog.rowRecords(first) { bytes += record.bytes }
        let secondKeys = bytes.count
        for record in MetricLog.keyRecords(["c"], firstKeyID: 2) { bytes += record.bytes }
        let afterKeys = bytes.count
        for record in MetricLog.keyRecords(["d"], firstKeyID: 3) { bytes += record.bytes }
        var second = MetricBatch()
        second.appendRow(step: 1, time: 2, keys: [0, 1, 2, 3], values: [3, 4, 5, 6])
        for record in MetricLog.rowRecords(second) { bytes += record.bytes }

        var damaged = bytes
        damaged[(secondKeys + afterKeys) / 2] ^= 0xFF
        let contents = decode(damaged)
        let series = MetricHistory(contents: contents).series
        #expect(series["a"]?.values == [1, 3])
        #expect(series["b"]?.values == [2, 4])
        #expect(series["c"] == nil)
        #expect(series["d"]?.values == [6])
        #expect(contents.damage.unnamedValues == 1)
        #expect(contents.damage.skippedRecords == 1)
        #expect(contents.damage.descriptions.joined().contains("1 values are not shown"))
    }

    @Test("huge counts and ids in a record with a valid checksum are damage, not a crash or an allocation")
    func hostileCounts() {
        func record(_ payload: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.appendLittleEndian(UInt32(payload.count))
            bytes.appendLittleEndian(CRC32.castagnoli.checksum(payload))
            return bytes + payload
        }
        var huge: [UInt8] = []
        huge.appendVarint(UInt64.max)
        for payload in [[2] + huge, [1] + huge + [1, 1, 65], [1, 0] + huge, [2, 1] + huge + [UInt8](repeating: 0, count: 9)] {
            let bytes = MetricLog.magic + record(payload)
            let contents = decode(bytes)
            #expect(contents.batch.isEmpty)
            #expect(contents.damage.skippedRecords == 1)
        }
    }

    @Test("the largest step (Int.max) is stored and read back, and the steps after it do not trap")
    func largestStep() throws {
        let run = try startRun(temporaryStore())
        run.log(["x": 1], step: Int.max - 1)
        run.log(["x": 2], step: Int.max)
        run.log(["x": 3])
        run.log(["x": 4])
        run.finish()
        let series = try #require(try history(run).series["x"])
        #expect(series.steps == [Int.max - 1, Int.max, Int.max])
        #expect(series.values == [1, 3, 4])  // `step: Int.max` stays open: the next call adds to it (W&B's rule)
    }

    @Test("records stay bounded: many long keys and wide steps split into records of about 64 KiB, all read back")
    func boundedRecords() throws {
        let keys = (0..<3_000).map { "metric/\(String(repeating: "k", count: 90))/\($0)" }
        let records = MetricLog.keyRecords(keys[...], firstKeyID: 0)
        #expect(records.count > 3)
        #expect(records.allSatisfy { $0.bytes.count <= MetricLog.targetPayloadBytes + 8 + 600 })
        #expect(records.map(\.values).reduce(0, +) == keys.count)
        let run = try startRun(temporaryStore())
        for step in 0..<5 { run.log(Dictionary(uniqueKeysWithValues: keys.map { ($0, Double(step)) })) }
        run.finish()
        let series = try history(run).series
        #expect(series.count == keys.count)
        #expect(series[keys[2_999]]?.values == [0, 1, 2, 3, 4])
    }

    @Test("a file crafted so that every offset looks like a long record is read in bounded time")
    func craftedResync() {
        var bytes = MetricLog.magic + [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]
        var period: [UInt8] = [0x00, 0x00, 0x3F, 0x00, 1, 2, 3, 4, 2]
        period += [UInt8](repeating: 0, count: 16 - period.count)
        for _ in 0..<(8 << 20) / 16 { bytes += period }
        let start = Date()
        let contents = decode(bytes)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(contents.batch.isEmpty)
        #expect(contents.damage.skippedBytes + contents.damage.tornTailBytes == bytes.count - MetricLog.magic.count)
    }

    @Test("property: random keys, steps and values written through a run read back exactly (seeded)")
    func roundTrip() throws {
        let alphabet = Array("abcXYZ/_-.é日本🚀 0123456789")
        for seed: UInt64 in [1, 2, 3, 42, 2026] {
            var random = SeededRandomNumberGenerator(seed: seed)
            let keys = (0..<Int.random(in: 1...40, using: &random)).map { index in
                String((0..<Int.random(in: 1...24, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" })
                    + "#\(index)"
            }
            let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-308]
            var expected: [String: [(Int, UInt64)]] = [:]
            let run = try startRun(temporaryStore())
            var step = 0
            for _ in 0..<Int.random(in: 1...3_000, using: &random) {
                step += Int.random(in: 0...3, using: &random) == 0 ? Int.random(in: 1...(1 << 40), using: &random) : 1
                var values: [String: Double] = [:]
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let key = keys.randomElement(using: &random) ?? "k"
                    values[key] =
                        Bool.random(using: &random)
                        ? (specials.randomElement(using: &random) ?? 0)
                        : Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF)
                }
                run.log(values, step: step)
                for (key, value) in values { expected[key, default: []].append((step, value.bitPattern)) }
            }
            run.finish()
            let read = try history(run)
            #expect(read.damage.isEmpty, "seed \(seed)")
            #expect(Set(read.series.keys) == Set(expected.keys), "seed \(seed)")
            for (key, points) in expected {
                let series = try #require(read.series[key], "seed \(seed), key \(key)")
                #expect(series.steps == points.map(\.0), "seed \(seed), key \(key)")
                #expect(series.values.map(\.bitPattern) == points.map(\.1), "seed \(seed), key \(key)")
            }
        }
    }

    @Test("property: records of random batches, cut or damaged at random, never crash and keep every intact record")
    func randomDamage() {
        for seed: UInt64 in 1...40 {
            var random = SeededRandomNumberGenerator(seed: seed)
            var bytes = MetricLog.magic
            for record in MetricLog.keyRecords(["x"], firstKeyID: 0) { bytes += record.bytes }
            var ranges: [Range<Int>] = []
            var step = 0
            for _ in 0..<Int.random(in: 3...8, using: &random) {
                var batch = MetricBatch()
                for _ in 0..<Int.random(in: 1...500, using: &random) {
                    batch.appendRow(step: step, time: 0, keys: [0], values: [Double(step)])
                    step += 1
                }
                for record in MetricLog.rowRecords(batch) {
                    ranges.append(bytes.count..<(bytes.count + record.bytes.count))
                    bytes += record.bytes
                }
            }
            let victim = Int.random(in: 0..<(ranges.count - 1), using: &random)
            var damaged = bytes
            damaged[Int.random(in: ranges[victim], using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            let contents = decode(damaged)
            let all = decode(bytes).batch.rows.map(\.step)
            let victimSteps = Set(decode(MetricLog.magic + Array(bytes[(MetricLog.magic.count)..<ranges[0].lowerBound]) + Array(bytes[ranges[victim]])).batch.rows.map(\.step))
            #expect(contents.batch.rows.map(\.step) == all.filter { !victimSteps.contains($0) }, "seed \(seed)")
            #expect(contents.damage.skippedRecords == 1, "seed \(seed)")
        }
    }
}
