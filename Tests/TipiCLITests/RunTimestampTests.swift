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

    @Test("ages, durations and plots of hand-edited extremes (±1e308, ±inf, NaN) are text, never a trap")
    func extremesAreText() {
        let extremes: [Double] = [-.greatestFiniteMagnitude, -1e300, -1, 0, 59.9, 3599, 86_399, 1e15, 1e300, .greatestFiniteMagnitude, .infinity, -.infinity, .nan]
        for seconds in extremes {
            #expect(!RunsTable.age(seconds).isEmpty && !RunsTable.duration(seconds).isEmpty, "\(seconds)")
        }
        #expect(RunsTable.age(.nan) == "-" && RunsTable.duration(.infinity) == "-")
        #expect(RunsTable.age(3 * 86_400) == "3d ago" && RunsTable.duration(3_725) == "1h02m")
        #expect(RunsTable.age(1e300) == "1.16e+295d ago" && RunsTable.duration(1e300) == "2.78e+296h")
        for values in [[-Double.greatestFiniteMagnitude, .greatestFiniteMagnitude], [1e308, -1e308, 0], [.nan, 1e308], [5e-324, -5e-324]] {
            let lines = TerminalPlot.render(
                [.init(label: "loss", steps: Array(0..<values.count), values: values)], title: "loss", width: 40, height: 6, colors: false)
            #expect(lines.count > 1, "\(values)")
        }
    }
}
