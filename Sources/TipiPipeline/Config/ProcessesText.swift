import Tipi

/// The `processes` table of a resolved config as `run.json` holds it — what
/// ``PrettyJSONWriter/table(_:indent:)`` writes for it inside the config — written one process at a time
/// while ``ResolvedConfig`` resolves them, then put in `JSONEncoder`'s key order once.
///
/// Each process's table has a known shape (`force` when written, `params`, `type`): written directly, it
/// costs no dictionary walk, key array or sort per process; only the process keys are sorted, once.
struct ProcessesText {
    /// Each process's `"key" : {…}`, one after the other.
    private var writer = PrettyJSONWriter()
    private var keys: [String] = []
    /// Where each process's text ends in the writer's bytes (it starts where the one before it ends).
    private var ends: [Int] = []

    /// The indentation of the process keys (the config is at 1 in `run.json`, `processes` at 2).
    static let indent = 3

    init(count: Int) {
        keys.reserveCapacity(count)
        ends.reserveCapacity(count)
        // ~110 bytes for a process with a param or two: grown once, not by copies as it fills.
        writer.bytes.reserveCapacity(128 * count)
    }

    /// The size of the processes' text so far.
    var byteCount: Int { writer.bytes.count }

    /// A process's entry: its key, and its table of `force` (when written), `params` (sorted here, in place)
    /// and `type`.
    mutating func add(key: String, type: String, params: inout [(name: String, value: ConfigValue)], force: ConfigValue?) {
        let indent = Self.indent
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
        keys.append(key)
        ends.append(writer.bytes.count)
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

    /// The table (`{`, the processes in `JSONEncoder`'s key order, `}`), as the value of `processes` at
    /// indent 2. The keys must be unique (they are a dictionary's in the config).
    func write(into target: inout PrettyJSONWriter) {
        target.bytes.append(UInt8(ascii: "{"))
        if keys.isEmpty {
            target.newline(indent: 0)
        } else {
            writer.bytes.withUnsafeBufferPointer { bytes in
                for (position, index) in PrettyJSONWriter.sortedOrder(of: keys).enumerated() {
                    if position > 0 { target.bytes.append(UInt8(ascii: ",")) }
                    let start = index == 0 ? 0 : ends[index - 1]
                    target.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<ends[index]]))
                }
            }
        }
        target.newline(indent: Self.indent - 1)
        target.bytes.append(UInt8(ascii: "}"))
    }
}
