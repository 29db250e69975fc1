import FuzzSupport
@testable import Tipi

/// The nvidia-smi parser must never crash, whatever the tool prints.
func fuzzOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = NvidiaSMIParser.parse(text)
}

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
