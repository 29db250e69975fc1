import Foundation

/// The head of an HTTP/1.x request: its request line and header fields, read from the bytes a client sent
/// (RFC 9112). Pure: ``parse(_:limit:)`` takes bytes and says whether they hold a whole head, part of one,
/// or something that is not HTTP, so that every case is tested without a socket.
///
/// It is strict where leniency has been a way in: a bare CR, a NUL, a space before a field's colon, an
/// obsolete folded line, a control character or space in the target, two `Host` fields or two differing
/// `Content-Length` fields are refused with 400, not guessed at.
package struct HTTPRequestHead: Sendable, Equatable {
    /// One header field, its name as sent.
    package struct Field: Sendable, Equatable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `GET`, `POST`, … (a token, as sent).
    package var method: String
    /// The request target as sent: `/api/runs?limit=10`.
    package var target: String
    /// The minor version: `1` for HTTP/1.1, `0` for HTTP/1.0.
    package var minorVersion: Int
    /// The header fields in the order they came.
    package var fields: [Field]

    /// The first value of the field `name` (case-insensitive), or `nil`.
    package func value(of name: String) -> String? {
        fields.first { $0.name.lowercased() == name }?.value
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless `Connection: close`; HTTP/1.0
    /// only with `Connection: keep-alive`.
    package var keepsAlive: Bool {
        let options = fields.filter { $0.name.lowercased() == "connection" }
            .flatMap { $0.value.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if options.contains("close") { return false }
        return minorVersion >= 1 || options.contains("keep-alive")
    }

    /// What follows the head: nothing, a body of a known length, or one this server does not read (a
    /// `Transfer-Encoding`: the answer is sent and the connection closed, as it cannot be kept in step).
    package enum Body: Sendable, Equatable {
        case none
        case length(Int)
        case unreadable
    }

    /// The body that follows the head (its `Content-Length`, already checked by ``parse(_:limit:)``).
    package var body: Body {
        if fields.contains(where: { $0.name.lowercased() == "transfer-encoding" }) { return .unreadable }
        // Checked by `parse`: one number, possibly repeated (`12, 12`).
        let first = value(of: "content-length")?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces)
        guard let length = first.flatMap({ Int($0) }), length > 0 else { return .none }
        return .length(length)
    }

    /// What the bytes read so far hold.
    package enum Parse: Sendable, Equatable {
        /// Not a whole head yet: read more.
        case incomplete
        /// A head, and how many bytes it took (blank lines before it included).
        case complete(HTTPRequestHead, length: Int)
        /// Not a request this server answers: the status to answer with (400, 431, 505) and why.
        case invalid(status: Int, reason: String)
    }

    /// Reads a head from the start of `bytes`; a head longer than `limit` bytes is refused with 431.
    package static func parse(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Parse {
        // Blank lines before the request line are ignored (RFC 9112 § 2.2).
        var start = 0
        while start < bytes.count, bytes[start] == cr || bytes[start] == lf { start += 1 }
        guard let end = headEnd(bytes, from: start) else {
            return bytes.count - start > limit ? .invalid(status: 431, reason: "the request's head is longer than \(limit) bytes") : .incomplete
        }
        guard end - start <= limit else { return .invalid(status: 431, reason: "the request's head is longer than \(limit) bytes") }
        var lines: [UnsafeRawBufferPointer] = []
        var lineStart = start
        for position in start..<end where bytes[position] == lf {
            var lineEnd = position
            if lineEnd > lineStart, bytes[lineEnd - 1] == cr { lineEnd -= 1 }
            lines.append(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd]))
            lineStart = position + 1
        }
        // The blank line that ends the head.
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines {
            if line.contains(0) { return .invalid(status: 400, reason: "the request's head holds a NUL byte") }
            if line.contains(cr) { return .invalid(status: 400, reason: "the request's head holds a CR that does not end a line") }
        }
        guard let requestLine = lines.first else { return .invalid(status: 400, reason: "the request has no request line") }
        let parts = requestLine.split(separator: space, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return .invalid(status: 400, reason: "the request line is not METHOD TARGET HTTP/1.1")
        }
        guard parts[0].allSatisfy(isTokenByte) else { return .invalid(status: 400, reason: "the method is not a token") }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .invalid(status: 400, reason: "the target holds a space, a control character or a byte outside ASCII")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        let minorVersion: Int
        switch version {
        case "HTTP/1.1": minorVersion = 1
        case "HTTP/1.0": minorVersion = 0
        default:
            let looksLikeHTTP = version.hasPrefix("HTTP/") && version.count == 8
            return looksLikeHTTP
                ? .invalid(status: 505, reason: "\(version) is not served: this server speaks HTTP/1.1 and HTTP/1.0")
                : .invalid(status: 400, reason: "the request line does not end with an HTTP version")
        }
        var fields: [Field] = []
        for line in lines.dropFirst() {
            if let first = line.first, first == space || first == tab {
                return .invalid(status: 400, reason: "a header line starts with white space (obsolete line folding is not accepted)")
            }
            guard let colonAt = line.firstIndex(of: colon) else { return .invalid(status: 400, reason: "a header line has no colon") }
            let name = UnsafeRawBufferPointer(rebasing: line[..<colonAt])
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                return .invalid(status: 400, reason: "a header name is empty or holds a character a name cannot hold")
            }
            var value = UnsafeRawBufferPointer(rebasing: line[(colonAt + 1)...])
            while let first = value.first, first == space || first == tab { value = UnsafeRawBufferPointer(rebasing: value.dropFirst()) }
            while let last = value.last, last == space || last == tab { value = UnsafeRawBufferPointer(rebasing: value.dropLast()) }
            fields.append(Field(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        let head = HTTPRequestHead(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: minorVersion, fields: fields)
        let hosts = fields.filter { $0.name.lowercased() == "host" }
        if hosts.count > 1 { return .invalid(status: 400, reason: "the request has more than one Host field") }
        if hosts.isEmpty, minorVersion >= 1 { return .invalid(status: 400, reason: "an HTTP/1.1 request must have a Host field") }
        let lengths = Set(fields.filter { $0.name.lowercased() == "content-length" }.flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingCharacters(in: .whitespaces) })
        if !lengths.isEmpty {
            guard lengths.count == 1, let length = lengths.first, !length.isEmpty, length.count <= 18, length.allSatisfy(\.isASCIIDigit) else {
                return .invalid(status: 400, reason: "the Content-Length is not one whole number")
            }
        }
        return .complete(head, length: end)
    }

    /// Where the head ends (just past its blank line): the first `\n\n` or `\n\r\n` from `start`.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var position = start
        while position < bytes.count {
            guard bytes[position] == lf else {
                position += 1
                continue
            }
            if position + 1 < bytes.count, bytes[position + 1] == lf { return position + 2 }
            if position + 2 < bytes.count, bytes[position + 1] == cr, bytes[position + 2] == lf { return position + 3 }
            position += 1
        }
        return nil
    }

    /// A byte of an HTTP token (RFC 9110 § 5.6.2): letters, digits and ``!#$%&'*+-.^_`|~``.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
