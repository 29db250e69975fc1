import Testing

@testable import Tipi

@Suite("Progress formatting")
struct ProgressFormatTests {
    @Test("times are mm:ss below an hour and h:mm:ss above")
    func intervals() {
        #expect(ProgressFormat.interval(0) == "00:00")
        #expect(ProgressFormat.interval(3.9) == "00:03")
        #expect(ProgressFormat.interval(754) == "12:34")
        #expect(ProgressFormat.interval(3723) == "1:02:03")
        #expect(ProgressFormat.interval(.infinity) == "?")
    }

    @Test("counts use SI prefixes, or binary ones with divisor 1024")
    func unitScaling() {
        #expect(ProgressFormat.count(977, scale: true, divisor: 1000) == "977")
        #expect(ProgressFormat.count(2_860_000, scale: true, divisor: 1000) == "2.86M")
        #expect(ProgressFormat.count(12_345, scale: true, divisor: 1000) == "12.3k")
        #expect(ProgressFormat.count(12 * 1024 * 1024, scale: true, divisor: 1024) == "12.0Mi")
        #expect(ProgressFormat.count(3 * 1024 * 1024 * 1024, scale: true, divisor: 1024) == "3.00Gi")
        #expect(ProgressFormat.count(123_456, scale: false, divisor: 1000) == "123456")
    }

    @Test("rates show units per second, or seconds per unit when slow")
    func rates() {
        #expect(ProgressFormat.rate(12.34, unit: "it", scale: false, divisor: 1000) == "12.3 it/s")
        #expect(ProgressFormat.rate(0.4, unit: "it", scale: false, divisor: 1000) == "2.50 s/it")
        #expect(ProgressFormat.rate(nil, unit: "batch", scale: false, divisor: 1000) == "? batch/s")
        #expect(ProgressFormat.rate(6_660_000, unit: "B", scale: true, divisor: 1000) == "6.66 MB/s")
        #expect(ProgressFormat.rate(11.2 * 1024 * 1024, unit: "B", scale: true, divisor: 1024) == "11.2 MiB/s")
    }

    @Test("bars have eighth-of-a-cell precision")
    func bars() {
        #expect(ProgressFormat.bar(fraction: 0.42, width: 10) == "████▏     ")
        #expect(ProgressFormat.bar(fraction: 0, width: 4) == "    ")
        #expect(ProgressFormat.bar(fraction: 1, width: 4) == "████")
        #expect(ProgressFormat.bar(fraction: 0.5, width: 3) == "█▌ ")
        #expect(ProgressFormat.bar(fraction: 2, width: 3) == "███")
        for width in 1...30 {
            for step in 0...100 {
                #expect(ProgressFormat.bar(fraction: Double(step) / 100, width: width).count == width)
            }
        }
    }

    @Test("postfix numbers are short; NaN and infinities are spelled out")
    func postfixValues() {
        #expect(ProgressFormat.postfixValue(0.31) == "0.31")
        #expect(ProgressFormat.postfixValue(0.123456) == "0.1235")
        #expect(ProgressFormat.postfixValue(1.5e-5) == "1.500e-05")
        #expect(ProgressFormat.postfixValue(42.0) == "42")
        #expect(ProgressFormat.postfixValue(Double.nan) == "nan")
        #expect(ProgressFormat.postfixValue(-Double.infinity) == "-inf")
        #expect(ProgressFormat.postfixValue("adam") == "adam")
        #expect(ProgressFormat.postfixValue(7) == "7")
    }

    @Test("user text never breaks the line")
    func sanitizing() {
        #expect(ProgressFormat.sanitize("a\nb\tc") == "a b c")
        #expect(DisplayWidth.of("日本") == 4)
        #expect(DisplayWidth.truncate("日本語テキスト", to: 5) == "日本")
        #expect(DisplayWidth.truncate("abc", to: 5) == "abc")
    }

    @Test("the rate is a smoothed average of recent speed")
    func rateEstimator() throws {
        var estimator = RateEstimator(smoothing: 0.3, count: 0, time: 0)
        #expect(estimator.rate(count: 0, time: 0) == nil)
        estimator.observe(count: 10, time: 1)
        #expect(try #require(estimator.rate(count: 10, time: 1)) == 10)
        estimator.observe(count: 10, time: 5)  // stalled: keeps the last rate
        #expect(try #require(estimator.rate(count: 10, time: 5)) == 10)
        estimator.observe(count: 30, time: 6)
        let rate = try #require(estimator.rate(count: 30, time: 6))
        #expect(rate > 4 && rate < 20)

        var average = RateEstimator(smoothing: 0, count: 0, time: 0)
        average.observe(count: 50, time: 1)
        average.observe(count: 60, time: 10)
        #expect(average.rate(count: 60, time: 10) == 6)
    }
}
