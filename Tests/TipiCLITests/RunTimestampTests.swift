import Foundation
import Testing

@testable import TipiCLI

/// The times `tipi runs --json` prints: written with `gmtime_r` for speed, exactly as the ISO 8601
/// formatter writes them.
@Suite("Run timestamps in tipi runs --json")
struct RunTimestampTests {
    func formatter(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    @Test("the same text as ISO8601DateFormatter, fractions, leap days, year ends and out-of-range times included")
    func sameAsFormatter() {
        var times: [Double] = [0, 0.999, 1, 59.5, 951_782_400, 951_868_799.75, 1_795_912_192.9, 1_704_067_199.999, 4_102_444_800,
            253_402_300_799, 253_402_300_800, -1, -0.5, 1e12, .nan, .infinity, -.infinity]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { times.append(Double(generator.next() % 4_000_000_000) + Double(generator.next() % 1000) / 1000) }
        for time in times {
            #expect(RunsTable.timestamp(time) == formatter(time), "\(time)")
        }
    }
}
