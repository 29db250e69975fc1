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

@main struct Fuzz {
    static func main() { FuzzReplay.main(fuzzOne) }
}
