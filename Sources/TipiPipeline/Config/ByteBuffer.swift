import Tipi

/// A growing text of bytes that a writer fills through a pointer: a piece (an entry of
/// `config-sources.json`, a process of the config's text) is written into room on the stack, then appended
/// to the text at once — one bounds and uniqueness check for the piece, where `[UInt8].append` checks both
/// for every byte or run of bytes.
///
/// The text is an array, so the buffer is a value like one (a copy is a copy), room reserved for it costs
/// nothing until it is written, and ``take()`` hands it over without copying it.
///
/// ```swift
/// var text = ByteBuffer()
/// text.write(atMost: 2 + ByteCursor.escapedMaximum(name.utf8.count)) { cursor in
///     cursor.put(UInt8(ascii: "\""))
///     cursor.escaped(name)
///     cursor.put(UInt8(ascii: "\""))
/// }
/// ```
struct ByteBuffer {
    private var storage: [UInt8] = []

    init() {}

    /// How many bytes the text has.
    var count: Int { storage.count }

    /// Room for `capacity` bytes in all (memory is touched only as it is written).
    mutating func reserveCapacity(_ capacity: Int) {
        storage.reserveCapacity(capacity)
    }

    /// Appends what `body` writes, which must be at most `maximum` bytes (checked: writing more stops the
    /// program, as an array index out of range does).
    @inline(__always)
    mutating func write(atMost maximum: Int, _ body: (inout ByteCursor) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximum) { room in
            let base = room.baseAddress!
            var cursor = ByteCursor(base, end: base + maximum)
            body(&cursor)
            storage.append(contentsOf: UnsafeBufferPointer(start: base, count: cursor.position - base))
        }
    }

    /// Appends `bytes`.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        storage.append(contentsOf: bytes)
    }

    /// Appends one byte.
    mutating func append(_ byte: UInt8) {
        storage.append(byte)
    }

    /// Drops the text after its first `length` bytes.
    mutating func truncate(to length: Int) {
        precondition(length >= 0 && length <= storage.count)
        storage.removeSubrange(length...)
    }

    /// Calls `body` with the text.
    func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBufferPointer(body)
    }

    /// The bytes of `range` of the text.
    subscript(range: Range<Int>) -> ArraySlice<UInt8> {
        storage[range]
    }

    /// The text, taken out without a copy; the buffer is left empty.
    mutating func take() -> [UInt8] {
        var text: [UInt8] = []
        swap(&text, &storage)
        return text
    }

    /// The text (a copy).
    var bytes: [UInt8] {
        storage
    }
}

/// Where a ``ByteBuffer/write(atMost:_:)`` writes: a pointer into room reserved for it.
///
/// Its escaping and integers are ``JSONText``'s, for a pointer instead of an array (`JSONText` is in another
/// module, whose functions are not inlined here); `ByteBufferTests` holds the two equal on random text.
struct ByteCursor {
    /// The next byte's place.
    private(set) var position: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>

    init(_ position: UnsafeMutablePointer<UInt8>, end: UnsafeMutablePointer<UInt8>) {
        self.position = position
        self.end = end
    }

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        precondition(position < end, "ByteBuffer.write wrote more than it reserved")
        position.initialize(to: byte)
        position += 1
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(end - position >= bytes.count, "ByteBuffer.write wrote more than it reserved")
        position.update(from: base, count: bytes.count)
        position += bytes.count
    }

    @inline(__always)
    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// A literal's bytes (no array, nothing retained).
    @inline(__always)
    mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { put($0) }
    }

    /// The most bytes ``escaped(_:)`` writes for a text of `count` UTF-8 bytes (`\u00xx` for each).
    static func escapedMaximum(_ count: Int) -> Int { 6 * count }

    /// `text` escaped as ``JSONText/appendEscaped(_:to:)`` escapes it (no quotes around it): at most
    /// ``escapedMaximum(_:)`` of its UTF-8 count.
    mutating func escaped(_ text: String) {
        var text = text
        text.withUTF8 { escaped($0) }
    }

    /// UTF-8 bytes escaped (see ``escaped(_:)-(String)``).
    mutating func escaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var plainStart = 0
        for position in 0..<utf8.count {
            let byte = utf8[position]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") else { continue }
            put(UnsafeBufferPointer(rebasing: utf8[plainStart..<position]))
            plainStart = position + 1
            put(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): put(byte)
            case UInt8(ascii: "\n"): put(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): put(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): put(UInt8(ascii: "t"))
            case 0x08: put(UInt8(ascii: "b"))
            case 0x0C: put(UInt8(ascii: "f"))
            default:
                put(UInt8(ascii: "u"))
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "0"))
                put(Self.hexDigit(byte >> 4))
                put(Self.hexDigit(byte & 15))
            }
        }
        put(UnsafeBufferPointer(rebasing: utf8[plainStart...]))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// The most bytes ``integer(_:)`` writes: a sign and the 19 digits of `Int.min`.
    static var integerMaximum: Int { 20 }

    /// An integer in decimal (as ``JSONText/appendInteger(_:to:)``).
    mutating func integer(_ value: Int) {
        if value < 0 { put(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var scale: UInt = 10
        while digits < 20, magnitude >= scale {
            digits += 1
            if scale > UInt.max / 10 { break }
            scale *= 10
        }
        precondition(end - position >= digits, "ByteBuffer.write wrote more than it reserved")
        var place = position + digits
        position = place
        repeat {
            place -= 1
            place.initialize(to: UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
    }
}
