import Synchronization

/// The text of the last large list of process records written into a `run.json`, kept so that the next
/// rewrite copies the records that did not change instead of writing them again.
///
/// A pipeline's `run.json` holds a record per process and is rewritten about once a second while it runs
/// (and at the start and the end): between two rewrites only the records of the processes that ran
/// changed. A record is reused only when it equals the one kept at its position, so whatever the list
/// (another run's, a shorter one, a reordered one) the text is what writing every record gives.
///
/// The records' text is a buffer of its own (written to the file as a piece of it, see
/// ``RunMetadataJSON/encodePieces(_:)``), and the buffer of the text before it is kept too, to write the
/// next one into: a rewrite fills memory already in use instead of megabytes of fresh pages.
struct ProcessRecordsText {
    /// From this many records a list's text is kept (a short list costs less to write again than to keep).
    static let keptCount = 64

    /// The indentation the kept text was written at.
    let indent: Int
    private var records: [RunMetadata.ProcessRecord] = []
    /// The records' text: each record on a new line at ``indent``, separated by commas.
    private var text: [UInt8] = []
    /// Where each record's text, `{…}`, is in `text`.
    private var spans: [(start: Int, end: Int)] = []
    /// The memory of the text and spans before these, for the next ones.
    private var spareText: [UInt8] = []
    private var spareSpans: [(start: Int, end: Int)] = []

    private init(indent: Int) {
        self.indent = indent
    }

    /// The last list kept, taken out (a writer that encodes at the same time starts afresh: it is rare, and
    /// correct either way); an empty one when there is none for `indent`.
    static func take(indent: Int) -> ProcessRecordsText {
        let kept = last.withLock { kept -> ProcessRecordsText? in
            defer { kept = nil }
            return kept
        }
        if let kept, kept.indent == indent { return kept }
        return ProcessRecordsText(indent: indent)
    }

    /// Keeps `text` for the next rewrite.
    static func keep(_ text: ProcessRecordsText) {
        last.withLock { $0 = text }
    }

    private static let last = Mutex<ProcessRecordsText?>(nil)

    /// About the bytes `records` take in `run.json` (a little more, seldom less): what a writer reserves, so
    /// that a text of megabytes is not copied as it grows.
    static func estimatedSize(of records: [RunMetadata.ProcessRecord]) -> Int {
        var size = 0
        for record in records {
            size += 144 + record.key.utf8.count + record.type.utf8.count + (record.error?.utf8.count ?? 0)
            if let checkpoint = record.checkpoint { size += 24 + checkpoint.utf8.count }
            if let completedIn = record.completedIn { size += 24 + completedIn.utf8.count }
        }
        return size
    }

    /// The text of `records`, each on a new line at ``indent`` and separated by commas, copying the text of
    /// each record equal to the kept one at its position; these records and their text are kept then.
    mutating func write(_ records: [RunMetadata.ProcessRecord]) -> [UInt8] {
        let keys = ProcessRecordKeys(indent: indent)
        var writer = PrettyJSONWriter()
        swap(&writer.bytes, &spareText)
        writer.bytes.removeAll(keepingCapacity: true)
        // The last text and a little more per record (its status, time…); about each record the first time.
        writer.bytes.reserveCapacity(text.isEmpty ? Self.estimatedSize(of: records) : text.count + 32 * records.count)
        var newSpans: [(start: Int, end: Int)] = []
        swap(&newSpans, &spareSpans)
        newSpans.removeAll(keepingCapacity: true)
        newSpans.reserveCapacity(records.count)
        text.withUnsafeBufferPointer { kept in
            for (position, record) in records.enumerated() {
                if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                writer.newline(indent: indent)
                let start = writer.bytes.count
                if position < self.records.count, self.records[position] == record {
                    let span = spans[position]
                    writer.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: kept[span.start..<span.end]))
                } else {
                    writer.process(record, keys: keys)
                }
                newSpans.append((start, writer.bytes.count))
            }
        }
        self.records = records
        swap(&text, &writer.bytes)
        spareText = writer.bytes
        swap(&spans, &newSpans)
        spareSpans = newSpans
        return text
    }
}

/// The keys of a process record as `JSONEncoder` writes them at one indentation: each on a new line, with
/// its ` : `; and the record's closing line.
struct ProcessRecordKeys {
    let checkpoint: [UInt8]
    let completedIn: [UInt8]
    let error: [UInt8]
    let key: [UInt8]
    let seconds: [UInt8]
    let status: [UInt8]
    let type: [UInt8]
    /// The new line and `}` that close a record.
    let close: [UInt8]

    /// The keys of a record that starts at `indent` (its keys one level deeper).
    init(indent: Int) {
        let line = [UInt8(0x0A)] + [UInt8](repeating: 0x20, count: 2 * (indent + 1))
        func named(_ name: String) -> [UInt8] { line + Array("\"\(name)\" : ".utf8) }
        checkpoint = named("checkpoint")
        completedIn = named("completedIn")
        error = named("error")
        key = named("key")
        seconds = named("seconds")
        status = named("status")
        type = named("type")
        close = [UInt8(0x0A)] + [UInt8](repeating: 0x20, count: 2 * indent) + [UInt8(ascii: "}")]
    }
}
