import Tipi

/// The `processes` table of a resolved config as `run.json` holds it — what
/// ``PrettyJSONWriter/table(_:indent:)`` writes for it inside the config — written one process at a time,
/// in `JSONEncoder`'s key order, while ``ResolvedConfig`` resolves them: straight into the config's text,
/// in its final place (no second copy of megabytes).
///
/// Each process's table has a known shape (`force` when written, `params`, `type`): written directly, it
/// costs no dictionary walk, key array or sort per process.
struct ProcessesText {
    /// The config's text: up to the `{` of `processes` when made, then each process's `"key" : {…}`.
    private var writer: PrettyJSONWriter
    /// How many processes were added.
    private var count = 0

    /// The indentation of the process keys (the config is at 1 in `run.json`, `processes` at 2).
    static let indent = 3

    /// The table after `writer`'s text, which ends with `"processes" : ` (see ``finish()``); room for `count`
    /// processes.
    init(after writer: PrettyJSONWriter, count: Int) {
        self.writer = writer
        // ~110 bytes for a process with a param or two: grown once, not by copies as it fills.
        self.writer.bytes.reserveCapacity(self.writer.bytes.count + 128 * count + 4096)
        self.writer.bytes.append(UInt8(ascii: "{"))
    }

    /// A process's entry: its key, and its table of `force` (when written), `params` (sorted here, in place)
    /// and `type`. Processes must come in `JSONEncoder`'s key order (UTF-8 byte order), each key once.
    mutating func add(key: String, type: String, params: inout [(name: String, value: ConfigValue)], force: ConfigValue?) {
        let indent = Self.indent
        if count > 0 { writer.bytes.append(UInt8(ascii: ",")) }
        count += 1
        writer.key(key, indent: indent)
        if let force {
            writer.bytes.append(UInt8(ascii: "{"))
            writer.key("force", indent: indent + 1)
            writer.value(force, indent: indent + 1)
            writer.bytes.append(UInt8(ascii: ","))
            writer.key("params", indent: indent + 1)
            writer.bytes.append(UInt8(ascii: "{"))
        } else {
            writer.put(Self.paramsOpening)
        }
        if params.isEmpty {
            writer.newline(indent: 0)
        } else {
            if params.count > 1 { params.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) } }
            for (position, param) in params.enumerated() {
                if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                writer.key(param.name, indent: indent + 2)
                writer.value(param.value, indent: indent + 2)
            }
        }
        writer.put(Self.paramsClosing)
        // The type's text, escaped once for a run of processes of one type.
        if type != lastType {
            lastType = type
            lastTypeText.removeAll(keepingCapacity: true)
            JSONText.appendString(type, to: &lastTypeText)
        }
        writer.put(lastTypeText)
        writer.put(Self.closing)
    }

    /// The type of the last process and its text (`"train"`).
    private var lastType: String?
    private var lastTypeText: [UInt8] = []

    /// What `JSONEncoder` writes between a process's key and its params, at ``indent`` (no `force`):
    /// `{`, a new line, `"params" : {`.
    private static let paramsOpening = Array("{\n\(spaces(indent + 1))\"params\" : {".utf8)
    /// After the params: their closing line, and the key of `type`.
    private static let paramsClosing = Array("\n\(spaces(indent + 1))},\n\(spaces(indent + 1))\"type\" : ".utf8)
    /// The process's closing line.
    private static let closing = Array("\n\(spaces(indent))}".utf8)

    private static func spaces(_ indent: Int) -> String {
        String(repeating: "  ", count: indent)
    }

    /// The writer, taken out, with the table closed after the last process (the rest of the config follows).
    mutating func finish() -> PrettyJSONWriter {
        var finished = PrettyJSONWriter()
        swap(&finished, &writer)
        if count == 0 { finished.newline(indent: 0) }
        finished.newline(indent: Self.indent - 1)
        finished.bytes.append(UInt8(ascii: "}"))
        return finished
    }
}
