/// What a reader of `metrics.tipilog` had to skip, and why: the difference between a file damaged in the
/// middle (a changed byte, a bad disk block) and a write cut short at the end (`kill -9`, a crash).
///
/// Everything not counted here was read back exactly as it was logged.
public struct MetricLogDamage: Sendable, Equatable, Codable {
    /// Complete records that failed their checksum or could not be decoded, and were skipped; the
    /// reader resynchronised on the next valid record. A region whose length fields were damaged too
    /// counts as the records it can still be divided into (at least one).
    public var skippedRecords = 0
    /// The bytes of those records.
    public var skippedBytes = 0
    /// Bytes at the end that are not a complete record: a write cut short (the process was killed or
    /// crashed mid-write). Expected after `kill -9`; nothing else was lost.
    public var tornTailBytes = 0
    /// Values whose key name was in a skipped record: they are not shown under a wrong name.
    public var unnamedValues = 0
    /// The file does not start with `TIPILOG1` (it was overwritten or is not a Tipi metric file).
    public var badHeader = false

    /// No damage.
    public init() {}

    /// Whether anything at all was skipped.
    public var isEmpty: Bool {
        skippedRecords == 0 && skippedBytes == 0 && tornTailBytes == 0 && unnamedValues == 0 && !badHeader
    }

    /// Whether data in the middle of the file was lost (as opposed to only a torn tail).
    public var isCorrupted: Bool {
        skippedRecords > 0 || unnamedValues > 0 || badHeader
    }

    /// One line per kind of damage, for people: what was lost, and what it means.
    public var descriptions: [String] {
        var lines: [String] = []
        if badHeader {
            lines.append("the metric file does not start with TIPILOG1 (overwritten, or not a Tipi file); valid records after it were read")
        }
        if skippedRecords > 0 {
            lines.append(
                "\(skippedRecords) damaged record\(skippedRecords == 1 ? "" : "s") (\(skippedBytes) bytes) failed the checksum "
                    + "and were skipped; the records after them were read (the file was changed or damaged on disk, "
                    + "not by a crash)")
        }
        if unnamedValues > 0 {
            lines.append("\(unnamedValues) values are not shown: the record naming their metric was damaged")
        }
        if tornTailBytes > 0 {
            lines.append(
                "the last \(tornTailBytes) bytes of the metric file are an unfinished write (the process was killed "
                    + "or crashed while writing) and were ignored; everything before them was read")
        }
        return lines
    }
}
