import FuzzSupport
@testable import Tipi

/// The nvidia-smi parser must never crash, whatever the tool prints; nor must what reads the GPUs it
/// found (`CUDA_VISIBLE_DEVICES`, taken from the input's first line, and device names), and every name and
/// warning it produces must be printable. Memory figures must hold together (see the loop at the end).
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
    // Memory has NVML's meaning: never more free than in total, nothing negative, and used = total − free
    // whenever total and memory.free are both known.
    for gpu in gpus {
        if let free = gpu.memoryFree, free < 0 || gpu.memoryTotal.map({ free > $0 }) == true {
            fatalError("GPU \(gpu.index): \(free) B free of \(gpu.memoryTotal.map(String.init) ?? "?")")
        }
        if let used = gpu.memoryUsed, used < 0 { fatalError("GPU \(gpu.index): \(used) B used") }
        if let total = gpu.memoryTotal, let free = gpu.memoryFree, gpu.memoryUsed != total - free {
            fatalError("GPU \(gpu.index): used \(gpu.memoryUsed.map(String.init) ?? "?") is not \(total) − \(free)")
        }
    }
}

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
