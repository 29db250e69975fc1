import FuzzSupport
@testable import Tipi

/// The nvidia-smi parser must never crash, whatever the tool prints.
func fuzzOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = NvidiaSMIParser.parse(text)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOne(FuzzReplay.bytes(data, size))
    return 0
}

#if !TIPI_FUZZ
    @main struct Replay { static func main() { FuzzReplay.main(fuzzOne) } }
#endif
