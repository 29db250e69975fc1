import FuzzSupport
@testable import Tipi

/// The metric-log reader must never crash, whatever bytes a run folder holds, and what it returns must be
/// consistent: every value names a key that was read, the history builds, and writing the result again
/// reads back the same values with no damage.
func fuzzOne(_ bytes: [UInt8]) {
    var input = bytes
    if input.first.map({ $0 & 1 == 0 }) ?? false {
        // Half the inputs get the real header, so the fuzzer spends its time in the records.
        input = MetricLog.magic + input.dropFirst()
    }
    let contents = input.withUnsafeBytes { MetricLog.decode($0) }
    let damage = contents.damage
    precondition(damage.skippedBytes + damage.tornTailBytes <= input.count, "more bytes skipped than read")
    for entry in contents.batch.entries {
        precondition(Int(entry.key) < contents.keys.count, "a value refers to a key that was never read")
    }
    _ = MetricHistory(contents: contents)

    var again = MetricLog.magic
    MetricLog.encode(newKeys: contents.keys[...], firstKeyID: 0, batch: contents.batch, into: &again)
    let reread = again.withUnsafeBytes { MetricLog.decode($0) }
    precondition(reread.damage.isEmpty, "a file written from decoded contents reads back damaged")
    precondition(reread.keys == contents.keys, "key names changed in a round trip")
    precondition(reread.batch.rows.map(\.step) == contents.batch.rows.map(\.step), "steps changed in a round trip")
    precondition(
        reread.batch.entries.map(\.value.bitPattern) == contents.batch.entries.map(\.value.bitPattern),
        "values changed in a round trip")
}

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
