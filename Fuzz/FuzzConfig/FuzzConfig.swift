import FuzzSupport
@testable import TipiPipeline

/// The config loader (TOML, key positions, `--set`) must never crash: every input is a config or a
/// located error. The input's last line, when it starts with `--set `, is used as an override.
func fuzzOne(_ bytes: [UInt8]) {
    var text = String(decoding: bytes, as: UTF8.self)
    var overrides: [String] = []
    if let range = text.range(of: "\n--set ", options: .backwards) {
        overrides = [String(text[range.upperBound...])]
        text = String(text[..<range.lowerBound])
    }
    guard let table = try? ConfigLoader.parse(text: text, file: "fuzz.toml") else { return }
    _ = try? ConfigLoader.apply(overrides: overrides, to: table)
}

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
