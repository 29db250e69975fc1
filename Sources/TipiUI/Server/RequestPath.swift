/// A request target split into percent-decoded path components and query items, before anything else
/// looks at it: `%2f` stays inside its component (a metric named `val/loss`), and a `.` or `..`
/// component (also one made of `%2e%2e` or hidden behind `%2f`), a NUL byte or bad percent-encoding makes the whole path invalid. Nothing here ever becomes
/// a file-system path: components are matched against routes, run ids and asset names only.
package struct RequestPath: Sendable, Equatable {
    /// The decoded components (`/api/runs/x` → `["api", "runs", "x"]`).
    package var components: [String]
    /// The decoded query items, in order.
    package var query: [(name: String, value: String)]

    /// Parses `target` (`/path?query`); `nil` when it is not a valid path.
    package init?(target: String) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = parts.first.map(String.init) ?? ""
        guard rawPath.hasPrefix("/") else { return nil }
        var components: [String] = []
        for raw in rawPath.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            // `..%2f..` decodes to one component holding `../..`: refused like a plain `..`.
            guard let decoded = Self.decode(raw), !decoded.contains("\0"),
                !decoded.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." })
            else { return nil }
            components.append(decoded)
        }
        // A trailing slash (`/api/runs/`) is the same route.
        while components.count > 1, components.last == "" { components.removeLast() }
        if components == [""] { components = [] }
        self.components = components
        var query: [(name: String, value: String)] = []
        if parts.count > 1 {
            for item in parts[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.decode(pair[0], plusIsSpace: true),
                    let value = Self.decode(pair.count > 1 ? pair[1] : "", plusIsSpace: true)
                else { return nil }
                query.append((name, value))
            }
        }
        self.query = query
    }

    /// The first value of query item `name`.
    package func value(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Percent-decoding that fails on a bad escape or bytes that are not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The same components and the same query items in the same order.
    package static func == (lhs: RequestPath, rhs: RequestPath) -> Bool {
        lhs.components == rhs.components && lhs.query.elementsEqual(rhs.query) { $0 == $1 }
    }
}
