import Testing

@testable import Tipi

@Suite("Rendered progress lines")
struct ProgressLineTests {
    func snapshot(
        _ description: String = "Training", count: Int = 42, total: Int? = 100, elapsed: Double = 3.4,
        rate: Double? = 12.34, unit: String = "it", scale: Bool = false, divisor: Int = 1000,
        postfix: String = "", status: String = "", finished: Bool = false
    ) -> ProgressSnapshot {
        ProgressSnapshot(
            description: description, count: count, total: total, elapsed: elapsed, rate: rate, unit: unit,
            unitScale: scale, unitDivisor: divisor, postfix: postfix, status: status, finished: finished)
    }

    @Test("the tqdm-style line: description, percent, bar, counts, elapsed<ETA, rate, postfix")
    func fullLine() {
        let line = ProgressLine.render(
            snapshot(postfix: "loss=0.31"), style: .live(colors: false, spinner: nil), columns: 69)
        #expect(line == "Training  42%|████▏     | 42/100 [00:03<00:04, 12.3 it/s, loss=0.31]")
    }

    @Test("wide terminals cap the bar at 40 cells; the spinner leads a live line")
    func wideLine() {
        let line = ProgressLine.render(snapshot(), style: .live(colors: false, spinner: "⠋"), columns: 200)
        #expect(line == "⠋ Training  42%|████████████████▊                       | 42/100 [00:03<00:04, 12.3 it/s]")
    }

    @Test("an unknown total shows the count and the rate")
    func unknownTotal() {
        let line = ProgressLine.render(
            snapshot("Reading", count: 1234, total: nil, rate: 412.3), style: .live(colors: false, spinner: nil),
            columns: 80)
        #expect(line == "Reading 1234 it [00:03, 412 it/s]")
    }

    @Test("bytes are scaled with binary prefixes")
    func bytes() {
        let line = ProgressLine.render(
            snapshot(
                "Download", count: 12 * 1_048_576, total: 100 * 1_048_576, rate: 11.2 * 1_048_576, unit: "B",
                scale: true, divisor: 1024), style: .plain, columns: nil)
        #expect(line == "Download  12% 12.0Mi/100Mi [00:03<00:07, 11.2 MiB/s]")
    }

    @Test("narrow terminals shrink, then drop the bar, then cut the line: never wider than columns - 1")
    func narrow() {
        let long = snapshot(postfix: "loss=0.31, accuracy=0.8812, lr=0.001", status: "saving checkpoint")
        for columns in 10...120 {
            let line = ProgressLine.render(long, style: .live(colors: false, spinner: "⠋"), columns: columns)
            #expect(DisplayWidth.of(line) <= columns - 1, "width \(columns): \(line)")
        }
        let small = ProgressLine.render(snapshot(), style: .live(colors: false, spinner: nil), columns: 40)
        #expect(small == "Training  42% 42/100 [00:03<00:04, 12.3")
    }

    @Test("colours wrap the bar only, so cutting never leaves an open escape")
    func colours() {
        let line = ProgressLine.render(snapshot(), style: .live(colors: true, spinner: "⠋"), columns: 80)
        #expect(line.hasPrefix("\u{1B}[36m⠋\u{1B}[0m Training  42%|\u{1B}[36m"))
        #expect(line.hasSuffix("| 42/100 [00:03<00:04, 12.3 it/s]"))
    }

    @Test("plain lines have no bar and no escape sequences")
    func plain() {
        let line = ProgressLine.render(snapshot(status: "epoch 3"), style: .plain, columns: nil)
        #expect(line == "Training  42% 42/100 [00:03<00:04, 12.3 it/s] epoch 3")
        let done = ProgressLine.render(
            snapshot(count: 100, elapsed: 8.1, finished: true), style: .plain, columns: nil)
        #expect(done == "Training 100% 100/100 [00:08<00:00, 12.3 it/s]")
    }

    @Test("slow loops show seconds per iteration; a stalled one shows '?' for the ETA")
    func slow() {
        let slow = ProgressLine.render(snapshot(count: 2, total: 10, rate: 0.25), style: .plain, columns: nil)
        #expect(slow == "Training  20% 2/10 [00:03<00:32, 4.00 s/it]")
        let unknown = ProgressLine.render(snapshot(count: 0, total: 10, rate: nil), style: .plain, columns: nil)
        #expect(unknown == "Training   0% 0/10 [00:03<?, ? it/s]")
    }
}
