import FuzzSupport
@testable import TipiPipeline

/// The config loader (the TOML parser, positions, `--set`) must never crash: every input is a config or a
/// located error. The input's last line, when it starts with `--set `, is used as an override.
///
/// Two properties are checked as well (a violation traps, which libFuzzer reports as a crash): with its
/// line feeds written as CRLF, a text reads the same (or fails the same); and every value of a config
/// read from a file has a position inside the text. `readChecked` returns the table the text reads as
/// (`nil` after a located error); `fuzzOne` applies the override to it.
func readChecked(_ text: String) -> ConfigTable? {
    let table: ConfigTable
    do {
        table = try ConfigLoader.parse(text: text, file: "fuzz.toml")
    } catch {
        _ = error.description
        if !text.contains("\r") {
            precondition((try? ConfigLoader.parse(text: crlf(text), file: "fuzz.toml")) == nil, "valid with CRLF only")
        }
        return nil
    }
    if !text.contains("\r") {
        guard let other = try? ConfigLoader.parse(text: crlf(text), file: "fuzz.toml") else {
            preconditionFailure("valid with LF only")
        }
        precondition(
            ConfigNode.table(other, nil).rendered(limit: .max) == ConfigNode.table(table, nil).rendered(limit: .max),
            "CRLF reads differently")
    }
    let lines = text.utf8.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }  // "\r\n" is one Character, so count bytes
    checkLocations(.table(table, nil), lines: lines)
    return table
}

func crlf(_ text: String) -> String {
    text.replacingOccurrences(of: "\n", with: "\r\n")
}

func checkLocations(_ node: ConfigNode, lines: Int) {
    if let location = node.location {
        precondition(location.line >= 1 && location.line <= lines && location.column >= 1, "a position outside the text")
    }
    switch node {
    case .array(let values, _): values.forEach { checkLocations($0, lines: lines) }
    case .table(let table, _): table.entries.forEach { checkLocations($0.value, lines: lines) }
    default: break
    }
}

func fuzzOne(_ bytes: [UInt8]) {
    var text = String(decoding: bytes, as: UTF8.self)
    var overrides: [String] = []
    if let range = text.range(of: "\n--set ", options: .backwards) {
        overrides = [String(text[range.upperBound...])]
        text = String(text[..<range.lowerBound])
    }
    guard let table = readChecked(text) else { return }
    _ = try? ConfigLoader.apply(overrides: overrides, to: table)
}

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
