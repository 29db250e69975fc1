import Tipi

/// The `processes` table of a resolved config as `run.json` holds it — what
/// ``PrettyJSONWriter/table(_:indent:)`` writes for it inside the config — written one process at a time,
/// in `JSONEncoder`'s key order, while ``ResolvedConfig`` resolves them: straight into the config's text,
/// in its final place (no second copy of megabytes).
///
/// Each process's table has a known shape (`force` when written, `params`, `type`): written directly, it
/// costs no dictionary walk, key array or sort per process. A process whose params are numbers, strings and
/// booleans (most) is written in one piece through a pointer (``ByteBuffer``); others through
/// ``PrettyJSONWriter``, whose bytes are copied in.
struct ProcessesText {
    /// The config's text: up to the `{` of `processes` when made, then each process's `"key" : {…}`.
    private var text = ByteBuffer()
    /// Where a process that is not written in one piece is written first.
    private var scratch = PrettyJSONWriter()
    /// How many processes were added.
    private var count = 0

    /// The indentation of the process keys (the config is at 1 in `run.json`, `processes` at 2). The one-piece
    /// writer's literals are written for it.
    static let indent = 3

    /// The table after `writer`'s text, which ends with `"processes" : ` (see ``finish()``); room for `count`
    /// processes.
    init(after writer: PrettyJSONWriter, count: Int) {
        // ~110 bytes for a process with a param or two: grown once, not by copies as it fills.
        text.reserveCapacity(writer.bytes.count + 128 * count + 4096)
        writer.bytes.withUnsafeBufferPointer { text.append($0) }
        text.append(UInt8(ascii: "{"))
    }

    /// A process's entry: its key, and its table of `force` (when written), `params` (sorted here, in place)
    /// and `type`. Processes must come in `JSONEncoder`'s key order (UTF-8 byte order), each key once.
    mutating func add(key: String, type: String, params: inout [(name: String, value: ConfigValue)], force: ConfigValue?) {
        if params.count > 1 { params.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) } }
        // The type's text, escaped once for a run of processes of one type.
        if type != lastType {
            lastType = type
            lastTypeText.removeAll(keepingCapacity: true)
            JSONText.appendString(type, to: &lastTypeText)
        }
        if force == nil, let maximum = Self.onePieceSize(key: key, params: params) {
            addInOnePiece(key: key, params: params, maximum: maximum + lastTypeText.count)
        } else {
            addThroughWriter(key: key, params: params, force: force)
        }
        count += 1
    }

    /// The most bytes ``addInOnePiece(key:params:maximum:)`` writes, but for the type's text; `nil` when a
    /// param is not a number, a string or a boolean.
    private static func onePieceSize(key: String, params: [(name: String, value: ConfigValue)]) -> Int? {
        // `,` and the key's line, the params' opening and closing, the closing line: 73 bytes but for the key.
        var size = 80 + ByteCursor.escapedMaximum(key.utf8.count)
        for param in params {
            // `,`, the param's line and its `" : `: 17 bytes but for the name.
            size += 20 + ByteCursor.escapedMaximum(param.name.utf8.count)
            switch param.value {
            case .int: size += ByteCursor.integerMaximum
            case .bool: size += 5
            case .string(let text): size += 2 + ByteCursor.escapedMaximum(text.utf8.count)
            case .double, .array, .table: return nil
            }
        }
        return size
    }

    /// A process without `force` whose params are numbers, strings and booleans, written at once.
    private mutating func addInOnePiece(key: String, params: [(name: String, value: ConfigValue)], maximum: Int) {
        let first = count == 0
        lastTypeText.withUnsafeBufferPointer { typeText in
            text.write(atMost: maximum) { cursor in
                if !first { cursor.put(UInt8(ascii: ",")) }
                // The key's line and the params' lines are `PrettyJSONWriter.key`'s at ``indent`` and two deeper
                // (the tests compare this text with the writer's).
                cursor.put("\n      \"")
                cursor.escaped(key)
                cursor.put("\" : ")
                cursor.put(Self.paramsOpening)
                if params.isEmpty { cursor.put(0x0A) }
                for (position, param) in params.enumerated() {
                    cursor.put(position > 0 ? ",\n          \"" : "\n          \"")
                    cursor.escaped(param.name)
                    cursor.put("\" : ")
                    switch param.value {
                    case .int(let number): cursor.integer(number)
                    case .bool(let flag): cursor.put(flag ? "true" : "false")
                    case .string(let value):
                        cursor.put(UInt8(ascii: "\""))
                        cursor.escaped(value)
                        cursor.put(UInt8(ascii: "\""))
                    case .double, .array, .table: preconditionFailure("not written in one piece")
                    }
                }
                cursor.put(Self.paramsClosing)
                cursor.put(typeText)
                cursor.put(Self.closing)
            }
        }
    }

    /// Any process, through ``PrettyJSONWriter`` (its bytes then copied into the text).
    private mutating func addThroughWriter(key: String, params: [(name: String, value: ConfigValue)], force: ConfigValue?) {
        let indent = Self.indent
        var writer = PrettyJSONWriter()
        swap(&writer, &scratch)
        writer.bytes.removeAll(keepingCapacity: true)
        if count > 0 { writer.bytes.append(UInt8(ascii: ",")) }
        writer.key(key, indent: indent)
        if let force {
            writer.bytes.append(UInt8(ascii: "{"))
            writer.key("force", indent: indent + 1)
            writer.value(force, indent: indent + 1)
            writer.bytes.append(UInt8(ascii: ","))
            writer.key("params", indent: indent + 1)
            writer.bytes.append(UInt8(ascii: "{"))
        } else {
            writer.append(Self.paramsOpening)
        }
        if params.isEmpty {
            writer.newline(indent: 0)
        } else {
            for (position, param) in params.enumerated() {
                if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                writer.key(param.name, indent: indent + 2)
                writer.value(param.value, indent: indent + 2)
            }
        }
        writer.append(Self.paramsClosing)
        writer.put(lastTypeText)
        writer.append(Self.closing)
        writer.bytes.withUnsafeBufferPointer { text.append($0) }
        swap(&writer, &scratch)
    }

    /// The type of the last process and its text (`"train"`).
    private var lastType: String?
    private var lastTypeText: [UInt8] = []

    /// What `JSONEncoder` writes between a process's key and its params at ``indent`` 3 (no `force`): `{`, a
    /// new line, `"params" : {`. These literals are written for that indentation.
    private static let paramsOpening: StaticString = "{\n        \"params\" : {"
    /// After the params: their closing line, and the key of `type`.
    private static let paramsClosing: StaticString = "\n        },\n        \"type\" : "
    /// The process's closing line.
    private static let closing: StaticString = "\n      }"

    /// The writer, taken out, with the table closed after the last process (the rest of the config follows).
    mutating func finish() -> PrettyJSONWriter {
        var finished = PrettyJSONWriter()
        finished.bytes = text.take()
        if count == 0 { finished.newline(indent: 0) }
        finished.newline(indent: Self.indent - 1)
        finished.bytes.append(UInt8(ascii: "}"))
        return finished
    }
}
