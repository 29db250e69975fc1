import FuzzSupport
@testable import Tipi

/// The nvidia-smi parser must never crash, whatever the tool prints; nor must what reads the GPUs it
/// found (`CUDA_VISIBLE_DEVICES`, taken from the input's first line, and device names), and every name and
/// warning it produces must be printable.
func fuzzOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let (gpus, warnings) = NvidiaSMIParser.parse(text)
    let firstLine = String(text.prefix { $0 != "\n" }.prefix(200))
    let visible = VisibleDevices.apply(firstLine, to: gpus)
    _ = DeviceRequest.parse(firstLine)
    for line in warnings + visible.warnings + gpus.map(\.name) where TerminalText.printable(line) != line {
        fatalError("not printable: \(TerminalText.printable(line))")
    }
    for line in warnings where line.utf8.count > 2_000 {
        fatalError("a warning of \(line.utf8.count) bytes")
    }
}

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
