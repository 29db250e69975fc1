import FuzzSupport
@testable import Tipi

/// The metric-log reader must never crash, whatever bytes a run folder holds.
func fuzzOne(_ bytes: [UInt8]) {
    var input = bytes
    if input.first.map({ $0 & 1 == 0 }) ?? false {
        // Half the inputs get the real header, so the fuzzer spends its time in the records.
        input = MetricLog.magic + input.dropFirst()
    }
    _ = input.withUnsafeBytes { MetricLog.decode($0) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOne(FuzzReplay.bytes(data, size))
    return 0
}

#if !TIPI_FUZZ
    @main struct Replay { static func main() { FuzzReplay.main(fuzzOne) } }
#endif
